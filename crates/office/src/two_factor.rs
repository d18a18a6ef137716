//! Two-factor authentication: enrolling a TOTP authenticator or a phone for SMS codes,
//! recovery codes, turning it off, and the organisation's "require 2FA" setting.
//! The second step of a sign-in is in [`crate::challenge`].
//!
//! At rest: the TOTP secret and the phone number are sealed with the organisation's data key,
//! bound to `two_factor.<column>/<user id>`; SMS and recovery codes are stored only as keyed
//! hashes (HMAC under the organisation's index key), so a copy of the database lets no one in.

use std::sync::Arc;

use bureau_store::TwoFactorStore;
use bureau_store::vault::{OrgKeys, Slot};
use bureau_store::{OrgId, TwoFactorRow, UserRow};
use rand::{Rng, RngCore};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::core::Core;
use crate::error::{OfficeError, Result};
use crate::limiter::Limiter;
use crate::rights::Actor;
use crate::sms::{SmsProvider, normalise_phone};
use crate::{password, totp};

/// Recovery codes issued at once.
pub const RECOVERY_CODES: usize = 10;
/// Wrong codes that kill a challenge and, within the sign-in window, lock the account's
/// second-factor checks.
pub const MAX_CODE_FAILURES: usize = 5;
/// Text messages one account may trigger within the sign-in window.
pub(crate) const MAX_SMS: usize = 5;
/// How long a code sent to confirm a new phone number stays valid.
const PHONE_CODE_TTL_MS: i64 = 10 * 60 * 1000;
/// The alphabet of recovery codes (no 0/1/8/9 to confuse with letters).
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Enrolling and managing second factors, and the organisation's "require 2FA" setting (the
/// second step of a sign-in, which uses them, is [`crate::Accounts`]'s).
pub struct TwoFactor {
    pub(crate) core: Arc<Core>,
    pub(crate) store: Arc<dyn TwoFactorStore>,
    pub(crate) sms: Arc<dyn SmsProvider>,
    /// Wrong second-factor codes per account.
    pub(crate) failures: Limiter,
    /// Text messages sent per account.
    pub(crate) sends: Limiter,
}

/// A new TOTP secret, to put into an authenticator app (pending until confirmed with a code).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// The secret in base32, for typing in.
    pub secret: String,
    /// The `otpauth://` URI, for a QR code.
    pub otpauth_uri: String,
}

/// Fresh single-use recovery codes: shown once, stored only as keyed hashes.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// The codes, `xxxxx-xxxxx`.
    pub recovery_codes: Vec<String>,
}

/// A user's second factors as they see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TwoFactorStatus {
    /// An authenticator app is enrolled.
    pub totp: bool,
    /// A phone for SMS codes is enrolled.
    pub sms: bool,
    /// The last two digits of that phone number.
    pub phone_ending: Option<String>,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
    /// The organisation requires a second factor.
    pub required: bool,
}

/// Whether any second factor is enrolled.
pub(crate) fn enrolled(row: &TwoFactorRow) -> bool {
    row.totp_secret.is_some() || row.phone.is_some()
}

/// Where a user's sealed two-factor value lives.
pub(crate) fn slot<'a>(column: &'a str, user_id: &'a str) -> Slot<'a> {
    Slot { table: "two_factor", column, row: user_id }
}

/// The rate-limit key of a user's second-factor attempts.
pub(crate) fn limit_key(user_id: &str) -> [u8; 32] {
    Sha256::new().chain_update("second-factor").chain_update([0]).chain_update(user_id).finalize().into()
}

/// A random six-digit code for a text message.
pub(crate) fn sms_code() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000))
}

/// The text of a message carrying a code: nothing else about the user or the organisation.
pub(crate) fn sms_text(code: &str) -> String {
    format!("Your Bureau sign-in code is {code}. It expires in 5 minutes.")
}

