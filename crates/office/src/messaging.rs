//! End-to-end encrypted messaging (docs/messaging.md), first part: the device registry. Each
//! browser profile of a member registers the public halves of its two key pairs — X25519 for
//! HPKE, to receive, and Ed25519, to sign — with a self-signature binding both to the user.
//! Colleagues' clients fetch a user's devices to encrypt to them and to compute safety codes.
//! The server checks the self-signature (so a client cannot register keys it cannot sign for)
//! but never holds a private key; what it could do — add a device of its own to a user's list —
//! is what the safety codes make visible.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bureau_store::vault::Slot;
use bureau_store::{DeviceKeyRow, MessagingStore, OrgId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::core::Core;
use crate::error::{OfficeError, Result};
use crate::rights::{Actor, Role};

/// Devices one user may have at once: every message is sealed to each of them.
pub const MAX_DEVICES: usize = 10;
/// The longest device name, in characters.
const MAX_NAME: usize = 60;
/// What a device's self-signature covers, before the user id and the HPKE public key.
const SELF_SIGNATURE_CONTEXT: &[u8] = b"bureau-device-v1";

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

/// Messaging: devices and their keys.
pub struct Messaging {
    pub(crate) core: Arc<Core>,
    pub(crate) store: Arc<dyn MessagingStore>,
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
