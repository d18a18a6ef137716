//! End-to-end encrypted messaging (docs/messaging.md), first part: the device registry. Each
//! browser profile of a member registers the public halves of its two key pairs — X25519 for
//! HPKE, to receive, and Ed25519, to sign — with a self-signature binding both to the user.
//! Colleagues' clients fetch a user's devices to encrypt to them and to compute safety codes.
//! The server checks the self-signature (so a client cannot register keys it cannot sign for)
//! but never holds a private key; what it could do — add a device of its own to a user's list —
//! is what the safety codes make visible.
//!
//! Second part: messages that wait. A sender's browser posts a message once — the header it
//! signed (as bytes), the signature, the ciphertext body and, per recipient device, the message
//! key sealed to that device — and the server queues one entry per device. The server checks
//! what it can without keys: the header is the sender device's signature over exactly those
//! bytes, names the session's user and one of their devices, and lists exactly the devices that
//! get a key, all of the organisation. A device fetches its entries with a proof that it holds
//! its signing key ([`DeviceProof`]), and acknowledging them deletes them.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bureau_store::vault::Slot;
use bureau_store::{DeviceKeyRow, MessageBodyRow, MessagingStore, OrgId, OrgMessagingRow, QueueRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::changes::Change;
use crate::core::Core;
use crate::error::{OfficeError, Result};
use crate::rights::{Actor, Role};

/// Devices one user may have at once: every message is sealed to each of them.
pub const MAX_DEVICES: usize = 10;
/// The longest device name, in characters.
const MAX_NAME: usize = 60;
/// What a device's self-signature covers, before the user id and the HPKE public key.
const SELF_SIGNATURE_CONTEXT: &[u8] = b"bureau-device-v1";

/// Messages one user may send to the queue per minute.
pub(crate) const SENDS_PER_MINUTE: usize = 120;
/// The largest header, in bytes.
const MAX_HEADER: usize = 4096;
/// The largest body (ciphertext), in bytes: text messages and file keys, not files.
pub const MAX_BODY: usize = 256 * 1024;
/// The largest sealed key (HPKE enc and ciphertext of a 32-byte key), in bytes.
const MAX_SEALED_KEY: usize = 256;
/// Recipient devices of one message at most.
const MAX_RECIPIENTS: usize = 500;
/// Entries that may wait for one device: past it, senders are told the device's queue is full.
pub const MAX_WAITING: i64 = 5000;
/// Entries one fetch returns at most.
const INBOX_PAGE: u32 = 100;
/// How far a device proof's time may be from the server's.
const PROOF_SKEW_MS: i64 = 5 * 60 * 1000;
/// What a device proof signs, before the device id, method, path and time.
const PROOF_CONTEXT: &str = "bureau-device-auth-v1";

/// A device to register. Keys and signature are base64url without padding.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    /// A name the user recognises, e.g. "Laptop, Firefox" (1–60 characters).
    pub name: String,
    /// The X25519 public key the device receives with (HPKE), 32 bytes.
    pub hpke_public: String,
    /// The Ed25519 public key the device signs with, 32 bytes.
    pub sign_public: String,
    /// Ed25519 signature, by `sign_public`, over `"bureau-device-v1" ‖ user id ‖ hpke_public`.
    pub self_signature: String,
}

/// A device as colleagues' clients see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeviceView {
    /// Device id.
    pub id: String,
    /// Its user.
    pub user_id: String,
    /// The name its user gave it.
    pub name: String,
    /// X25519 public key (HPKE), base64url.
    pub hpke_public: String,
    /// Ed25519 public key, base64url.
    pub sign_public: String,
    /// The self-signature, base64url: clients check it before trusting the keys.
    pub self_signature: String,
    /// When it was registered, Unix milliseconds.
    pub created_at: i64,
}

/// A message for the queue, as the sender's browser made it. Bytes are base64url.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// The header's JSON bytes, as signed: `{v, message_id, conversation_id, sender_user,
    /// sender_device, counter, sent_at, recipients: [device ids], body_digest}` (at most 4 KiB).
    pub header: String,
    /// The sender device's Ed25519 signature over the header bytes.
    pub signature: String,
    /// The ciphertext body (at most 256 KiB).
    pub body: String,
    /// Per recipient device, the message key sealed to it with HPKE (`enc ‖ ciphertext`).
    pub keys: std::collections::BTreeMap<String, String>,
}

