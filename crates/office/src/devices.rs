//! Known devices: a browser where a user completed a sign-in carries a device cookie that names
//! the user under a MAC with the organisation's index key. On that device the account-wide
//! sign-in limit does not apply (the limit per account and address still does), so an attacker
//! who spreads wrong passwords over many addresses slows down sign-ins from new devices, never
//! the owner on their own computer. Nothing is stored: the cookie proves itself.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bureau_store::vault::OrgKeys;
use rand::RngCore;

/// Bytes of the MAC kept in the cookie.
const TAG_BYTES: usize = 16;

/// A new device cookie value for `user_id`: `<random>.<tag>`.
pub(crate) fn new_device(keys: &OrgKeys, user_id: &str) -> String {
    let mut random = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let random = URL_SAFE_NO_PAD.encode(random);
    let tag = URL_SAFE_NO_PAD.encode(tag(keys, user_id, &random));
    format!("{random}.{tag}")
}

/// Whether `cookie` is a device cookie this organisation issued to `user_id`.
pub(crate) fn is_device_of(keys: &OrgKeys, user_id: &str, cookie: &str) -> bool {
    let Some((random, given)) = cookie.split_once('.') else { return false };
    let Ok(given) = URL_SAFE_NO_PAD.decode(given) else { return false };
    if random.len() > 64 || given.len() != TAG_BYTES {
        return false;
    }
    // Constant time: the comparison must not tell how much of a forged tag was right.
    tag(keys, user_id, random).iter().zip(&given).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

fn tag(keys: &OrgKeys, user_id: &str, random: &str) -> Vec<u8> {
    let mut mac = keys.blind_index("known device", &format!("{user_id}\0{random}"));
    mac.truncate(TAG_BYTES);
    mac
}
