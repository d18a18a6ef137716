//! The TURN server state machine (RFC 8656), sans-IO.
//!
//! The driver feeds it what arrives from clients ([`Server::handle_client`]) and from peers on
//! relay sockets ([`Server::handle_peer`]), and calls [`Server::handle_timeout`] about once a
//! second. Every call takes `now`; nothing here reads a clock or touches a socket. Relay
//! addresses come from a [`RelayBinder`] the driver implements (a fake one in tests).
//!
//! The ChannelData paths write into caller-provided buffers and allocate nothing per packet.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::time::Instant;

use crate::channel_data::ChannelData;
use crate::message::{Class, Message, Method};
use crate::nonce::NonceKey;

mod allocation;
mod auth;
mod config;
mod handlers;
mod reply;

pub use config::{ServerConfig, Stats};

use allocation::Allocation;
use auth::AuthState;

/// The transport between a client and the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP datagrams.
    Udp,
    /// A TCP connection.
    Tcp,
    /// A TLS connection over TCP.
    Tls,
}

/// The 5-tuple that identifies an allocation: client address, server address, transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FiveTuple {
    /// The client's address as the server sees it.
    pub client: SocketAddr,
    /// The server address the client talks to.
    pub server: SocketAddr,
    /// The transport.
    pub transport: Transport,
}

/// An address family of relayed addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// The family of `ip`.
    pub fn of(ip: IpAddr) -> Family {
        if ip.is_ipv4() { Family::V4 } else { Family::V6 }
    }

    fn index(self) -> usize {
        match self {
            Family::V4 => 0,
            Family::V6 => 1,
        }
    }
}

/// Why a relay address could not be bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindFailure {
    /// The server has no relay address of this family (440).
    Unsupported,
    /// Every relay port is taken (508).
    Exhausted,
}

/// Which port a relay socket should get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortChoice {
    /// Any free port of the range.
    Any,
    /// An even port (EVEN-PORT).
    Even,
    /// Exactly this port (the reserved neighbour of an even port).
    Exact(u16),
}

/// Binds and releases relay addresses; implemented by the I/O driver.
pub trait RelayBinder {
    /// Opens a relay socket of `family` on a port as chosen, and returns its address.
    fn bind(&mut self, family: Family, port: PortChoice) -> Result<SocketAddr, BindFailure>;
    /// Closes the relay socket at `addr`.
    fn release(&mut self, addr: SocketAddr);
    /// Whether relay sockets can send with the DF bit set (DONT-FRAGMENT). When not, an
    /// Allocate with DONT-FRAGMENT gets 420, as RFC 8656 §7.2 requires.
    fn supports_dont_fragment(&self) -> bool {
        false
    }
    /// Makes the relay socket at `addr` send with the DF bit set.
    fn set_dont_fragment(&mut self, _addr: SocketAddr) {}
}

/// What the server wants the driver to do with a client's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAction {
    /// Nothing (dropped or fully handled).
    None,
    /// Send `out[..len]` back to the client on the same 5-tuple.
    Reply(usize),
    /// Send `input[payload]` from the relay socket at `relay` to `peer`.
    Relay {
        /// The relay socket to send from.
        relay: SocketAddr,
        /// The peer to send to.
        peer: SocketAddr,
        /// Where the payload is inside the input buffer.
        payload: Range<usize>,
    },
}

/// Lifecycle events, for logs. Never holds credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An allocation was created with these relayed addresses.
    AllocationCreated {
        /// The 5-tuple.
        five: FiveTuple,
        /// The relayed addresses.
        relays: Vec<SocketAddr>,
    },
    /// An allocation ended (expiry or Refresh with lifetime 0).
    AllocationEnded {
        /// The 5-tuple.
        five: FiveTuple,
        /// Whether it expired (else the client deleted it).
        expired: bool,
    },
}

/// The TURN server state.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    start: Instant,
    start_unix: u64,
    auth: AuthState,
    allocations: HashMap<FiveTuple, Allocation>,
    by_relay: HashMap<SocketAddr, FiveTuple>,
    per_user: HashMap<String, u32>,
    stats: Stats,
    events: VecDeque<Event>,
    next_tid: u64,
    /// Relay addresses reserved by EVEN-PORT with the R bit, by RESERVATION-TOKEN.
    reservations: HashMap<[u8; 8], (SocketAddr, Instant)>,
}

