//! UDP: the listening sockets (SO_REUSEPORT, one per core) and the relay sockets.
//!
//! Every socket is read in batches (recvmmsg, GRO-aware, through `quinn-udp`) and, while the
//! state lock is held for the batch, consecutive datagrams of one size from one socket to one
//! destination are sent with a single GSO call ([`Gso`]). Sends never wait: a full send buffer
//! drops the datagram, as the network would.

use std::cell::RefCell;
use std::io::{ErrorKind, IoSliceMut};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bureau_stun::server::{ClientAction, FiveTuple, Transport};
use quinn_udp::{BATCH_SIZE, RecvMeta, Transmit, UdpSocketState};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use crate::server::{Shared, State};

/// Largest datagram (or GRO batch) handled per receive buffer.
const SLOT: usize = 65_535;
/// Size of the buffer that collects outgoing datagrams of a batch.
const OUT_LEN: usize = 4 * SLOT;
/// Room needed in the output buffer for one message to a client (a Data indication's header).
const OUT_MARGIN: usize = SLOT + 64;
/// Batches a task handles before yielding, so that one busy socket cannot starve the others
/// that share its worker thread.
const BATCHES_PER_TURN: usize = 4;

/// A UDP socket with its batched-I/O state.
pub(crate) struct Endpoint {
    pub socket: UdpSocket,
    state: Arc<UdpSocketState>,
}

impl Endpoint {
    /// A listening socket: GRO on, no fragmentation (`quinn-udp` defaults).
    pub fn listener(socket: UdpSocket) -> std::io::Result<Self> {
        let state = Arc::new(UdpSocketState::new((&socket).into())?);
        // ECN is not used: spare the kernel a control message per received datagram.
        let _ = socket2::SockRef::from(&socket).set_recv_tos_v4(false);
        Ok(Endpoint { socket, state })
    }

    /// A relay socket sharing `state`, made once per pool: creating a `UdpSocketState` probes
    /// the kernel with extra sockets, too slow to do per allocation. Relay sockets keep the
    /// kernel's defaults (no DF), and GSO is asked for per call.
    pub fn relay(socket: UdpSocket, state: Arc<UdpSocketState>) -> Self {
        Endpoint { socket, state }
    }

    /// The batched-I/O state of a probe socket on `ip`, to share among relay sockets.
    pub fn shared_state(ip: std::net::IpAddr) -> std::io::Result<Arc<UdpSocketState>> {
        let probe = std::net::UdpSocket::bind(SocketAddr::new(ip, 0))?;
        Ok(Arc::new(UdpSocketState::new((&probe).into())?))
    }

    /// Sends `data` to `dst`; datagrams of `seg` bytes each when `data` is longer.
    fn send(&self, data: &[u8], seg: usize, dst: SocketAddr) {
        if data.len() <= seg {
            let _ = self.socket.try_send_to(data, dst);
            return;
        }
        let t = Transmit { destination: dst, ecn: None, contents: data, segment_size: Some(seg), src_ip: None };
        match self.state.try_send((&self.socket).into(), &t) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            // GSO refused (quinn-udp then stops offering it): send one by one.
            Err(_) => data.chunks(seg).for_each(|d| {
                let _ = self.socket.try_send_to(d, dst);
            }),
        }
    }

    /// Datagrams one GSO call may carry.
    fn max_segments(&self) -> usize {
        self.state.max_gso_segments()
    }

    /// Receives a batch into `storage` (slots of [`SLOT`] bytes); returns how many buffers.
    fn recv(&self, storage: &mut [u8], meta: &mut [RecvMeta; BATCH_SIZE]) -> std::io::Result<usize> {
        // On the stack: no heap allocation per batch.
        let mut chunks = storage.chunks_mut(SLOT);
        let mut bufs: [IoSliceMut<'_>; BATCH_SIZE] = std::array::from_fn(|_| IoSliceMut::new(chunks.next().unwrap_or_default()));
        self.socket.try_io(Interest::READABLE, || self.state.recv((&self.socket).into(), &mut bufs, meta))
    }
}

/// Which of the server's sockets sends a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Listener(SocketAddr),
    Relay(SocketAddr),
}

/// Collects consecutive datagrams with the same socket, destination and size, to send them with
/// one GSO system call.
struct Gso<'b> {
    buf: &'b mut [u8],
    start: usize,
    end: usize,
    key: Option<(Via, SocketAddr, usize)>,
}

impl<'b> Gso<'b> {
    fn new(buf: &'b mut [u8]) -> Self {
        Gso { buf, start: 0, end: 0, key: None }
    }

    /// Free space for the next datagram, flushing first when less than `need` is left.
    fn spare(&mut self, st: &State, need: usize) -> &mut [u8] {
        if self.buf.len() - self.end < need {
            self.flush(st);
            self.start = 0;
            self.end = 0;
        }
        &mut self.buf[self.end..]
    }

