-- The calendar: each user's connection to their own calendar (a CalDAV account or an ICS
-- subscription) and their busy intervals. Of an outside calendar only busy times are kept,
-- never an event's title, attendees or place. The connection (kind, address, user name,
-- password) is sealed in `source`; the error of the last reading is a sentence Bureau wrote
-- (never the answer of the other server). An entry's times stay in clear, like an absence's:
-- presence asks who is in a meeting now, retention deletes by end time; a title the user typed
-- for an entry by hand is sealed in `details`. Both go with their user (erasure).

CREATE TABLE calendars (
    user_id          TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    org_id           TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    source           BLOB,
    share_next_busy  INTEGER NOT NULL DEFAULT 0,
    ring_in_meetings INTEGER NOT NULL DEFAULT 0,
    synced_at        INTEGER,
    sync_error       TEXT,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX calendars_org ON calendars (org_id);

CREATE TABLE calendar_entries (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    imported   INTEGER NOT NULL,
    details    BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX calendar_entries_org_ends ON calendar_entries (org_id, ends_at);
CREATE INDEX calendar_entries_user ON calendar_entries (org_id, user_id);
