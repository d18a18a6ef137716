//! Errors of the storage layer and the vault.

/// An error from the database backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite answered with an error.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// PostgreSQL answered with an error (a failed statement, not a lost connection).
    #[error("database error: {0}")]
    Postgres(#[source] tokio_postgres::Error),
    /// The database cannot be reached now (PostgreSQL down, the network cut, every pooled
    /// connection busy for too long). Nothing was half-written; the call may succeed later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database URL could not be understood.
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    /// The store was closed.
    #[error("the database is closed")]
    Closed,
    /// A row would break a uniqueness rule (for example a second user with the same email).
    #[error("a record with the same {0} already exists")]
    Conflict(&'static str),
    /// A stored value has a shape the code cannot read (a corrupted or foreign database).
    #[error("stored data is malformed: {0}")]
    Malformed(&'static str),
    /// The change would leave the organisation without an active administrator; nothing was
    /// written. Checked in the same transaction as the write, so two administrators demoting
    /// each other at once cannot both succeed.
    #[error("the organisation needs at least one active administrator")]
    LastAdmin,
}

/// An error from the vault: keys and sealed values.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// A sealed value failed authentication: it was altered, truncated or moved to another row.
    #[error("a sealed value failed authentication (tampered or moved)")]
    Tampered,
    /// The value was sealed under a data-key version this organisation does not have.
    #[error("unknown data key version {0}")]
    UnknownKeyVersion(u32),
    /// The master key does not open this database's keys.
    #[error("the master key does not match this database (wrong or replaced master key file)")]
    WrongMasterKey,
    /// A key file could not be read or written.
    #[error("key file: {0}")]
    KeyFile(#[source] std::io::Error),
    /// A key file does not hold 64 hexadecimal characters.
    #[error("key file is not 64 hexadecimal characters")]
    BadKeyFile,
    /// The organisation has no keys stored.
    #[error("organisation has no keys")]
    NoKeys,
    /// The database failed while loading keys.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An error from the organisation key file, organisation exports and backups: what an operator
/// did wrong or what was found altered, each in words they can act on.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A passphrase shorter than the minimum was given.
    #[error("the passphrase must be at least {0} characters long")]
    WeakPassphrase(usize),
    /// The key file did not open: wrong passphrase, or the file was altered.
    #[error("the key file does not open: wrong passphrase, or the file was altered")]
    WrongPassphrase,
    /// The data folder holds no database.
    #[error("there is no Bureau database at {0}")]
    NoDatabase(std::path::PathBuf),
    /// The data folder has no master key file.
    #[error("there is no master key at {0}: copy the master key file of this installation there first")]
    NoMasterKey(std::path::PathBuf),
    /// The named organisation does not exist (or there is none).
    #[error("no organisation {0}")]
    NoOrganisation(String),
    /// A file would be overwritten.
    #[error("{0} already exists: refusing to overwrite it")]
    Exists(std::path::PathBuf),
    /// A file is not what the command expects (format, version or JSON shape).
    #[error("{0}")]
    Format(String),
    /// The organisation export did not open with the key file's data key.
    #[error("the export does not open with this key file: it belongs to another organisation or was altered")]
    ExportAltered,
    /// A sealed value inside an export failed to open (named by place, never by content).
    #[error("the sealed value {table}.{column} of row {row} does not open: the export was altered")]
    SealedValue {
        /// Table of the value.
        table: String,
        /// Column of the value.
        column: String,
        /// Row id of the value.
        row: String,
    },
    /// The backup stream ended before its last chunk.
    #[error("the backup is truncated (it ends before its last chunk)")]
    Truncated,
    /// A backup chunk failed authentication.
    #[error("the backup does not open: it was altered or cut short, or it was made with another master key")]
    BackupAltered,
    /// A database snapshot does not belong to this master key.
    #[error("the database was not made with this master key")]
    WrongMasterKey,
    /// A restored database failed SQLite's integrity check.
    #[error("the restored database fails the integrity check: {0}")]
    Integrity(String),
    /// A file operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
}