    /// Queues the `n` bytes just written into [`Gso::spare`].
    fn commit(&mut self, st: &State, via: Via, dst: SocketAddr, n: usize) {
        if n == 0 {
            return;
        }
        let key = (via, dst, n);
        if self.key == Some(key) {
            let count = (self.end - self.start) / n;
            let limit = endpoint(st, via).map_or(1, Endpoint::max_segments).min(60_000 / n).max(1);
            if count < limit {
                self.end += n;
                return;
            }
        }
        self.flush(st);
        self.key = Some(key);
        self.end += n;
    }

    /// Sends what is queued.
    fn flush(&mut self, st: &State) {
        if let Some((via, dst, seg)) = self.key.take()
            && let Some(ep) = endpoint(st, via)
        {
            ep.send(&self.buf[self.start..self.end], seg, dst);
        }
        self.start = self.end;
    }
}

fn endpoint(st: &State, via: Via) -> Option<&Endpoint> {
    match via {
        Via::Listener(a) => st.udp_socket(a).map(|e| &**e),
        Via::Relay(a) => st.relays.socket(&a).map(|e| &**e),
    }
}

thread_local! {
    /// Per-thread buffers of the relay readers: (receive slots, outgoing datagrams).
    /// Never held across an await.
    static SCRATCH: RefCell<(Vec<u8>, Vec<u8>)> = RefCell::new((vec![0; BATCH_SIZE * SLOT], vec![0; OUT_LEN]));
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

/// Serves STUN, TURN and ChannelData on one listening socket.
pub(crate) async fn listener_loop(shared: Arc<Shared>, ep: Arc<Endpoint>, local: SocketAddr) -> std::io::Result<()> {
    let mut storage = vec![0u8; BATCH_SIZE * SLOT];
    let mut meta = [RecvMeta::default(); BATCH_SIZE];
    let mut out = vec![0u8; OUT_LEN];
    let mut reply = vec![0u8; 4096];
    loop {
        ep.socket.readable().await?;
        for turn in 1.. {
            if turn % BATCHES_PER_TURN == 0 {
                tokio::task::yield_now().await;
            }
            let n = match ep.recv(&mut storage, &mut meta) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    tracing::trace!(error = %e, "UDP receive error");
                    continue;
                }
            };
            let now = Instant::now();
            let mut guard = shared.lock();
            let st = &mut *guard;
            let mut gso = Gso::new(&mut out);
            for (m, buf) in meta.iter().zip(storage.chunks(SLOT)).take(n) {
                for datagram in buf[..m.len].chunks(m.stride.max(1)) {
                    let five = FiveTuple { client: m.addr, server: local, transport: Transport::Udp };
                    let State { core, relays, .. } = &mut *st;
                    match core.handle_client(now, five, datagram, &mut reply, relays) {
                        ClientAction::None => {}
                        ClientAction::Reply(len) => {
                            gso.flush(st);
                            let _ = ep.socket.try_send_to(&reply[..len], m.addr);
                        }
                        ClientAction::Relay { relay, peer, payload } => {
                            let data = &datagram[payload];
                            gso.spare(st, data.len())[..data.len()].copy_from_slice(data);
                            gso.commit(st, Via::Relay(relay), peer, data.len());
                        }
                    }
                }
            }
            gso.flush(st);
        }
    }
}

/// Reads what peers send to one relayed address and forwards it to the client.
pub(crate) async fn relay_loop(shared: Arc<Shared>, ep: Arc<Endpoint>, relay: SocketAddr) {
    loop {
        if ep.socket.readable().await.is_err() {
            return;
        }
        let drained = SCRATCH.with(|cell| {
            let mut scratch = cell.borrow_mut();
            let (storage, out) = &mut *scratch;
            let mut meta = [RecvMeta::default(); BATCH_SIZE];
            for _ in 0..BATCHES_PER_TURN {
                match ep.recv(storage, &mut meta) {
                    Ok(n) => peer_batch(&shared, relay, &meta[..n], storage, out),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                    Err(e) => tracing::trace!(error = %e, "relay receive error"),
                }
            }
            false
        });
        if !drained {
            tokio::task::yield_now().await;
        }
    }
}

fn peer_batch(shared: &Shared, relay: SocketAddr, meta: &[RecvMeta], storage: &[u8], out: &mut [u8]) {
    let now = Instant::now();
    let mut guard = shared.lock();
    let st = &mut *guard;
    let mut gso = Gso::new(out);
    for (m, buf) in meta.iter().zip(storage.chunks(SLOT)) {
        for datagram in buf[..m.len].chunks(m.stride.max(1)) {
            let spare = gso.spare(st, OUT_MARGIN);
            let Some((five, n)) = st.core.handle_peer(now, relay, m.addr, datagram, spare) else { continue };
            match five.transport {
                Transport::Udp => gso.commit(st, Via::Listener(five.server), five.client, n),
                Transport::Tcp | Transport::Tls => {
                    let bytes = gso.spare(st, 0)[..n].to_vec();
                    if let Some(tx) = shared.streams().get(&five) {
                        let _ = tx.try_send(bytes);
                    }
                }
            }
        }
    }
    gso.flush(st);
}
