//! End-to-end encrypted messaging: the devices' public keys, the database boundary of
//! `bureau_office`'s messaging service (docs/messaging.md).

use async_trait::async_trait;

use crate::*;

/// The bytes of an uploaded file are stored in rows of this many bytes (the last one shorter).
pub const FILE_CHUNK: usize = 1024 * 1024;

/// Messaging: devices and their public keys, the queues of waiting messages, group
/// conversations and the files of messages.
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
    /// The devices `ids` of the organisation that exist, each with whether its user is active
    /// and how many entries wait for it: one query for a message's recipients (up to 500).
    async fn queue_targets(&self, org: OrgId<'_>, ids: &[String]) -> Result<Vec<QueueTarget>>;
    /// Stores a waiting message and its entries, in one transaction.
    async fn queue_message(&self, body: &MessageBodyRow, entries: &[QueueRow]) -> Result<()>;
    /// How many entries wait for the device.
    async fn queued_count(&self, org: OrgId<'_>, device_id: &str) -> Result<i64>;
    /// The oldest entries waiting for the device, with their messages, at most `limit`.
    async fn inbox(&self, org: OrgId<'_>, device_id: &str, limit: u32) -> Result<Vec<(QueueRow, MessageBodyRow)>>;
    /// Deletes the device's entries `ids` (fetched), and each message no entry waits for any
    /// more; how many entries went.
    async fn acknowledge(&self, org: OrgId<'_>, device_id: &str, ids: &[String]) -> Result<u64>;
    /// The organisation's messaging choices: store and forward, retention in days, the largest
    /// file (`None`: never set, the node's defaults apply).
    async fn org_messaging(&self, org: OrgId<'_>) -> Result<Option<OrgMessagingRow>>;
    /// Sets the organisation's messaging choices.
    async fn set_org_messaging(&self, org: OrgId<'_>, settings: &OrgMessagingRow) -> Result<()>;
    /// Stores an uploaded file with its bytes, in chunks of [`FILE_CHUNK`] bytes, in one
    /// transaction, unless the uploader's files not expired at `file.created_at` would then be
    /// more than `quota` allows (files or bytes): then nothing is stored and the answer is what
    /// they hold already.
    async fn insert_message_file(&self, file: &MessageFileRow, data: Vec<u8>, quota: FileUsage) -> Result<Option<FileUsage>>;
    /// One file of the organisation (without its bytes).
    async fn message_file(&self, org: OrgId<'_>, id: &str) -> Result<Option<MessageFileRow>>;
    /// The bytes of one file of the organisation, read in one snapshot.
    async fn message_file_data(&self, org: OrgId<'_>, id: &str) -> Result<Option<Vec<u8>>>;
    /// Deletes one of the uploader's files with its bytes; false if there was none.
    async fn delete_message_file(&self, org: OrgId<'_>, uploader: &str, id: &str) -> Result<bool>;
    /// The uploader's files, oldest first.
    async fn message_files_of(&self, org: OrgId<'_>, uploader: &str) -> Result<Vec<MessageFileRow>>;
    /// What the uploader's files not expired at `now` hold.
    async fn message_file_usage(&self, org: OrgId<'_>, uploader: &str, now: i64) -> Result<FileUsage>;
    /// Stores a new group conversation with its first members, in one transaction.
    async fn insert_conversation(&self, conversation: &ConversationRow, members: &[String]) -> Result<()>;
    /// One group conversation of the organisation.
    async fn conversation(&self, org: OrgId<'_>, id: &str) -> Result<Option<ConversationRow>>;
    /// The conversation of a meeting room, if one was made.
    async fn room_conversation(&self, org: OrgId<'_>, room_id: &str) -> Result<Option<ConversationRow>>;
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
