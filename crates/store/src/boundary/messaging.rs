//! End-to-end encrypted messaging: the devices' public keys, the database boundary of
//! `bureau_office`'s messaging service (docs/messaging.md).

use async_trait::async_trait;

use crate::*;

/// Messaging: devices and their public keys.
#[async_trait]
pub trait MessagingStore: Send + Sync + 'static {
    /// Stores a device.
    async fn insert_device_key(&self, device: &DeviceKeyRow) -> Result<()>;
    /// A user's devices, oldest first.
    async fn device_keys(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<DeviceKeyRow>>;
    /// Deletes one of the user's devices; false if there was none.
    async fn delete_device_key(&self, org: OrgId<'_>, user_id: &str, id: &str) -> Result<bool>;
    /// One device of the organisation.
    async fn device_key(&self, org: OrgId<'_>, id: &str) -> Result<Option<DeviceKeyRow>>;
    /// Stores a waiting message and its entries, in one transaction.
    async fn queue_message(&self, body: &MessageBodyRow, entries: &[QueueRow]) -> Result<()>;
    /// How many entries wait for the device.
    async fn queued_count(&self, org: OrgId<'_>, device_id: &str) -> Result<i64>;
    /// The oldest entries waiting for the device, with their messages, at most `limit`.
    async fn inbox(&self, org: OrgId<'_>, device_id: &str, limit: u32) -> Result<Vec<(QueueRow, MessageBodyRow)>>;
    /// Deletes the device's entries `ids` (fetched), and each message no entry waits for any
    /// more; how many entries went.
    async fn acknowledge(&self, org: OrgId<'_>, device_id: &str, ids: &[String]) -> Result<u64>;
    /// The organisation's messaging choices: store and forward, retention in days (`None`:
    /// never set, the node's defaults apply).
    async fn org_messaging(&self, org: OrgId<'_>) -> Result<Option<(bool, i64)>>;
    /// Sets the organisation's messaging choices.
    async fn set_org_messaging(&self, org: OrgId<'_>, store_and_forward: bool, retention_days: i64) -> Result<()>;
    /// Stores a new group conversation with its first members, in one transaction.
    async fn insert_conversation(&self, conversation: &ConversationRow, members: &[String]) -> Result<()>;
    /// One group conversation of the organisation.
    async fn conversation(&self, org: OrgId<'_>, id: &str) -> Result<Option<ConversationRow>>;
    /// The members of a group conversation, by user id.
    async fn conversation_members(&self, org: OrgId<'_>, id: &str) -> Result<Vec<String>>;
    /// The group conversations a user is a member of, oldest first.
    async fn conversations_of(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<ConversationRow>>;
    /// Adds and removes members and moves the conversation to the next epoch, in one
    /// transaction; the new epoch.
    async fn change_members(&self, org: OrgId<'_>, id: &str, add: &[String], remove: &[String], now: i64) -> Result<i64>;
    /// Deletes a group conversation (its last member left).
    async fn delete_conversation(&self, org: OrgId<'_>, id: &str) -> Result<()>;
}
