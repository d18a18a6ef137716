//! Files of end-to-end encrypted messages, uploaded once (docs/messaging.md). A file larger than
//! what fits in a message is encrypted by the sender's browser with a fresh key of its own; the
//! browser uploads the ciphertext here and sends the file's id, key, name, type and digest
//! inside an end-to-end encrypted message. The recipients' browsers download the ciphertext by
//! its id and open it with the key from the message. The server holds bytes it cannot read,
//! and who uploaded how much when — the metadata it already knows of messages.
//!
//! **Why any member of the organisation may download a file by its id.** The server does not
//! know who a file is for: recipients are devices named in a message it cannot open, and
//! recording them here would be new metadata. The id is 128 random bits that travel only inside
//! end-to-end encrypted messages, so it cannot be guessed; and whoever learns it anyway (a
//! recipient who passes it on, a colleague reading over a shoulder) gets ciphertext that is
//! useless without the key, which travels in the same messages. Restricting downloads to the
//! organisation keeps other organisations and guests out all the same.
//!
//! Each upload is refused before it is stored when the organisation keeps messages strictly
//! peer to peer, when it is larger than the organisation's limit (`messages_max_file_mb`), when
//! the user uploaded [`UPLOADS_PER_HOUR`] files in the last hour, or when their files would hold
//! more than [`MAX_STORED_FILES`] files or [`MAX_STORED_BYTES`] bytes at once. A file is kept
//! until the organisation's message retention ends, or until its uploader deletes it; the
//! retention job deletes it then, and it goes with its uploader or organisation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bureau_store::{FileUsage, MessageFileRow, OrgId};
use rand::RngCore;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{OfficeError, Result};
use crate::messaging::Messaging;
use crate::rights::{Actor, Role};

/// The largest file an organisation may allow, in MiB.
pub const MAX_FILE_MB: u32 = 100;
/// The largest file until an administrator chooses, in MiB.
pub const DEFAULT_MAX_FILE_MB: u32 = 25;
/// Files one user may upload per hour.
pub const UPLOADS_PER_HOUR: usize = 60;
/// Files one user may keep on the server at once.
pub const MAX_STORED_FILES: i64 = 200;
/// Bytes one user's files may hold at once (1 GiB).
pub const MAX_STORED_BYTES: i64 = 1024 * 1024 * 1024;
const MIB: usize = 1024 * 1024;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// An upload that was stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FileUploaded {
    /// The file's id (128 random bits, base64url): put it in the message, with the key.
    pub id: String,
    /// Bytes stored.
    pub size: i64,
    /// When the file will be deleted (the organisation's message retention), Unix milliseconds.
    pub expires_at: i64,
}

/// One of the user's uploads, as their personal export shows it (not its bytes: ciphertext
/// whose key the server never had).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct MessageFileView {
    /// The file's id.
    pub id: String,
    /// Bytes of ciphertext.
    pub size: i64,
    /// When it was uploaded, Unix milliseconds.
    pub created_at: i64,
    /// When it will be deleted, Unix milliseconds.
    pub expires_at: i64,
}

impl Messaging {
    /// The largest upload the actor may make now, in bytes, refusing before the body is read
    /// what does not depend on it: guests, an organisation that keeps messages peer to peer
    /// only, the hourly limit, and a user whose files are at their limit already.
    pub async fn upload_limit(&self, actor: &Actor) -> Result<usize> {
        Ok(self.admit(actor).await?.max_file_mb as usize * MIB)
    }

