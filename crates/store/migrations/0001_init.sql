-- Bureau's first schema. Personal data lives only in the sealed BLOB columns (see vault.rs);
-- everything in clear is an id, a timestamp, a role or a keyed blind index.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE orgs (
    id           TEXT PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    profile_mode TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE org_keys (
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    wrapped    BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, kind, version)
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    email_index   BLOB NOT NULL,
    role          TEXT NOT NULL,
    rights        TEXT NOT NULL,
    active        INTEGER NOT NULL,
    profile       BLOB NOT NULL,
    picture       BLOB,
    password_hash TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (org_id, email_index)
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE one_time_tokens (
    token_hash BLOB PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    subject    TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE access_log (
    id      TEXT PRIMARY KEY,
    org_id  TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    at      INTEGER NOT NULL,
    details BLOB NOT NULL
);
CREATE INDEX access_log_org_at ON access_log (org_id, at);
