//! The test harness of the TURN behaviour tests: a fake relay binder, a fake clock, and a
//! client that builds signed requests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bureau_stun::attributes as attr;
use bureau_stun::credentials::{self, LongTermKey, PasswordAlgorithm};
use bureau_stun::nonce::NonceKey;
use bureau_stun::server::{BindFailure, ClientAction, Family, FiveTuple, PortChoice, RelayBinder, Server, ServerConfig, Transport};
use bureau_stun::{Class, Encoder, Message, Method};

pub const SECRET: &[u8] = b"s3cret";
pub const REALM: &str = "bureau.test";
pub const UNIX0: u64 = 1_800_000_000;

#[derive(Default)]
pub struct FakeBinder {
    pub next: u16,
    pub v6: bool,
    pub full: bool,
    pub released: Vec<SocketAddr>,
}

impl RelayBinder for FakeBinder {
    fn bind(&mut self, family: Family, choice: PortChoice) -> Result<SocketAddr, BindFailure> {
        if self.full {
            return Err(BindFailure::Exhausted);
        }
        self.next += 1;
        let port = match choice {
            PortChoice::Any => 50001 + self.next,
            PortChoice::Even => {
                self.next += 1;
                50000 + 2 * self.next
            }
            PortChoice::Exact(p) => p,
        };
        match family {
            Family::V4 => Ok(SocketAddr::from(([203, 0, 113, 1], port))),
            Family::V6 if self.v6 => Ok(SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], port))),
            Family::V6 => Err(BindFailure::Unsupported),
        }
    }
    fn release(&mut self, addr: SocketAddr) {
        self.released.push(addr);
    }
}

pub struct Harness {
    pub server: Server,
    pub binder: FakeBinder,
    pub t0: Instant,
    pub now: Instant,
    pub tid: u8,
}

pub fn config() -> ServerConfig {
    let mut c = ServerConfig { realm: REALM.into(), auth_secret: SECRET.to_vec(), ..ServerConfig::default() };
    c.policy.allow_loopback = false;
    c
}

pub fn five(port: u16) -> FiveTuple {
    FiveTuple { client: SocketAddr::from(([198, 51, 100, 9], port)), server: "192.0.2.10:3478".parse().unwrap(), transport: Transport::Udp }
}

pub const PEER: &str = "93.184.216.34:4000";

/// A client's credentials and current nonce.
pub struct Creds {
    pub username: String,
    pub key: LongTermKey,
    pub nonce: Vec<u8>,
}

impl Harness {
    pub fn new(config: ServerConfig) -> Self {
        let t0 = Instant::now();
        Harness { server: Server::new(config, t0, UNIX0, NonceKey::new([5; 32])), binder: FakeBinder::default(), t0, now: t0, tid: 0 }
    }

    pub fn advance(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
        self.server.handle_timeout(self.now, &mut self.binder);
    }

    pub fn send(&mut self, five: FiveTuple, bytes: &[u8]) -> (ClientAction, Vec<u8>) {
        let mut out = vec![0u8; 2048];
        let a = self.server.handle_client(self.now, five, bytes, &mut out, &mut self.binder);
        let reply = match a {
            ClientAction::Reply(n) => out[..n].to_vec(),
            _ => Vec::new(),
        };
        (a, reply)
    }

    /// Builds a request; with `creds`, signs it with MESSAGE-INTEGRITY.
    pub fn request(&mut self, method: Method, creds: Option<&Creds>, add: impl FnOnce(&mut Encoder<'_>)) -> Vec<u8> {
        self.tid += 1;
        let mut buf = vec![0u8; 1024];
        let mut e = Encoder::new(&mut buf, method, Class::Request, &[self.tid; 12]).unwrap();
        add(&mut e);
        if let Some(c) = creds {
            e.attr(attr::USERNAME, c.username.as_bytes()).unwrap();
            e.attr(attr::REALM, REALM.as_bytes()).unwrap();
            e.attr(attr::NONCE, &c.nonce).unwrap();
            e.integrity(c.key.as_bytes()).unwrap();
        }
        let n = e.finish();
        buf.truncate(n);
        buf
    }

    /// Gets a nonce with an unauthenticated request, as clients do.
    pub fn login(&mut self, five: FiveTuple, user: &str, ttl: u64) -> Creds {
        let now_unix = UNIX0 + (self.now - self.t0).as_secs();
        let (username, password) = credentials::mint(SECRET, user, ttl, now_unix);
        let req = self.request(Method::ALLOCATE, None, |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
        let (_, reply) = self.send(five, &req);
        let m = Message::decode(&reply).unwrap();
        assert_eq!(error_code(&m), Some(401));
        assert_eq!(m.get(attr::REALM), Some(REALM.as_bytes()));
        let key = LongTermKey::derive(PasswordAlgorithm::Md5, &username, REALM, password.as_bytes());
        Creds { username, key, nonce: m.get(attr::NONCE).unwrap().to_vec() }
    }

    pub fn allocate(&mut self, five: FiveTuple, c: &Creds) -> Vec<u8> {
        let req = self.request(Method::ALLOCATE, Some(c), |e| e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap());
        self.send(five, &req).1
    }

    pub fn relayed(&mut self, five: FiveTuple, c: &Creds) -> SocketAddr {
        let reply = self.allocate(five, c);
        let m = Message::decode(&reply).unwrap();
        assert_eq!(m.class(), Class::Success, "{:?}", error_code(&m));
        assert!(m.verify_integrity(c.key.as_bytes()));
        attr::read_xor_address(attr::XOR_RELAYED_ADDRESS, m.get(attr::XOR_RELAYED_ADDRESS).unwrap(), &m.transaction_id()).unwrap()
    }

    pub fn permit(&mut self, five: FiveTuple, c: &Creds, peer: SocketAddr) -> Option<u16> {
        let req = self.request(Method::CREATE_PERMISSION, Some(c), |e| e.xor_address(attr::XOR_PEER_ADDRESS, peer).unwrap());
        let (_, reply) = self.send(five, &req);
        error_code(&Message::decode(&reply).unwrap())
    }

    pub fn bind_channel(&mut self, five: FiveTuple, c: &Creds, ch: u16, peer: SocketAddr) -> Option<u16> {
        let req = self.request(Method::CHANNEL_BIND, Some(c), |e| {
            e.attr(attr::CHANNEL_NUMBER, &[(ch >> 8) as u8, ch as u8, 0, 0]).unwrap();
            e.xor_address(attr::XOR_PEER_ADDRESS, peer).unwrap();
        });
        let (_, reply) = self.send(five, &req);
        error_code(&Message::decode(&reply).unwrap())
    }
}

pub fn error_code(m: &Message<'_>) -> Option<u16> {
    m.get(attr::ERROR_CODE).map(|v| attr::read_error_code(v).unwrap().0)
}

