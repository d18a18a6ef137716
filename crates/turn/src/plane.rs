//! The UDP data plane: one thread per listening socket (SO_REUSEPORT spreads clients over
//! them), each waiting on its own edge-triggered poller for its listening socket and its share
//! of the relay sockets. TCP and TLS stay on tokio ([`crate::stream`]).
//!
//! Its own threads, rather than tokio tasks, for one reason: *moderation*. A thread that sleeps
//! and is woken for every datagram spends more time switching than relaying (measured: the
//! scheduler was the top of the profile at 80,000 packets/s). When packets keep arriving, the
//! plane pauses after a round (`moderation_us`, 200 µs by default) so that the next round finds
//! several datagrams on each socket and reads them with one system call, as network cards do
//! with interrupt coalescing. A quiet plane does not pause, so light traffic gets no added
//! latency; a saturated one does not either, since its rounds are long enough to batch by
//! themselves.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use crate::server::Shared;
use crate::udp::{self, Endpoint, Scratch};

/// A plane whose poller had something to report within this time is busy enough to pause:
/// datagrams arrive faster than one per this interval (about 4,000 per second and up).
const BUSY_GAP: Duration = Duration::from_micros(250);
/// Events taken per poll.
const EVENTS: usize = 256;

const LISTENER: Token = Token(1 << 20);
const WAKE: Token = Token(1 << 21);

/// A relay socket's token: its port and family (the plane's relay IP per family is fixed).
fn relay_token(addr: SocketAddr) -> Token {
    Token(usize::from(addr.port()) | usize::from(addr.is_ipv6()) << 16)
}

/// What other threads tell a plane.
enum Control {
    /// Serve this relay socket (it is registered with the plane's poller right after).
    Add(Token, SocketAddr, Arc<Endpoint>),
    /// Stop serving this relay socket; dropping the plane's handle on it closes it.
    Remove(Token),
}

/// What other threads hold of a plane: they hand it relay sockets and wake it to stop.
pub(crate) struct PlaneHandle {
    registry: Registry,
    control: mpsc::Sender<Control>,
    waker: Waker,
}

impl PlaneHandle {
    /// Has the plane serve the relay socket of `addr`.
    pub fn add(&self, addr: SocketAddr, ep: Arc<Endpoint>) -> io::Result<()> {
        let token = relay_token(addr);
        let fd = ep.socket.as_raw_fd();
        // The message goes first: a plane reads its messages after each poll and before the
        // events, so the first event of this socket finds it known.
        self.control.send(Control::Add(token, addr, ep)).map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        self.registry.register(&mut SourceFd(&fd), token, Interest::READABLE).inspect_err(|_| self.remove(addr))
    }

    /// Has the plane let go of the relay socket of `addr` (at once: it is woken).
    pub fn remove(&self, addr: SocketAddr) {
        let _ = self.control.send(Control::Remove(relay_token(addr)));
        self.wake();
    }

    /// Wakes the plane, which then sees whether the server is stopping.
    pub fn wake(&self) {
        let _ = self.waker.wake();
    }
}

/// One data-plane thread's state, before [`Plane::run`] moves it onto its thread.
pub(crate) struct Plane {
    poll: Poll,
    control: mpsc::Receiver<Control>,
    listener: Arc<Endpoint>,
    local: SocketAddr,
    /// The pause after a busy round (the system adds its timer slack, 50 µs by default).
    moderation: Duration,
}

impl Plane {
    /// A plane for the listening socket `listener`, bound to `local`.
    pub fn new(listener: Arc<Endpoint>, local: SocketAddr, moderation: Duration) -> io::Result<(Plane, PlaneHandle)> {
        let poll = Poll::new()?;
        let fd = listener.socket.as_raw_fd();
        poll.registry().register(&mut SourceFd(&fd), LISTENER, Interest::READABLE)?;
        let waker = Waker::new(poll.registry(), WAKE)?;
        let registry = poll.registry().try_clone()?;
        let (tx, rx) = mpsc::channel();
        Ok((Plane { poll, control: rx, listener, local, moderation }, PlaneHandle { registry, control: tx, waker }))
    }

    /// Serves until the server stops (seen when woken) or the poller fails.
    pub fn run(mut self, shared: &Shared) -> io::Result<()> {
        let mut events = Events::with_capacity(EVENTS);
        let mut relays: HashMap<Token, (SocketAddr, Arc<Endpoint>)> = HashMap::new();
        // Sockets the fairness limit left with datagrams, served again without waiting.
        let (mut again, mut ready): (Vec<Token>, Vec<Token>) = (Vec::new(), Vec::new());
        let mut scratch = Scratch::new();
        let mut idle_since = Instant::now();
        loop {
            let timeout = (!ready.is_empty()).then_some(Duration::ZERO);
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let woke = Instant::now();
            if shared.stopping() {
                return Ok(());
            }
            for message in self.control.try_iter() {
                match message {
                    Control::Add(token, addr, ep) => relays.insert(token, (addr, ep)),
                    Control::Remove(token) => relays.remove(&token),
                };
            }
            std::mem::swap(&mut again, &mut ready);
            let (mut packets, mut replies) = (0, 0);
            for token in events.iter().map(mio::event::Event::token).chain(again.drain(..)) {
                let drained = match token {
                    WAKE => continue,
                    LISTENER => udp::serve_clients(shared, &self.listener, self.local, &mut scratch),
                    _ => match relays.get(&token) {
                        Some((addr, ep)) => udp::serve_peers(shared, ep, *addr, &mut scratch),
                        None => continue,
                    },
                };
                packets += drained.packets;
                replies += drained.replies;
                if drained.more && !ready.contains(&token) {
                    ready.push(token);
                }
            }
            let busy = woke.saturating_duration_since(idle_since) < BUSY_GAP;
            // A round that took longer than the pause batched enough by itself. A round that
            // answered requests does not pause either: a client waits for each answer (and
            // requests are rare next to the packets relayed between them).
            if packets > 0 && replies == 0 && busy && ready.is_empty() && woke.elapsed() < self.moderation {
                std::thread::sleep(self.moderation);
            }
            idle_since = Instant::now();
        }
    }
}
