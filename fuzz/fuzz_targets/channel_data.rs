//! Fuzzes ChannelData decoding and stream framing, and the server's ChannelData and peer paths.
#![no_main]

use std::net::SocketAddr;
use std::time::Instant;

use bureau_stun::channel_data::{self, ChannelData};
use bureau_stun::nonce::NonceKey;
use bureau_stun::server::{BindFailure, Family, FiveTuple, PortChoice, RelayBinder, Server, ServerConfig, Transport};
use libfuzzer_sys::fuzz_target;

struct Binder;

impl RelayBinder for Binder {
    fn bind(&mut self, _: Family, _: PortChoice) -> Result<SocketAddr, BindFailure> {
        Err(BindFailure::Exhausted)
    }
    fn release(&mut self, _: SocketAddr) {}
}

fuzz_target!(|data: &[u8]| {
    if let Ok(cd) = ChannelData::decode(data) {
        let mut out = vec![0u8; cd.payload.len() + 8];
        let n = channel_data::encode(&mut out, cd.channel, cd.payload, true).unwrap_or(0);
        assert!(n % 4 == 0);
    }
    let _ = channel_data::stream_frame_len(data);
    let now = Instant::now();
    let mut server = Server::new(ServerConfig::default(), now, 0, NonceKey::new([0; 32]));
    let five = FiveTuple { client: SocketAddr::from(([198, 51, 100, 1], 1)), server: SocketAddr::from(([192, 0, 2, 1], 3478)), transport: Transport::Tcp };
    let mut out = [0u8; 2048];
    let _ = server.handle_client(now, five, data, &mut out, &mut Binder);
    let _ = server.handle_peer(now, SocketAddr::from(([203, 0, 113, 1], 1)), SocketAddr::from(([93, 184, 216, 34], 1)), data, &mut out);
});
