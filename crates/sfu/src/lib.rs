//! Bureau's media server, sans-IO (docs/sfu.md): a selective forwarding unit built on str0m.
//!
//! A [`Room`] holds one str0m [`Rtc`](str0m::Rtc) per participant — ICE-lite, on the address the
//! driver listens on — and forwards every frame a participant sends to every other participant,
//! adding a send-only track to each of them for each track someone publishes (the room makes the
//! offer, the participant answers: [`Output::Offer`], [`Room::accept_answer`]). What it forwards
//! is what browsers encrypted with SFrame before DTLS-SRTP: the room never holds a media key.
//!
//! The caller carries datagrams and time in and out: [`Room::handle_datagram`],
//! [`Room::handle_timeout`], and [`Room::poll_output`] until it returns [`Output::Timeout`].
//! Nothing here reads a clock or a socket, so tests run rooms of str0m clients over an in-memory
//! network (`tests/`).
//!
//! This first step forwards whole frames (str0m's frame level) of every layer to everyone; RTP
//! mode, simulcast layer choice, active speaker and last N follow (docs/sfu.md).

mod room;

pub use room::{JoinError, MAX_TRACKS_PER_KIND, Output, ParticipantId, Recorder, Room};
pub use str0m::change::{SdpAnswer, SdpOffer};
pub use str0m::media::MediaKind;
