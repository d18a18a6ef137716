-- Privacy rights: restriction of processing and objections per user, the queue of privacy
-- requests with their one-month deadline, and the audit log of administrative access.

ALTER TABLE users ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN objections TEXT NOT NULL DEFAULT '';

CREATE TABLE privacy_requests (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id    TEXT REFERENCES users(id) ON DELETE SET NULL,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    details    BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    due_at     INTEGER NOT NULL,
    handled_by TEXT,
    handled_at INTEGER
);
CREATE INDEX privacy_requests_org_due ON privacy_requests (org_id, status, due_at);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_id   TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX audit_log_org_at ON audit_log (org_id, at);
