-- Group conversations of end-to-end encrypted messaging (docs/messaging.md, "Groups"): named
-- team channels with their members. The name is sealed; what is said in them never reaches the
-- server in clear. `epoch` grows with every change of membership: senders make a new sender
-- key for each epoch and send it to the members of that epoch only.

CREATE TABLE conversations (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name       BLOB NOT NULL,
    epoch      INTEGER NOT NULL,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX conversations_org ON conversations (org_id);

CREATE TABLE conversation_members (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    org_id          TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    added_at        INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_user ON conversation_members (user_id);
