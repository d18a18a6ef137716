//! Rooms through the media server (docs/sfu.md): when a room switches from the peer-to-peer mesh
//! to the SFU and back, and the signaling between a client and the media server.
//!
//! The hub decides; the driver runs the media server. A room switches to it when it reaches the
//! threshold ([`HubConfig::sfu_threshold`](super::HubConfig)) and back to the mesh when it falls
//! two below (so that one person walking in and out does not flip it); call rooms between two
//! people stay peer to peer. Every participant hears `media_mode`. A client in such a room sends
//! its offer (`sfu_offer`); the hub hands it to the driver as [`MediaCommand::Join`] and relays
//! what the media server says back ([`Hub::media_event`]). The hub never reads the SDP.

use super::{ConnId, Hub, Output};
use std::collections::BTreeMap;

use crate::protocol::{ErrorCode, MediaMode, PeerId, RoomKind, ServerMsg, VideoLayer};

/// The most `sfu_offer`s one connection may send: each makes the media server set up a new
/// connection (a DTLS certificate, ICE), so a client cannot make it do that without end.
const MAX_MEDIA_JOINS: u32 = 20;

/// What the hub asks the media server to do ([`Output::Media`]). Serializable: with several
/// nodes, a room's media server may run on another node than its hub.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "c", rename_all = "snake_case")]
pub enum MediaCommand {
    /// Connect a participant with their offer (replacing an earlier connection of theirs).
    Join {
        /// The room's organisation.
        org_id: String,
        /// The room.
        room_id: String,
        /// The participant's connection, which names them in [`MediaEvent`]s.
        conn: ConnId,
        /// The participant's peer id: the stream id others see their tracks under.
        peer_id: PeerId,
        /// The offer's SDP.
        sdp: String,
    },
    /// A participant's answer to the media server's last offer to them.
    Answer {
        /// The participant.
        conn: ConnId,
        /// The answer's SDP.
        sdp: String,
    },
    /// A participant shares their screen, or stopped: browsers put the screen in place of the
    /// camera on the same track, so only the client's media state tells (a shared screen goes
    /// to everyone, whoever speaks).
    Sharing {
        /// The participant.
        conn: ConnId,
        /// Whether the screen is shared now.
        sharing: bool,
    },
    /// The largest layer a participant wants of others' videos (`sfu_layers`), by sender.
    Layers {
        /// The participant receiving.
        conn: ConnId,
        /// Senders in the same room, and the layer wanted of each.
        layers: Vec<(ConnId, VideoLayer)>,
    },
    /// A participant left the room (or the connection closed).
    Leave {
        /// The participant.
        conn: ConnId,
    },
    /// The room went back to the mesh: every connection of it ends.
    Close {
        /// The room's organisation.
        org_id: String,
        /// The room.
        room_id: String,
    },
}

/// What the media server tells a participant, through the hub ([`Hub::media_event`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "e", rename_all = "snake_case")]
pub enum MediaEvent {
    /// The answer to the participant's offer.
    Answer {
        /// The participant.
        conn: ConnId,
        /// The answer's SDP.
        sdp: String,
    },
    /// A new offer for the participant (others' tracks added or removed).
    Offer {
        /// The participant.
        conn: ConnId,
        /// The offer's SDP.
        sdp: String,
    },
    /// The order of speakers in a room changed.
    Speakers {
        /// The room's organisation.
        org_id: String,
        /// The room.
        room_id: String,
        /// Its participants, the most recent speaker first.
        order: Vec<ConnId>,
        /// How many of the first have their video forwarded.
        last_n: usize,
    },
    /// The participant's connection could not be made or ended.
    Failed {
        /// The participant.
        conn: ConnId,
        /// Why, for people.
        reason: String,
    },
}

impl Hub {
    /// Something the media server says to a participant. Dropped when the participant is no
    /// longer in a room that uses it (they left while it worked).
    pub fn media_event(&mut self, event: MediaEvent) {
        let (conn, msg) = match event {
            MediaEvent::Answer { conn, sdp } => (conn, ServerMsg::SfuAnswer { sdp }),
            MediaEvent::Offer { conn, sdp } => (conn, ServerMsg::SfuOffer { sdp }),
            MediaEvent::Failed { conn, reason } => (conn, ServerMsg::error(ErrorCode::MediaServer, reason)),
            MediaEvent::Speakers { org_id, room_id, order, last_n } => return self.speakers(&org_id, &room_id, &order, last_n),
        };
        if self.media_room(conn).is_none() {
            return;
        }
        if matches!(msg, ServerMsg::SfuOffer { .. })
            && let Some(c) = self.conns.get_mut(&conn)
        {
            c.media_offers_open = c.media_offers_open.saturating_add(1);
        }
        self.send(conn, msg);
    }

    /// Tells a room on the media server who spoke last and whose video goes round. Connections
    /// no longer in the room are left out.
    fn speakers(&mut self, org_id: &str, room_id: &str, order: &[ConnId], last_n: usize) {
        let in_room: Vec<ConnId> = order.iter().copied().filter(|c| self.media_room(*c).is_some_and(|(o, r)| o == org_id && r == room_id)).collect();
        let peer_ids: Vec<PeerId> = in_room.iter().filter_map(|c| self.conns.get(c).map(|c| c.peer_id.clone())).collect();
        if peer_ids.is_empty() {
            return;
        }
        let msg = ServerMsg::Speakers { room_id: room_id.to_owned(), peer_ids, last_n };
        let members = self.orgs.get(org_id).and_then(|o| o.rooms.get(room_id)).map(|r| r.members.clone()).unwrap_or_default();
        let shared = std::sync::Arc::new(msg);
        for conn in members {
            self.out.push_back(Output::Send { conn, msg: shared.clone() });
        }
    }

