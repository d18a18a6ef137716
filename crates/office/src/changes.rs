//! Changes the live office must hear about. The domain emits them where it makes the change
//! (a user deactivated, a room renamed, a session ended), so no request handler has to remember
//! to tell the live office; the server subscribes once ([`Office::subscribe`]) and carries each
//! change to the signaling hubs, in the order they were made.

use std::sync::Mutex;

use tokio::sync::mpsc;

use crate::Office;

/// A change the live office must hear about.
#[derive(Clone, PartialEq, Eq)]
pub enum Change {
    /// The organisation's floor plan changed: its rooms, or the users whose offices it shows.
    FloorPlan {
        /// The organisation.
        org_id: String,
    },
    /// A user may no longer be in the live office (deactivated, erased, restricted, a guest
    /// whose link was revoked): their connections end and they show offline at once.
    Removed {
        /// The organisation.
        org_id: String,
        /// The user.
        user_id: String,
    },
    /// A user's name or picture changed.
    Profile {
        /// The organisation.
        org_id: String,
        /// The user.
        user_id: String,
        /// The display name.
        name: String,
        /// Whether the user has a picture.
        has_picture: bool,
        /// The user set a new picture (pages fetch it again).
        new_picture: bool,
    },
    /// A user signed out: the connections opened with that session end.
    SignedOut {
        /// The organisation.
        org_id: String,
        /// The user.
        user_id: String,
        /// The session's token (never logged: see the `Debug` implementation).
        token: String,
    },
    /// End-to-end encrypted messages wait for these users' devices: their open pages fetch them.
    MessagesWaiting {
        /// The organisation.
        org_id: String,
        /// The users whose devices have new entries.
        user_ids: Vec<String>,
    },
    /// Group conversations these users are (or were) in changed: their open pages fetch them.
    ConversationsChanged {
        /// The organisation.
        org_id: String,
        /// The members before and after the change.
        user_ids: Vec<String>,
    },
}

impl std::fmt::Debug for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::FloorPlan { .. } => f.write_str("FloorPlan"),
            Change::Removed { .. } => f.write_str("Removed"),
            Change::Profile { new_picture, .. } => write!(f, "Profile {{ new_picture: {new_picture} }}"),
            Change::SignedOut { .. } => f.write_str("SignedOut"),
            Change::MessagesWaiting { user_ids, .. } => write!(f, "MessagesWaiting {{ users: {} }}", user_ids.len()),
            Change::ConversationsChanged { user_ids, .. } => write!(f, "ConversationsChanged {{ users: {} }}", user_ids.len()),
        }
    }
}

/// Where changes go: nowhere until someone subscribes (the CLI and most tests never do).
#[derive(Default)]
pub(crate) struct Changes(Mutex<Option<mpsc::UnboundedSender<Change>>>);

impl Changes {
    pub(crate) fn emit(&self, change: Change) {
        if let Ok(slot) = self.0.lock()
            && let Some(sender) = slot.as_ref()
        {
            let _ = sender.send(change);
        }
    }
}

impl Office {
    /// Every change from now on, in order. A new subscription replaces the previous one.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Change> {
        let (sender, receiver) = mpsc::unbounded_channel();
        if let Ok(mut slot) = self.parts.changes.0.lock() {
            *slot = Some(sender);
        }
        receiver
    }
}
