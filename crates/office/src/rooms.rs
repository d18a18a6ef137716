//! Rooms of the office floor plan: the organisation's meeting rooms and reception (stored,
//! names sealed) and every active user's own office (derived from the directory).

use std::sync::Arc;

use bureau_store::RoomsStore;
use bureau_store::vault::Slot;
use bureau_store::{OrgId, RoomRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::core::Core;
use crate::error::{OfficeError, Result};
use crate::profile::valid_name;
use crate::rights::{Actor, Right};
use crate::{Away, WorkingDay};

pub use bureau_store::RoomKind;

/// A room as the API and the signaling hub see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoomView {
    /// Room id (`office:<user id>` for a user's own office).
    pub id: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    pub kind: RoomKind,
    /// Most participants, if limited.
    pub capacity: Option<u32>,
    /// Marked large (meeting rooms and receptions): its media always goes through the media
    /// server, whatever the number of people in it.
    pub large: bool,
    /// The organisation's threshold of the media server (`None`: the node's), for the hub; the
    /// API shows it once, with the organisation's settings.
    #[serde(skip)]
    pub sfu_threshold: Option<u32>,
    /// The owner of an office.
    pub owner_user_id: Option<String>,
    /// The owner of an office is away (an absence): until when, and who stands in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub away: Option<Away>,
    /// The owner of an office is in a meeting (their calendar): until when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meeting: Option<crate::Meeting>,
    /// The owner's next busy interval, when they share it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_busy: Option<crate::NextBusy>,
}

/// A room to create.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoom {
    /// Display name (1–100 characters).
    pub name: String,
    /// `meeting` (default) or `reception`.
    #[serde(default = "meeting")]
    pub kind: RoomKind,
    /// Most participants (2–1000); the node's cap (the mesh cap, or the media server's room cap) applies anyway.
    pub capacity: Option<u32>,
    /// Its media always goes through the media server (default `false`: from the
    /// organisation's threshold on).
    #[serde(default)]
    pub large: bool,
}

fn meeting() -> RoomKind {
    RoomKind::Meeting
}

/// A change to a room. `capacity: null` removes the limit.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomPatch {
    /// Display name.
    pub name: Option<String>,
    /// Most participants.
    #[serde(default, deserialize_with = "crate::profile::nullable")]
    #[schema(value_type = Option<u32>)]
    pub capacity: Option<Option<u32>>,
    /// Whether its media always goes through the media server.
    pub large: Option<bool>,
    /// What the room is for: `meeting` or `reception` (offices belong to users).
    pub kind: Option<RoomKind>,
}

fn name_slot(room_id: &str) -> Slot<'_> {
    Slot { table: "rooms", column: "name", row: room_id }
}

/// The largest capacity a room may be given: the most the media server can hold in one room
/// (`sfu.max_room_participants`, whose own bound a node's setting may lower).
pub const MAX_CAPACITY: u32 = 1000;

/// The thresholds of the media server an organisation may choose: the bounds of the node's own
/// `sfu.threshold`. Below two a call between two people would leave the mesh; "always" is what
/// rooms marked large are for.
pub const SFU_THRESHOLDS: std::ops::RangeInclusive<u32> = 2..=100;

fn check_capacity(capacity: Option<u32>) -> Result<()> {
    match capacity {
        Some(c) if !(2..=MAX_CAPACITY).contains(&c) => {
            Err(OfficeError::Invalid { field: "capacity", message: format!("must be between 2 and {MAX_CAPACITY}") })
        }
        _ => Ok(()),
    }
}

fn require_room_right(actor: &Actor) -> Result<()> {
    if actor.can(Right::CreateRooms) { Ok(()) } else { Err(OfficeError::Forbidden) }
}

/// The rooms of the floor plan, and the metadata logs of calls and transfers ([`crate::logs`]).
pub struct Rooms {
    pub(crate) core: Arc<Core>,
    pub(crate) store: Arc<dyn RoomsStore>,
    /// Offices show who is away.
    pub(crate) working_day: Arc<WorkingDay>,
}

impl Rooms {
    /// The floor plan of an organisation: its rooms, then every active user's office.
    /// (Used by the signaling hub, which serves the organisation's members.)
    pub async fn floor_plan(&self, org_id: &str) -> Result<Vec<RoomView>> {
        let keys = self.core.keys(org_id).await?;
        let sfu_threshold = self.org_sfu_threshold(org_id).await?;
        let mut rooms = Vec::new();
        // A damaged room name or profile is logged and shown as unavailable; the rest of the
        // floor plan (and the live office built on it) keeps working.
        for row in self.store.rooms(OrgId(org_id)).await? {
            let name = keys.open(name_slot(&row.id), &row.name).ok().and_then(|n| String::from_utf8(n).ok()).unwrap_or_else(|| {
                tracing::error!(room_id = %row.id, "sealed room name failed to open");
                "Unavailable room (damaged record)".into()
            });
            rooms.push(RoomView {
                id: row.id,
                name,
                kind: row.kind,
                capacity: row.capacity.and_then(|c| u32::try_from(c).ok()),
                large: row.large,
                sfu_threshold,
                owner_user_id: None,
                away: None,
                meeting: None,
                next_busy: None,
            });
        }
        let mut away = self.working_day.away_now(org_id, &keys).await?;
        let mut calendars = self.working_day.calendar_now(org_id, &keys).await?;
        for user in self.core.store.users(OrgId(org_id)).await?.iter().filter(|u| u.active && u.role != crate::Role::Guest) {
            let (profile, _) = self.core.open_profile_or_placeholder(&keys, user);
            let calendar = calendars.remove(&user.id).unwrap_or_default();
            rooms.push(RoomView {
                id: format!("office:{}", user.id),
                name: profile.name,
                kind: RoomKind::Office,
                capacity: None,
                large: false,
                sfu_threshold,
                owner_user_id: Some(user.id.clone()),
                away: away.remove(&user.id),
                meeting: calendar.meeting,
                next_busy: calendar.next_busy,
            });
        }
        Ok(rooms)
    }

