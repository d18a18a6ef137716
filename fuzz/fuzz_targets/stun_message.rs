//! Fuzzes STUN decoding, typed attribute readers, integrity checks and the TURN server's
//! request handling: any input must give a clean result, never a panic.
#![no_main]

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use bureau_stun::attributes as attr;
use bureau_stun::nonce::NonceKey;
use bureau_stun::server::{BindFailure, Family, FiveTuple, PortChoice, RelayBinder, Server, ServerConfig, Transport};
use bureau_stun::Message;
use libfuzzer_sys::fuzz_target;

struct Binder(u16);

impl RelayBinder for Binder {
    fn bind(&mut self, _: Family, _: PortChoice) -> Result<SocketAddr, BindFailure> {
        self.0 = self.0.wrapping_add(1);
        Ok(SocketAddr::from(([203, 0, 113, 1], self.0)))
    }
    fn release(&mut self, _: SocketAddr) {}
}

static SERVER: Mutex<Option<(Server, Instant)>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::decode(data) {
        let tid = m.transaction_id();
        for a in m.attributes() {
            let _ = attr::read_xor_address(a.typ, a.value, &tid);
            let _ = attr::read_address(a.typ, a.value);
            let _ = attr::read_error_code(a.value);
            let _ = attr::read_unknown_attributes(a.value).map(|i| i.count());
            let _ = attr::read_password_algorithm(a.value);
            let _ = attr::read_channel_number(a.value);
            let _ = attr::read_str(a.typ, a.value);
        }
        let _ = m.verify_integrity(b"key");
        let _ = m.verify_integrity_sha256(b"key");
    }
    let mut guard = SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let (server, now) = guard.get_or_insert_with(|| {
        let now = Instant::now();
        let config = ServerConfig { auth_secret: b"k".to_vec(), ..ServerConfig::default() };
        (Server::new(config, now, 1_800_000_000, NonceKey::new([0; 32])), now)
    });
    let five = FiveTuple { client: "198.51.100.1:1".parse().unwrap_or(SocketAddr::from(([0; 4], 0))), server: SocketAddr::from(([192, 0, 2, 1], 3478)), transport: Transport::Udp };
    let mut out = [0u8; 2048];
    let _ = server.handle_client(*now, five, data, &mut out, &mut Binder(0));
});
