//! Any byte string gets a clean error, never a panic: random strings and mutations of valid
//! messages go through every decoder and through the server. The AFL++ targets in `bench/fuzz`
//! go further; `tests/fuzz_corpus.rs` replays what they found.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Instant;

use bureau_stun::attributes as attr;
use bureau_stun::channel_data::{ChannelData, stream_frame_len};
use bureau_stun::nonce::NonceKey;
use bureau_stun::server::{BindFailure, Family, PortChoice, FiveTuple, RelayBinder, Server, ServerConfig, Transport};
use bureau_stun::{Class, Encoder, Message, Method};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct Binder(u16);

impl RelayBinder for Binder {
    fn bind(&mut self, _: Family, _: PortChoice) -> Result<SocketAddr, BindFailure> {
        self.0 = self.0.wrapping_add(1);
        Ok(SocketAddr::from(([203, 0, 113, 1], self.0)))
    }
    fn release(&mut self, _: SocketAddr) {}
}

fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    let mut e = Encoder::new(&mut buf, Method::ALLOCATE, Class::Request, &[3; 12]).unwrap();
    e.attr(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]).unwrap();
    e.attr(attr::USERNAME, b"1900000000:user").unwrap();
    e.attr(attr::REALM, b"r").unwrap();
    e.attr(attr::NONCE, b"obMatJos2gAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
    e.xor_address(attr::XOR_PEER_ADDRESS, "[2001:db8::1]:5".parse().unwrap()).unwrap();
    e.integrity(b"0123456789abcdef").unwrap();
    e.integrity_sha256(b"0123456789abcdef").unwrap();
    e.fingerprint().unwrap();
    let n = e.finish();
    out.push(buf[..n].to_vec());
    let mut e = Encoder::new(&mut buf, Method::SEND, Class::Indication, &[4; 12]).unwrap();
    e.xor_address(attr::XOR_PEER_ADDRESS, "93.184.216.34:5".parse().unwrap()).unwrap();
    e.attr(attr::DATA, b"hello").unwrap();
    let n = e.finish();
    out.push(buf[..n].to_vec());
    out.push(vec![0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 0, 0]);
    out
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x5EED_7E57);
    let now = Instant::now();
    let config = ServerConfig { realm: "r".into(), auth_secret: b"k".to_vec(), unauth_rate: u32::MAX / 4, ..ServerConfig::default() };
    let mut server = Server::new(config, now, 1_800_000_000, NonceKey::new([2; 32]));
    let five = FiveTuple { client: "198.51.100.1:1".parse().unwrap(), server: "192.0.2.1:3478".parse().unwrap(), transport: Transport::Tcp };
    let mut out = vec![0u8; 2048];
    let mut binder = Binder(0);
    let seeds = seeds();
    let mut decoded = 0u32;
    for i in 0..300_000u32 {
        let bytes: Vec<u8> = if i % 2 == 0 {
            let len = rng.gen_range(0..96);
            let mut b: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
            // Make a good share of them look like STUN headers with a plausible length.
            if len >= 20 && rng.gen_bool(0.5) {
                b[0] &= 0x3F;
                b[2] = 0;
                b[3] = (len as u8 - 20) & !3;
                b[4..8].copy_from_slice(&[0x21, 0x12, 0xA4, 0x42]);
            }
            b
        } else {
            let mut b = seeds[i as usize % seeds.len()].clone();
            for _ in 0..rng.gen_range(1..4) {
                if b.is_empty() {
                    break;
                }
                match rng.gen_range(0..3) {
                    0 => {
                        let p = rng.gen_range(0..b.len());
                        b[p] = rng.r#gen();
                    }
                    1 => b.truncate(rng.gen_range(0..b.len())),
                    _ => b.extend((0..rng.gen_range(0..8)).map(|_| rng.r#gen::<u8>())),
                }
            }
            b
        };
        if Message::decode(&bytes).is_ok() {
            decoded += 1;
        }
        let _ = ChannelData::decode(&bytes);
        let _ = stream_frame_len(&bytes);
        let _ = server.handle_client(now, five, &bytes, &mut out, &mut binder);
        let _ = server.handle_peer(now, "203.0.113.1:1".parse().unwrap(), "93.184.216.34:5".parse().unwrap(), &bytes, &mut out);
    }
    // The mutations must also produce valid messages sometimes, or this test proves little.
    assert!(decoded > 1000, "only {decoded} decoded");
}
