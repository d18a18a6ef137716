//! Organisations, accounts, the first-admin setup link, sign-in and sessions.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bureau_store::AccountsStore;
use bureau_store::vault::Slot;
use bureau_store::{AccessRow, OrgId, OrgRow, SessionRow, TokenRow, UserRow};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::access::{AccessDetails, Client};
use crate::challenge::SignInStep;
use crate::core::{Core, email_index};
use crate::error::{OfficeError, Result};
use crate::limiter::Limiter;
use crate::profile::{Profile, ProfileMode, normalise_email, valid_name};
use crate::rights::{Actor, Right, Role};
use crate::TwoFactor;
use crate::{OrgView, UserView, password};

/// Organisations, the first-admin setup, accounts, sign-in (both steps, with [`crate::challenge`])
/// and sessions.
pub struct Accounts {
    pub(crate) core: Arc<Core>,
    pub(crate) store: Arc<dyn AccountsStore>,
    /// The second step of a sign-in checks and sends codes.
    pub(crate) two_factor: Arc<TwoFactor>,
    /// Failed sign-ins per account from anywhere.
    pub(crate) account_limiter: Limiter,
    /// Failed sign-ins per account from one address.
    pub(crate) pair_limiter: Limiter,
    /// Failed sign-ins per address.
    pub(crate) ip_limiter: Limiter,
}

const SETUP: &str = "setup";

/// A user to create.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Display name.
    pub name: String,
    /// Email address (unique in the organisation).
    pub email: String,
    /// Role; `member` when absent.
    #[serde(default = "member")]
    pub role: Role,
    /// Extra rights.
    #[serde(default)]
    pub rights: Vec<Right>,
    /// Initial password; without one the user cannot sign in until one is set.
    #[serde(default)]
    pub password: Option<String>,
    /// With a `password`: whether the user must choose their own at the first sign-in
    /// (default true; an administrator who handed over a password the person chose says false).
    #[serde(default)]
    pub must_change_password: Option<bool>,
}

fn member() -> Role {
    Role::Member
}

/// A request's session, checked.
#[derive(Debug)]
pub struct Authenticated {
    /// Who.
    pub actor: Actor,
    /// When the session ends (Unix milliseconds): what it opens (a signaling socket, TURN
    /// credentials) must not outlive it.
    pub expires_at: i64,
    /// An administrator chose the password; the session serves only changing it.
    pub must_change_password: bool,
}

/// The outcome of a successful sign-in.
#[derive(Debug)]
pub struct SignedIn {
    /// The session token for the cookie (never stored: only its hash is).
    pub token: String,
    /// When the session ends, Unix milliseconds.
    pub expires_at: i64,
    /// The signed-in user.
    pub user: UserView,
    /// The user's organisation.
    pub org_id: String,
    /// A device cookie for this browser: signing in from it again is not held up by the
    /// account-wide limit while someone else guesses this account's password.
    pub device: String,
}

