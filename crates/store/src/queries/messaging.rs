//! Messaging: devices and their public keys ([`crate::MessagingStore`]).

use async_trait::async_trait;

use super::{SqlStore, row};
use crate::sql::{boxed, conflict, params};
use crate::*;

row!(body_row, BODY_COLUMNS, MessageBodyRow { id, org_id, sender_user, envelope, size, created_at, expires_at });
row!(queue_row, QUEUE_COLUMNS, QueueRow { id, org_id, device_id, body_id, sealed_key, queued_at });
row!(conversation_row, CONVERSATION_COLUMNS, ConversationRow { id, org_id, name, epoch, created_by, created_at });
row!(device_key_row, DEVICE_KEY_COLUMNS, DeviceKeyRow { id, org_id, user_id, name, hpke_public, sign_public, self_signature, created_at });

#[async_trait]
impl MessagingStore for SqlStore {
    async fn insert_device_key(&self, d: &DeviceKeyRow) -> Result<()> {
        let sql = "INSERT INTO device_keys (id, org_id, user_id, name, hpke_public, sign_public, self_signature, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        self.db.execute(sql, params![d.id, d.org_id, d.user_id, d.name, d.hpke_public, d.sign_public, d.self_signature, d.created_at]).await.map_err(conflict("this device is registered already")).map(drop)
    }

    async fn device_keys(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<DeviceKeyRow>> {
        let sql = format!("SELECT {DEVICE_KEY_COLUMNS} FROM device_keys WHERE org_id = $1 AND user_id = $2 ORDER BY created_at, id");
        self.db.all(sql, params![org.0, user_id], device_key_row).await
    }

    async fn delete_device_key(&self, org: OrgId<'_>, user_id: &str, id: &str) -> Result<bool> {
        Ok(self.db.execute("DELETE FROM device_keys WHERE org_id = $1 AND user_id = $2 AND id = $3", params![org.0, user_id, id]).await? == 1)
    }

    async fn device_key(&self, org: OrgId<'_>, id: &str) -> Result<Option<DeviceKeyRow>> {
        self.db.one(format!("SELECT {DEVICE_KEY_COLUMNS} FROM device_keys WHERE org_id = $1 AND id = $2"), params![org.0, id], device_key_row).await
    }

    async fn queue_message(&self, body: &MessageBodyRow, entries: &[QueueRow]) -> Result<()> {
        let (b, entries) = (body.clone(), entries.to_vec());
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    let sql = "INSERT INTO message_bodies (id, org_id, sender_user, envelope, size, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
                    tx.execute(sql, params![b.id, b.org_id, b.sender_user, b.envelope, b.size, b.created_at, b.expires_at]).await?;
                    let sql = "INSERT INTO message_queue (id, org_id, device_id, body_id, sealed_key, queued_at) VALUES ($1, $2, $3, $4, $5, $6)";
                    for q in entries {
                        tx.execute(sql, params![q.id, q.org_id, q.device_id, q.body_id, q.sealed_key, q.queued_at]).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    async fn queued_count(&self, org: OrgId<'_>, device_id: &str) -> Result<i64> {
        let sql = "SELECT count(*) FROM message_queue WHERE org_id = $1 AND device_id = $2";
        Ok(self.db.one(sql, params![org.0, device_id], |r| r.get()).await?.unwrap_or(0))
    }

    async fn inbox(&self, org: OrgId<'_>, device_id: &str, limit: u32) -> Result<Vec<(QueueRow, MessageBodyRow)>> {
        let queue = QUEUE_COLUMNS.split(", ").map(|c| format!("q.{c}")).collect::<Vec<_>>().join(", ");
        let body = BODY_COLUMNS.split(", ").map(|c| format!("b.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {queue}, {body} FROM message_queue q JOIN message_bodies b ON b.id = q.body_id
             WHERE q.org_id = $1 AND q.device_id = $2 ORDER BY q.queued_at, q.id LIMIT $3"
        );
        self.db.all(sql, params![org.0, device_id, i64::from(limit)], |r| Ok((queue_row(r)?, body_row(r)?))).await
    }

    async fn acknowledge(&self, org: OrgId<'_>, device_id: &str, ids: &[String]) -> Result<u64> {
        let (org, device, ids) = (org.0.to_owned(), device_id.to_owned(), ids.to_vec());
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    let mut gone = 0;
                    for id in ids {
                        let sql = "SELECT body_id FROM message_queue WHERE org_id = $1 AND device_id = $2 AND id = $3";
                        let Some(body_id): Option<String> = tx.one(sql, params![org, device, id], |r| r.get()).await? else { continue };
                        gone += tx.execute("DELETE FROM message_queue WHERE id = $1", params![id]).await?;
                        let sql = "DELETE FROM message_bodies WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM message_queue WHERE body_id = $1)";
                        tx.execute(sql, params![body_id]).await?;
                    }
                    Ok(gone)
                })
            })
            .await
    }

