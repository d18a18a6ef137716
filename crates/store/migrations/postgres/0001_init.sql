-- PostgreSQL twin of migrations/sqlite/0001_init.sql: same tables, columns and order (BLOB -> bytea,
-- INTEGER -> bigint, flags kept as 0/1 bigint) so exports and verbatim copies match.

-- Bureau's first schema. Personal data lives only in the sealed bytea columns (see vault.rs);
-- everything in clear is an id, a timestamp, a role or a keyed blind index.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE orgs (
    id           TEXT PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    profile_mode TEXT NOT NULL,
    created_at   bigint NOT NULL
);

CREATE TABLE org_keys (
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    version    bigint NOT NULL,
    wrapped    bytea NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (org_id, kind, version)
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    email_index   bytea NOT NULL,
    role          TEXT NOT NULL,
    rights        TEXT NOT NULL,
    active        bigint NOT NULL,
    profile       bytea NOT NULL,
    picture       bytea,
    password_hash TEXT,
    created_at    bigint NOT NULL,
    updated_at    bigint NOT NULL,
    UNIQUE (org_id, email_index)
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE one_time_tokens (
    token_hash bytea PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    subject    TEXT,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at    bigint
);

CREATE TABLE access_log (
    id      TEXT PRIMARY KEY,
    org_id  TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    at      bigint NOT NULL,
    details bytea NOT NULL
);
CREATE INDEX access_log_org_at ON access_log (org_id, at);
