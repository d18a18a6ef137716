//! What every feature service shares: the directory store (organisations, their keys and
//! users, which every feature reads), the keyring, the clock, the policy, the outgoing mail
//! and the changes the live office must hear about; and the helpers that open and seal a
//! user's profile. Not a feature itself: the services ([`crate::Office`]'s fields) are.

use std::sync::Arc;

use bureau_store::vault::{OrgKeys, Slot};
use bureau_store::{DirectoryStore, Keyring, OrgId, OrgRow, UserRow};

use crate::changes::{Change, Changes};
use crate::error::{OfficeError, Result};
use crate::limiter::Limiter;
use crate::mail::Mailer;
use crate::profile::{self, Extended, Profile, ProfileMode};
use crate::rights::{Actor, Right};
use crate::{Clock, OrgView, Policy, UNAVAILABLE_NAME, UserView, accounts};

/// Set in the `meta` table once every profile carries its grant.
const GRANTS_SEALED: &str = "profile_grants_sealed";

/// What every feature service shares.
pub(crate) struct Core {
    /// The directory: organisations, their wrapped keys and users.
    pub(crate) store: Arc<dyn DirectoryStore>,
    pub(crate) keyring: Arc<Keyring>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policy: Policy,
    pub(crate) mailer: Arc<dyn Mailer>,
    /// The address users open, for links in emails.
    pub(crate) public_url: String,
    /// Who personal data is passed to (mail relay, SMS provider), for exports.
    pub(crate) recipients: Vec<String>,
    /// Emails one member or guest may cause per hour.
    pub(crate) mail_limiter: Limiter,
    /// Emails one administrator or inviter may cause per hour.
    pub(crate) staff_mail_limiter: Limiter,
    /// A hash verified when the account does not exist, so that both cases cost the same time.
    pub(crate) decoy_hash: String,
    /// Where the changes the live office must hear about go.
    pub(crate) changes: Arc<Changes>,
}

