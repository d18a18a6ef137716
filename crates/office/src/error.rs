//! Errors of the domain services. Each maps to exactly one REST status and code in the server.

use bureau_store::{StoreError, VaultError};

/// Why a domain operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// No valid session: sign in first.
    #[error("sign in first")]
    Unauthenticated,
    /// The email or password is wrong, or the account does not exist or is deactivated
    /// (deliberately indistinguishable, so accounts cannot be enumerated).
    #[error("the email or password is not correct")]
    InvalidCredentials,
    /// The second-factor code (TOTP, SMS or recovery code) is wrong, expired or used.
    #[error("the code is not correct")]
    InvalidCode,
    /// The password was right but the account needs a second factor: use the sign-in flow
    /// that asks for it.
    #[error("a second factor is required")]
    SecondFactorRequired,
    /// The SMS provider did not take the message.
    #[error("the text message could not be sent; try again later or use another method")]
    SmsFailed,
    /// Too many attempts; try again after the given number of seconds.
    #[error("too many attempts; try again in {0} seconds")]
    RateLimited(u64),
    /// The email and password are right for accounts in several organisations: sign in again
    /// naming one (the slugs, shown only to someone who knows the password).
    #[error("this email address and password belong to several organisations ({}): choose one", .0.join(", "))]
    ChooseOrganisation(Vec<String>),
    /// The guest link has let in as many guests as it allows, in all or at once.
    #[error("{0}")]
    LinkFull(&'static str),
    /// The signed-in user lacks the right for this operation.
    #[error("you are not allowed to do this")]
    Forbidden,
    /// An administrator chose the user's password: they choose their own before anything else.
    #[error("choose your own password first")]
    PasswordChangeRequired,
    /// The user restricted the processing of their data, which this needs.
    #[error("processing of your data is restricted; lift the restriction in your privacy settings to use the live office")]
    Restricted,
    /// The record does not exist in this organisation.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A field value is invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as named in the API.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The field exists only in the extended profile, which the organisation has not switched on.
    #[error("{0}: this field is only available when the organisation uses the extended profile")]
    FieldDisabled(&'static str),
    /// The record would clash with an existing one (for example the email is taken).
    #[error("a record with this {0} already exists")]
    Conflict(&'static str),
    /// The organisation turned store and forward off: messages travel only peer to peer.
    #[error("your organisation delivers messages only while both people are online: messages cannot wait on the server")]
    PeerToPeerOnly,
    /// An uploaded file is larger than the organisation allows.
    #[error("the file is larger than your organisation's limit of {max_mb} MiB")]
    FileTooLarge {
        /// The organisation's limit, in MiB.
        max_mb: u32,
    },
    /// The user keeps as many uploaded files, or as many bytes of them, as one user may: they
    /// must delete some (or wait for their retention to end) first.
    #[error("{0}")]
    QuotaExceeded(String),
    /// A link or token is unknown, used or expired.
    #[error("this link is invalid, already used or expired")]
    InvalidToken,
    /// The record was saved but its email could not be handed to the mail server.
    #[error("the email could not be sent; it was saved and can be sent again once mail works")]
    MailFailed,
    /// Stored data failed authentication: someone altered the database.
    #[error("stored data failed an integrity check")]
    Tampered,
    /// The database failed.
    #[error("storage failure: {0}")]
    Store(StoreError),
    /// Keys could not be loaded.
    #[error("key failure: {0}")]
    Vault(VaultError),
}

impl From<StoreError> for OfficeError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(what) => OfficeError::Conflict(what),
            other => OfficeError::Store(other),
        }
    }
}

impl From<VaultError> for OfficeError {
    fn from(err: VaultError) -> Self {
        match err {
            VaultError::Tampered | VaultError::UnknownKeyVersion(_) => OfficeError::Tampered,
            VaultError::Store(store) => store.into(),
            other => OfficeError::Vault(other),
        }
    }
}

/// The result of a domain operation.
pub type Result<T, E = OfficeError> = std::result::Result<T, E>;
