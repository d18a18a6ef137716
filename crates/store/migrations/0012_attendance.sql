-- Attendance times (extended profile, unless the user objects): per user and day, the intervals
-- the user was present in the live office, sealed. The day (days since 1970-01-01, UTC) is clear,
-- for retention and for reading a span; the row id is `<user id>:<day>`, which the seal binds.

CREATE TABLE attendance (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day        INTEGER NOT NULL,
    details    BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX attendance_org_day ON attendance (org_id, day);
CREATE INDEX attendance_user_day ON attendance (org_id, user_id, day);
