//! The directory: listing, reading and editing users, and the organisation's settings.

use std::sync::Arc;

use bureau_store::{OrgId, StoreError, UserRow};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::core::{Core, email_index, org_slot};
use crate::error::{OfficeError, Result};
use crate::profile::{Editor, Profile, ProfileMode, UserPatch};
use crate::rights::{Actor, Role};
use crate::{Accounts, TwoFactor};
use crate::{OrgView, UserView};

/// A change to the organisation's settings (administrators only).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgSettingsPatch {
    /// Display name.
    pub name: Option<String>,
    /// Entry mode or extended profile.
    pub profile_mode: Option<ProfileMode>,
    /// Language of emails: `en` or `de`.
    pub language: Option<String>,
    /// Where support requests are emailed; `null` sends them to all administrators.
    #[serde(default, deserialize_with = "crate::profile::nullable")]
    #[schema(value_type = Option<String>)]
    pub support_email: Option<Option<String>>,
    /// Whether every user must sign in with a second factor.
    pub require_two_factor: Option<bool>,
    /// Whether end-to-end encrypted messages may wait on the server for colleagues who are
    /// offline; `false` keeps strict peer-to-peer delivery.
    pub messages_store_and_forward: Option<bool>,
    /// Days a waiting message is kept at most (1–365); applies to messages queued afterwards.
    pub messages_retention_days: Option<u32>,
    /// The largest file of a message members may upload, in MiB (1–100); applies to uploads
    /// afterwards.
    pub messages_max_file_mb: Option<u32>,
    /// People at which a room moves from the peer-to-peer mesh to the media server (2–100);
    /// `null` returns to the server's default. Applies at once, also to rooms in use.
    #[serde(default, deserialize_with = "crate::profile::nullable")]
    #[schema(value_type = Option<u32>)]
    pub sfu_threshold: Option<Option<u32>>,
}

/// The organisation's settings and the directory of users: profiles and pictures (its store is
/// the core's: every feature reads users).
pub struct Directory {
    pub(crate) core: Arc<Core>,
    /// Deactivating a user ends their sessions.
    pub(crate) accounts: Arc<Accounts>,
    /// The "require a second factor" setting is shown with the organisation's settings.
    pub(crate) two_factor: Arc<TwoFactor>,
    /// So are the messaging choices.
    pub(crate) messaging: Arc<crate::Messaging>,
}

impl Directory {
    /// The actor's organisation.
    pub async fn org(&self, actor: &Actor) -> Result<OrgView> {
        let keys = self.core.keys(&actor.org_id).await?;
        let mut view = self.core.org_view(&keys, &self.core.org_row(&actor.org_id).await?)?;
        view.require_two_factor = self.two_factor.requires_two_factor(&actor.org_id).await?;
        let messaging = self.messaging.settings(&actor.org_id).await?;
        view.messages_store_and_forward = messaging.store_and_forward;
        view.messages_retention_days = messaging.retention_days;
        view.messages_max_file_mb = messaging.max_file_mb;
        Ok(view)
    }

    /// Changes the organisation's settings. Switching back to entry mode hides the extended
    /// fields at once; they are dropped from each profile on its next write.
    pub async fn update_org(&self, actor: &Actor, patch: OrgSettingsPatch) -> Result<OrgView> {
        actor.require_admin()?;
        let mut org = self.core.org_row(&actor.org_id).await?;
        if let Some(name) = patch.name {
            org.name = crate::profile::valid_name(&name)?;
        }
        if let Some(mode) = patch.profile_mode {
            org.profile_mode = mode.as_str().into();
        }
        if let Some(language) = patch.language {
            if language != "en" && language != "de" {
                return Err(OfficeError::Invalid { field: "language", message: "must be en or de".into() });
            }
            org.language = language;
        }
        let keys = self.core.keys(&actor.org_id).await?;
        if let Some(address) = patch.support_email {
            org.support_email = match address {
                Some(address) => {
                    let address = crate::profile::normalise_email(&address)
                        .map_err(|_| OfficeError::Invalid { field: "support_email", message: "is not a valid email address".into() })?;
                    Some(keys.seal(org_slot(&org.id), address.as_bytes()))
                }
                None => None,
            };
        }
        let threshold_before = org.sfu_threshold;
        if let Some(threshold) = patch.sfu_threshold {
            if threshold.is_some_and(|t| !crate::SFU_THRESHOLDS.contains(&t)) {
                let (low, high) = (crate::SFU_THRESHOLDS.start(), crate::SFU_THRESHOLDS.end());
                let message = format!("must be {low} to {high} people, or null for the server's default");
                return Err(OfficeError::Invalid { field: "sfu_threshold", message });
            }
            org.sfu_threshold = threshold.map(i64::from);
        }
        self.core.store.update_org(&org).await?;
        if org.sfu_threshold != threshold_before {
            // The hub reloads the floor plan, whose rooms carry the threshold: occupied rooms
            // move to the media server or back at once.
            self.core.floor_plan_changed(&actor.org_id);
        }
        if let Some(required) = patch.require_two_factor {
            self.two_factor.set_requires_two_factor(actor, required).await?;
        }
        if patch.messages_store_and_forward.is_some() || patch.messages_retention_days.is_some() || patch.messages_max_file_mb.is_some() {
            self.messaging.set_settings(actor, patch.messages_store_and_forward, patch.messages_retention_days, patch.messages_max_file_mb).await?;
        }
        self.org(actor).await
    }