/// A recovery code as typed: lower case, without spaces or dashes.
fn normalise_recovery(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// The keyed hash under which a recovery code is stored.
pub(crate) fn recovery_hash(keys: &OrgKeys, user_id: &str, code: &str) -> Vec<u8> {
    keys.blind_index("recovery-code", &format!("{user_id}:{}", normalise_recovery(code)))
}

impl TwoFactor {
    /// The actor's second factors.
    pub async fn two_factor_status(&self, actor: &Actor) -> Result<TwoFactorStatus> {
        let org = OrgId(&actor.org_id);
        let row = self.store.two_factor(org, &actor.user_id).await?.unwrap_or_default();
        let phone_ending = match &row.phone {
            Some(sealed) => {
                let keys = self.core.keys(&actor.org_id).await?;
                let phone = String::from_utf8(keys.open(slot("phone", &actor.user_id), sealed)?).map_err(|_| OfficeError::Tampered)?;
                Some(phone.chars().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect())
            }
            None => None,
        };
        Ok(TwoFactorStatus {
            totp: row.totp_secret.is_some(),
            sms: row.phone.is_some(),
            phone_ending,
            recovery_codes_left: self.store.recovery_codes_left(org, &actor.user_id).await?,
            required: self.store.org_requires_two_factor(org).await?,
        })
    }

    /// Starts (or restarts) enrolling an authenticator app: a new secret, pending until
    /// [`TwoFactor::confirm_totp`] sees a code made with it.
    pub async fn start_totp(&self, actor: &Actor) -> Result<TotpEnrolment> {
        let user = self.user_row(&actor.org_id, &actor.user_id).await?;
        self.begin_totp(&user).await
    }

    /// Confirms the pending authenticator with a current code; issues new recovery codes.
    pub async fn confirm_totp(&self, actor: &Actor, code: &str) -> Result<RecoveryCodes> {
        self.check_code_limit(&actor.user_id).await?;
        match self.finish_totp(&actor.org_id, &actor.user_id, code).await {
            Err(OfficeError::InvalidCode) => {
                self.failures.fail(&limit_key(&actor.user_id), self.core.now()).await;
                Err(OfficeError::InvalidCode)
            }
            other => other,
        }
    }

    /// Starts enrolling a phone: sends a code to it by SMS.
    pub async fn start_sms(&self, actor: &Actor, phone: &str) -> Result<()> {
        let phone = normalise_phone(phone)
            .ok_or_else(|| OfficeError::Invalid { field: "phone", message: "use the international form, e.g. +49 151 12345678".into() })?;
        self.check_send_limit(&actor.user_id).await?;
        let keys = self.core.keys(&actor.org_id).await?;
        let now = self.core.now();
        let code = sms_code();
        let mut row = self.two_factor_row(&actor.org_id, &actor.user_id).await?;
        row.phone_pending = Some(keys.seal(slot("phone_pending", &actor.user_id), phone.as_bytes()));
        row.phone_code = Some(keys.blind_index("phone-code", &format!("{}:{code}", actor.user_id)));
        row.phone_code_expires_at = Some(now + PHONE_CODE_TTL_MS);
        row.updated_at = now;
        self.store.put_two_factor(&row).await?;
        self.send_sms(&actor.user_id, &phone, &code).await
    }

    /// Confirms the pending phone with the code sent to it; issues new recovery codes.
    pub async fn confirm_sms(&self, actor: &Actor, code: &str) -> Result<RecoveryCodes> {
        self.check_code_limit(&actor.user_id).await?;
        let keys = self.core.keys(&actor.org_id).await?;
        let mut row = self.two_factor_row(&actor.org_id, &actor.user_id).await?;
        let (Some(pending), Some(expected), Some(expires_at)) = (&row.phone_pending, &row.phone_code, row.phone_code_expires_at) else {
            return Err(OfficeError::Invalid { field: "code", message: "ask for a code first".into() });
        };
        let given = keys.blind_index("phone-code", &format!("{}:{}", actor.user_id, code.trim()));
        if expires_at <= self.core.now() || !totp::constant_time_eq(&given, expected) {
            self.failures.fail(&limit_key(&actor.user_id), self.core.now()).await;
            return Err(OfficeError::InvalidCode);
        }
        let phone = keys.open(slot("phone_pending", &actor.user_id), pending)?;
        row.phone = Some(keys.seal(slot("phone", &actor.user_id), &phone));
        row.phone_pending = None;
        row.phone_code = None;
        row.phone_code_expires_at = None;
        row.updated_at = self.core.now();
        self.store.put_two_factor(&row).await?;
        tracing::info!(org_id = %actor.org_id, user_id = %actor.user_id, "SMS second factor enrolled");
        self.issue_recovery_codes(&actor.org_id, &actor.user_id).await
    }

    /// Turns two-factor sign-in off for the actor (their password confirms it): removes the
    /// authenticator, the phone and the recovery codes.
    pub async fn disable_two_factor(&self, actor: &Actor, pass: &str) -> Result<()> {
        self.check_code_limit(&actor.user_id).await?;
        let user = self.user_row(&actor.org_id, &actor.user_id).await?;
        let hash = user.password_hash.clone().unwrap_or_else(|| self.core.decoy_hash.clone());
        if !password::verify(pass.into(), hash).await || user.password_hash.is_none() {
            self.failures.fail(&limit_key(&actor.user_id), self.core.now()).await;
            return Err(OfficeError::InvalidCredentials);
        }
        self.store.delete_two_factor(OrgId(&actor.org_id), &actor.user_id).await?;
        tracing::info!(org_id = %actor.org_id, user_id = %actor.user_id, "two-factor sign-in turned off");
        Ok(())
    }

    /// Whether the organisation requires a second factor of everyone.
    pub(crate) async fn requires_two_factor(&self, org_id: &str) -> Result<bool> {
        Ok(self.store.org_requires_two_factor(OrgId(org_id)).await?)
    }

    /// Sets whether the organisation requires a second factor (administrators only). Users
    /// without one are asked to enrol an authenticator at their next sign-in.
    pub(crate) async fn set_requires_two_factor(&self, actor: &Actor, required: bool) -> Result<()> {
        actor.require_admin()?;
        self.store.set_org_requires_two_factor(OrgId(&actor.org_id), required).await?;
        tracing::info!(org_id = %actor.org_id, required, "organisation two-factor requirement changed");
        Ok(())
    }

    pub(crate) async fn user_row(&self, org_id: &str, user_id: &str) -> Result<UserRow> {
        self.core.store.user(OrgId(org_id), user_id).await?.ok_or(OfficeError::NotFound("user"))
    }

    /// The user's two-factor row, or a fresh empty one.
    pub(crate) async fn two_factor_row(&self, org_id: &str, user_id: &str) -> Result<TwoFactorRow> {
        let found = self.store.two_factor(OrgId(org_id), user_id).await?;
        Ok(found.unwrap_or_else(|| TwoFactorRow { user_id: user_id.into(), org_id: org_id.into(), ..TwoFactorRow::default() }))
    }

    /// A new pending TOTP secret for `user`.
    pub(crate) async fn begin_totp(&self, user: &UserRow) -> Result<TotpEnrolment> {
        let keys = self.core.keys(&user.org_id).await?;
        let org = self.core.org_row(&user.org_id).await?;
        let profile = self.core.open_profile(&keys, user)?;
        let mut secret = [0u8; totp::SECRET_LEN];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let mut row = self.two_factor_row(&user.org_id, &user.id).await?;
        row.totp_pending = Some(keys.seal(slot("totp_pending", &user.id), &secret));
        row.updated_at = self.core.now();
        self.store.put_two_factor(&row).await?;
        Ok(TotpEnrolment { secret: totp::base32_encode(&secret), otpauth_uri: totp::otpauth_uri(&org.name, &profile.email, &secret) })
    }

    /// Makes the pending TOTP secret the user's authenticator if `code` matches it.
    pub(crate) async fn finish_totp(&self, org_id: &str, user_id: &str, code: &str) -> Result<RecoveryCodes> {
        let keys = self.core.keys(org_id).await?;
        let mut row = self.two_factor_row(org_id, user_id).await?;
        let Some(pending) = &row.totp_pending else {
            return Err(OfficeError::Invalid { field: "code", message: "start the enrolment first".into() });
        };
        let secret = keys.open(slot("totp_pending", user_id), pending)?;
        let step = totp::matching_step(&secret, code, self.core.now()).ok_or(OfficeError::InvalidCode)?;
        row.totp_secret = Some(keys.seal(slot("totp_secret", user_id), &secret));
        row.totp_pending = None;
        row.totp_last_step = step;
        row.updated_at = self.core.now();
        self.store.put_two_factor(&row).await?;
        tracing::info!(org_id, user_id, "authenticator enrolled");
        self.issue_recovery_codes(org_id, user_id).await
    }

    /// Replaces the user's recovery codes by ten fresh ones.
    async fn issue_recovery_codes(&self, org_id: &str, user_id: &str) -> Result<RecoveryCodes> {
        let keys = self.core.keys(org_id).await?;
        let mut rng = rand::rngs::OsRng;
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| {
                let chars: String = (0..10).map(|_| char::from(RECOVERY_ALPHABET[rng.gen_range(0..32)])).collect();
                format!("{}-{}", &chars[..5], &chars[5..])
            })
            .collect();
        let hashes: Vec<Vec<u8>> = codes.iter().map(|c| recovery_hash(&keys, user_id, c)).collect();
        self.store.replace_recovery_codes(OrgId(org_id), user_id, &hashes).await?;
        Ok(RecoveryCodes { recovery_codes: codes })
    }

    /// Refuses while the account has used up its wrong codes.
    pub(crate) async fn check_code_limit(&self, user_id: &str) -> Result<()> {
        match self.failures.blocked(&limit_key(user_id), self.core.now()).await {
            Some(wait) => Err(OfficeError::RateLimited(wait)),
            None => Ok(()),
        }
    }

    async fn check_send_limit(&self, user_id: &str) -> Result<()> {
        match self.sends.blocked(&limit_key(user_id), self.core.now()).await {
            Some(wait) => Err(OfficeError::RateLimited(wait)),
            None => Ok(()),
        }
    }

    /// Sends a code by SMS, counting it against the account's sends.
    pub(crate) async fn send_sms(&self, user_id: &str, phone: &str, code: &str) -> Result<()> {
        self.check_send_limit(user_id).await?;
        self.sends.fail(&limit_key(user_id), self.core.now()).await;
        self.sms.send(phone, &sms_text(code)).await.map_err(|err| {
            tracing::warn!(user_id, "sending a text message failed: {err}");
            OfficeError::SmsFailed
        })
    }
}