/// What the server reads of a header (everything else is the clients').
#[derive(Deserialize)]
pub(crate) struct Header {
    pub(crate) sender_user: String,
    pub(crate) sender_device: String,
    pub(crate) recipients: Vec<String>,
    /// A group conversation's id, checked against its members; a direct one passes.
    #[serde(default)]
    pub(crate) conversation_id: Option<String>,
    /// Present on group messages: the epoch of the sender key that encrypted them.
    #[serde(default)]
    pub(crate) epoch: Option<i64>,
}

/// A queued message.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Queued {
    /// The message's id on the server.
    pub id: String,
    /// Devices it waits for.
    pub devices: usize,
}

/// What is sealed of a waiting message: what the sender's browser made, byte for byte, kept
/// without base64 (stored bytes stay close to the ciphertext's size): a version byte (1), the
/// header's length (u16, big-endian), the header, the 64-byte signature, the body.
pub(crate) struct Envelope {
    pub(crate) header: Vec<u8>,
    pub(crate) signature: Vec<u8>,
    pub(crate) body: Vec<u8>,
}

impl Envelope {
    const VERSION: u8 = 1;

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 + self.header.len() + self.signature.len() + self.body.len());
        out.push(Self::VERSION);
        // The header is at most MAX_HEADER (4 KiB) bytes, checked before.
        out.extend_from_slice(&(self.header.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.header);
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&self.body);
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let (&version, rest) = bytes.split_first()?;
        if version != Self::VERSION || rest.len() < 2 {
            return None;
        }
        let header_len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let rest = &rest[2..];
        if rest.len() < header_len + 64 {
            return None;
        }
        let (header, rest) = rest.split_at(header_len);
        let (signature, body) = rest.split_at(64);
        Some(Envelope { header: header.to_vec(), signature: signature.to_vec(), body: body.to_vec() })
    }
}

/// An entry of a device's inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct InboxEntry {
    /// The entry's id, to acknowledge.
    pub id: String,
    /// The header bytes as the sender signed them (base64url).
    pub header: String,
    /// The sender device's signature (base64url).
    pub signature: String,
    /// The ciphertext body (base64url).
    pub body: String,
    /// The message key sealed to this device (base64url).
    pub key: String,
    /// When the server queued it, Unix milliseconds.
    pub queued_at: i64,
}

/// A device's proof that it holds its signing key, for its inbox: the Ed25519 signature over
/// `"bureau-device-auth-v1\n" + device id + "\n" + method + "\n" + path + "\n" + time`, with
/// the time (Unix ms) within five minutes of the server's.
#[derive(Clone, Debug)]
pub struct DeviceProof {
    /// The device.
    pub device_id: String,
    /// When the proof was made, Unix milliseconds.
    pub time: i64,
    /// The signature, base64url.
    pub signature: String,
}

impl DeviceProof {
    /// Reads the `Bureau-Device` header value: `<device id> <time> <signature>`.
    pub fn parse(value: &str) -> Option<DeviceProof> {
        let mut parts = value.split(' ');
        let (device_id, time, signature) = (parts.next()?, parts.next()?.parse().ok()?, parts.next()?);
        parts.next().is_none().then(|| DeviceProof { device_id: device_id.to_owned(), time, signature: signature.to_owned() })
    }

    /// The bytes a device signs for `method` and `path`.
    pub fn message(device_id: &str, method: &str, path: &str, time: i64) -> Vec<u8> {
        format!("{PROOF_CONTEXT}\n{device_id}\n{method}\n{path}\n{time}").into_bytes()
    }
}

/// Messaging: devices and their keys, and the queues of messages that wait.
pub struct Messaging {
    pub(crate) core: Arc<Core>,
    pub(crate) store: Arc<dyn MessagingStore>,
    /// Messages each user sends to the queue.
    pub(crate) send_limiter: crate::Limiter,
    /// Files each user uploads.
    pub(crate) upload_limiter: crate::Limiter,
}

/// The longest an organisation may keep waiting messages, in days.
pub const MAX_RETENTION_DAYS: u32 = 365;

/// An organisation's messaging choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessagingSettings {
    /// Messages may wait on the server for devices that are offline.
    pub store_and_forward: bool,
    /// Days a waiting message (and an uploaded file) is kept at most.
    pub retention_days: u32,
    /// The largest file a member may upload, in MiB.
    pub max_file_mb: u32,
}

