//! UDP: the listening sockets (SO_REUSEPORT, one per core) and the relay sockets, and what
//! the data plane ([`crate::plane`]) does with a batch read from either.
//!
//! Every socket is read in batches (recvmmsg, GRO-aware, through `quinn-udp`) and, while the
//! state lock is held for the batch, consecutive datagrams of one size from one socket to one
//! destination are sent with a single GSO call ([`Gso`]). Sends never wait: a full send buffer
//! drops the datagram, as the network would.

use std::io::{ErrorKind, IoSliceMut};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Instant;

use bureau_stun::server::{ClientAction, FiveTuple, Transport};
use quinn_udp::{BATCH_SIZE, RecvMeta, Transmit, UdpSocketState};
use socket2::{Domain, Protocol, Socket, Type};

use crate::server::{Shared, State};

/// Largest datagram (or GRO batch) handled per receive buffer.
const SLOT: usize = 65_535;
/// Size of the buffer that collects outgoing datagrams of a batch.
const OUT_LEN: usize = 4 * SLOT;
/// Room needed in the output buffer for one message to a client (a Data indication's header).
const OUT_MARGIN: usize = SLOT + 64;
/// Batches read from one socket before the data plane turns to its other ready sockets, so
/// that one busy socket cannot starve them.
const BATCHES_PER_TURN: usize = 4;

/// A non-blocking UDP socket with its batched-I/O state.
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

    /// Sends one datagram, or drops it when the send buffer is full.
    pub fn send_one(&self, data: &[u8], dst: SocketAddr) {
        let _ = self.socket.send_to(data, dst);
    }

    /// Sends `data` to `dst`; datagrams of `seg` bytes each when `data` is longer.
    fn send(&self, data: &[u8], seg: usize, dst: SocketAddr) {
        if data.len() <= seg {
            self.send_one(data, dst);
            return;
        }
        let t = Transmit { destination: dst, ecn: None, contents: data, segment_size: Some(seg), src_ip: None };
        match self.state.try_send((&self.socket).into(), &t) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            // GSO refused (quinn-udp then stops offering it): send one by one.
            Err(_) => data.chunks(seg).for_each(|d| self.send_one(d, dst)),
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
        self.state.recv((&self.socket).into(), &mut bufs, meta)
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

/// The buffers of one data-plane thread, reused for every batch: nothing is allocated per packet.
pub(crate) struct Scratch {
    storage: Vec<u8>,
    meta: [RecvMeta; BATCH_SIZE],
    out: Vec<u8>,
    reply: Vec<u8>,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch { storage: vec![0; BATCH_SIZE * SLOT], meta: [RecvMeta::default(); BATCH_SIZE], out: vec![0; OUT_LEN], reply: vec![0; 4096] }
    }
}

/// What reading one socket did.
#[derive(Default)]
pub(crate) struct Drained {
    /// Datagrams handled.
    pub packets: usize,
    /// STUN/TURN requests answered among them.
    pub replies: usize,
    /// The socket may still hold datagrams: the fairness limit stopped the reading.
    pub more: bool,
}

/// Serves what clients sent to a listening socket: STUN, TURN and ChannelData.
pub(crate) fn serve_clients(shared: &Shared, ep: &Endpoint, local: SocketAddr, s: &mut Scratch) -> Drained {
    drain(ep, s, |s, n, d| client_batch(shared, ep, local, s, n, d))
}

/// Forwards what peers sent to the relayed address `relay` to its client.
pub(crate) fn serve_peers(shared: &Shared, ep: &Endpoint, relay: SocketAddr, s: &mut Scratch) -> Drained {
    drain(ep, s, |s, n, d| peer_batch(shared, relay, s, n, d))
}

/// Reads `ep` in batches, each handed to `batch`, until it is empty or the fairness limit is
/// reached. The plane's poller is edge-triggered: every datagram that arrives after a read
/// raises a new event, so a batch shorter than the maximum shows the queue was empty and
/// spares the system call that would only say so.
fn drain(ep: &Endpoint, s: &mut Scratch, mut batch: impl FnMut(&mut Scratch, usize, &mut Drained)) -> Drained {
    let mut drained = Drained::default();
    for _ in 0..BATCHES_PER_TURN {
        let n = match ep.recv(&mut s.storage, &mut s.meta) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return drained,
            Err(e) => {
                tracing::trace!(error = %e, "UDP receive error");
                continue;
            }
        };
        batch(s, n, &mut drained);
        if n < BATCH_SIZE {
            return drained;
        }
    }
    drained.more = true;
    drained
}

/// Handles the `n` buffers just received from clients into `s`, counting them in `drained`.
fn client_batch(shared: &Shared, ep: &Endpoint, local: SocketAddr, s: &mut Scratch, n: usize, drained: &mut Drained) {
    let Scratch { storage, meta, out, reply } = s;
    let now = Instant::now();
    let mut guard = shared.lock();
    let st = &mut *guard;
    let mut gso = Gso::new(out);
    for (from, datagram) in datagrams(&meta[..n], storage) {
        drained.packets += 1;
        let five = FiveTuple { client: from, server: local, transport: Transport::Udp };
        let State { core, relays, .. } = &mut *st;
        match core.handle_client(now, five, datagram, reply, relays) {
            ClientAction::None => {}
            ClientAction::Reply(len) => {
                drained.replies += 1;
                gso.flush(st);
                ep.send_one(&reply[..len], from);
            }
            ClientAction::Relay { relay, peer, payload } => {
                let data = &datagram[payload];
                gso.spare(st, data.len())[..data.len()].copy_from_slice(data);
                gso.commit(st, Via::Relay(relay), peer, data.len());
            }
        }
    }
    gso.flush(st);
}

/// The datagrams of a received batch with their senders (GRO buffers split into datagrams).
fn datagrams<'a>(meta: &'a [RecvMeta], storage: &'a [u8]) -> impl Iterator<Item = (SocketAddr, &'a [u8])> {
    meta.iter().zip(storage.chunks(SLOT)).flat_map(|(m, buf)| buf[..m.len].chunks(m.stride.max(1)).map(move |d| (m.addr, d)))
}

/// Handles the `n` buffers just received from peers to `relay` into `s`, counting them in
/// `drained`.
fn peer_batch(shared: &Shared, relay: SocketAddr, s: &mut Scratch, n: usize, drained: &mut Drained) {
    let Scratch { storage, meta, out, .. } = s;
    let now = Instant::now();
    let mut guard = shared.lock();
    let st = &mut *guard;
    let mut gso = Gso::new(out);
    for (from, datagram) in datagrams(&meta[..n], storage) {
        drained.packets += 1;
        let spare = gso.spare(st, OUT_MARGIN);
        let Some((five, n)) = st.core.handle_peer(now, relay, from, datagram, spare) else { continue };
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
    gso.flush(st);
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
    Ok(s.into())
}
