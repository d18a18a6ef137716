-- Informed consent before camera or microphone are used: who consented to which version of the
-- organisation's consent template (kept in legal_texts, kind 'consent'), when, to which devices,
-- and when it was withdrawn. The device details are sealed.

CREATE TABLE consents (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id          TEXT REFERENCES users(id) ON DELETE CASCADE,
    template_version INTEGER NOT NULL,
    details          BLOB NOT NULL,
    given_at         INTEGER NOT NULL,
    withdrawn_at     INTEGER
);
CREATE INDEX consents_user ON consents (org_id, user_id);
