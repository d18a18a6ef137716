//! Errors of the STUN codec.

use thiserror::Error;

/// Why a byte string is not a valid STUN message or ChannelData message.
///
/// A server never answers these: a message that cannot be parsed is dropped (RFC 8489 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Fewer bytes than a header, or than the length field announces.
    #[error("message truncated")]
    Truncated,
    /// More bytes than the length field announces (datagrams must match exactly).
    #[error("trailing bytes after the message")]
    TrailingBytes,
    /// The two most significant bits of a STUN message are not zero.
    #[error("not a STUN message")]
    NotStun,
    /// The magic cookie is not 0x2112A442 (an RFC 3489 message, unsupported).
    #[error("bad magic cookie")]
    BadMagicCookie,
    /// The length field is not a multiple of four.
    #[error("message length not a multiple of 4")]
    UnalignedLength,
    /// An attribute runs past the end of the message.
    #[error("attribute overflows the message")]
    AttributeOverflow,
    /// FINGERPRINT is not the last attribute or has the wrong size.
    #[error("misplaced FINGERPRINT")]
    MisplacedFingerprint,
    /// The FINGERPRINT value does not match the message.
    #[error("wrong FINGERPRINT")]
    WrongFingerprint,
    /// A MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 attribute has an invalid size.
    #[error("malformed message integrity")]
    MalformedIntegrity,
    /// An attribute value is malformed (wrong length, unknown family, ...).
    #[error("malformed attribute 0x{0:04x}")]
    MalformedAttribute(u16),
    /// A ChannelData message uses a channel number outside 0x4000-0x7FFF.
    #[error("invalid channel number")]
    InvalidChannel,
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// The caller-provided buffer is too small for the message.
    #[error("output buffer too small")]
    BufferTooSmall,
    /// An attribute value is longer than 65535 bytes or a message longer than 65535 bytes.
    #[error("value too long")]
    TooLong,
}

/// Why REST-secret credentials are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CredentialError {
    /// The username does not start with a Unix expiry time.
    #[error("malformed REST username")]
    Malformed,
    /// The expiry time in the username is in the past.
    #[error("credentials expired")]
    Expired,
}

/// Why a CIDR string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CidrError {
    /// The address part is not an IP address.
    #[error("invalid address in CIDR `{0}`")]
    Address(String),
    /// The prefix length is missing, not a number or too long for the family.
    #[error("invalid prefix length in CIDR `{0}`")]
    Prefix(String),
}

/// Why the TURN server refuses a request. Each variant maps to exactly one STUN error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Reject {
    /// 400: a required attribute is missing or malformed.
    #[error("Bad Request")]
    BadRequest,
    /// 401: missing or wrong credentials; the answer carries a fresh NONCE and the REALM.
    #[error("Unauthenticated")]
    Unauthenticated,
    /// 403: the peer address is refused by the peer policy.
    #[error("Forbidden")]
    Forbidden,
    /// 420: a comprehension-required attribute is not understood (listed separately).
    #[error("Unknown Attribute")]
    UnknownAttribute,
    /// 437: Allocate on a 5-tuple that has an allocation, or another request on one without.
    #[error("Allocation Mismatch")]
    AllocationMismatch,
    /// 438: the nonce expired or was not issued to this client; retry with the new one.
    #[error("Stale Nonce")]
    StaleNonce,
    /// 440: the requested address family is not served.
    #[error("Address Family not Supported")]
    AddressFamilyNotSupported,
    /// 441: the request uses other credentials than those that created the allocation.
    #[error("Wrong Credentials")]
    WrongCredentials,
    /// 442: REQUESTED-TRANSPORT is not UDP.
    #[error("Unsupported Transport Protocol")]
    UnsupportedTransport,
    /// 443: the peer address family differs from the relayed address family.
    #[error("Peer Address Family Mismatch")]
    PeerAddressFamilyMismatch,
    /// 486: the user has as many allocations as the per-user quota allows.
    #[error("Allocation Quota Reached")]
    AllocationQuotaReached,
    /// 508: no relay port is free, or the server-wide quota is reached.
    #[error("Insufficient Capacity")]
    InsufficientCapacity,
}

impl Reject {
    /// The STUN error code of this rejection.
    pub fn code(self) -> u16 {
        match self {
            Reject::BadRequest => 400,
            Reject::Unauthenticated => 401,
            Reject::Forbidden => 403,
            Reject::UnknownAttribute => 420,
            Reject::AllocationMismatch => 437,
            Reject::StaleNonce => 438,
            Reject::AddressFamilyNotSupported => 440,
            Reject::WrongCredentials => 441,
            Reject::UnsupportedTransport => 442,
            Reject::PeerAddressFamilyMismatch => 443,
            Reject::AllocationQuotaReached => 486,
            Reject::InsufficientCapacity => 508,
        }
    }
}

impl From<DecodeError> for Reject {
    fn from(_: DecodeError) -> Self {
        Reject::BadRequest
    }
}
