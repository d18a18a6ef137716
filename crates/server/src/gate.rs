//! The door of the HTTP listeners: how many TCP connections the node holds at once, and how
//! many one client address may hold, so that slow or idle connections from one place cannot
//! pin the server. Both listeners share one [`Gate`]. At the node's limit the accept loops
//! stop accepting (new clients wait in the kernel's backlog) until a connection ends; a client
//! address over its own limit has the new connection closed at once. Trusted proxies carry
//! many clients and are held only by the node's limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::requester::ProxyRange;

/// Limits of the HTTP listeners (`[http]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// TCP connections the node holds at once, both listeners together.
    pub max_connections: usize,
    /// TCP connections one client address may hold.
    pub max_connections_per_ip: usize,
    /// How long a client may take to send a request's headers (and, on a new connection, its
    /// first bytes).
    pub header_timeout: std::time::Duration,
}

/// The shared counts.
pub struct Gate {
    limits: HttpLimits,
    trusted: Vec<ProxyRange>,
    total: Arc<Semaphore>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place, given back on drop.
pub struct Entry {
    gate: Arc<Gate>,
    ip: Option<IpAddr>,
    _total: OwnedSemaphorePermit,
}

impl Gate {
    /// A gate with nobody through it.
    pub fn new(limits: HttpLimits, trusted: Vec<ProxyRange>) -> Arc<Gate> {
        let total = Arc::new(Semaphore::new(limits.max_connections));
        Arc::new(Gate { limits, trusted, total, per_ip: Mutex::new(HashMap::new()) })
    }

    /// The limits this gate enforces.
    pub fn limits(&self) -> &HttpLimits {
        &self.limits
    }

    /// Waits for a place under the node's limit (call before accepting).
    pub async fn wait_for_room(&self) -> OwnedSemaphorePermit {
        // The semaphore is never closed.
        loop {
            if let Ok(permit) = self.total.clone().acquire_owned().await {
                return permit;
            }
        }
    }

    /// Lets a connection from `ip` in, holding `room`; `None` when the address holds as many
    /// connections as it may.
    pub fn enter(self: &Arc<Self>, ip: IpAddr, room: OwnedSemaphorePermit) -> Option<Entry> {
        if crate::requester::is_trusted(ip, &self.trusted) {
            return Some(Entry { gate: self.clone(), ip: None, _total: room });
        }
        let mut per_ip = self.per_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = per_ip.entry(ip).or_default();
        if *count >= self.limits.max_connections_per_ip {
            if *count == 0 {
                per_ip.remove(&ip);
            }
            return None;
        }
        *count += 1;
        Some(Entry { gate: self.clone(), ip: Some(ip), _total: room })
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let Some(ip) = self.ip else { return };
        let mut per_ip = self.gate.per_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = per_ip.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                per_ip.remove(&ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per_ip: usize) -> HttpLimits {
        HttpLimits { max_connections: total, max_connections_per_ip: per_ip, header_timeout: std::time::Duration::from_secs(1) }
    }

    #[tokio::test]
    async fn one_address_is_held_to_its_share_and_proxies_to_the_total() {
        let gate = Gate::new(limits(10, 2), vec!["10.0.0.1".parse().unwrap()]);
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        let a = gate.enter(client, gate.wait_for_room().await).unwrap();
        let _b = gate.enter(client, gate.wait_for_room().await).unwrap();
        assert!(gate.enter(client, gate.wait_for_room().await).is_none(), "a third from the same address");
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let from_proxy: Vec<Entry> = (0..5).map(|_| gate.enter(proxy, gate.total.clone().try_acquire_owned().unwrap()).unwrap()).collect();
        assert_eq!(gate.total.available_permits(), 10 - 2 - 5);
        drop(a);
        assert!(gate.enter(client, gate.wait_for_room().await).is_some());
        drop(from_proxy);
        assert_eq!(gate.total.available_permits(), 10 - 1, "places come back (the last entry was dropped at once)");
    }

    #[tokio::test]
    async fn at_the_node_limit_accepting_waits() {
        let gate = Gate::new(limits(1, 5), Vec::new());
        let held = gate.enter("192.0.2.1".parse().unwrap(), gate.wait_for_room().await).unwrap();
        assert!(gate.total.clone().try_acquire_owned().is_err());
        drop(held);
        assert!(gate.per_ip.lock().unwrap().is_empty(), "an address's entry goes with its last connection");
        assert!(gate.total.clone().try_acquire_owned().is_ok());
    }
}
