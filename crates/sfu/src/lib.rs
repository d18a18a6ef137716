//! Bureau's media server, sans-IO (docs/sfu.md): a selective forwarding unit built on str0m.
//!
//! A [`Room`] holds one str0m [`Rtc`](str0m::Rtc) per participant — ICE-lite, on the address the
//! driver listens on, in str0m's RTP mode — and forwards the RTP packets each participant sends
//! to the others, adding a send-only track to each of them for each track someone publishes
//! (the room makes the offer, the participant answers: [`Output::Offer`],
//! [`Room::accept_answer`]). What it forwards is what browsers encrypted with SFrame before
//! DTLS-SRTP: the room never holds a media key.
//!
//! - **Simulcast** (`simulcast`): a video sent in three layers (rids `l`, `m`, `h`) reaches each
//!   receiver in one [`Layer`], the highest that str0m's estimate of the receiver's bandwidth
//!   (TWCC) pays for, shared among the videos they get; heavy loss means the low layers. A
//!   switch takes effect at a key frame of the new layer, asked of the sender with a PLI.
//! - **Forwarding** (`forward`): one SSRC per track for each receiver, sequence numbers,
//!   timestamps and VP8 picture ids renumbered so that a switch is seamless; str0m answers each
//!   leg's NACKs (RTX) and sends each leg's reports. No heap allocation per packet in the room
//!   (`tests/forward_no_alloc.rs`).
//! - **Speakers** (`speakers`): the audio level of each sender's packets (RFC 6464), smoothed;
//!   the order of recent speakers ([`Output::Speakers`]); each receiver gets the videos of the
//!   last N speakers ([`Room::set_last_n`]) and everyone's audio; a shared screen goes to all.
//!
//! The caller carries datagrams and time in and out: [`Room::handle_datagram`],
//! [`Room::handle_timeout`], and [`Room::poll_output`] until it returns [`Output::Timeout`].
//! Nothing here reads a clock or a socket, so tests run rooms of str0m clients over an in-memory
//! network on a fake clock (`tests/`).

mod forward;
mod participant;
mod recorder;
mod room;
mod sdp;
mod simulcast;
mod speakers;

pub use participant::ParticipantId;
pub use recorder::Recorder;
pub use room::{DEFAULT_LAST_N, JoinError, MAX_TRACKS_PER_KIND, Output, Room};
pub use simulcast::Layer;
pub use str0m::change::{SdpAnswer, SdpOffer};
pub use str0m::media::MediaKind;
