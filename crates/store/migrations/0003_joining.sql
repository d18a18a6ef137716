-- Joining Bureau: invitations, registrations and support tickets; the organisation's language
-- (for emails) and support address.

ALTER TABLE orgs ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE orgs ADD COLUMN support_email BLOB;

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    token_hash  BLOB NOT NULL UNIQUE,
    email_index BLOB NOT NULL,
    role        TEXT NOT NULL,
    details     BLOB NOT NULL,
    invited_by  TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    revoked_at  INTEGER
);
CREATE INDEX invitations_org ON invitations (org_id, created_at);

CREATE TABLE registrations (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    org_id  TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    at      INTEGER NOT NULL,
    details BLOB NOT NULL
);

CREATE TABLE support_tickets (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id     TEXT REFERENCES users(id) ON DELETE SET NULL,
    status      TEXT NOT NULL,
    details     BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    resolved_at INTEGER
);
CREATE INDEX support_tickets_org ON support_tickets (org_id, created_at);
