//! The keyring: unwraps organisation keys with the master key, caches them, creates them for
//! new organisations and re-wraps them all when the master key is rotated.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::vault::{key_label, Key, KeyKind, MasterKey, OrgKeys};
use crate::{DirectoryStore, OrgId, OrgKeyRow, VaultError};

const MASTER_CHECK: &str = "master_check";

/// Organisation keys, unwrapped on first use and kept in memory.
pub struct Keyring {
    master: MasterKey,
    cache: RwLock<HashMap<String, Arc<OrgKeys>>>,
}

impl Keyring {
    /// Binds the master key to the database: the first start records a check value, every later
    /// start verifies it, so a node with another master key refuses to start.
    pub async fn open(store: &dyn DirectoryStore, master: MasterKey) -> Result<Self, VaultError> {
        match store.meta(MASTER_CHECK).await? {
            Some(check) if master.matches(&check) => {}
            Some(_) => return Err(VaultError::WrongMasterKey),
            None => store.put_meta(MASTER_CHECK, &master.check_value()).await?,
        }
        Ok(Keyring { master, cache: RwLock::new(HashMap::new()) })
    }

    /// Fresh keys for a new organisation: the wrapped rows to store and the usable key set.
    pub fn new_org_keys(&self, org_id: &str, now: i64) -> Result<(Vec<OrgKeyRow>, OrgKeys), VaultError> {
        let data = Key::generate();
        let index = Key::generate();
        let row = |kind: KeyKind, key: &Key| OrgKeyRow {
            org_id: org_id.to_owned(),
            kind: kind.as_str().to_owned(),
            version: 1,
            wrapped: self.master.wrap(key, &key_label(org_id, kind, 1)),
            created_at: now,
        };
        let rows = vec![row(KeyKind::Data, &data), row(KeyKind::Index, &index)];
        let keys = OrgKeys::new(HashMap::from([(1, data)]), 1, index)?;
        Ok((rows, keys))
    }

    /// The organisation's keys, unwrapped once and then served from memory.
    pub async fn org(&self, store: &dyn DirectoryStore, org: OrgId<'_>) -> Result<Arc<OrgKeys>, VaultError> {
        if let Some(keys) = self.cached(org.0) {
            return Ok(keys);
        }
        let rows = store.org_keys(org).await?;
        let keys = Arc::new(self.unwrap_rows(org.0, &rows)?);
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(org.0.to_owned(), keys.clone());
        }
        Ok(keys)
    }

    fn cached(&self, org_id: &str) -> Option<Arc<OrgKeys>> {
        self.cache.read().ok()?.get(org_id).cloned()
    }

    fn unwrap_rows(&self, org_id: &str, rows: &[OrgKeyRow]) -> Result<OrgKeys, VaultError> {
        let mut data = HashMap::new();
        let mut index = None;
        for row in rows {
            let kind = KeyKind::from_name(&row.kind).ok_or(VaultError::NoKeys)?;
            let key = self.master.unwrap_key(&row.wrapped, &key_label(org_id, kind, row.version))?;
            match kind {
                KeyKind::Data => {
                    data.insert(row.version, key);
                }
                KeyKind::Index => index = Some(key),
            }
        }
        let current = data.keys().copied().max().ok_or(VaultError::NoKeys)?;
        OrgKeys::new(data, current, index.ok_or(VaultError::NoKeys)?)
    }

    /// Re-wraps every organisation key under `new_master` in one transaction and returns how
    /// many keys were re-wrapped. Rows are not re-encrypted: data keys do not change.
    pub async fn rotate_master(&self, store: &dyn DirectoryStore, new_master: &MasterKey) -> Result<usize, VaultError> {
        let rows = store.all_org_keys().await?;
        let mut rewrapped = Vec::with_capacity(rows.len());
        for row in rows {
            let kind = KeyKind::from_name(&row.kind).ok_or(VaultError::NoKeys)?;
            let label = key_label(&row.org_id, kind, row.version);
            let key = self.master.unwrap_key(&row.wrapped, &label)?;
            rewrapped.push(OrgKeyRow { wrapped: new_master.wrap(&key, &label), ..row });
        }
        store.rewrap_keys(&rewrapped, &new_master.check_value()).await?;
        Ok(rewrapped.len())
    }
}
