-- Messages waiting for devices that were offline (docs/messaging.md). A message's envelope
-- (the signed header and the body, both made by the sender's browser; the body is ciphertext
-- no server key opens) is stored once and sealed again with the organisation's key; each
-- recipient device gets a queue entry with the message key sealed to that device by HPKE. An
-- entry goes when its device fetched and acknowledged it, or with the device; a message goes
-- when its last entry went, or when it expires (retention), or with its sender.

CREATE TABLE message_bodies (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    sender_user TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    envelope    BLOB NOT NULL,
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX message_bodies_expiry ON message_bodies (expires_at);

CREATE TABLE message_queue (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    device_id  TEXT NOT NULL REFERENCES device_keys(id) ON DELETE CASCADE,
    body_id    TEXT NOT NULL REFERENCES message_bodies(id) ON DELETE CASCADE,
    sealed_key BLOB NOT NULL,
    queued_at  INTEGER NOT NULL
);
CREATE INDEX message_queue_device ON message_queue (device_id, queued_at);
CREATE INDEX message_queue_body ON message_queue (body_id);