fn envelope_slot(id: &str) -> Slot<'_> {
    Slot { table: "message_bodies", column: "envelope", row: id }
}

fn verified(sign_public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, sign_public).verify(message, signature).is_ok()
}

/// Decodes a base64url field of at most `max` bytes.
fn bytes_up_to(field: &'static str, text: &str, max: usize) -> Result<Vec<u8>> {
    if text.len() > max.div_ceil(3) * 4 + 4 {
        return Err(invalid(field, &format!("at most {max} bytes")));
    }
    let decoded = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).map_err(|_| invalid(field, "must be base64url"))?;
    if decoded.is_empty() || decoded.len() > max {
        return Err(invalid(field, &format!("1 to {max} bytes")));
    }
    Ok(decoded)
}

fn name_slot(id: &str) -> Slot<'_> {
    Slot { table: "device_keys", column: "name", row: id }
}

fn invalid(field: &'static str, message: &str) -> OfficeError {
    OfficeError::Invalid { field, message: message.into() }
}

/// Decodes a base64url field of exactly `len` bytes.
fn bytes(field: &'static str, text: &str, len: usize) -> Result<Vec<u8>> {
    let decoded = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).map_err(|_| invalid(field, "must be base64url"))?;
    if decoded.len() != len {
        return Err(invalid(field, &format!("must be {len} bytes")));
    }
    Ok(decoded)
}

/// Whether `signature` is `sign_public`'s Ed25519 signature over the device's binding.
fn self_signed(user_id: &str, hpke_public: &[u8], sign_public: &[u8], signature: &[u8]) -> bool {
    let message = [SELF_SIGNATURE_CONTEXT, user_id.as_bytes(), hpke_public].concat();
    aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, sign_public).verify(&message, signature).is_ok()
}

impl Messaging {
    /// Registers a device of the actor (members only).
    pub async fn register_device(&self, actor: &Actor, new: NewDevice) -> Result<DeviceView> {
        if actor.role == Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(invalid("name", "1 to 60 characters, on one line"));
        }
        let hpke_public = bytes("hpke_public", &new.hpke_public, 32)?;
        let sign_public = bytes("sign_public", &new.sign_public, 32)?;
        let self_signature = bytes("self_signature", &new.self_signature, 64)?;
        if !self_signed(&actor.user_id, &hpke_public, &sign_public, &self_signature) {
            return Err(invalid("self_signature", "is not the signing key's signature over the device's keys and user"));
        }
        let org = OrgId(&actor.org_id);
        let existing = self.store.device_keys(org, &actor.user_id).await?;
        if existing.len() >= MAX_DEVICES {
            return Err(invalid("name", "at most 10 devices; remove one you no longer use first"));
        }
        if existing.iter().any(|d| d.sign_public == sign_public || d.hpke_public == hpke_public) {
            return Err(OfficeError::Conflict("this device is registered already"));
        }
        let keys = self.core.keys(&actor.org_id).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let row = DeviceKeyRow {
            name: keys.seal(name_slot(&id), name.as_bytes()),
            id,
            org_id: actor.org_id.clone(),
            user_id: actor.user_id.clone(),
            hpke_public,
            sign_public,
            self_signature,
            created_at: self.core.now(),
        };
        self.store.insert_device_key(&row).await?;
        tracing::info!(org_id = %row.org_id, device_id = %row.id, "messaging device registered");
        Ok(view(&row, name))
    }

    /// The devices of a member of the actor's organisation (the actor's own too).
    pub async fn devices(&self, actor: &Actor, user_id: &str) -> Result<Vec<DeviceView>> {
        if actor.role == Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        let user = self.core.store.user(OrgId(&actor.org_id), user_id).await?.filter(|u| u.role != Role::Guest).ok_or(OfficeError::NotFound("user"))?;
        let keys = self.core.keys(&actor.org_id).await?;
        let rows = self.store.device_keys(OrgId(&actor.org_id), &user.id).await?;
        // A device whose name fails to open is left out (and logged): clients would refuse it.
        Ok(rows
            .iter()
            .filter_map(|row| match keys.open(name_slot(&row.id), &row.name).ok().and_then(|n| String::from_utf8(n).ok()) {
                Some(name) => Some(view(row, name)),
                None => {
                    tracing::error!(device_id = %row.id, "sealed device name failed to open");
                    None
                }
            })
            .collect())
    }

    /// Removes one of the actor's devices: messages are no longer sealed to it.
    pub async fn remove_device(&self, actor: &Actor, id: &str) -> Result<()> {
        if !self.store.delete_device_key(OrgId(&actor.org_id), &actor.user_id, id).await? {
            return Err(OfficeError::NotFound("device"));
        }
        tracing::info!(org_id = %actor.org_id, device_id = %id, "messaging device removed");
        Ok(())
    }
}

