//! UDP: the listening sockets (SO_REUSEPORT, one per core) and the relay sockets' readers.
//!
//! Both loops wait for readiness, then drain the socket with non-blocking receives and send
//! with non-blocking sends (a full send buffer drops the datagram, as the network would).

use std::cell::RefCell;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bureau_stun::server::{ClientAction, FiveTuple, Transport};
use std::io::IoSliceMut;

use quinn_udp::{RecvMeta, UdpSocketState};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use crate::server::{Shared, State};

/// Largest datagram handled; bigger ones are truncated by the kernel and then dropped.
const MAX_DATAGRAM: usize = 65_535;
/// Room for a Data indication's header around a datagram.
const OUT_LEN: usize = MAX_DATAGRAM + 64;

thread_local! {
    /// Per-thread buffers of the relay readers: (received datagram, message to the client).
    /// Never held across an await.
    static SCRATCH: RefCell<(Vec<u8>, Vec<u8>)> = RefCell::new((vec![0; MAX_DATAGRAM], vec![0; OUT_LEN]));
}

/// Opens a UDP listening socket with large buffers, optionally with SO_REUSEPORT.
pub(crate) fn listener_socket(addr: SocketAddr, reuse_port: bool) -> std::io::Result<UdpSocket> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        s.set_only_v6(false).ok();
    }
    #[cfg(unix)]
    if reuse_port {
        s.set_reuse_port(true)?;
    }
    let _ = s.set_recv_buffer_size(4 << 20);
    let _ = s.set_send_buffer_size(4 << 20);
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    UdpSocket::from_std(s.into())
}

/// Serves STUN, TURN and ChannelData on one listening socket, receiving up to
/// `quinn_udp::BATCH_SIZE` datagrams per system call (recvmmsg) and splitting GRO batches.
pub(crate) async fn listener_loop(shared: Arc<Shared>, sock: Arc<UdpSocket>, local: SocketAddr) -> std::io::Result<()> {
    let state = UdpSocketState::new((&*sock).into())?;
    let slot = MAX_DATAGRAM;
    let mut storage = vec![0u8; quinn_udp::BATCH_SIZE * slot];
    let mut meta = [RecvMeta::default(); quinn_udp::BATCH_SIZE];
    let mut out = vec![0u8; 4096];
    loop {
        sock.readable().await?;
        loop {
            // On the stack: no heap allocation per batch.
            let mut chunks = storage.chunks_mut(slot);
            let mut bufs: [IoSliceMut<'_>; quinn_udp::BATCH_SIZE] = std::array::from_fn(|_| IoSliceMut::new(chunks.next().unwrap_or_default()));
            let received = sock.try_io(Interest::READABLE, || state.recv((&*sock).into(), &mut bufs, &mut meta));
            match received {
                Ok(n) => {
                    for (m, buf) in meta.iter().zip(storage.chunks(slot)).take(n) {
                        for datagram in buf[..m.len].chunks(m.stride.max(1)) {
                            client_datagram(&shared, &sock, local, m.addr, datagram, &mut out);
                        }
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => tracing::trace!(error = %e, "UDP receive error"),
            }
        }
    }
}

fn client_datagram(shared: &Shared, sock: &UdpSocket, local: SocketAddr, from: SocketAddr, data: &[u8], out: &mut [u8]) {
    let five = FiveTuple { client: from, server: local, transport: Transport::Udp };
    let mut st = shared.lock();
    let State { core, relays, .. } = &mut *st;
    match core.handle_client(Instant::now(), five, data, out, relays) {
        ClientAction::None => {}
        ClientAction::Reply(n) => {
            drop(st);
            let _ = sock.try_send_to(&out[..n], from);
        }
        ClientAction::Relay { relay, peer, payload } => {
            if let Some(s) = relays.socket(&relay) {
                let _ = s.try_send_to(&data[payload], peer);
            }
        }
    }
}

/// Reads what peers send to one relayed address and forwards it to the client.
pub(crate) async fn relay_loop(shared: Arc<Shared>, sock: Arc<UdpSocket>, relay: SocketAddr) {
    loop {
        if sock.readable().await.is_err() {
            return;
        }
        SCRATCH.with(|cell| {
            let mut scratch = cell.borrow_mut();
            let (buf, out) = &mut *scratch;
            loop {
                match sock.try_recv_from(buf) {
                    Ok((n, peer)) => peer_datagram(&shared, relay, peer, &buf[..n], out),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => tracing::trace!(error = %e, "relay receive error"),
                }
            }
        });
    }
}

fn peer_datagram(shared: &Shared, relay: SocketAddr, peer: SocketAddr, data: &[u8], out: &mut [u8]) {
    let st = &mut *shared.lock();
    let Some((five, n)) = st.core.handle_peer(Instant::now(), relay, peer, data, out) else { return };
    match five.transport {
        Transport::Udp => {
            if let Some(s) = st.udp_socket(five.server) {
                let _ = s.try_send_to(&out[..n], five.client);
            }
        }
        Transport::Tcp | Transport::Tls => {
            if let Some(tx) = shared.streams().get(&five) {
                let _ = tx.try_send(out[..n].to_vec());
            }
        }
    }
}
