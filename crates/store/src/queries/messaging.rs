//! Messaging: devices and their public keys ([`crate::MessagingStore`]).

use async_trait::async_trait;

use super::{SqlStore, row};
use crate::sql::params;
use crate::*;

row!(device_key_row, DEVICE_KEY_COLUMNS, DeviceKeyRow { id, org_id, user_id, name, hpke_public, sign_public, self_signature, created_at });

#[async_trait]
impl MessagingStore for SqlStore {
    async fn insert_device_key(&self, d: &DeviceKeyRow) -> Result<()> {
        let sql = "INSERT INTO device_keys (id, org_id, user_id, name, hpke_public, sign_public, self_signature, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        self.db.execute(sql, params![d.id, d.org_id, d.user_id, d.name, d.hpke_public, d.sign_public, d.self_signature, d.created_at]).await.map(drop)
    }

    async fn device_keys(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<DeviceKeyRow>> {
        let sql = format!("SELECT {DEVICE_KEY_COLUMNS} FROM device_keys WHERE org_id = $1 AND user_id = $2 ORDER BY created_at, id");
        self.db.all(sql, params![org.0, user_id], device_key_row).await
    }

    async fn delete_device_key(&self, org: OrgId<'_>, user_id: &str, id: &str) -> Result<bool> {
        Ok(self.db.execute("DELETE FROM device_keys WHERE org_id = $1 AND user_id = $2 AND id = $3", params![org.0, user_id, id]).await? == 1)
    }
}
