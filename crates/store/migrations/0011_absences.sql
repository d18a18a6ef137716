-- Absences (vacation and others), each with an optional deputy. The dates stay in clear: the
-- floor plan asks who is away now, and retention deletes by end date; the kind, the deputy and
-- the note are sealed in `details`. An absence goes with its user (erasure).

CREATE TABLE absences (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    details    BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX absences_org_ends ON absences (org_id, ends_at);
CREATE INDEX absences_user ON absences (org_id, user_id);
