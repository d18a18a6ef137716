//! The second step of a sign-in. A right password for an account with a second factor (or in
//! an organisation that requires one) yields a [`Challenge`] instead of a session: a 256-bit
//! random token, stored only as its SHA-256, valid for five minutes and once. It is completed
//! with a TOTP code, an SMS code or a recovery code, or, when the organisation requires a second
//! factor the user lacks, by enrolling an authenticator. Five wrong codes kill the challenge and
//! lock the account's second-factor checks for the sign-in window.

use bureau_store::{ChallengeRow, OrgId, UserRow};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::{SignedIn, new_token, token_hash};
use crate::error::{OfficeError, Result};
use crate::two_factor::{MAX_CODE_FAILURES, enrolled, RecoveryCodes, TotpEnrolment, limit_key, recovery_hash, slot, sms_code};
use crate::{Client, Accounts, totp};

/// How long a challenge lasts.
pub const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;
/// Text messages one challenge may send.
const MAX_SMS_PER_CHALLENGE: i64 = 3;

const SIGN_IN: &str = "sign_in";
const ENROL: &str = "enrol";

/// Where a sign-in stands after the password.
#[derive(Debug)]
pub enum SignInStep {
    /// Signed in: no second factor needed.
    Done(Box<SignedIn>),
    /// A second factor is needed (or must first be enrolled).
    SecondFactor(Challenge),
}

/// A ways to prove the second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorMethod {
    /// A code from an authenticator app.
    Totp,
    /// A code sent by SMS.
    Sms,
    /// A single-use recovery code.
    Recovery,
}

/// The pending second step of a sign-in.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Challenge {
    /// The token that names this sign-in in the next requests (valid 5 minutes, once).
    pub token: String,
    /// The ways the user can prove a second factor (empty when enrolment is required).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<SecondFactorMethod>,
    /// The organisation requires a second factor the user lacks: enrol an authenticator first.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub enrol_required: bool,
    /// When the token expires, Unix milliseconds.
    pub expires_at: i64,
}

/// What proves the second factor.
#[derive(Clone, Debug)]
pub enum Proof {
    /// A TOTP code or an SMS code.
    Code(String),
    /// A recovery code.
    RecoveryCode(String),
}

impl Accounts {
    /// After a right password: a session, or a challenge when a second factor is needed.
    pub(crate) async fn password_accepted(&self, row: &UserRow, client: &Client) -> Result<SignInStep> {
        let factors = self.two_factor.store.two_factor(OrgId(&row.org_id), &row.id).await?.filter(enrolled);
        let (purpose, methods) = match factors {
            Some(f) => {
                let mut methods = Vec::new();
                if f.totp_secret.is_some() {
                    methods.push(SecondFactorMethod::Totp);
                }
                if f.phone.is_some() {
                    methods.push(SecondFactorMethod::Sms);
                }
                methods.push(SecondFactorMethod::Recovery);
                (SIGN_IN, methods)
            }
            None if self.two_factor.requires_two_factor(&row.org_id).await? => (ENROL, Vec::new()),
            None => return Ok(SignInStep::Done(Box::new(self.session_for(row, client, "login").await?))),
        };
        let (token, hash) = new_token();
        let now = self.core.now();
        let challenge = ChallengeRow {
            token_hash: hash,
            org_id: row.org_id.clone(),
            user_id: row.id.clone(),
            purpose: purpose.into(),
            created_at: now,
            expires_at: now + CHALLENGE_TTL_MS,
            failures: 0,
            sms_code: None,
            sms_sent: 0,
            used_at: None,
        };
        self.two_factor.store.insert_challenge(&challenge).await?;
        Ok(SignInStep::SecondFactor(Challenge { token, methods, enrol_required: purpose == ENROL, expires_at: challenge.expires_at }))
    }

    /// Completes a sign-in with a second factor and starts the session.
    pub async fn complete_second_factor(&self, token: &str, proof: Proof, client: &Client) -> Result<SignedIn> {
        let challenge = self.live_challenge(token, SIGN_IN).await?;
        self.two_factor.check_code_limit(&challenge.user_id).await?;
        let method = self.check_proof(&challenge, &proof).await?;
        let Some(method) = method else {
            return Err(self.wrong_code(&challenge).await);
        };
        self.finish(&challenge, client, &format!("login_{method}")).await
    }

    /// Sends (or sends again) an SMS code for a sign-in challenge.
    pub async fn send_sign_in_sms(&self, token: &str) -> Result<()> {
        let challenge = self.live_challenge(token, SIGN_IN).await?;
        if challenge.sms_sent >= MAX_SMS_PER_CHALLENGE {
            return Err(OfficeError::RateLimited((challenge.expires_at - self.core.now()).max(1000) as u64 / 1000));
        }
        let factors = self.two_factor.two_factor_row(&challenge.org_id, &challenge.user_id).await?;
        let Some(sealed) = &factors.phone else {
            return Err(OfficeError::Invalid { field: "send_sms", message: "no phone is enrolled for SMS codes".into() });
        };
        let keys = self.core.keys(&challenge.org_id).await?;
        let phone = String::from_utf8(keys.open(slot("phone", &challenge.user_id), sealed)?).map_err(|_| OfficeError::Tampered)?;
        let code = sms_code();
        let code_hash = keys.blind_index("sms-code", &format!("{}:{code}", hex_of(&challenge.token_hash)));
        self.two_factor.store.challenge_sms_sent(&challenge.token_hash, &code_hash).await?;
        self.two_factor.send_sms(&challenge.user_id, &phone, &code).await
    }

