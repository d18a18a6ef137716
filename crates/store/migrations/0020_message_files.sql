-- Files of end-to-end encrypted messages, uploaded once instead of travelling inside each
-- message (docs/messaging.md). The sender's browser encrypts a file with a key of its own and
-- uploads only the ciphertext; the key, the name and the type travel inside the messages, which
-- the server cannot open. The bytes are kept in the database, in rows of 1 MiB
-- (`message_file_chunks`), so that every node sharing it serves them and no value is large. A
-- file goes when the organisation's message retention ends (`expires_at`), when its uploader
-- deletes it, or with its uploader or organisation.

CREATE TABLE message_files (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    uploader   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    size       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX message_files_uploader ON message_files (uploader, created_at);
CREATE INDEX message_files_expiry ON message_files (expires_at);

CREATE TABLE message_file_chunks (
    file_id TEXT NOT NULL REFERENCES message_files(id) ON DELETE CASCADE,
    idx     INTEGER NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (file_id, idx)
);

-- The largest file an organisation accepts, in MiB (1 to 100).
ALTER TABLE org_messaging ADD COLUMN max_file_mb INTEGER NOT NULL DEFAULT 25;