impl Messaging {
    /// The organisation's messaging choices (the node's defaults until an administrator sets them).
    pub(crate) async fn settings(&self, org_id: &str) -> Result<MessagingSettings> {
        Ok(match self.store.org_messaging(OrgId(org_id)).await? {
            Some(row) => MessagingSettings {
                store_and_forward: row.store_and_forward,
                retention_days: u32::try_from(row.retention_days).unwrap_or(1),
                max_file_mb: u32::try_from(row.max_file_mb).unwrap_or(1),
            },
            None => MessagingSettings {
                store_and_forward: true,
                retention_days: self.core.policy.retention.messages_days,
                max_file_mb: crate::message_files::DEFAULT_MAX_FILE_MB,
            },
        })
    }

    /// Changes the organisation's messaging choices (administrators only); absent ones stay.
    /// Turning store and forward off leaves what already waits to be fetched or expire; a new
    /// retention or file limit applies to what is sent or uploaded afterwards.
    pub(crate) async fn set_settings(&self, actor: &Actor, store_and_forward: Option<bool>, retention_days: Option<u32>, max_file_mb: Option<u32>) -> Result<()> {
        actor.require_admin()?;
        let current = self.settings(&actor.org_id).await?;
        let days = retention_days.unwrap_or(current.retention_days);
        if !(1..=MAX_RETENTION_DAYS).contains(&days) {
            return Err(invalid("messages_retention_days", &format!("must be 1 to {MAX_RETENTION_DAYS} days")));
        }
        let max_file_mb = max_file_mb.unwrap_or(current.max_file_mb);
        if !(1..=crate::message_files::MAX_FILE_MB).contains(&max_file_mb) {
            return Err(invalid("messages_max_file_mb", &format!("must be 1 to {} MiB", crate::message_files::MAX_FILE_MB)));
        }
        let store_and_forward = store_and_forward.unwrap_or(current.store_and_forward);
        let row = OrgMessagingRow { store_and_forward, retention_days: i64::from(days), max_file_mb: i64::from(max_file_mb) };
        self.store.set_org_messaging(OrgId(&actor.org_id), &row).await?;
        tracing::info!(org_id = %actor.org_id, store_and_forward, retention_days = days, max_file_mb, "organisation messaging settings changed");
        Ok(())
    }

