//! WebSocket close codes for fatal protocol violations and server decisions.

use std::fmt;

/// Why the server closes a connection. Each maps to one WebSocket close code and reason.
///
/// Codes below 4000 are RFC 6455 codes; 4000-4999 are private to Bureau. A client reconnects
/// after [`CloseCode::GoingAway`]; after the others it shows the reason and stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 1001: the server is shutting down or restarting. Reconnect with backoff.
    GoingAway,
    /// 1009: a message was larger than [`super::MAX_MESSAGE_BYTES`], repeatedly.
    MessageTooBig,
    /// 4000: `hello` announced a protocol version the server does not speak.
    BadVersion,
    /// 4001: too many malformed or invalid messages.
    TooManyBadMessages,
    /// 4002: the user was deactivated or removed from the organisation.
    Kicked,
    /// 4003: the connection kept sending faster than the rate limit.
    Flooding,
    /// 4004: a guest was refused entry from the lobby (or the room they waited for is gone).
    NotAdmitted,
    /// 4005: the user has as many connections open as one user may (tabs and devices).
    TooManyConnections,
    /// 4006: the session this connection was opened with ended (signed out elsewhere, or a
    /// guest's link was revoked or expired).
    SignedOut,
    /// 1013: the organisation or the server holds as many connections as it may; reconnect
    /// later with backoff.
    TryAgainLater,
}

impl CloseCode {
    /// Every close code.
    pub const ALL: [CloseCode; 10] = [
        Self::GoingAway,
        Self::MessageTooBig,
        Self::BadVersion,
        Self::TooManyBadMessages,
        Self::Kicked,
        Self::Flooding,
        Self::NotAdmitted,
        Self::TooManyConnections,
        Self::SignedOut,
        Self::TryAgainLater,
    ];

    /// The close code with this number (a close that crossed from another node as a number).
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The numeric WebSocket close code.
    pub fn code(self) -> u16 {
        match self {
            Self::GoingAway => 1001,
            Self::MessageTooBig => 1009,
            Self::BadVersion => 4000,
            Self::TooManyBadMessages => 4001,
            Self::Kicked => 4002,
            Self::Flooding => 4003,
            Self::NotAdmitted => 4004,
            Self::TooManyConnections => 4005,
            Self::SignedOut => 4006,
            Self::TryAgainLater => 1013,
        }
    }

    /// The close reason sent with the code (short, ASCII, well under the 123-byte limit).
    pub fn reason(self) -> &'static str {
        match self {
            Self::GoingAway => "server going away",
            Self::MessageTooBig => "message too big",
            Self::BadVersion => "unsupported protocol version",
            Self::TooManyBadMessages => "too many malformed messages",
            Self::Kicked => "user removed",
            Self::Flooding => "too many messages",
            Self::NotAdmitted => "not admitted",
            Self::TooManyConnections => "too many connections: close another tab",
            Self::SignedOut => "signed out",
            Self::TryAgainLater => "server busy, try again later",
        }
    }

    /// Whether a client should reconnect after this close.
    pub fn should_reconnect(self) -> bool {
        matches!(self, Self::GoingAway | Self::TryAgainLater)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.reason())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_reasons_fit_a_close_frame() {
        let all = CloseCode::ALL;
        let mut codes: Vec<u16> = all.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for c in all {
            assert!(c.reason().len() <= 123 && c.reason().is_ascii());
            assert_eq!(CloseCode::from_code(c.code()), Some(c));
        }
        assert_eq!(CloseCode::from_code(1000), None);
        assert_eq!(CloseCode::BadVersion.to_string(), "4000 unsupported protocol version");
        assert_eq!(CloseCode::NotAdmitted.to_string(), "4004 not admitted");
        assert!(!CloseCode::NotAdmitted.should_reconnect());
    }
}