    /// Stores a file the actor's browser encrypted (members only). Refused when empty, larger
    /// than the organisation's limit, above the hourly limit or the user's quota, or when the
    /// organisation keeps messages peer to peer only.
    pub async fn upload(&self, actor: &Actor, bytes: Vec<u8>) -> Result<FileUploaded> {
        let settings = self.admit(actor).await?;
        if bytes.is_empty() {
            return Err(OfficeError::Invalid { field: "body", message: "the file is empty".into() });
        }
        if bytes.len() > settings.max_file_mb as usize * MIB {
            return Err(OfficeError::FileTooLarge { max_mb: settings.max_file_mb });
        }
        let now = self.core.now();
        self.upload_limiter.fail(&upload_key(actor), now).await;
        let mut random = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut random);
        let size = bytes.len() as i64;
        let row = MessageFileRow {
            id: URL_SAFE_NO_PAD.encode(random),
            org_id: actor.org_id.clone(),
            uploader: actor.user_id.clone(),
            size,
            created_at: now,
            expires_at: now + i64::from(settings.retention_days) * DAY_MS,
        };
        let quota = FileUsage { files: MAX_STORED_FILES, bytes: MAX_STORED_BYTES };
        if let Some(held) = self.store.insert_message_file(&row, bytes, quota).await? {
            // Another upload of the user's was stored since `admit` looked.
            let refusal = check_quota(held, size).err();
            return Err(refusal.unwrap_or_else(|| OfficeError::QuotaExceeded("you keep as many uploaded files as one person may".into())));
        }
        tracing::info!(org_id = %row.org_id, file_id = %row.id, size, "message file uploaded");
        Ok(FileUploaded { id: row.id, size, expires_at: row.expires_at })
    }

    /// The organisation's settings, if the actor may upload now (see [`Messaging::upload_limit`]).
    async fn admit(&self, actor: &Actor) -> Result<crate::messaging::MessagingSettings> {
        if actor.role == Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        let settings = self.settings(&actor.org_id).await?;
        if !settings.store_and_forward {
            return Err(OfficeError::PeerToPeerOnly);
        }
        let now = self.core.now();
        if let Some(seconds) = self.upload_limiter.blocked(&upload_key(actor), now).await {
            return Err(OfficeError::RateLimited(seconds));
        }
        let held = self.store.message_file_usage(OrgId(&actor.org_id), &actor.user_id, now).await?;
        check_quota(held, 1)?;
        Ok(settings)
    }

    /// The bytes of a file of the actor's organisation that has not expired. Not found for
    /// another organisation's, then refused to guests.
    pub async fn download(&self, actor: &Actor, id: &str) -> Result<Vec<u8>> {
        let org = OrgId(&actor.org_id);
        let now = self.core.now();
        let file = self.store.message_file(org, id).await?.filter(|f| f.expires_at > now).ok_or(OfficeError::NotFound("file"))?;
        if actor.role == Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        let bytes = self.store.message_file_data(org, id).await?.ok_or(OfficeError::NotFound("file"))?;
        if bytes.len() as i64 != file.size {
            tracing::error!(file_id = %id, size = file.size, read = bytes.len(), "message file is not as long as stored");
            return Err(OfficeError::Tampered);
        }
        tracing::debug!(org_id = %actor.org_id, file_id = %id, size = file.size, "message file downloaded");
        Ok(bytes)
    }

    /// Deletes one of the actor's uploads (anyone else's is not found).
    pub async fn delete_file(&self, actor: &Actor, id: &str) -> Result<()> {
        if !self.store.delete_message_file(OrgId(&actor.org_id), &actor.user_id, id).await? {
            return Err(OfficeError::NotFound("file"));
        }
        tracing::info!(org_id = %actor.org_id, file_id = %id, "message file deleted");
        Ok(())
    }

    /// The user's uploads, for their export.
    pub(crate) async fn files_of(&self, org_id: &str, user_id: &str) -> Result<Vec<MessageFileView>> {
        let rows = self.store.message_files_of(OrgId(org_id), user_id).await?;
        Ok(rows.into_iter().map(|f| MessageFileView { id: f.id, size: f.size, created_at: f.created_at, expires_at: f.expires_at }).collect())
    }
}

/// The key of the actor's uploads in the hourly limit.
fn upload_key(actor: &Actor) -> [u8; 32] {
    crate::accounts::limit_key("message-upload", &actor.user_id)
}

/// Refuses a file of `size` bytes when the user's files, holding `held`, would exceed the quota.
fn check_quota(held: FileUsage, size: i64) -> Result<()> {
    if held.files >= MAX_STORED_FILES {
        return Err(OfficeError::QuotaExceeded(format!(
            "you keep {MAX_STORED_FILES} uploaded files already, the most one person may; delete some first (or wait until they expire)"
        )));
    }
    if held.bytes + size > MAX_STORED_BYTES {
        return Err(OfficeError::QuotaExceeded(format!(
            "your uploaded files would hold more than 1 GiB, the most one person may keep ({} MiB kept now); delete some first (or wait until they expire)",
            held.bytes / MIB as i64
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_counts_files_and_bytes() {
        assert!(check_quota(FileUsage { files: MAX_STORED_FILES - 1, bytes: 0 }, 1).is_ok());
        assert!(matches!(check_quota(FileUsage { files: MAX_STORED_FILES, bytes: 0 }, 1), Err(OfficeError::QuotaExceeded(m)) if m.contains("200")));
        assert!(check_quota(FileUsage { files: 1, bytes: MAX_STORED_BYTES - 10 }, 10).is_ok());
        assert!(matches!(check_quota(FileUsage { files: 1, bytes: MAX_STORED_BYTES - 10 }, 11), Err(OfficeError::QuotaExceeded(m)) if m.contains("1 GiB")));
    }
}
