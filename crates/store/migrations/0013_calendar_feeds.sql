-- Each user's private calendar feed of their Bureau absences (ICS, for their own calendar
-- program): only the SHA-256 of the feed's secret is kept; renewing replaces it.

CREATE TABLE calendar_feeds (
    user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