    /// Queues a message of the actor for the devices it names (members only). Devices of users
    /// no longer active are skipped; a device whose queue is full refuses the whole message.
    /// Refused when the organisation turned store and forward off.
    pub async fn send(&self, actor: &Actor, message: NewMessage) -> Result<Queued> {
        if actor.role == Role::Guest {
            return Err(OfficeError::Forbidden);
        }
        let settings = self.settings(&actor.org_id).await?;
        if !settings.store_and_forward {
            return Err(OfficeError::PeerToPeerOnly);
        }
        let ReadMessage { header_bytes, header, signature, body, keys: sealed_keys } = read_message(&actor.user_id, &message)?;
        let org = OrgId(&actor.org_id);
        let sender = self.store.device_key(org, &header.sender_device).await?.filter(|d| d.user_id == actor.user_id);
        let Some(sender) = sender else { return Err(invalid("header", "names a device that is not yours")) };
        if !verified(&sender.sign_public, &header_bytes, &signature) {
            return Err(invalid("signature", "is not the sender device's signature over the header"));
        }
        let key = crate::accounts::limit_key("message-send", &actor.user_id);
        let now = self.core.now();
        if let Some(seconds) = self.send_limiter.blocked(&key, now).await {
            return Err(OfficeError::RateLimited(seconds));
        }
        self.send_limiter.fail(&key, now).await;
        let id = uuid::Uuid::new_v4().to_string();
        let mut entries = Vec::with_capacity(sealed_keys.len());
        let mut users = std::collections::BTreeSet::new();
        // One query for every recipient device: that it exists here, its user is active, and
        // how many entries wait for it.
        let ids: Vec<String> = sealed_keys.iter().map(|(id, _)| id.clone()).collect();
        let mut targets: std::collections::HashMap<String, bureau_store::QueueTarget> =
            self.store.queue_targets(org, &ids).await?.into_iter().map(|t| (t.device.id.clone(), t)).collect();
        for (device_id, sealed_key) in sealed_keys {
            let Some(target) = targets.remove(&device_id) else { return Err(invalid("keys", "names a device that does not exist")) };
            if !target.user_active {
                continue;
            }
            if target.waiting >= MAX_WAITING {
                return Err(invalid("keys", "a recipient device has too many messages waiting; it must fetch them first"));
            }
            entries.push(QueueRow { id: uuid::Uuid::new_v4().to_string(), org_id: actor.org_id.clone(), device_id, body_id: id.clone(), sealed_key, queued_at: now });
            users.insert(target.device.user_id);
        }
        if let Some(conversation_id) = &header.conversation_id {
            self.check_group_message(actor, conversation_id, header.epoch, &users).await?;
        }
        let keys = self.core.keys(&actor.org_id).await?;
        let size = (header_bytes.len() + body.len()) as i64;
        let envelope = Envelope { header: header_bytes, signature, body };
        let row = MessageBodyRow {
            envelope: keys.seal(envelope_slot(&id), &envelope.encode()),
            id: id.clone(),
            org_id: actor.org_id.clone(),
            sender_user: actor.user_id.clone(),
            size,
            created_at: now,
            expires_at: now + i64::from(settings.retention_days) * 24 * 3600 * 1000,
        };
        self.store.queue_message(&row, &entries).await?;
        if !users.is_empty() {
            self.core.emit(Change::MessagesWaiting { org_id: actor.org_id.clone(), user_ids: users.into_iter().collect() });
        }
        Ok(Queued { id, devices: entries.len() })
    }

    /// The oldest entries waiting for the actor's device, proven by `proof` for `method` and
    /// `path` (the request being answered).
    pub async fn inbox(&self, actor: &Actor, proof: &DeviceProof, method: &str, path: &str) -> Result<Vec<InboxEntry>> {
        self.check_proof(actor, proof, method, path).await?;
        let keys = self.core.keys(&actor.org_id).await?;
        let mut entries = Vec::new();
        for (queued, body) in self.store.inbox(OrgId(&actor.org_id), &proof.device_id, INBOX_PAGE).await? {
            // A damaged message is left out (and logged); the rest arrives.
            let opened = keys.open(envelope_slot(&body.id), &body.envelope).ok().and_then(|bytes| Envelope::decode(&bytes));
            let Some(envelope) = opened else {
                tracing::error!(message_id = %body.id, "sealed message failed to open");
                continue;
            };
            entries.push(InboxEntry {
                id: queued.id,
                header: URL_SAFE_NO_PAD.encode(&envelope.header),
                signature: URL_SAFE_NO_PAD.encode(&envelope.signature),
                body: URL_SAFE_NO_PAD.encode(&envelope.body),
                key: URL_SAFE_NO_PAD.encode(&queued.sealed_key),
                queued_at: queued.queued_at,
            });
        }
        Ok(entries)
    }

    /// Deletes fetched entries of the actor's device (and messages nobody waits for any more);
    /// how many went.
    pub async fn acknowledge(&self, actor: &Actor, proof: &DeviceProof, method: &str, path: &str, ids: &[String]) -> Result<u64> {
        self.check_proof(actor, proof, method, path).await?;
        if ids.len() > INBOX_PAGE as usize {
            return Err(invalid("ids", "at most 100 at once"));
        }
        Ok(self.store.acknowledge(OrgId(&actor.org_id), &proof.device_id, ids).await?)
    }

    /// The device is the actor's, and the proof is its signature, made within five minutes.
    async fn check_proof(&self, actor: &Actor, proof: &DeviceProof, method: &str, path: &str) -> Result<()> {
        let device = self.store.device_key(OrgId(&actor.org_id), &proof.device_id).await?.filter(|d| d.user_id == actor.user_id);
        let Some(device) = device else { return Err(OfficeError::NotFound("device")) };
        let fresh = (proof.time - self.core.now()).abs() <= PROOF_SKEW_MS;
        let signature = URL_SAFE_NO_PAD.decode(&proof.signature).unwrap_or_default();
        if !fresh || !verified(&device.sign_public, &DeviceProof::message(&proof.device_id, method, path, proof.time), &signature) {
            return Err(OfficeError::Forbidden);
        }
        Ok(())
    }
}