    /// The organisation's rooms for the actor (members and admins).
    pub async fn rooms(&self, actor: &Actor) -> Result<Vec<RoomView>> {
        if actor.role == crate::Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        self.floor_plan(&actor.org_id).await
    }

    /// Creates a meeting room or reception (admins, or users with the `create_rooms` right).
    pub async fn create_room(&self, actor: &Actor, room: NewRoom) -> Result<RoomView> {
        require_room_right(actor)?;
        let name = valid_name(&room.name).map_err(|_| OfficeError::Invalid { field: "name", message: "must be 1 to 100 characters".into() })?;
        if room.kind == RoomKind::Office {
            return Err(OfficeError::Invalid { field: "kind", message: "offices belong to users and are created with them".into() });
        }
        check_capacity(room.capacity)?;
        let keys = self.core.keys(&actor.org_id).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let row = RoomRow {
            name: keys.seal(name_slot(&id), name.as_bytes()),
            id: id.clone(),
            org_id: actor.org_id.clone(),
            kind: room.kind,
            capacity: room.capacity.map(i64::from),
            created_at: self.core.now(),
            large: room.large,
        };
        self.store.insert_room(&row).await?;
        self.core.floor_plan_changed(&actor.org_id);
        let sfu_threshold = self.org_sfu_threshold(&actor.org_id).await?;
        Ok(RoomView {
            id,
            name,
            kind: room.kind,
            capacity: room.capacity,
            large: room.large,
            sfu_threshold,
            owner_user_id: None,
            away: None,
            meeting: None,
            next_busy: None,
        })
    }

    /// Gives an organisation without rooms a meeting room and the reception (its first
    /// administrator sets it up); an organisation with rooms keeps them.
    pub async fn create_default_rooms(&self, org_id: &str) -> Result<()> {
        if !self.store.rooms(OrgId(org_id)).await?.is_empty() {
            return Ok(());
        }
        let keys = self.core.keys(org_id).await?;
        for (name, kind) in [("Meeting room", RoomKind::Meeting), ("Reception", RoomKind::Reception)] {
            let id = uuid::Uuid::new_v4().to_string();
            let row = RoomRow {
                name: keys.seal(name_slot(&id), name.as_bytes()),
                id,
                org_id: org_id.to_owned(),
                kind,
                capacity: None,
                created_at: self.core.now(),
                large: false,
            };
            self.store.insert_room(&row).await?;
        }
        self.core.floor_plan_changed(org_id);
        Ok(())
    }

    /// Renames a room, changes its capacity, its kind, or marks it large (or no longer).
    pub async fn update_room(&self, actor: &Actor, id: &str, patch: RoomPatch) -> Result<RoomView> {
        require_room_right(actor)?;
        let keys = self.core.keys(&actor.org_id).await?;
        let rows = self.store.rooms(OrgId(&actor.org_id)).await?;
        let mut row = rows.into_iter().find(|r| r.id == id).ok_or(OfficeError::NotFound("room"))?;
        let mut name = String::from_utf8(keys.open(name_slot(&row.id), &row.name)?).map_err(|_| OfficeError::Tampered)?;
        if let Some(new_name) = patch.name {
            name = valid_name(&new_name)?;
            row.name = keys.seal(name_slot(&row.id), name.as_bytes());
        }
        if let Some(capacity) = patch.capacity {
            check_capacity(capacity)?;
            row.capacity = capacity.map(i64::from);
        }
        if let Some(large) = patch.large {
            row.large = large;
        }
        if let Some(kind) = patch.kind {
            if !matches!(kind, RoomKind::Meeting | RoomKind::Reception) {
                return Err(OfficeError::Invalid { field: "kind", message: "a room is a meeting room or a reception; offices belong to users".into() });
            }
            row.kind = kind;
        }
        if !self.store.update_room(&row).await? {
            return Err(OfficeError::NotFound("room"));
        }
        // The hub reloads the floor plan: a room marked large moves to the media server at once,
        // with the people in it.
        self.core.floor_plan_changed(&actor.org_id);
        let sfu_threshold = self.org_sfu_threshold(&actor.org_id).await?;
        Ok(RoomView {
            id: row.id,
            name,
            kind: row.kind,
            capacity: row.capacity.and_then(|c| u32::try_from(c).ok()),
            large: row.large,
            sfu_threshold,
            owner_user_id: None,
            away: None,
            meeting: None,
            next_busy: None,
        })
    }

    /// Removes a room (its occupants are moved out by the signaling hub).
    pub async fn delete_room(&self, actor: &Actor, id: &str) -> Result<()> {
        require_room_right(actor)?;
        if !self.store.delete_room(OrgId(&actor.org_id), id).await? {
            return Err(OfficeError::NotFound("room"));
        }
        self.core.floor_plan_changed(&actor.org_id);
        Ok(())
    }

    /// The organisation's own threshold of the media server, if it chose one.
    async fn org_sfu_threshold(&self, org_id: &str) -> Result<Option<u32>> {
        Ok(self.core.org_row(org_id).await?.sfu_threshold.and_then(|t| u32::try_from(t).ok()))
    }
}
