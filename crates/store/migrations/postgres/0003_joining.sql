-- Joining Bureau: invitations, registrations and support tickets; the organisation's language
-- (for emails) and support address.

ALTER TABLE orgs ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE orgs ADD COLUMN support_email bytea;

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    email_index bytea NOT NULL,
    role        TEXT NOT NULL,
    details     bytea NOT NULL,
    invited_by  TEXT,
    created_at  bigint NOT NULL,
    expires_at  bigint NOT NULL,
    used_at     bigint,
    revoked_at  bigint
);
CREATE INDEX invitations_org ON invitations (org_id, created_at);

CREATE TABLE registrations (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    org_id  TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    at      bigint NOT NULL,
    details bytea NOT NULL
);

CREATE TABLE support_tickets (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id     TEXT REFERENCES users(id) ON DELETE SET NULL,
    status      TEXT NOT NULL,
    details     bytea NOT NULL,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    resolved_at bigint
);
CREATE INDEX support_tickets_org ON support_tickets (org_id, created_at);