    /// The organisation and room of a connection whose room uses the media server.
    fn media_room(&self, conn: ConnId) -> Option<(String, String)> {
        let c = self.conns.get(&conn)?;
        let room_id = c.room.as_ref()?;
        let entry = self.orgs.get(&c.org_id)?.rooms.get(room_id)?;
        (entry.media == MediaMode::Sfu).then(|| (c.org_id.clone(), room_id.clone()))
    }

    /// `sfu_offer`: the client connects to its room's media server.
    pub(super) fn sfu_offer(&mut self, conn: ConnId, sdp: String) {
        let Some((org_id, room_id)) = self.media_room(conn) else {
            self.send(conn, ServerMsg::error(ErrorCode::MediaServer, "your room does not use the media server"));
            return;
        };
        let Some(c) = self.conns.get_mut(&conn) else { return };
        if c.media_joins >= MAX_MEDIA_JOINS {
            self.send(conn, ServerMsg::error(ErrorCode::RateLimited, "too many connections to the media server; reload the page"));
            return;
        }
        c.media_joins += 1;
        // A new connection to the media server: offers made on the last one are moot.
        c.media_offers_open = 0;
        let (peer_id, sharing) = (c.peer_id.clone(), c.media.screen);
        self.out.push_back(Output::Media(MediaCommand::Join { org_id, room_id, conn, peer_id, sdp }));
        // Already sharing when connecting (the room just switched, say): the server hears it now.
        if sharing {
            self.out.push_back(Output::Media(MediaCommand::Sharing { conn, sharing }));
        }
    }

    /// `sfu_answer`: the client's answer to the media server's offer.
    pub(super) fn sfu_answer(&mut self, conn: ConnId, sdp: String) {
        if self.media_room(conn).is_none() {
            self.send(conn, ServerMsg::error(ErrorCode::MediaServer, "your room does not use the media server"));
            return;
        }
        let Some(c) = self.conns.get_mut(&conn) else { return };
        if c.media_offers_open == 0 {
            self.send(conn, ServerMsg::error(ErrorCode::MediaServer, "the media server made no offer to answer"));
            return;
        }
        c.media_offers_open -= 1;
        self.out.push_back(Output::Media(MediaCommand::Answer { conn, sdp }));
    }

    /// `sfu_layers`: the sizes a client shows others' videos at. Peers not in the client's room
    /// are left out (a stale id, or one of another room: nothing to say about them); outside a
    /// room on the media server the whole message is (a hint sent as the room went back to the
    /// mesh: an error would make the client reconnect to the media server).
    pub(super) fn sfu_layers(&mut self, conn: ConnId, layers: &BTreeMap<PeerId, VideoLayer>) {
        let Some((org_id, room_id)) = self.media_room(conn) else { return };
        let Some(room) = self.orgs.get(&org_id).and_then(|o| o.rooms.get(&room_id)) else { return };
        let layers: Vec<(ConnId, VideoLayer)> = room
            .members
            .iter()
            .filter(|m| **m != conn)
            .filter_map(|m| self.conns.get(m).and_then(|c| layers.get(&c.peer_id)).map(|layer| (*m, *layer)))
            .collect();
        if !layers.is_empty() {
            self.out.push_back(Output::Media(MediaCommand::Layers { conn, layers }));
        }
    }

    /// A participant's screen sharing changed (from `media_state`).
    pub(super) fn media_sharing(&mut self, conn: ConnId, sharing: bool) {
        if self.media_room(conn).is_some() {
            self.out.push_back(Output::Media(MediaCommand::Sharing { conn, sharing }));
        }
    }

    /// A participant is about to leave a room that uses the media server.
    pub(super) fn media_leave(&mut self, conn: ConnId) {
        if self.media_room(conn).is_some() {
            self.out.push_back(Output::Media(MediaCommand::Leave { conn }));
        }
    }

    /// After a room's participants changed: switches it to the media server or back when its
    /// size crossed the threshold, and tells its participants.
    pub(super) fn update_media_mode(&mut self, org_id: &str, room_id: &str) {
        let Some(node_threshold) = self.config.sfu_threshold else { return };
        let Some(entry) = self.orgs.get_mut(org_id).and_then(|o| o.rooms.get_mut(room_id)) else { return };
        if entry.kind() == RoomKind::Call {
            return;
        }
        let threshold = entry.media_threshold().unwrap_or(node_threshold).max(1);
        let count = entry.members.len();
        let mode = match entry.media {
            MediaMode::Mesh if count >= threshold => MediaMode::Sfu,
            // Back only two below the threshold (and always when empty).
            MediaMode::Sfu if count == 0 || count + 2 <= threshold => MediaMode::Mesh,
            unchanged => unchanged,
        };
        if mode == entry.media {
            return;
        }
        entry.media = mode;
        let members = entry.members.clone();
        if mode == MediaMode::Mesh {
            self.out.push_back(Output::Media(MediaCommand::Close { org_id: org_id.to_owned(), room_id: room_id.to_owned() }));
        }
        let msg = ServerMsg::MediaMode { room_id: room_id.to_owned(), mode };
        for conn in members {
            self.send(conn, msg.clone());
        }
    }

    /// How a room's media travels now (mesh for rooms the hub does not know).
    pub(super) fn media_mode(&self, org_id: &str, room_id: &str) -> MediaMode {
        self.orgs.get(org_id).and_then(|o| o.rooms.get(room_id)).map_or(MediaMode::Mesh, |r| r.media)
    }
}
