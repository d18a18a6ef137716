//! The customer holds the keys: `bureau admin export-org-key`, `export-org`, `decrypt-export`,
//! `backup` and `restore`. The formats and their cryptography live in `bureau_store`
//! ([`keyfile`](bureau_store::keyfile), [`export`](bureau_store::export),
//! [`backup`](bureau_store::backup)); this module handles the files and the data folder.
//!
//! Every file written here is new (never overwritten) and readable only by its owner (0600).

use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bureau_office::{Clock, Policy, SystemClock};
use bureau_store::export::{OrgExportFile, reveal};
use bureau_store::keyfile::{OrgKeyFile, check_passphrase};
use bureau_store::vault::{Key, MasterKey};
use bureau_store::{ArchiveError, OrgId, OrgRow, backup};

use crate::StartError;
use crate::data::{DATABASE, DataDir, MASTER_KEY};

/// What an export command wrote.
#[derive(Debug)]
pub struct Written {
    /// The organisation's slug (empty for a whole-database backup).
    pub org_slug: String,
    /// Bytes written.
    pub bytes: u64,
}

/// `bureau admin export-org-key`: writes the organisation's keys (every data key version and
/// the blind-index key) to `out`, encrypted under `passphrase`.
pub async fn export_org_key(data_dir: &Path, database_url: Option<&str>, org: Option<&str>, out: &Path, passphrase: &str) -> Result<Written, StartError> {
    check_passphrase(passphrase)?;
    refuse_existing(out)?;
    let (office, store, row) = open_org(data_dir, database_url, org).await?;
    let keys = office.keyring().org(&*store, OrgId(&row.id)).await?;
    store.close().await;
    let file = OrgKeyFile::seal(&row.id, &row.slug, &keys, passphrase)?;
    let bytes = write_json(out, &file)?;
    Ok(Written { org_slug: row.slug, bytes })
}

/// `bureau admin export-org`: every row of the organisation, read in one transaction, sealed
/// columns kept sealed, the whole encrypted under the organisation's current data key.
pub async fn export_org(data_dir: &Path, database_url: Option<&str>, org: Option<&str>, out: &Path) -> Result<Written, StartError> {
    refuse_existing(out)?;
    let (office, store, row) = open_org(data_dir, database_url, org).await?;
    let keys = office.keyring().org(&*store, OrgId(&row.id)).await?;
    let snapshot = store.org_snapshot(OrgId(&row.id), SystemClock.now_ms()).await?;
    store.close().await;
    let snapshot = snapshot.ok_or_else(|| ArchiveError::NoOrganisation(row.slug.clone()))?;
    let file = OrgExportFile::seal(&row.id, &row.slug, &keys, &snapshot)?;
    let bytes = write_json(out, &file)?;
    Ok(Written { org_slug: row.slug, bytes })
}

/// `bureau admin decrypt-export`: opens an organisation export with the organisation key file
/// and its passphrase — no data folder, no master key — and writes the readable JSON to `out`.
pub fn decrypt_export(key_file: &Path, input: &Path, out: &Path, passphrase: &str) -> Result<Written, StartError> {
    refuse_existing(out)?;
    let key_file = OrgKeyFile::parse(&read(key_file)?)?;
    let export = OrgExportFile::parse(&read(input)?)?;
    if export.org_id != key_file.org_id {
        return Err(ArchiveError::Format(format!(
            "the export is of organisation {} but the key file of organisation {}",
            export.org_slug, key_file.org_slug
        ))
        .into());
    }
    let keys = key_file.open(passphrase)?;
    let plain = reveal(&keys, &export.open(&keys)?)?;
    let bytes = write_json(out, &plain)?;
    Ok(Written { org_slug: export.org_slug, bytes })
}

/// `bureau admin backup`: a consistent copy of the whole database (`VACUUM INTO`, safe while the
/// server runs), encrypted as a stream under a key derived from the master key. The master key
/// itself is not in the backup.
pub fn backup(data_dir: &Path, database_url: Option<&str>, out: &Path) -> Result<Written, StartError> {
    refuse_postgres(database_url)?;
    refuse_existing(out)?;
    let master = read_master(data_dir)?;
    let db = data_dir.join(DATABASE);
    if !db.exists() {
        return Err(ArchiveError::NoDatabase(db).into());
    }
    let copy = Scratch(data_dir.join(format!("{DATABASE}.backup-{}", uuid::Uuid::new_v4().simple())));
    backup::copy_database(&db, &copy.0)?;
    backup::check_database(&copy.0, &master)?;
    let mut input = BufReader::new(std::fs::File::open(&copy.0).map_err(ArchiveError::from)?);
    let mut output = BufWriter::new(create_private(out)?);
    let written = Scratch(out.to_owned());
    backup::encrypt_stream(&backup::backup_key(&master), backup::CHUNK_SIZE, &mut input, &mut output)?;
    finish(output)?;
    written.keep();
    Ok(Written { org_slug: String::new(), bytes: std::fs::metadata(out).map_err(ArchiveError::from)?.len() })
}