impl Server {
    /// A server started at `now`, which is `now_unix` seconds since the Unix epoch; nonces are
    /// signed with `nonce_key`.
    pub fn new(config: ServerConfig, now: Instant, now_unix: u64, nonce_key: NonceKey) -> Self {
        let auth = AuthState::new(nonce_key);
        Server {
            config,
            start: now,
            start_unix: now_unix,
            auth,
            allocations: HashMap::new(),
            by_relay: HashMap::new(),
            per_user: HashMap::new(),
            stats: Stats::default(),
            events: VecDeque::new(),
            next_tid: 0,
            reservations: HashMap::new(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        Stats { allocations: self.allocations.len() as u64, ..self.stats }
    }

    /// The next lifecycle event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    fn secs(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.start).as_secs()
    }

    /// Handles bytes from a client: a STUN message or a ChannelData message. Replies are
    /// written into `out` (at least 1500 bytes is enough for every reply).
    pub fn handle_client(&mut self, now: Instant, five: FiveTuple, input: &[u8], out: &mut [u8], binder: &mut dyn RelayBinder) -> ClientAction {
        match input.first() {
            Some(b) if b & 0xC0 == 0x40 => self.client_channel_data(now, five, input),
            Some(b) if b & 0xC0 == 0 => match Message::decode(input) {
                Ok(msg) => self.client_stun(now, five, &msg, input, out, binder),
                Err(_) => self.drop_msg(),
            },
            _ => self.drop_msg(),
        }
    }

    fn drop_msg(&mut self) -> ClientAction {
        self.stats.dropped += 1;
        ClientAction::None
    }

    fn client_channel_data(&mut self, now: Instant, five: FiveTuple, input: &[u8]) -> ClientAction {
        let Ok(cd) = ChannelData::decode(input) else { return self.drop_msg() };
        let Some(alloc) = self.allocations.get_mut(&five) else { return self.drop_msg() };
        let Some(peer) = alloc.channel_peer(cd.channel, now) else { return self.drop_msg() };
        let Some(relay) = alloc.relay_for(peer) else { return self.drop_msg() };
        if !alloc.take_bandwidth(now, cd.payload.len()) {
            self.stats.dropped_bandwidth += 1;
            return ClientAction::None;
        }
        self.stats.packets_to_peers += 1;
        self.stats.bytes_to_peers += cd.payload.len() as u64;
        ClientAction::Relay { relay, peer, payload: 4..4 + cd.payload.len() }
    }

    fn client_stun(&mut self, now: Instant, five: FiveTuple, msg: &Message<'_>, input: &[u8], out: &mut [u8], binder: &mut dyn RelayBinder) -> ClientAction {
        match (msg.class(), msg.method()) {
            (Class::Indication, Method::SEND) => self.send_indication(now, five, msg, input),
            (Class::Request, _) => match self.request(now, five, msg, out, binder) {
                Some(n) => ClientAction::Reply(n),
                None => ClientAction::None,
            },
            _ => self.drop_msg(),
        }
    }

    /// Handles a datagram that arrived from `peer` on the relay socket at `relay`. When it is to
    /// be relayed, writes the ChannelData message or Data indication into `out` and returns the
    /// client's 5-tuple and the length.
    pub fn handle_peer(&mut self, now: Instant, relay: SocketAddr, peer: SocketAddr, data: &[u8], out: &mut [u8]) -> Option<(FiveTuple, usize)> {
        let Some(&five) = self.by_relay.get(&relay) else {
            self.stats.dropped += 1;
            return None;
        };
        let alloc = self.allocations.get_mut(&five)?;
        if !alloc.has_permission(peer.ip(), now) {
            self.stats.dropped += 1;
            return None;
        }
        if !alloc.take_bandwidth(now, data.len()) {
            self.stats.dropped_bandwidth += 1;
            return None;
        }
        let pad = five.transport != Transport::Udp;
        let len = match alloc.peer_channel(peer, now) {
            Some(ch) => crate::channel_data::encode(out, ch, data, pad).ok()?,
            None => {
                self.next_tid = self.next_tid.wrapping_add(1);
                let mut tid = [0u8; 12];
                tid[4..].copy_from_slice(&self.next_tid.to_be_bytes());
                reply::data_indication(out, &tid, peer, data)?
            }
        };
        self.stats.packets_to_clients += 1;
        self.stats.bytes_to_clients += data.len() as u64;
        Some((five, len))
    }

    /// Expires allocations, permissions and channels; call about once a second.
    pub fn handle_timeout(&mut self, now: Instant, binder: &mut dyn RelayBinder) {
        let expired: Vec<FiveTuple> = self.allocations.iter().filter(|(_, a)| a.expires <= now).map(|(f, _)| *f).collect();
        for five in expired {
            self.remove_allocation(five, true, binder);
        }
        for alloc in self.allocations.values_mut() {
            alloc.expire(now);
        }
        let secs = self.secs(now);
        self.auth.expire(secs);
        self.reservations.retain(|_, (addr, expires)| {
            let keep = *expires > now;
            if !keep {
                binder.release(*addr);
            }
            keep
        });
    }

    fn remove_allocation(&mut self, five: FiveTuple, expired: bool, binder: &mut dyn RelayBinder) {
        let Some(alloc) = self.allocations.remove(&five) else { return };
        for relay in alloc.relays.iter().flatten() {
            self.by_relay.remove(relay);
            binder.release(*relay);
        }
        if let Some(n) = self.per_user.get_mut(&alloc.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_user.remove(&alloc.user);
            }
        }
        self.events.push_back(Event::AllocationEnded { five, expired });
    }

    /// The client's TCP or TLS connection closed: its allocation ends with it.
    pub fn handle_close(&mut self, five: FiveTuple, binder: &mut dyn RelayBinder) {
        self.remove_allocation(five, false, binder);
    }

    /// When the next call to [`Server::handle_timeout`] has work to do, if anything is alive.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.allocations.values().map(|a| a.next_deadline()).min()
    }

    /// Whether an allocation exists for `five`.
    pub fn has_allocation(&self, five: &FiveTuple) -> bool {
        self.allocations.contains_key(five)
    }
}
