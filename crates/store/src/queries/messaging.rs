//! Messaging: devices and their public keys, waiting messages, group conversations and the
//! files of messages ([`crate::MessagingStore`]).

use async_trait::async_trait;

use super::{SqlStore, qualified, row};
use crate::sql::{boxed, conflict, params};
use crate::*;

row!(body_row, BODY_COLUMNS, MessageBodyRow { id, org_id, sender_user, envelope, size, created_at, expires_at });
row!(queue_row, QUEUE_COLUMNS, QueueRow { id, org_id, device_id, body_id, sealed_key, queued_at });
row!(conversation_row, CONVERSATION_COLUMNS, ConversationRow { id, org_id, name, epoch, created_by, created_at, room_id });
row!(file_row, FILE_COLUMNS, MessageFileRow { id, org_id, uploader, size, created_at, expires_at });
row!(device_key_row, DEVICE_KEY_COLUMNS, DeviceKeyRow { id, org_id, user_id, name, hpke_public, sign_public, self_signature, created_at });

/// What a user's files not expired at `$3` hold (the sum cast back from PostgreSQL's numeric).
const USAGE: &str = "SELECT count(*), CAST(COALESCE(sum(size), 0) AS BIGINT) FROM message_files WHERE org_id = $1 AND uploader = $2 AND expires_at > $3";