    async fn org_messaging(&self, org: OrgId<'_>) -> Result<Option<(bool, i64)>> {
        let sql = "SELECT store_and_forward, retention_days FROM org_messaging WHERE org_id = $1";
        self.db.one(sql, params![org.0], |r| Ok((r.get()?, r.get()?))).await
    }

    async fn set_org_messaging(&self, org: OrgId<'_>, store_and_forward: bool, retention_days: i64) -> Result<()> {
        let sql = "INSERT INTO org_messaging (org_id, store_and_forward, retention_days) VALUES ($1, $2, $3) \
                   ON CONFLICT (org_id) DO UPDATE SET store_and_forward = excluded.store_and_forward, retention_days = excluded.retention_days";
        self.db.execute(sql, params![org.0, store_and_forward, retention_days]).await.map(drop)
    }

    async fn insert_conversation(&self, conversation: &ConversationRow, members: &[String]) -> Result<()> {
        let (c, members) = (conversation.clone(), members.to_vec());
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    let sql = "INSERT INTO conversations (id, org_id, name, epoch, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
                    tx.execute(sql, params![c.id, c.org_id, c.name, c.epoch, c.created_by, c.created_at]).await?;
                    let sql = "INSERT INTO conversation_members (conversation_id, org_id, user_id, added_at) VALUES ($1, $2, $3, $4)";
                    for user in members {
                        tx.execute(sql, params![c.id, c.org_id, user, c.created_at]).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    async fn conversation(&self, org: OrgId<'_>, id: &str) -> Result<Option<ConversationRow>> {
        self.db.one(format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE org_id = $1 AND id = $2"), params![org.0, id], conversation_row).await
    }

    async fn conversation_members(&self, org: OrgId<'_>, id: &str) -> Result<Vec<String>> {
        let sql = "SELECT user_id FROM conversation_members WHERE org_id = $1 AND conversation_id = $2 ORDER BY added_at, user_id";
        self.db.all(sql, params![org.0, id], |r| r.get()).await
    }

    async fn conversations_of(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<ConversationRow>> {
        let columns = CONVERSATION_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns} FROM conversations c JOIN conversation_members m ON m.conversation_id = c.id \
             WHERE c.org_id = $1 AND m.user_id = $2 ORDER BY c.created_at, c.id"
        );
        self.db.all(sql, params![org.0, user_id], conversation_row).await
    }

    async fn change_members(&self, org: OrgId<'_>, id: &str, add: &[String], remove: &[String], now: i64) -> Result<i64> {
        let (org, id, add, remove) = (org.0.to_owned(), id.to_owned(), add.to_vec(), remove.to_vec());
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    let sql = "INSERT INTO conversation_members (conversation_id, org_id, user_id, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT (conversation_id, user_id) DO NOTHING";
                    for user in add {
                        tx.execute(sql, params![id, org, user, now]).await?;
                    }
                    for user in remove {
                        tx.execute("DELETE FROM conversation_members WHERE org_id = $1 AND conversation_id = $2 AND user_id = $3", params![org, id, user]).await?;
                    }
                    tx.execute("UPDATE conversations SET epoch = epoch + 1 WHERE org_id = $1 AND id = $2", params![org, id]).await?;
                    let epoch: Option<i64> = tx.one("SELECT epoch FROM conversations WHERE org_id = $1 AND id = $2", params![org, id], |r| r.get()).await?;
                    epoch.ok_or(StoreError::Malformed("conversation gone"))
                })
            })
            .await
    }

    async fn delete_conversation(&self, org: OrgId<'_>, id: &str) -> Result<()> {
        self.db.execute("DELETE FROM conversations WHERE org_id = $1 AND id = $2", params![org.0, id]).await.map(drop)
    }
}