    /// The directory of the actor's organisation, optionally filtered by a search text that
    /// matches name, email, username, role, location or qualification. Members see active
    /// colleagues; administrators also see deactivated accounts; guests see no directory, and
    /// are in none: they belong to the room they visited ([`Directory::guests`]).
    pub async fn users(&self, actor: &Actor, search: Option<&str>) -> Result<Vec<UserView>> {
        self.list(actor, search, false).await
    }

    /// The guests of the organisation, for its administrators.
    pub async fn guests(&self, actor: &Actor, search: Option<&str>) -> Result<Vec<UserView>> {
        actor.require_admin()?;
        self.list(actor, search, true).await
    }

    /// Members (`guests` false) or guests, as the actor may see them.
    async fn list(&self, actor: &Actor, search: Option<&str>, guests: bool) -> Result<Vec<UserView>> {
        if actor.role == Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        let org = self.core.org_row(&actor.org_id).await?;
        let mode = ProfileMode::from_name(&org.profile_mode);
        let keys = self.core.keys(&actor.org_id).await?;
        let needle = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
        let rows = self.core.store.users(OrgId(&actor.org_id)).await?;
        let mut out = Vec::with_capacity(rows.len());
        let visible = |row: &&bureau_store::UserRow| {
            (row.role == Role::Guest) == guests && (actor.is_admin() || row.id == actor.user_id || (row.active && !row.restricted))
        };
        for row in rows.iter().filter(visible) {
            let (profile, unavailable) = self.core.open_profile_or_placeholder(&keys, row);
            let view = UserView { unavailable, ..self.core.view(row, profile, mode, Some(actor)) };
            if needle.as_deref().is_none_or(|n| matches(&view, n)) {
                out.push(view);
            }
        }
        Ok(out)
    }

    /// One user of the actor's organisation.
    pub async fn user(&self, actor: &Actor, id: &str) -> Result<UserView> {
        let (row, profile, mode) = self.load(actor, id).await?;
        if (!row.active || row.restricted) && !actor.is_admin() && actor.user_id != row.id {
            return Err(OfficeError::NotFound("user"));
        }
        Ok(self.core.view(&row, profile, mode, Some(actor)))
    }

    /// Edits the actor's own profile.
    pub async fn update_me(&self, actor: &Actor, patch: UserPatch) -> Result<UserView> {
        self.update(actor, &actor.user_id.clone(), patch, Editor::Owner).await
    }

    /// Edits any user of the organisation (administrators only), including role, rights and
    /// deactivation. The last active administrator cannot be demoted or deactivated.
    pub async fn update_user(&self, actor: &Actor, id: &str, patch: UserPatch) -> Result<UserView> {
        actor.require_admin()?;
        self.update(actor, id, patch, Editor::Admin).await
    }

    async fn update(&self, actor: &Actor, id: &str, patch: UserPatch, editor: Editor) -> Result<UserView> {
        let (mut row, mut profile, mode) = self.load(actor, id).await?;
        if let Some(Some(deputy)) = &patch.deputy_id {
            let exists = deputy != id && self.core.store.user(OrgId(&actor.org_id), deputy).await?.is_some();
            if !exists {
                return Err(OfficeError::Invalid { field: "deputy_id", message: "must be another user".into() });
            }
        }
        let (role, rights, active) = (patch.role, patch.rights.clone(), patch.active);
        let objected = crate::privacy::objections_from(&row.objections).contains(&crate::Objection::ExtendedProfile);
        let mode = if objected { ProfileMode::Entry } else { mode };
        patch.apply(&mut profile, editor, mode)?;
        if mode == ProfileMode::Entry {
            profile.extended = Default::default();
        }
        if let Some(role) = role {
            row.role = role;
        }
        if let Some(rights) = rights {
            row.rights = rights.clone();
        }
        if let Some(active) = active {
            row.active = active;
        }
        let keys = self.core.keys(&actor.org_id).await?;
        row.email_index = email_index(&keys, &profile.email);
        Core::seal_profile(&keys, &mut row, &profile);
        row.updated_at = self.core.now();
        // The store refuses, in the write's own transaction, to leave no active administrator.
        match self.core.store.update_user(&row).await {
            Ok(true) => {}
            Ok(false) => return Err(OfficeError::NotFound("user")),
            Err(StoreError::LastAdmin) => {
                let field = if role.is_some() { "role" } else { "active" };
                return Err(OfficeError::Invalid { field, message: StoreError::LastAdmin.to_string() });
            }
            Err(err) => return Err(err.into()),
        }
        if !row.active {
            self.accounts.store.delete_user_sessions(OrgId(&actor.org_id), &row.id).await?;
        }
        tracing::info!(user_id = %row.id, by = %actor.user_id, "user updated");
        let view = self.core.view(&row, profile, mode, Some(actor));
        self.core.user_changed(&actor.org_id, &view, view.active, false);
        Ok(view)
    }

    async fn load(&self, actor: &Actor, id: &str) -> Result<(UserRow, Profile, ProfileMode)> {
        let row = self.core.store.user(OrgId(&actor.org_id), id).await?.ok_or(OfficeError::NotFound("user"))?;
        let keys = self.core.keys(&actor.org_id).await?;
        let profile = self.core.open_profile(&keys, &row)?;
        let org = self.core.org_row(&actor.org_id).await?;
        Ok((row, profile, ProfileMode::from_name(&org.profile_mode)))
    }
}

/// Whether a user matches a lower-case search text.
fn matches(user: &UserView, needle: &str) -> bool {
    let ext = &user.extended;
    [Some(&user.name), Some(&user.email), ext.username.as_ref(), ext.company_role.as_ref()]
        .into_iter()
        .chain([ext.work_location.as_ref(), ext.qualification.as_ref()])
        .flatten()
        .any(|text| text.to_lowercase().contains(needle))
}