/// `bureau admin restore`: decrypts a backup with the data folder's master key, checks it
/// (`PRAGMA integrity_check`, and that the master key opens it), then puts it in place. Refuses to
/// replace an existing database unless `force` (stop Bureau first).
pub fn restore(data_dir: &Path, database_url: Option<&str>, input: &Path, force: bool) -> Result<Written, StartError> {
    refuse_postgres(database_url)?;
    let dir = DataDir::create(data_dir)?;
    let master = read_master(data_dir)?;
    let db = dir.file(DATABASE);
    if db.exists() && !force {
        return Err(ArchiveError::Format(format!("{} exists: stop Bureau and pass --force to replace it", db.display())).into());
    }
    let mut reader = BufReader::new(std::fs::File::open(input).map_err(|e| io_at(input, e))?);
    let temp_path = dir.file(&format!("{DATABASE}.restore-{}", uuid::Uuid::new_v4().simple()));
    let mut output = BufWriter::new(create_private(&temp_path)?);
    let temp = Scratch(temp_path);
    backup::decrypt_stream(&backup::backup_key(&master), &mut reader, &mut output)?;
    finish(output)?;
    backup::check_database(&temp.0, &master)?;
    for stale in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.file(&format!("{DATABASE}{stale}")));
    }
    std::fs::rename(&temp.0, &db).map_err(ArchiveError::from)?;
    temp.keep();
    Ok(Written { org_slug: String::new(), bytes: std::fs::metadata(&db).map_err(ArchiveError::from)?.len() })
}

/// Backups of the SQLite file only: PostgreSQL has its own tools.
fn refuse_postgres(database_url: Option<&str>) -> Result<(), ArchiveError> {
    match database_url {
        Some(url) if !url.is_empty() => Err(ArchiveError::Format(
            "backup and restore work on the SQLite file of a data folder; with PostgreSQL (database_url) use pg_dump and pg_restore \
             (docs/operations.md, \"PostgreSQL\") and keep master.key apart from the dumps"
                .into(),
        )),
        _ => Ok(()),
    }
}

async fn open_org(data_dir: &Path, database_url: Option<&str>, slug: Option<&str>) -> Result<(bureau_office::Office, bureau_store::Backend, OrgRow), StartError> {
    let dir = DataDir::create(data_dir)?.with_database(database_url);
    let db = data_dir.join(DATABASE);
    if !dir.is_postgres() && !db.exists() {
        return Err(ArchiveError::NoDatabase(db).into());
    }
    read_master(data_dir)?;
    let (office, store) = dir.open(Policy::default(), Arc::new(SystemClock)).await?;
    let row = match slug {
        Some(slug) => store.org_by_slug(slug).await?,
        None => store.orgs().await?.into_iter().next(),
    };
    let row = row.ok_or_else(|| ArchiveError::NoOrganisation(slug.map_or_else(|| "in this database".into(), |s| format!("{s:?}"))))?;
    Ok((office, store, row))
}

fn read_master(data_dir: &Path) -> Result<MasterKey, StartError> {
    let path = data_dir.join(MASTER_KEY);
    if !path.exists() {
        return Err(ArchiveError::NoMasterKey(path).into());
    }
    Ok(MasterKey::new(Key::read_file(&path)?))
}

fn refuse_existing(path: &Path) -> Result<(), ArchiveError> {
    if path.exists() { Err(ArchiveError::Exists(path.to_owned())) } else { Ok(()) }
}

fn io_at(path: &Path, err: std::io::Error) -> ArchiveError {
    ArchiveError::Io(std::io::Error::new(err.kind(), format!("{}: {err}", path.display())))
}

fn read(path: &Path) -> Result<Vec<u8>, ArchiveError> {
    std::fs::read(path).map_err(|e| io_at(path, e))
}

/// A new file readable only by its owner; refuses to overwrite.
fn create_private(path: &Path) -> Result<std::fs::File, ArchiveError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| if e.kind() == std::io::ErrorKind::AlreadyExists { ArchiveError::Exists(path.to_owned()) } else { io_at(path, e) })
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<u64, ArchiveError> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| ArchiveError::Format(e.to_string()))?;
    let mut file = create_private(path)?;
    let written = Scratch(path.to_owned());
    file.write_all(&text)?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    written.keep();
    Ok(text.len() as u64 + 1)
}

fn finish(output: BufWriter<std::fs::File>) -> Result<(), ArchiveError> {
    let file = output.into_inner().map_err(|e| ArchiveError::Io(e.into_error()))?;
    file.sync_all()?;
    Ok(())
}

/// A file removed when dropped, unless kept: temporary copies, and outputs of failed commands.
/// Made only after this command created the file, so it never removes someone else's.
struct Scratch(PathBuf);

impl Scratch {
    fn keep(self) {
        std::mem::forget(self);
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
