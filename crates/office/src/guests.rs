//! Guests: members make links to one conference room (expiring, revocable); whoever opens one
//! gives at least a name and becomes a guest account of the organisation that may enter that
//! room only — after a member lets them in from the lobby, or at once when the link says so.

use bureau_store::{GuestLinkRow, GuestRow, OrgId, UserRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Client;
use crate::accounts::{SignedIn, new_token, token_hash};
use crate::error::{OfficeError, Result};
use crate::profile::{Profile, ProfileMode, normalise_email, valid_name};
use crate::rights::{Actor, Role};
use crate::rooms::RoomKind;
use crate::{Office, profile_slot};

const HOUR_MS: i64 = 3600 * 1000;

/// A guest link to create.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGuestLink {
    /// Hours until the link stops working (1–720, default 24).
    pub expires_in_hours: Option<u32>,
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
        url,
    }
}

impl Office {
    /// The conference room (meeting room or reception) with this id, with its name.
    async fn conference_room(&self, org_id: &str, room_id: &str) -> Result<String> {
        let room = self.floor_plan(org_id).await?.into_iter().find(|r| r.id == room_id).ok_or(OfficeError::NotFound("room"))?;
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
        let (token, hash) = new_token();
        let now = self.now();
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
        };
        self.store.insert_guest_link(&row).await?;
        Ok(view(&row, Some(format!("{}/guest#token={token}", self.public_url))))
    }

    /// The links of a room, newest first.
    pub async fn guest_links(&self, actor: &Actor, room_id: &str) -> Result<Vec<GuestLinkView>> {
        if actor.role == Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        Ok(self.store.guest_links(OrgId(&actor.org_id), room_id).await?.iter().map(|r| view(r, None)).collect())
    }

    /// Revokes a link: it stops working (guests already in keep their session until it ends).
    pub async fn revoke_guest_link(&self, actor: &Actor, id: &str) -> Result<()> {
        if actor.role == Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        if self.store.revoke_guest_link(OrgId(&actor.org_id), id, self.now()).await? { Ok(()) } else { Err(OfficeError::NotFound("guest link")) }
    }

    async fn usable_guest_link(&self, token: &str) -> Result<GuestLinkRow> {
        let row = self.store.guest_link_by_token(&token_hash(token)).await?.ok_or(OfficeError::InvalidToken)?;
        if row.revoked_at.is_some() || row.expires_at <= self.now() {
            return Err(OfficeError::InvalidToken);
        }
        Ok(row)
    }

    /// What the guest page shows for a link.
    pub async fn guest_link_info(&self, token: &str) -> Result<GuestLinkInfo> {
        let link = self.usable_guest_link(token).await?;
        let org = self.org_row(&link.org_id).await?;
        let room_name = self.conference_room(&link.org_id, &link.room_id).await.map_err(|_| OfficeError::InvalidToken)?;
        Ok(GuestLinkInfo { org_name: org.name, org_slug: org.slug, room_name, direct: link.direct })
    }

    /// Joins as a guest: creates the guest account and signs it in.
    pub async fn join_as_guest(&self, join: GuestJoin, client: &Client) -> Result<(SignedIn, String)> {
        let link = self.usable_guest_link(&join.token).await?;
        let name = valid_name(&join.name)?;
        let email = match join.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(email) => normalise_email(email)?,
            None => String::new(),
        };
        let keys = self.keys(&link.org_id).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.now();
        let profile = Profile { name, email, ..Profile::default() };
        // Guests never sign in by email, so their index only has to be unique.
        let row = UserRow {
            email_index: keys.blind_index("guest", &id),
            profile: keys.seal_json(profile_slot(&id), &profile),
            id: id.clone(),
            org_id: link.org_id.clone(),
            role: Role::Guest.as_str().into(),
            rights: String::new(),
            active: true,
            has_picture: false,
            password_hash: None,
            restricted: false,
            objections: String::new(),
            created_at: now,
            updated_at: now,
        };
        self.store.insert_user(&row).await?;
        let guest = GuestRow { user_id: id, org_id: link.org_id.clone(), room_id: link.room_id.clone(), direct: link.direct, link_id: Some(link.id) };
        self.store.insert_guest(&guest).await?;
        let user = self.view(&row, profile, ProfileMode::Entry, None);
        tracing::info!(org_id = %link.org_id, user_id = %row.id, "guest joined through a link");
        Ok((self.start_session(&link.org_id, user, client, "guest_join").await?, link.room_id))
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