fn usage(r: &mut crate::sql::Reader) -> Result<FileUsage> {
    Ok(FileUsage { files: r.get()?, bytes: r.get()? })
}

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

    async fn queue_targets(&self, org: OrgId<'_>, ids: &[String]) -> Result<Vec<QueueTarget>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let columns = qualified(DEVICE_KEY_COLUMNS, "d");
        let placeholders = (2..ids.len() + 2).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns}, u.active, (SELECT COUNT(*) FROM message_queue q WHERE q.device_id = d.id) \
             FROM device_keys d JOIN users u ON u.id = d.user_id AND u.org_id = d.org_id \
             WHERE d.org_id = $1 AND d.id IN ({placeholders})"
        );
        let mut values = params![org.0];
        values.extend(ids.iter().map(|id| crate::sql::ToValue::to_value(id)));
        self.db.all(sql, values, |r| Ok(QueueTarget { device: device_key_row(r)?, user_active: r.get()?, waiting: r.get()? })).await
    }

    async fn queued_count(&self, org: OrgId<'_>, device_id: &str) -> Result<i64> {
        let sql = "SELECT count(*) FROM message_queue WHERE org_id = $1 AND device_id = $2";
        Ok(self.db.one(sql, params![org.0, device_id], |r| r.get()).await?.unwrap_or(0))
    }

    async fn inbox(&self, org: OrgId<'_>, device_id: &str, limit: u32) -> Result<Vec<(QueueRow, MessageBodyRow)>> {
        let queue = qualified(QUEUE_COLUMNS, "q");
        let body = qualified(BODY_COLUMNS, "b");
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

    async fn org_messaging(&self, org: OrgId<'_>) -> Result<Option<OrgMessagingRow>> {
        let sql = "SELECT store_and_forward, retention_days, max_file_mb FROM org_messaging WHERE org_id = $1";
        self.db.one(sql, params![org.0], |r| Ok(OrgMessagingRow { store_and_forward: r.get()?, retention_days: r.get()?, max_file_mb: r.get()? })).await
    }

    async fn set_org_messaging(&self, org: OrgId<'_>, m: &OrgMessagingRow) -> Result<()> {
        let sql = "INSERT INTO org_messaging (org_id, store_and_forward, retention_days, max_file_mb) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (org_id) DO UPDATE SET store_and_forward = excluded.store_and_forward, retention_days = excluded.retention_days, \
                   max_file_mb = excluded.max_file_mb";
        self.db.execute(sql, params![org.0, m.store_and_forward, m.retention_days, m.max_file_mb]).await.map(drop)
    }

    async fn insert_message_file(&self, file: &MessageFileRow, data: Vec<u8>, quota: FileUsage) -> Result<Option<FileUsage>> {
        let f = file.clone();
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    // Two uploads of one user at once: the second waits for the first's commit
                    // (SQLite's write transaction already excludes every other).
                    tx.lock("SELECT id FROM users WHERE org_id = $1 AND id = $2", params![f.org_id, f.uploader]).await?;
                    let held = tx.one(USAGE, params![f.org_id, f.uploader, f.created_at], usage).await?.unwrap_or_default();
                    if held.files + 1 > quota.files || held.bytes + f.size > quota.bytes {
                        return Ok(Some(held));
                    }
                    let sql = "INSERT INTO message_files (id, org_id, uploader, size, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
                    tx.execute(sql, params![f.id, f.org_id, f.uploader, f.size, f.created_at, f.expires_at]).await?;
                    let sql = "INSERT INTO message_file_chunks (file_id, idx, data) VALUES ($1, $2, $3)";
                    for (idx, chunk) in data.chunks(FILE_CHUNK).enumerate() {
                        tx.execute(sql, params![f.id, idx as i64, chunk]).await?;
                    }
                    Ok(None)
                })
            })
            .await
    }

    async fn message_file(&self, org: OrgId<'_>, id: &str) -> Result<Option<MessageFileRow>> {
        self.db.one(format!("SELECT {FILE_COLUMNS} FROM message_files WHERE org_id = $1 AND id = $2"), params![org.0, id], file_row).await
    }

    async fn message_file_data(&self, org: OrgId<'_>, id: &str) -> Result<Option<Vec<u8>>> {
        let (org, id) = (org.0.to_owned(), id.to_owned());
        self.db
            .snapshot(move |tx| {
                boxed(async move {
                    let sql = "SELECT size FROM message_files WHERE org_id = $1 AND id = $2";
                    let Some(size): Option<i64> = tx.one(sql, params![org, id], |r| r.get()).await? else { return Ok(None) };
                    // A few chunks at a time: the bytes are held once, not twice.
                    let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                    let sql = "SELECT data FROM message_file_chunks WHERE file_id = $1 AND idx >= $2 ORDER BY idx LIMIT 8";
                    let mut next = 0i64;
                    loop {
                        let chunks: Vec<Vec<u8>> = tx.all(sql, params![id, next], |r| r.get()).await?;
                        let read = chunks.len() as i64;
                        for chunk in chunks {
                            data.extend_from_slice(&chunk);
                        }
                        if read < 8 {
                            return Ok(Some(data));
                        }
                        next += read;
                    }
                })
            })
            .await
    }

    async fn delete_message_file(&self, org: OrgId<'_>, uploader: &str, id: &str) -> Result<bool> {
        let sql = "DELETE FROM message_files WHERE org_id = $1 AND uploader = $2 AND id = $3";
        Ok(self.db.execute(sql, params![org.0, uploader, id]).await? == 1)
    }

    async fn message_files_of(&self, org: OrgId<'_>, uploader: &str) -> Result<Vec<MessageFileRow>> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM message_files WHERE org_id = $1 AND uploader = $2 ORDER BY created_at, id");
        self.db.all(sql, params![org.0, uploader], file_row).await
    }

    async fn message_file_usage(&self, org: OrgId<'_>, uploader: &str, now: i64) -> Result<FileUsage> {
        Ok(self.db.one(USAGE, params![org.0, uploader, now], usage).await?.unwrap_or_default())
    }

    async fn insert_conversation(&self, conversation: &ConversationRow, members: &[String]) -> Result<()> {
        let (c, members) = (conversation.clone(), members.to_vec());
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    let sql = "INSERT INTO conversations (id, org_id, name, epoch, created_by, created_at, room_id) VALUES ($1, $2, $3, $4, $5, $6, $7)";
                    tx.execute(sql, params![c.id, c.org_id, c.name, c.epoch, c.created_by, c.created_at, c.room_id]).await.map_err(conflict("the room's conversation"))?;
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

    async fn room_conversation(&self, org: OrgId<'_>, room_id: &str) -> Result<Option<ConversationRow>> {
        self.db.one(format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE org_id = $1 AND room_id = $2"), params![org.0, room_id], conversation_row).await
    }

    async fn conversation_members(&self, org: OrgId<'_>, id: &str) -> Result<Vec<String>> {
        let sql = "SELECT user_id FROM conversation_members WHERE org_id = $1 AND conversation_id = $2 ORDER BY added_at, user_id";
        self.db.all(sql, params![org.0, id], |r| r.get()).await
    }

    async fn conversations_of(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<ConversationRow>> {
        let columns = qualified(CONVERSATION_COLUMNS, "c");
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A file is kept in rows of [`FILE_CHUNK`] bytes, read back whole and in order (more chunks
    /// than one read takes), refused beyond the quota without a trace, and deleted with them.
    #[tokio::test]
    async fn a_file_is_kept_in_rows_of_one_mebibyte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bureau.db");
        let store = crate::SqliteStore::open(&path).await.unwrap();
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(
            "INSERT INTO orgs (id, slug, name, profile_mode, created_at) VALUES ('o', 'o', 'O', 'entry', 0);
             INSERT INTO users (id, org_id, email_index, role, rights, active, profile, created_at, updated_at) VALUES ('u', 'o', x'01', 'member', '', 1, x'00', 0, 0);",
        )
        .unwrap();
        let chunks = |id: &str| -> Vec<i64> {
            let mut statement = raw.prepare("SELECT length(data) FROM message_file_chunks WHERE file_id = ?1 ORDER BY idx").unwrap();
            statement.query_map([id], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
        };
        let data: Vec<u8> = (0..9 * FILE_CHUNK + 5).map(|i| (i % 251) as u8).collect();
        let file = |id: &str, size: usize| MessageFileRow { id: id.into(), org_id: "o".into(), uploader: "u".into(), size: size as i64, created_at: 10, expires_at: 100 };
        let quota = FileUsage { files: 2, bytes: data.len() as i64 + 10 };

        assert_eq!(store.insert_message_file(&file("f", data.len()), data.clone(), quota).await.unwrap(), None);
        assert_eq!(chunks("f"), [vec![FILE_CHUNK as i64; 9], vec![5]].concat());
        assert!(store.message_file_data(OrgId("o"), "f").await.unwrap() == Some(data.clone()));
        assert_eq!(store.message_file_data(OrgId("elsewhere"), "f").await.unwrap(), None);
        assert_eq!(store.message_file_usage(OrgId("o"), "u", 10).await.unwrap(), FileUsage { files: 1, bytes: data.len() as i64 });
        assert_eq!(store.message_file_usage(OrgId("o"), "u", 100).await.unwrap(), FileUsage::default(), "expired files do not count");

        // Eleven bytes more than the quota's bytes, then one file more than its files: refused,
        // nothing stored.
        let held = Some(FileUsage { files: 1, bytes: data.len() as i64 });
        assert_eq!(store.insert_message_file(&file("g", 11), vec![1; 11], quota).await.unwrap(), held);
        assert_eq!(store.insert_message_file(&file("g", 10), vec![1; 10], quota).await.unwrap(), None);
        assert_eq!(store.insert_message_file(&file("h", 0), Vec::new(), quota).await.unwrap(), Some(FileUsage { files: 2, bytes: data.len() as i64 + 10 }));
        assert!(store.message_file(OrgId("o"), "h").await.unwrap().is_none());

        assert!(!store.delete_message_file(OrgId("o"), "someone else", "f").await.unwrap());
        assert!(store.delete_message_file(OrgId("o"), "u", "f").await.unwrap());
        assert!(chunks("f").is_empty(), "the chunks went with the file");
        assert_eq!(chunks("g"), vec![10]);
    }
}
