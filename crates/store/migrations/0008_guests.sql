-- Guests: links to one conference room (only the SHA-256 of the token is stored), and which
-- room each guest account came in through. Guests are user rows with the role 'guest'.

CREATE TABLE guest_links (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    room_id     TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    token_hash  BLOB NOT NULL UNIQUE,
    direct      INTEGER NOT NULL,
    created_by  TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX guest_links_room ON guest_links (org_id, room_id);

CREATE TABLE guests (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    org_id  TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    room_id TEXT NOT NULL,
    direct  INTEGER NOT NULL,
    link_id TEXT
);
