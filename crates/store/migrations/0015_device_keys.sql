-- The devices of end-to-end encrypted messaging (docs/messaging.md): each browser profile of a
-- user registers the public halves of its two key pairs — X25519 for HPKE, to receive, and
-- Ed25519, to sign — bound together by a self-signature. Public keys are not secret and stay in
-- clear (colleagues' clients fetch them); the device's name is sealed. Private keys never reach
-- the server. A device goes with its user (erasure) or when revoked.

CREATE TABLE device_keys (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name           BLOB NOT NULL,
    hpke_public    BLOB NOT NULL,
    sign_public    BLOB NOT NULL,
    self_signature BLOB NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX device_keys_user ON device_keys (org_id, user_id);
