//! The database boundary of each feature service of `bureau_office`: one trait per service,
//! over the tables that feature owns, so a service reaches only its own rows (two-factor
//! sign-in's trait, [`crate::TwoFactorStore`], lives with its rows in `two_factor.rs`).
//! [`crate::Store`] is all of them together.

mod accounts;
mod directory;
mod joining;
mod messaging;
mod privacy;
mod rooms;
mod support;
mod working_day;

pub use accounts::AccountsStore;
pub use directory::DirectoryStore;
pub use joining::JoiningStore;
pub use messaging::{FILE_CHUNK, MessagingStore};
pub use privacy::PrivacyStore;
pub use rooms::RoomsStore;
pub use support::SupportStore;
pub use working_day::WorkingDayStore;
