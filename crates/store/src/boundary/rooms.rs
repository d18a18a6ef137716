//! The live office: rooms, and the metadata logs of calls and peer-to-peer transfers: the database boundary of `bureau_office`'s rooms service.

use async_trait::async_trait;

use crate::*;

/// The live office: rooms, and the metadata logs of calls and peer-to-peer transfers.
#[async_trait]
pub trait RoomsStore: Send + Sync + 'static {
    /// The rooms of the organisation, oldest first.
    async fn rooms(&self, org: OrgId<'_>) -> Result<Vec<RoomRow>>;
    /// Adds a room.
    async fn insert_room(&self, room: &RoomRow) -> Result<()>;
    /// Changes a room's name, capacity and whether it is large; false if there is no such room.
    async fn update_room(&self, room: &RoomRow) -> Result<bool>;
    /// Removes a room; false if there was no such room.
    async fn delete_room(&self, org: OrgId<'_>, id: &str) -> Result<bool>;
    /// Records a call or room session and its participants.
    async fn insert_call_log(&self, call: &CallLogRow) -> Result<()>;
    /// The calls a user took part in, newest first, each with every participant.
    async fn user_calls(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<CallLogRow>>;
    /// Records the metadata of a peer-to-peer message or file transfer.
    async fn insert_transfer(&self, transfer: &TransferRow) -> Result<()>;
    /// The transfers a user sent or received, newest first.
    async fn user_transfers(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<TransferRow>>;
}
