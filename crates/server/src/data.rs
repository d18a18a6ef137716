//! The data folder: the SQLite database (or, with `database_url`, the PostgreSQL database it
//! stands beside), the master key file and the TLS files, and the maintenance operations of
//! `bureau admin` that work on it directly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bureau_office::{Clock, NewUser, Office, Policy, Role, SystemClock, UserView};
use bureau_store::vault::{Key, MasterKey};
use bureau_store::{Backend, VaultError};

use crate::StartError;

pub(crate) const DATABASE: &str = "bureau.db";
pub(crate) const MASTER_KEY: &str = "master.key";
/// A master key being rotated in: written before the database is re-wrapped, renamed over
/// `master.key` after, so a crash in between is recovered on the next start.
const NEXT_MASTER_KEY: &str = "master.key.next";
/// The shared secret of TURN credentials, when the configuration gives none.
const TURN_SECRET: &str = "turn-secret";

/// The files of a data folder.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
    database_url: Option<String>,
}

impl DataDir {
    /// Creates the folder (mode 0700) if needed.
    pub fn create(root: &Path) -> Result<Self, StartError> {
        std::fs::create_dir_all(root).map_err(|e| StartError::DataDir(root.to_owned(), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700));
        }
        Ok(DataDir { root: root.to_owned(), database_url: None })
    }

    /// Uses the PostgreSQL database at `url` instead of the folder's SQLite file (`None` or an
    /// empty URL: SQLite).
    pub fn with_database(mut self, url: Option<&str>) -> Self {
        self.database_url = url.filter(|url| !url.is_empty()).map(str::to_owned);
        self
    }

    /// Whether the database is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.database_url.is_some()
    }

    /// A path inside the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Opens the database and the domain services, creating the master key on first start.
    /// Refuses to start when the master key is missing but the database is in use, or when the
    /// key does not open the database's keys (another node's or a replaced key file).
    pub async fn open(&self, policy: Policy, clock: Arc<dyn Clock>) -> Result<(Office, Backend), StartError> {
        let key_path = self.file(MASTER_KEY);
        let db_path = self.file(DATABASE);
        let sqlite_existed = db_path.exists();
        let store = Backend::open(self.database_url.as_deref(), &db_path).await?;
        if !key_path.exists() && !self.file(NEXT_MASTER_KEY).exists() {
            let in_use = if store.is_postgres() { store.meta("master_check").await?.is_some() } else { sqlite_existed };
            if in_use {
                let place = if store.is_postgres() { "the PostgreSQL database (database_url) is already in use" } else { "the database exists" };
                return Err(StartError::Vault(VaultError::KeyFile(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{} is missing but {place}: copy the master key of this installation there (from a backup or another node)", key_path.display()),
                ))));
            }
            Key::generate().write_new_file(&key_path)?;
            tracing::info!("created master key {}", key_path.display());
        }
        let shared = store.shared();
        let current = self.read_key(&key_path);
        let opened = match current {
            Ok(key) => Office::open(shared.clone(), MasterKey::new(key), clock.clone(), policy.clone()).await,
            Err(err) => Err(err.into()),
        };
        match opened {
            Ok(office) => Ok((office, store)),
            Err(first) => {
                // A rotation that committed but crashed before renaming the new key file.
                let next_path = self.file(NEXT_MASTER_KEY);
                let Ok(next) = self.read_key(&next_path) else { return Err(first.into()) };
                let office = Office::open(shared, MasterKey::new(next), clock, policy).await?;
                std::fs::rename(&next_path, &key_path).map_err(VaultError::KeyFile)?;
                tracing::warn!("finished an interrupted master key rotation");
                Ok((office, store))
            }
        }
    }

    /// The TURN shared secret kept in the data folder, created (mode 0600) on first use.
    pub fn turn_secret(&self) -> Result<String, StartError> {
        let path = self.file(TURN_SECRET);
        if !path.exists() {
            Key::generate().write_new_file(&path)?;
        }
        Ok(std::fs::read_to_string(&path).map_err(VaultError::KeyFile)?.trim().to_owned())
    }

    /// Reads a key file, refusing one that others may read or change (as ssh refuses such a
    /// private key): whoever reads the master key reads every organisation's personal data.
    fn read_key(&self, path: &Path) -> Result<Key, VaultError> {
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(VaultError::KeyFile(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{} can be read or changed by other users (mode {mode:03o}); run `chmod 600 {}` and start again", path.display(), path.display()),
                )));
            }
        }
        Key::read_file(path)
    }
}

/// `bureau admin create-user`: adds a user to an organisation (the first one by default).
pub async fn create_user(data_dir: &Path, database_url: Option<&str>, org: Option<&str>, name: &str, email: &str, admin: bool, password: String) -> Result<UserView, StartError> {
    let dir = DataDir::create(data_dir)?.with_database(database_url);
    let (office, store) = dir.open(Policy::default(), Arc::new(SystemClock)).await?;
    let role = if admin { Role::Admin } else { Role::Member };
    let user = NewUser { name: name.into(), email: email.into(), role, rights: vec![], password: Some(password), must_change_password: None };
    if store_has_no_org(&office).await? {
        office.accounts.create_org("default", "Bureau", bureau_office::ProfileMode::Entry).await?;
    }
    let created = office.accounts.create_user_in(org, user).await?;
    store.close().await;
    Ok(created)
}

async fn store_has_no_org(office: &Office) -> Result<bool, StartError> {
    Ok(office.store().orgs().await.map_err(bureau_office::OfficeError::from)?.is_empty())
}

/// `bureau admin rotate-master-key`: re-wraps every organisation key under a fresh master key
/// and replaces the key file. Returns the number of keys re-wrapped.
pub async fn rotate_master_key(data_dir: &Path, database_url: Option<&str>) -> Result<usize, StartError> {
    let dir = DataDir::create(data_dir)?.with_database(database_url);
    let (office, store) = dir.open(Policy::default(), Arc::new(SystemClock)).await?;
    let next_path = dir.file(NEXT_MASTER_KEY);
    let _ = std::fs::remove_file(&next_path);
    let next = Key::generate();
    next.write_new_file(&next_path)?;
    let count = office.keyring().rotate_master(&*store, &MasterKey::new(next)).await?;
    store.close().await;
    std::fs::rename(&next_path, dir.file(MASTER_KEY)).map_err(VaultError::KeyFile)?;
    Ok(count)
}