/// What [`read_message`] found in a message for the queue.
pub(crate) struct ReadMessage {
    pub(crate) header_bytes: Vec<u8>,
    pub(crate) header: Header,
    pub(crate) signature: Vec<u8>,
    pub(crate) body: Vec<u8>,
    /// Per recipient device (sorted, each once), its sealed key (empty for a group message).
    pub(crate) keys: Vec<(String, Vec<u8>)>,
}

/// Everything the server checks of a message for the queue without its store: the fields'
/// encodings and sizes, a header that is JSON naming `sender_user` as its sender, recipients
/// listed once each and exactly the devices that get a key, and a key per device for direct
/// messages or none for group messages (which name their conversation). The signature and the
/// devices are checked against the store after this.
pub(crate) fn read_message(sender_user: &str, message: &NewMessage) -> Result<ReadMessage> {
    let header_bytes = bytes_up_to("header", &message.header, MAX_HEADER)?;
    let signature = bytes("signature", &message.signature, 64)?;
    let body = bytes_up_to("body", &message.body, MAX_BODY)?;
    let header: Header = serde_json::from_slice(&header_bytes).map_err(|_| invalid("header", "must be the JSON header of docs/messaging.md"))?;
    if header.sender_user != sender_user {
        return Err(invalid("header", "names another sender"));
    }
    if header.epoch.is_some() && header.conversation_id.is_none() {
        return Err(invalid("header", "a group message names its conversation"));
    }
    let mut recipients = header.recipients.clone();
    recipients.sort();
    recipients.dedup();
    if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS || recipients.len() != header.recipients.len() || !recipients.iter().eq(message.keys.keys()) {
        return Err(invalid("keys", "must hold one key for each recipient device of the header, and nothing else"));
    }
    let mut keys = Vec::with_capacity(recipients.len());
    for (device_id, sealed) in &message.keys {
        // A group message is encrypted with the sender's key of the epoch, which its members
        // received before: no key per device travels with it.
        let sealed_key = match header.epoch {
            Some(_) if sealed.is_empty() => Vec::new(),
            Some(_) => return Err(invalid("keys", "a group message carries no key per device (empty strings)")),
            None => bytes_up_to("keys", sealed, MAX_SEALED_KEY)?,
        };
        keys.push((device_id.clone(), sealed_key));
    }
    Ok(ReadMessage { header_bytes, header, signature, body, keys })
}

fn view(row: &DeviceKeyRow, name: String) -> DeviceView {
    DeviceView {
        id: row.id.clone(),
        user_id: row.user_id.clone(),
        name,
        hpke_public: URL_SAFE_NO_PAD.encode(&row.hpke_public),
        sign_public: URL_SAFE_NO_PAD.encode(&row.sign_public),
        self_signature: URL_SAFE_NO_PAD.encode(&row.self_signature),
        created_at: row.created_at,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};

    use super::*;

    #[test]
    fn a_self_signature_binds_both_keys_to_the_user() {
        let pair = Ed25519KeyPair::generate().unwrap();
        let hpke = [7u8; 32];
        let signature = pair.sign(&[SELF_SIGNATURE_CONTEXT, b"u1", &hpke].concat());
        let public = pair.public_key().as_ref();
        assert!(self_signed("u1", &hpke, public, signature.as_ref()));
        assert!(!self_signed("u2", &hpke, public, signature.as_ref()), "another user");
        assert!(!self_signed("u1", &[8u8; 32], public, signature.as_ref()), "another HPKE key");
        assert!(!self_signed("u1", &hpke, &[1u8; 32], signature.as_ref()), "another signing key");
    }

    #[test]
    fn keys_are_base64url_of_the_right_length() {
        assert_eq!(bytes("k", &URL_SAFE_NO_PAD.encode([1u8; 32]), 32).unwrap(), vec![1u8; 32]);
        assert!(bytes("k", &URL_SAFE_NO_PAD.encode([1u8; 31]), 32).is_err());
        assert!(bytes("k", "not base64!", 32).is_err());
    }
}
