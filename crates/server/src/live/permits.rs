//! How many signaling connections one user, one organisation and this whole node may hold
//! open. Each open socket holds a [`Permit`]; dropping it (the socket's task ends, however it
//! ends) gives the place back. The counts live in one small map per node, so a refusal costs no
//! database read beyond the session check and no hub work, and a user's or organisation's entry
//! disappears with its last connection, so memory returns to where it was.
//!
//! With several nodes the limits hold per node: a user may open `per_user` connections on
//! each node the load balancer sends them to.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bureau_signal::CloseCode;

/// The limits (`[signal]` in the configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnLimits {
    /// Connections one user (or guest) may hold: a few devices and tabs.
    pub per_user: usize,
    /// Connections one organisation may hold on this node.
    pub per_org: usize,
    /// Connections this node holds at most.
    pub per_node: usize,
}

/// Which limit refused a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The user has `per_user` connections open.
    User,
    /// The organisation has `per_org` connections open on this node.
    Org,
    /// The node holds `per_node` connections.
    Node,
}

impl Refusal {
    /// How the refused socket is closed: the user is told to close a tab (and the client does
    /// not retry); a full organisation or node asks the client to come back later.
    pub fn close_code(self) -> CloseCode {
        match self {
            Refusal::User => CloseCode::TooManyConnections,
            Refusal::Org | Refusal::Node => CloseCode::TryAgainLater,
        }
    }
}

#[derive(Default)]
struct Counts {
    node: usize,
    orgs: HashMap<String, usize>,
    users: HashMap<String, usize>,
}

/// The counts of one node.
pub struct Permits {
    limits: ConnLimits,
    counts: Mutex<Counts>,
    /// Refusals by the user, organisation and node limits, for `/metrics`.
    refused: [AtomicU64; 3],
}

/// One open connection's place; given back on drop.
pub struct Permit {
    permits: Arc<Permits>,
    org_id: String,
    user_id: String,
}

impl Permits {
    /// No connection open yet.
    pub fn new(limits: ConnLimits) -> Arc<Permits> {
        Arc::new(Permits { limits, counts: Mutex::new(Counts::default()), refused: Default::default() })
    }

    /// A place for one more connection of `user_id` in `org_id`, unless a limit is reached.
    pub fn take(self: &Arc<Self>, org_id: &str, user_id: &str) -> Result<Permit, Refusal> {
        let taken = self.try_take(org_id, user_id);
        if let Err(refusal) = taken {
            self.refused[refusal as usize].fetch_add(1, Ordering::Relaxed);
        }
        taken
    }

    fn try_take(self: &Arc<Self>, org_id: &str, user_id: &str) -> Result<Permit, Refusal> {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if counts.node >= self.limits.per_node {
            return Err(Refusal::Node);
        }
        if counts.orgs.get(org_id).copied().unwrap_or(0) >= self.limits.per_org {
            return Err(Refusal::Org);
        }
        if counts.users.get(user_id).copied().unwrap_or(0) >= self.limits.per_user {
            return Err(Refusal::User);
        }
        counts.node += 1;
        *counts.orgs.entry(org_id.to_owned()).or_default() += 1;
        *counts.users.entry(user_id.to_owned()).or_default() += 1;
        Ok(Permit { permits: self.clone(), org_id: org_id.to_owned(), user_id: user_id.to_owned() })
    }

    /// Open connections on this node, and how many users and organisations have entries.
    pub fn open(&self) -> (usize, usize, usize) {
        let counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (counts.node, counts.users.len(), counts.orgs.len())
    }

    /// The figures for `/metrics`.
    pub fn render_metrics(&self) -> String {
        let (_, users, orgs) = self.open();
        let mut out = format!(
            "# HELP bureau_live_connected_users Users and guests with a signaling connection open on this node.\n# TYPE bureau_live_connected_users gauge\nbureau_live_connected_users {users}\n\
             # HELP bureau_live_connected_orgs Organisations with a signaling connection open on this node.\n# TYPE bureau_live_connected_orgs gauge\nbureau_live_connected_orgs {orgs}\n\
             # HELP bureau_live_connections_refused_total Signaling connections refused by a connection limit.\n# TYPE bureau_live_connections_refused_total counter\n"
        );
        for (refusal, name) in [(Refusal::User, "user"), (Refusal::Org, "org"), (Refusal::Node, "node")] {
            out.push_str(&format!("bureau_live_connections_refused_total{{limit=\"{name}\"}} {}\n", self.refused[refusal as usize].load(Ordering::Relaxed)));
        }
        out
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut counts = self.permits.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let counts = &mut *counts;
        counts.node = counts.node.saturating_sub(1);
        give_back(&mut counts.orgs, &self.org_id);
        give_back(&mut counts.users, &self.user_id);
    }
}

/// One place fewer for `key`; its entry goes with its last place.
fn give_back(map: &mut HashMap<String, usize>, key: &str) {
    if let Some(count) = map.get_mut(key) {
        *count -= 1;
        if *count == 0 {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_refuses_and_dropping_gives_the_place_back() {
        let permits = Permits::new(ConnLimits { per_user: 2, per_org: 3, per_node: 4 });
        let a1 = permits.take("acme", "ada").unwrap();
        let _a2 = permits.take("acme", "ada").unwrap();
        assert_eq!(permits.take("acme", "ada").err(), Some(Refusal::User));
        let _b1 = permits.take("acme", "bob").unwrap();
        assert_eq!(permits.take("acme", "cy").err(), Some(Refusal::Org), "the organisation is full");
        let _g1 = permits.take("globex", "gus").unwrap();
        assert_eq!(permits.take("initech", "ian").err(), Some(Refusal::Node), "the node is full");
        drop(a1);
        let _a3 = permits.take("acme", "ada").unwrap();
        assert_eq!(permits.open(), (4, 3, 2));
    }

    #[test]
    fn entries_disappear_with_their_last_connection() {
        let permits = Permits::new(ConnLimits { per_user: 10, per_org: 100, per_node: 1000 });
        let held: Vec<Permit> = (0..50).map(|i| permits.take(&format!("org{}", i % 5), &format!("user{i}")).unwrap()).collect();
        assert_eq!(permits.open(), (50, 50, 5));
        drop(held);
        assert_eq!(permits.open(), (0, 0, 0));
    }
}
