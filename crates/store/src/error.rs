//! Errors of the storage layer and the vault.

/// An error from the database backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The store was closed.
    #[error("the database is closed")]
    Closed,
    /// A row would break a uniqueness rule (for example a second user with the same email).
    #[error("a record with the same {0} already exists")]
    Conflict(&'static str),
    /// A stored value has a shape the code cannot read (a corrupted or foreign database).
    #[error("stored data is malformed: {0}")]
    Malformed(&'static str),
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