    /// For a user who must enrol: a new pending authenticator secret.
    pub async fn start_required_totp(&self, token: &str) -> Result<TotpEnrolment> {
        let challenge = self.live_challenge(token, ENROL).await?;
        let user = self.two_factor.user_row(&challenge.org_id, &challenge.user_id).await?;
        self.two_factor.begin_totp(&user).await
    }

    /// For a user who must enrol: confirms the authenticator with a code and signs in.
    pub async fn confirm_required_totp(&self, token: &str, code: &str, client: &Client) -> Result<(SignedIn, RecoveryCodes)> {
        let challenge = self.live_challenge(token, ENROL).await?;
        self.two_factor.check_code_limit(&challenge.user_id).await?;
        let codes = match self.two_factor.finish_totp(&challenge.org_id, &challenge.user_id, code).await {
            Ok(codes) => codes,
            Err(OfficeError::InvalidCode) => return Err(self.wrong_code(&challenge).await),
            Err(other) => return Err(other),
        };
        Ok((self.finish(&challenge, client, "login_enrol").await?, codes))
    }

    /// The unused, unexpired challenge of this token and purpose.
    async fn live_challenge(&self, token: &str, purpose: &str) -> Result<ChallengeRow> {
        if token.len() > 128 {
            return Err(OfficeError::InvalidToken);
        }
        match self.two_factor.store.challenge(&token_hash(token), self.core.now()).await? {
            Some(c) if c.purpose == purpose && c.failures < MAX_CODE_FAILURES as i64 => Ok(c),
            _ => Err(OfficeError::InvalidToken),
        }
    }

    /// Which method `proof` satisfies, if any. A TOTP code counts once; a recovery code once.
    async fn check_proof(&self, challenge: &ChallengeRow, proof: &Proof) -> Result<Option<&'static str>> {
        let (org_id, user_id) = (challenge.org_id.as_str(), challenge.user_id.as_str());
        if let Some(method) = self.check_standing_proof(org_id, user_id, proof).await? {
            return Ok(Some(method));
        }
        if let (Proof::Code(code), Some(expected)) = (proof, &challenge.sms_code) {
            let keys = self.core.keys(org_id).await?;
            let given = keys.blind_index("sms-code", &format!("{}:{}", hex_of(&challenge.token_hash), code.trim()));
            if totp::constant_time_eq(&given, expected) {
                return Ok(Some("sms"));
            }
        }
        Ok(None)
    }

    /// Which method a proof that needs no challenge satisfies: a TOTP code (once) or a
    /// recovery code (once). Also used to confirm sensitive actions such as erasure.
    pub(crate) async fn check_standing_proof(&self, org_id: &str, user_id: &str, proof: &Proof) -> Result<Option<&'static str>> {
        let keys = self.core.keys(org_id).await?;
        match proof {
            Proof::Code(code) => {
                let factors = self.two_factor.two_factor_row(org_id, user_id).await?;
                if let Some(sealed) = &factors.totp_secret {
                    let secret = keys.open(slot("totp_secret", user_id), sealed)?;
                    if let Some(step) = totp::matching_step(&secret, code, self.core.now())
                        && self.two_factor.store.advance_totp_step(OrgId(org_id), user_id, step).await?
                    {
                        return Ok(Some("totp"));
                    }
                }
                Ok(None)
            }
            Proof::RecoveryCode(code) => {
                let hash = recovery_hash(&keys, user_id, code);
                Ok(self.two_factor.store.use_recovery_code(OrgId(org_id), user_id, &hash, self.core.now()).await?.then_some("recovery"))
            }
        }
    }

    /// Counts a wrong code against the challenge and the account; the fifth kills the challenge.
    async fn wrong_code(&self, challenge: &ChallengeRow) -> OfficeError {
        self.two_factor.failures.fail(&limit_key(&challenge.user_id), self.core.now()).await;
        match self.two_factor.store.challenge_failed(&challenge.token_hash).await {
            Ok(failures) if failures >= MAX_CODE_FAILURES as i64 => {
                tracing::warn!(org_id = %challenge.org_id, user_id = %challenge.user_id, "second-factor challenge locked after wrong codes");
                OfficeError::InvalidCode
            }
            Ok(_) => OfficeError::InvalidCode,
            Err(err) => err.into(),
        }
    }

    /// Uses up the challenge and starts the session.
    async fn finish(&self, challenge: &ChallengeRow, client: &Client, event: &str) -> Result<SignedIn> {
        if !self.two_factor.store.finish_challenge(&challenge.token_hash, self.core.now()).await? {
            return Err(OfficeError::InvalidToken);
        }
        self.two_factor.failures.clear(&limit_key(&challenge.user_id)).await;
        let row = self.two_factor.user_row(&challenge.org_id, &challenge.user_id).await?;
        if !row.active || row.password_hash.is_none() {
            return Err(OfficeError::InvalidToken);
        }
        self.session_for(&row, client, event).await
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
