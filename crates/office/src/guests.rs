//! Guests: members make links to one conference room (expiring, revocable); whoever opens one
//! gives at least a name and becomes a guest account of the organisation that may enter that
//! room only — after a member lets them in from the lobby, or at once when the link says so.

use bureau_store::{GuestLinkRow, GuestRow, OrgId, UserRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Client;
use crate::accounts::{SignedIn, new_token, token_hash};
use crate::core::Core;
use crate::error::{OfficeError, Result};
use crate::Joining;
use crate::profile::{Profile, ProfileMode, normalise_email, valid_name};
use crate::rights::{Actor, Role};
use crate::rooms::RoomKind;

const HOUR_MS: i64 = 3600 * 1000;

/// A guest link to create.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGuestLink {
    /// Hours until the link stops working (1–720, default 24).
    pub expires_in_hours: Option<u32>,
    /// How many guests may join through the link in all (1–500, default 20).
    pub max_guests: Option<u32>,
    /// Guests join without waiting for a member to let them in.
    #[serde(default)]
    pub direct: bool,
}

/// A guest link as members see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct GuestLinkView {
    /// Link id.
    pub id: String,
    /// The room.
    pub room_id: String,
    /// Guests join without the lobby.
    pub direct: bool,
    /// Created, Unix milliseconds.
    pub created_at: i64,
    /// Expiry, Unix milliseconds.
    pub expires_at: i64,
    /// Revoked by a member.
    pub revoked: bool,
    /// How many guests may join through it in all.
    pub max_guests: u32,
    /// The link itself (`{public_url}/guest#token=...`), only when just created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What the guest page shows before joining.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct GuestLinkInfo {
    /// The organisation's name.
    pub org_name: String,
    /// The organisation's slug (for its consent text: `GET /api/legal?org=`).
    pub org_slug: String,
    /// The room's name.
    pub room_name: String,
    /// Guests join without the lobby.
    pub direct: bool,
}

/// A guest joining through a link.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestJoin {
    /// The token from the link.
    pub token: String,
    /// The guest's name (1–100 characters).
    pub name: String,
    /// The guest's email, optional.
    pub email: Option<String>,
}

fn view(row: &GuestLinkRow, url: Option<String>) -> GuestLinkView {
    GuestLinkView {
        id: row.id.clone(),
        room_id: row.room_id.clone(),
        direct: row.direct,
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked: row.revoked_at.is_some(),
        max_guests: u32::try_from(row.max_guests).unwrap_or(0),
        url,
    }
}

/// Joins through one link per minute, so that a leaked link cannot mint accounts in bulk.
pub(crate) const JOINS_PER_MINUTE: usize = 10;
/// Guests of one link signed in at once (at most the link's own maximum).
pub const MAX_GUESTS_AT_ONCE: u64 = 50;

impl Joining {
    /// The conference room (meeting room or reception) with this id, with its name.
    async fn conference_room(&self, org_id: &str, room_id: &str) -> Result<String> {
        let room = self.rooms.floor_plan(org_id).await?.into_iter().find(|r| r.id == room_id).ok_or(OfficeError::NotFound("room"))?;
        if room.kind == RoomKind::Office {
            return Err(OfficeError::Invalid { field: "room_id", message: "guests are invited to meeting rooms and the reception".into() });
        }
        Ok(room.name)
    }

    /// Makes a guest link for a room (any member).
    pub async fn create_guest_link(&self, actor: &Actor, room_id: &str, link: NewGuestLink) -> Result<GuestLinkView> {
        if actor.role == Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        self.conference_room(&actor.org_id, room_id).await?;
        let hours = link.expires_in_hours.unwrap_or(24);
        if !(1..=720).contains(&hours) {
            return Err(OfficeError::Invalid { field: "expires_in_hours", message: "must be between 1 and 720".into() });
        }
        let max_guests = link.max_guests.unwrap_or(20);
        if !(1..=500).contains(&max_guests) {
            return Err(OfficeError::Invalid { field: "max_guests", message: "must be between 1 and 500".into() });
        }
        let (token, hash) = new_token();
        let now = self.core.now();
        let row = GuestLinkRow {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: actor.org_id.clone(),
            room_id: room_id.into(),
            token_hash: hash,
            direct: link.direct,
            created_by: Some(actor.user_id.clone()),
            created_at: now,
            expires_at: now + i64::from(hours) * HOUR_MS,
            revoked_at: None,
            max_guests: i64::from(max_guests),
        };
        self.store.insert_guest_link(&row).await?;
        Ok(view(&row, Some(format!("{}/guest#token={token}", self.core.public_url))))
    }

    /// The links of a room, newest first.
    pub async fn guest_links(&self, actor: &Actor, room_id: &str) -> Result<Vec<GuestLinkView>> {
        if actor.role == Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        Ok(self.store.guest_links(OrgId(&actor.org_id), room_id).await?.iter().map(|r| view(r, None)).collect())
    }

