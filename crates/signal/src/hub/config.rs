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
    /// Participants at which a room switches from the mesh to the media server; `None` when
    /// this node runs no media server (rooms then stay within the mesh cap).
    pub sfu_threshold: Option<usize>,
    /// The most participants in one room through the media server.
    pub sfu_room_cap: usize,
}

impl HubConfig {
    /// The most participants any organisation room may hold on this node.
    pub fn room_cap(&self) -> usize {
        match self.sfu_threshold {
            Some(_) => self.sfu_room_cap.max(self.mesh_cap),
            None => self.mesh_cap,
        }
    }
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            presence_grace: Duration::from_secs(15),
            ring_timeout: Duration::from_secs(30),
            mesh_cap: 8,
            max_bad_messages: 10,
            sfu_threshold: None,
            sfu_room_cap: 100,
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
