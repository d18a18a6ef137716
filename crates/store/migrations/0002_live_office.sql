-- The live office: rooms, and the metadata logs of calls and peer-to-peer transfers.
-- Room names are sealed; the logs hold only ids, times and sizes (the contents of calls,
-- messages and files never reach the server).

CREATE TABLE rooms (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    capacity   INTEGER,
    name       BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX rooms_org ON rooms (org_id);

CREATE TABLE call_logs (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    room_id     TEXT,
    started_at  INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX call_logs_org_started ON call_logs (org_id, started_at);

CREATE TABLE call_participants (
    call_id TEXT NOT NULL REFERENCES call_logs(id) ON DELETE CASCADE,
    org_id  TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (call_id, user_id)
);
CREATE INDEX call_participants_user ON call_participants (org_id, user_id);

CREATE TABLE transfer_logs (
    id        TEXT PRIMARY KEY,
    org_id    TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    from_user TEXT NOT NULL,
    to_user   TEXT NOT NULL,
    kind      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX transfer_logs_org_at ON transfer_logs (org_id, at);