/// A fresh 256-bit random token and the SHA-256 under which it is stored.
pub(crate) fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A short, opaque name of the session of `token` for the live office: it tells which
/// connections signing out closes, and reveals nothing of the token (a hash, truncated, that
/// differs from the stored one by its prefix).
pub fn session_tag(token: &str) -> String {
    let digest = Sha256::new().chain_update("bureau live session").chain_update([0]).chain_update(token).finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of a limited thing (a sign-in attempt, a guest link, a sender of emails): a hash, so
/// the limiter holds no emails, addresses or ids.
pub(crate) fn limit_key(kind: &str, value: &str) -> [u8; 32] {
    Sha256::new().chain_update(kind).chain_update([0]).chain_update(value).finalize().into()
}

impl Accounts {
    /// Creates an organisation with fresh keys.
    pub async fn create_org(&self, slug: &str, name: &str, mode: ProfileMode) -> Result<OrgView> {
        let slug_ok = (1..=40).contains(&slug.len())
            && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !slug_ok {
            return Err(OfficeError::Invalid { field: "slug", message: "use 1 to 40 of a-z, 0-9 and -".into() });
        }
        let now = self.core.now();
        let org = OrgRow {
            id: uuid::Uuid::new_v4().to_string(),
            slug: slug.into(),
            name: valid_name(name)?,
            profile_mode: mode.as_str().into(),
            language: "en".into(),
            support_email: None,
            created_at: now,
            sfu_threshold: None,
        };
        let (key_rows, keys) = self.core.keyring.new_org_keys(&org.id, now)?;
        self.core.store.create_org(&org, &key_rows).await?;
        tracing::info!(org_id = %org.id, "organisation created");
        self.core.org_view(&keys, &org)
    }

    /// On every start: makes sure an organisation exists and, while it has no administrator who
    /// can sign in, returns a fresh one-time setup token for the first admin.
    pub async fn prepare_first_start(&self, slug: &str, name: &str) -> Result<Option<String>> {
        let org_id = match self.core.store.orgs().await?.into_iter().next() {
            Some(org) => org.id,
            None => self.create_org(slug, name, ProfileMode::Entry).await?.id,
        };
        let has_admin = self
            .core
            .store
            .users(OrgId(&org_id))
            .await?
            .iter()
            .any(|u| u.role == Role::Admin && u.active && u.password_hash.is_some());
        if has_admin {
            return Ok(None);
        }
        let (token, hash) = new_token();
        let now = self.core.now();
        self.store
            .insert_token(&TokenRow {
                token_hash: hash,
                org_id,
                purpose: SETUP.into(),
                subject: None,
                created_at: now,
                expires_at: now + self.core.policy.setup_link_ttl_ms,
                used_at: None,
            })
            .await?;
        Ok(Some(token))
    }

    /// Whether a setup token can still be used (the setup page asks before showing its form).
    pub async fn setup_token_valid(&self, token: &str) -> Result<bool> {
        Ok(self.store.token_valid(&token_hash(token), SETUP, self.core.now()).await?)
    }

    /// Uses a setup token: creates the first administrator and signs them in.
    pub async fn complete_setup(&self, token: &str, name: &str, email: &str, pass: &str, client: &Client) -> Result<SignedIn> {
        password::check_policy(pass)?;
        let (name, email) = (valid_name(name)?, normalise_email(email)?);
        let row = self.store.redeem_token(&token_hash(token), SETUP, self.core.now()).await?.ok_or(OfficeError::InvalidToken)?;
        let user = NewUser { name, email, role: Role::Admin, rights: vec![], password: Some(pass.into()), must_change_password: None };
        let created = self.insert_user(&row.org_id, user, false).await?;
        self.start_session(&row.org_id, created, client, "setup").await
    }

    /// Creates a user in the actor's organisation (administrators only). A password chosen by
    /// the administrator is only a start: the user must choose their own at the first sign-in.
    pub async fn create_user(&self, actor: &Actor, user: NewUser) -> Result<UserView> {
        actor.require_admin()?;
        let initial = user.password.is_some() && user.must_change_password != Some(false);
        self.insert_user(&actor.org_id, user, initial).await
    }

    /// Creates a user in the organisation with this slug (the `bureau admin` CLI).
    pub async fn create_user_in(&self, org_slug: Option<&str>, user: NewUser) -> Result<UserView> {
        let org = match org_slug {
            Some(slug) => self.core.store.org_by_slug(slug).await?,
            None => self.core.store.orgs().await?.into_iter().next(),
        };
        let org = org.ok_or(OfficeError::NotFound("organisation"))?;
        // The operator at the server's console chose it with the user, or for themself.
        self.insert_user(&org.id, user, false).await
    }

    pub(crate) async fn insert_user(&self, org_id: &str, user: NewUser, must_change_password: bool) -> Result<UserView> {
        let profile = Profile { name: valid_name(&user.name)?, email: normalise_email(&user.email)?, ..Profile::default() };
        let password_hash = match user.password {
            Some(pass) => {
                password::check_policy(&pass)?;
                Some(password::hash(pass).await?)
            }
            None => None,
        };
        let keys = self.core.keys(org_id).await?;
        let org = self.core.org_row(org_id).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.core.now();
        let mut row = UserRow {
            email_index: email_index(&keys, &profile.email),
            profile: Vec::new(),
            id,
            org_id: org_id.into(),
            role: user.role,
            rights: user.rights.clone(),
            active: true,
            has_picture: false,
            restricted: false,
            objections: String::new(),
            password_hash,
            created_at: now,
            updated_at: now,
            must_change_password,
        };
        Core::seal_profile(&keys, &mut row, &profile);
        self.core.store.insert_user(&row).await?;
        tracing::info!(org_id, user_id = %row.id, "user created");
        self.core.floor_plan_changed(org_id);
        Ok(self.core.view(&row, profile, ProfileMode::from_name(&org.profile_mode), None))
    }

    /// Signs in an account without a second factor; an account that needs one is refused with
    /// [`OfficeError::SecondFactorRequired`] (the API uses [`Accounts::sign_in`]).
    pub async fn login(&self, email: &str, pass: &str, client: &Client) -> Result<SignedIn> {
        match self.sign_in(email, pass, client).await? {
            SignInStep::Done(signed_in) => Ok(*signed_in),
            SignInStep::SecondFactor(_) => Err(OfficeError::SecondFactorRequired),
        }
    }

    /// Signs in with email and password: a session, or a challenge when a second factor is
    /// needed. Unknown accounts, wrong passwords and deactivated accounts answer alike and take
    /// alike time; attempts are limited per account and per IP.
    pub async fn sign_in(&self, email: &str, pass: &str, client: &Client) -> Result<SignInStep> {
        self.sign_in_to(email, pass, None, client).await
    }

    /// [`Accounts::sign_in`] to the organisation with slug `org` when given. The same email may
    /// belong to accounts in several organisations: without `org`, the password decides, and
    /// when it is right for more than one, the answer asks which.
    pub async fn sign_in_to(&self, email: &str, pass: &str, org: Option<&str>, client: &Client) -> Result<SignInStep> {
        let now = self.core.now();
        let normalised = email.trim().to_lowercase();
        // Three limits: per address (one place guessing many accounts), per account and address
        // (one place guessing one account), and per account (many places guessing one account),
        // which does not hold up the account's own known devices.
        let account_key = limit_key("account", &normalised);
        let pair_key = limit_key("account-ip", &format!("{normalised}\0{}", client.ip));
        let ip_key = limit_key("ip", &client.ip);
        for (limiter, key) in [(&self.pair_limiter, &pair_key), (&self.ip_limiter, &ip_key)] {
            if let Some(wait) = limiter.blocked(key, now).await {
                return Err(OfficeError::RateLimited(wait));
            }
        }
        let found = self.find_by_email(&normalised, org).await?;
        let mut known_device = false;
        if let Some(cookie) = &client.device {
            for row in &found {
                known_device |= crate::devices::is_device_of(&*self.core.keys(&row.org_id).await?, &row.id, cookie);
            }
        }
        if !known_device && let Some(wait) = self.account_limiter.blocked(&account_key, now).await {
            return Err(OfficeError::RateLimited(wait));
        }
        // One verification per account found (and the decoy's for none), whatever its state:
        // deactivated accounts and unknown emails take the time of a wrong password.
        let mut accepted = Vec::new();
        for row in &found {
            let hash = row.password_hash.clone().unwrap_or_else(|| self.core.decoy_hash.clone());
            if password::verify(pass.into(), hash).await && row.active && row.password_hash.is_some() {
                accepted.push(row);
            }
        }
        if found.is_empty() {
            // The same work for an unknown account, so that timing reveals nothing.
            password::verify(pass.into(), self.core.decoy_hash.clone()).await;
        }
        match accepted.as_slice() {
            [row] => {
                // The account-wide count is not cleared: the owner signing in on a known
                // device must not hand a distributed attacker a fresh allowance.
                self.pair_limiter.clear(&pair_key).await;
                self.password_accepted(row, client).await
            }
            [_, _, ..] => {
                let mut slugs = Vec::new();
                for row in accepted {
                    slugs.push(self.core.org_row(&row.org_id).await?.slug);
                }
                Err(OfficeError::ChooseOrganisation(slugs))
            }
            [] => {
                self.account_limiter.fail(&account_key, now).await;
                self.pair_limiter.fail(&pair_key, now).await;
                self.ip_limiter.fail(&ip_key, now).await;
                Err(OfficeError::InvalidCredentials)
            }
        }
    }

    /// The users with this (normalised) email, in every organisation or in the one with slug
    /// `org`.
    async fn find_by_email(&self, normalised: &str, org: Option<&str>) -> Result<Vec<UserRow>> {
        let mut found = Vec::new();
        for row in self.core.store.orgs().await?.into_iter().filter(|o| org.is_none_or(|slug| o.slug == slug)) {
            let keys = self.core.keys(&row.id).await?;
            found.extend(self.core.store.user_by_email_index(OrgId(&row.id), &email_index(&keys, normalised)).await?);
        }
        Ok(found)
    }

    /// Starts a session for a user whose credentials were checked; `event` goes to the access log.
    pub(crate) async fn session_for(&self, row: &UserRow, client: &Client, event: &str) -> Result<SignedIn> {
        let keys = self.core.keys(&row.org_id).await?;
        let profile = self.core.open_profile(&keys, row)?;
        Core::check_grant(row, &profile)?;
        let org = self.core.org_row(&row.org_id).await?;
        let user = self.core.view(row, profile, ProfileMode::from_name(&org.profile_mode), None);
        self.start_session(&row.org_id, user, client, event).await
    }

    pub(crate) async fn start_session(&self, org_id: &str, user: UserView, client: &Client, event: &str) -> Result<SignedIn> {
        self.start_session_until(org_id, user, client, event, i64::MAX).await
    }

    /// Starts a session that ends at `until` at the latest.
    pub(crate) async fn start_session_until(&self, org_id: &str, user: UserView, client: &Client, event: &str, until: i64) -> Result<SignedIn> {
        let (token, hash) = new_token();
        let now = self.core.now();
        let expires_at = (now + self.core.policy.session_ttl_ms).min(until);
        let session =
            SessionRow { token_hash: hash, org_id: org_id.into(), user_id: user.id.clone(), created_at: now, expires_at };
        self.store.insert_session(&session).await?;
        self.log_access(org_id, &user.id, event, client).await?;
        let device = crate::devices::new_device(&*self.core.keys(org_id).await?, &user.id);
        Ok(SignedIn { token, expires_at, user, org_id: org_id.into(), device })
    }

    async fn log_access(&self, org_id: &str, user_id: &str, event: &str, client: &Client) -> Result<()> {
        let keys = self.core.keys(org_id).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let details = AccessDetails::new(event, client);
        let slot = Slot { table: "access_log", column: "details", row: &id };
        let entry = AccessRow {
            details: keys.seal_json(slot, &details),
            id: id.clone(),
            org_id: org_id.into(),
            user_id: Some(user_id.into()),
            at: self.core.now(),
        };
        Ok(self.store.insert_access(&entry).await?)
    }

    /// The user's own access log (sign-ins), newest first.
    pub async fn my_access_log(&self, actor: &Actor) -> Result<Vec<(i64, AccessDetails)>> {
        let keys = self.core.keys(&actor.org_id).await?;
        let rows = self.store.user_access(OrgId(&actor.org_id), &actor.user_id).await?;
        rows.iter()
            .map(|row| {
                let slot = Slot { table: "access_log", column: "details", row: &row.id };
                Ok((row.at, keys.open_json(slot, &row.details)?))
            })
            .collect()
    }

    /// Ends the actor's session with this token (unknown tokens are ignored); the connections
    /// opened with it close.
    pub async fn logout(&self, actor: &Actor, token: &str) -> Result<()> {
        self.store.delete_session(&token_hash(token)).await?;
        self.core.emit(crate::Change::SignedOut { org_id: actor.org_id.clone(), user_id: actor.user_id.clone(), token: token.to_owned() });
        Ok(())
    }

    /// The actor behind a session token; deactivated users and expired sessions are refused.
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        Ok(self.authenticate_session(token).await?.actor)
    }

    /// [`Accounts::authenticate`], with when the session ends and whether the user must choose
    /// their password first.
    pub async fn authenticate_session(&self, token: &str) -> Result<Authenticated> {
        if token.len() > 128 {
            return Err(OfficeError::Unauthenticated);
        }
        let session = self.store.session(&token_hash(token), self.core.now()).await?.ok_or(OfficeError::Unauthenticated)?;
        let user = self.core.store.user(OrgId(&session.org_id), &session.user_id).await?;
        if let Some(user) = &user {
            let profile = self.core.open_profile(&*self.core.keys(&user.org_id).await?, user)?;
            Core::check_grant(user, &profile)?;
        }
        match user {
            Some(user) if user.active => Ok(Authenticated {
                must_change_password: user.must_change_password,
                actor: Actor { org_id: user.org_id, user_id: user.id, role: user.role, rights: user.rights },
                expires_at: session.expires_at,
            }),
            _ => Err(OfficeError::Unauthenticated),
        }
    }

    /// The signed-in user changes their password: the current one proves it is them. Their
    /// other sessions end (whoever knew the old password is signed out); the one that changed
    /// it (`token`) goes on, now without the duty to change it.
    pub async fn change_password(&self, actor: &Actor, token: &str, current: &str, new: &str) -> Result<()> {
        let user = self.core.store.user(OrgId(&actor.org_id), &actor.user_id).await?.ok_or(OfficeError::Unauthenticated)?;
        let Some(hash) = user.password_hash.clone() else { return Err(OfficeError::Forbidden) };
        if !password::verify(current.to_owned(), hash).await {
            return Err(OfficeError::Invalid { field: "current_password", message: "is not your current password".into() });
        }
        if new == current {
            return Err(OfficeError::Invalid { field: "password", message: "must differ from the current one".into() });
        }
        password::check_policy(new)?;
        let hash = password::hash(new.to_owned()).await?;
        let keep = token_hash(token);
        if !self.store.set_password(OrgId(&actor.org_id), &actor.user_id, &hash, false, Some(&keep), self.core.now()).await? {
            return Err(OfficeError::Forbidden);
        }
        tracing::info!(user_id = %actor.user_id, "password changed");
        Ok(())
    }

    /// An administrator sets a member's password (they forgot theirs): the member's sessions
    /// end, and they must choose their own at the next sign-in.
    pub async fn set_password(&self, actor: &Actor, user_id: &str, new: &str) -> Result<()> {
        actor.require_admin()?;
        password::check_policy(new)?;
        let hash = password::hash(new.to_owned()).await?;
        if !self.store.set_password(OrgId(&actor.org_id), user_id, &hash, true, None, self.core.now()).await? {
            return Err(OfficeError::NotFound("user"));
        }
        tracing::info!(user_id, "password set by an administrator");
        Ok(())
    }
}
