//! The hub's tunables.

use std::time::Duration;

/// Tunables of the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// How long a user without connections stays as they were before turning offline.
    pub presence_grace: Duration,
    /// How long a call rings before `no_answer`; also how long an accepted call waits for both
    /// sides to join its room.
    pub ring_timeout: Duration,
    /// The most peers in one room (a full mesh costs every peer one connection per other peer).
    pub mesh_cap: usize,
    /// How many malformed messages a connection may send; one more closes it.
    pub max_bad_messages: u32,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            presence_grace: Duration::from_secs(15),
            ring_timeout: Duration::from_secs(30),
            mesh_cap: 8,
            max_bad_messages: 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_protocol_document() {
        let c = HubConfig::default();
        assert_eq!(c.presence_grace, Duration::from_secs(15));
        assert_eq!(c.ring_timeout, Duration::from_secs(30));
        assert_eq!((c.mesh_cap, c.max_bad_messages), (8, 10));
    }
}
