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
}