    /// Revokes a link: it stops working, and the guests who came in through it are signed out
    /// (their live connections close).
    pub async fn revoke_guest_link(&self, actor: &Actor, id: &str) -> Result<()> {
        if actor.role == Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        if !self.store.revoke_guest_link(OrgId(&actor.org_id), id, self.core.now()).await? {
            return Err(OfficeError::NotFound("guest link"));
        }
        let ended = self.store.end_guests_of_link(OrgId(&actor.org_id), id).await?;
        tracing::info!(org_id = %actor.org_id, link_id = %id, guests = ended.len(), "guest link revoked, its guests signed out");
        for user_id in ended {
            self.core.emit(crate::Change::Removed { org_id: actor.org_id.clone(), user_id });
        }
        Ok(())
    }

    async fn usable_guest_link(&self, token: &str) -> Result<GuestLinkRow> {
        let row = self.store.guest_link_by_token(&token_hash(token)).await?.ok_or(OfficeError::InvalidToken)?;
        if row.revoked_at.is_some() || row.expires_at <= self.core.now() {
            return Err(OfficeError::InvalidToken);
        }
        Ok(row)
    }

    /// What the guest page shows for a link.
    pub async fn guest_link_info(&self, token: &str) -> Result<GuestLinkInfo> {
        let link = self.usable_guest_link(token).await?;
        let org = self.core.org_row(&link.org_id).await?;
        let room_name = self.conference_room(&link.org_id, &link.room_id).await.map_err(|_| OfficeError::InvalidToken)?;
        Ok(GuestLinkInfo { org_name: org.name, org_slug: org.slug, room_name, direct: link.direct })
    }

    /// Joins as a guest: creates the guest account and signs it in.
    pub async fn join_as_guest(&self, join: GuestJoin, client: &Client) -> Result<(SignedIn, String)> {
        let link = self.usable_guest_link(&join.token).await?;
        let name = valid_name(&join.name)?;
        self.admit_through(&link).await?;
        let email = match join.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(email) => normalise_email(email)?,
            None => String::new(),
        };
        let keys = self.core.keys(&link.org_id).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.core.now();
        let profile = Profile { name, email, ..Profile::default() };
        // Guests never sign in by email, so their index only has to be unique.
        let mut row = UserRow {
            email_index: keys.blind_index("guest", &id),
            profile: Vec::new(),
            id: id.clone(),
            org_id: link.org_id.clone(),
            role: Role::Guest,
            rights: Vec::new(),
            active: true,
            has_picture: false,
            password_hash: None,
            restricted: false,
            objections: String::new(),
            created_at: now,
            updated_at: now,
            must_change_password: false,
        };
        Core::seal_profile(&keys, &mut row, &profile);
        self.core.store.insert_user(&row).await?;
        let guest = GuestRow { user_id: id, org_id: link.org_id.clone(), room_id: link.room_id.clone(), direct: link.direct, link_id: Some(link.id) };
        self.store.insert_guest(&guest).await?;
        let user = self.core.view(&row, profile, ProfileMode::Entry, None);
        tracing::info!(org_id = %link.org_id, user_id = %row.id, "guest joined through a link");
        // A guest's session ends with the link at the latest.
        Ok((self.accounts.start_session_until(&link.org_id, user, client, "guest_join", link.expires_at).await?, link.room_id))
    }

    /// Whether one more guest may join through `link`: at most the link's own maximum in all,
    /// [`MAX_GUESTS_AT_ONCE`] signed in at once and [`JOINS_PER_MINUTE`].
    async fn admit_through(&self, link: &GuestLinkRow) -> Result<()> {
        let key = crate::accounts::limit_key("guest-join", &link.id);
        let now = self.core.now();
        if let Some(seconds) = self.guest_join_limiter.blocked(&key, now).await {
            return Err(OfficeError::RateLimited(seconds));
        }
        let (total, live) = self.store.guests_of_link(OrgId(&link.org_id), &link.id, now).await?;
        if total >= u64::try_from(link.max_guests).unwrap_or(0) {
            return Err(OfficeError::LinkFull("this link has let in as many guests as it allows; ask for a new one"));
        }
        if live >= MAX_GUESTS_AT_ONCE {
            return Err(OfficeError::LinkFull("as many guests as this link allows are in already; try again later"));
        }
        self.guest_join_limiter.fail(&key, now).await;
        Ok(())
    }

    /// The room a guest account may enter and whether without the lobby; `None` for members.
    pub async fn guest_access(&self, actor: &Actor) -> Result<Option<(String, bool)>> {
        if actor.role != Role::Guest {
            return Ok(None);
        }
        let guest = self.store.guest(OrgId(&actor.org_id), &actor.user_id).await?.ok_or(OfficeError::Forbidden)?;
        Ok(Some((guest.room_id, guest.direct)))
    }
}