impl Core {
    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) async fn keys(&self, org_id: &str) -> Result<Arc<OrgKeys>> {
        Ok(self.keyring.org(self.store.as_ref(), OrgId(org_id)).await?)
    }

    /// The view of an organisation row (opens the sealed support address).
    pub(crate) fn org_view(&self, keys: &OrgKeys, org: &OrgRow) -> Result<OrgView> {
        let support_email = match &org.support_email {
            Some(sealed) => Some(String::from_utf8(keys.open(org_slot(&org.id), sealed)?).map_err(|_| OfficeError::Tampered)?),
            None => None,
        };
        Ok(OrgView {
            id: org.id.clone(),
            slug: org.slug.clone(),
            name: org.name.clone(),
            profile_mode: ProfileMode::from_name(&org.profile_mode),
            language: org.language.clone(),
            support_email,
            require_two_factor: false,
            messages_store_and_forward: true,
            messages_retention_days: self.policy.retention.messages_days,
            messages_max_file_mb: crate::message_files::DEFAULT_MAX_FILE_MB,
            sfu_threshold: org.sfu_threshold.and_then(|t| u32::try_from(t).ok()),
        })
    }

    pub(crate) async fn org_row(&self, org_id: &str) -> Result<OrgRow> {
        self.store.org(OrgId(org_id)).await?.ok_or(OfficeError::NotFound("organisation"))
    }

    /// Opens a user's sealed profile; a tampered row is refused and logged (without contents).
    pub(crate) fn open_profile(&self, keys: &OrgKeys, row: &UserRow) -> Result<Profile> {
        keys.open_json(profile_slot(&row.id), &row.profile).map_err(|err| {
            tracing::error!(user_id = %row.id, "sealed profile failed to open: {err}");
            OfficeError::Tampered
        })
    }

    /// Counts one email caused by `actor`; `RateLimited` once they caused their hourly share,
    /// so that no one can make Bureau mail anyone in a loop.
    pub(crate) async fn mail_allowance(&self, actor: &Actor) -> Result<()> {
        let staff = actor.is_admin() || actor.can(Right::Invite) || actor.can(Right::ManagePrivacy);
        let limiter = if staff { &self.staff_mail_limiter } else { &self.mail_limiter };
        let key = accounts::limit_key("mail", &actor.user_id);
        let now = self.now();
        if let Some(seconds) = limiter.blocked(&key, now).await {
            tracing::warn!(user_id = %actor.user_id, "emails held back: the user caused their hourly share");
            return Err(OfficeError::RateLimited(seconds));
        }
        limiter.fail(&key, now).await;
        Ok(())
    }

    /// Seals `profile` into `row`, with the row's current role, rights and state as its grant
    /// (call after setting those).
    pub(crate) fn seal_profile(keys: &OrgKeys, row: &mut UserRow, profile: &Profile) {
        let profile = Profile { grant: Some(profile::Grant::of(row)), ..profile.clone() };
        row.profile = keys.seal_json(profile_slot(&row.id), &profile);
    }

    /// Refuses a row whose clear role, rights or state differ from what Bureau sealed with its
    /// profile: someone changed the database behind Bureau's back (logged with the user id).
    pub(crate) fn check_grant(row: &UserRow, profile: &Profile) -> Result<()> {
        if profile.grant.as_ref() == Some(&profile::Grant::of(row)) {
            return Ok(());
        }
        tracing::error!(user_id = %row.id, "the role, rights or state of this user do not match the sealed profile: the database was edited; the user is refused until an administrator saves the user again");
        Err(OfficeError::Tampered)
    }

    /// Gives every profile sealed before grants existed its grant, once per database.
    pub(crate) async fn seal_missing_grants(&self) -> Result<()> {
        if self.store.meta(GRANTS_SEALED).await?.as_deref() == Some(b"1") {
            return Ok(());
        }
        let mut sealed = 0;
        for org in self.store.orgs().await? {
            let keys = self.keys(&org.id).await?;
            for mut row in self.store.users(OrgId(&org.id)).await? {
                let Ok(profile) = self.open_profile(&keys, &row) else { continue };
                if profile.grant.is_none() {
                    Core::seal_profile(&keys, &mut row, &profile);
                    self.store.update_user(&row).await?;
                    sealed += 1;
                }
            }
        }
        self.store.put_meta(GRANTS_SEALED, b"1").await?;
        if sealed > 0 {
            tracing::info!(users = sealed, "sealed the role and rights of existing users with their profiles");
        }
        Ok(())
    }

    /// A profile for a listing of many users: a record that fails to open (logged, with its
    /// id) becomes a placeholder instead of failing the whole listing; `true` when it did.
    pub(crate) fn open_profile_or_placeholder(&self, keys: &OrgKeys, row: &UserRow) -> (Profile, bool) {
        match self.open_profile(keys, row) {
            Ok(profile) => (profile, false),
            Err(_) => (Profile { name: UNAVAILABLE_NAME.into(), ..Profile::default() }, true),
        }
    }

    /// The API view of a user row as `viewer` may see it.
    pub(crate) fn view(&self, row: &UserRow, profile: Profile, mode: ProfileMode, viewer: Option<&Actor>) -> UserView {
        let mut extended = match mode {
            ProfileMode::Extended => profile.extended,
            ProfileMode::Entry => Extended::default(),
        };
        let sees_private = viewer.is_none_or(|v| v.is_admin() || v.user_id == row.id);
        if !sees_private {
            extended.personnel_id = None;
        }
        UserView {
            id: row.id.clone(),
            name: profile.name,
            email: profile.email,
            role: row.role,
            rights: row.rights.clone(),
            active: row.active,
            has_picture: row.has_picture,
            extended,
            created_at: row.created_at,
            next_busy: None,
            unavailable: false,
            must_change_password: row.must_change_password,
        }
    }

    pub(crate) fn emit(&self, change: Change) {
        self.changes.emit(change);
    }

    /// The floor plan of an organisation changed.
    pub(crate) fn floor_plan_changed(&self, org_id: &str) {
        self.emit(Change::FloorPlan { org_id: org_id.to_owned() });
    }

    /// A user was created or changed: their office on the floor plan, the end of their live
    /// connections if they may no longer be there (`present` false), else their name and
    /// picture.
    pub(crate) fn user_changed(&self, org_id: &str, user: &UserView, present: bool, new_picture: bool) {
        if !present {
            self.emit(Change::Removed { org_id: org_id.to_owned(), user_id: user.id.clone() });
        }
        self.floor_plan_changed(org_id);
        if present {
            let (name, has_picture) = (user.name.clone(), user.has_picture);
            self.emit(Change::Profile { org_id: org_id.to_owned(), user_id: user.id.clone(), name, has_picture, new_picture });
        }
    }

    /// A user is gone (erased): their connections end and the floor plan loses their office.
    pub(crate) fn user_gone(&self, org_id: &str, user_id: &str) {
        self.emit(Change::Removed { org_id: org_id.to_owned(), user_id: user_id.to_owned() });
        self.floor_plan_changed(org_id);
    }
}

/// Where an organisation's sealed support address lives.
pub(crate) fn org_slot(org_id: &str) -> Slot<'_> {
    Slot { table: "orgs", column: "support_email", row: org_id }
}

/// Where a user's sealed profile lives.
pub(crate) fn profile_slot(user_id: &str) -> Slot<'_> {
    Slot { table: "users", column: "profile", row: user_id }
}

/// The blind index of a normalised email.
pub(crate) fn email_index(keys: &OrgKeys, normalised_email: &str) -> Vec<u8> {
    keys.blind_index("email", normalised_email)
}
