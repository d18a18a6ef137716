//! Relay sockets: a pool of UDP ports on the relay IPs, one socket per relayed address, each
//! read by one of the data-plane threads (handed out in turn). Implements the state machine's
//! `RelayBinder`.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bureau_stun::server::{BindFailure, Family, PortChoice, RelayBinder};
use rand::seq::SliceRandom;
use quinn_udp::UdpSocketState;

use crate::config::PortRange;
use crate::plane::PlaneHandle;
use crate::udp::Endpoint;

/// Ports tried per bind before giving up (others may be taken by other programs).
const BIND_ATTEMPTS: usize = 32;
/// Receive buffer limit of a relay socket.
const RELAY_RECV_BUFFER: usize = 1 << 20;

struct RelaySocket {
    endpoint: Arc<Endpoint>,
    /// Index of the plane that reads it.
    plane: usize,
}

/// The relay ports and the live relay sockets.
pub(crate) struct RelayPool {
    ip4: Option<IpAddr>,
    ip6: Option<IpAddr>,
    /// Free ports, in random order; released ports go to the back.
    free: VecDeque<u16>,
    live: HashMap<SocketAddr, RelaySocket>,
    /// Batched-I/O state shared by every relay socket.
    io_state: Arc<UdpSocketState>,
    /// The data-plane threads, and the one that gets the next relay socket.
    planes: Vec<PlaneHandle>,
    next_plane: usize,
}

impl RelayPool {
    pub fn new(relay_ip: IpAddr, relay_ip6: Option<IpAddr>, ports: PortRange, io_state: Arc<UdpSocketState>, planes: Vec<PlaneHandle>) -> Self {
        let (ip4, ip6) = if relay_ip.is_ipv4() { (Some(relay_ip), relay_ip6) } else { (None, Some(relay_ip)) };
        let mut v: Vec<u16> = (ports.low..=ports.high).collect();
        v.shuffle(&mut rand::thread_rng());
        RelayPool { ip4, ip6, free: v.into(), live: HashMap::new(), io_state, planes, next_plane: 0 }
    }

    /// The socket of a live relayed address.
    pub fn socket(&self, addr: &SocketAddr) -> Option<&Arc<Endpoint>> {
        self.live.get(addr).map(|r| &r.endpoint)
    }

    /// Wakes every data-plane thread (to see that the server is stopping).
    pub fn wake_planes(&self) {
        self.planes.iter().for_each(PlaneHandle::wake);
    }

    /// Closes every relay socket.
    pub fn close_all(&mut self) {
        for (addr, r) in self.live.drain() {
            if let Some(plane) = self.planes.get(r.plane) {
                plane.remove(addr);
            }
        }
    }

    /// Opens the relay socket of `addr` and hands it to the next plane.
    fn open(&mut self, addr: SocketAddr) -> std::io::Result<RelaySocket> {
        let socket = std::net::UdpSocket::bind(addr)?;
        socket.set_nonblocking(true)?;
        // A limit, not an allocation: room for bursts while the plane serves other sockets.
        let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(RELAY_RECV_BUFFER);
        let endpoint = Arc::new(Endpoint::relay(socket, self.io_state.clone()));
        let plane = self.next_plane % self.planes.len().max(1);
        let handle = self.planes.get(plane).ok_or(std::io::ErrorKind::NotConnected)?;
        handle.add(addr, endpoint.clone())?;
        self.next_plane = plane + 1;
        Ok(RelaySocket { endpoint, plane })
    }
}

impl RelayBinder for RelayPool {
    fn bind(&mut self, family: Family, choice: PortChoice) -> Result<SocketAddr, BindFailure> {
        let ip = match family {
            Family::V4 => self.ip4,
            Family::V6 => self.ip6,
        }
        .ok_or(BindFailure::Unsupported)?;
        for _ in 0..BIND_ATTEMPTS.min(self.free.len()) {
            let found = match choice {
                PortChoice::Any => self.free.pop_front(),
                PortChoice::Even => self.free.iter().position(|p| p % 2 == 0).and_then(|i| self.free.remove(i)),
                PortChoice::Exact(want) => self.free.iter().position(|&p| p == want).and_then(|i| self.free.remove(i)),
            };
            let Some(port) = found else { break };
            let addr = SocketAddr::new(ip, port);
            match self.open(addr) {
                Ok(relay) => {
                    self.live.insert(addr, relay);
                    return Ok(addr);
                }
                Err(e) => {
                    tracing::debug!(%addr, error = %e, "relay port unavailable");
                    self.free.push_back(port);
                    if matches!(choice, PortChoice::Exact(_)) {
                        break;
                    }
                }
            }
        }
        Err(BindFailure::Exhausted)
    }

    fn supports_dont_fragment(&self) -> bool {
        cfg!(any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "freebsd"))
    }

    fn set_dont_fragment(&mut self, addr: SocketAddr) {
        if let Some(r) = self.live.get(&addr) {
            // A state made for the socket sets IP_PMTUDISC_PROBE (DF) on it; the shared state
            // keeps serving its I/O.
            if let Err(e) = UdpSocketState::new((&r.endpoint.socket).into()) {
                tracing::debug!(error = %e, "cannot set DF on a relay socket");
            }
        }
    }

    fn release(&mut self, addr: SocketAddr) {
        if let Some(r) = self.live.remove(&addr) {
            if let Some(plane) = self.planes.get(r.plane) {
                plane.remove(addr);
            }
            self.free.push_back(addr.port());
        }
    }
}
