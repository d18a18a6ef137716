-- Two-factor sign-in. The TOTP secret and the phone number are sealed (see vault.rs); SMS and
-- recovery codes are kept only as keyed hashes; sign-in challenges only as the SHA-256 of their
-- token. Everything in clear is an id, a timestamp, a counter or a flag.

CREATE TABLE two_factor (
    user_id               TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    org_id                TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    totp_secret           BLOB,
    totp_pending          BLOB,
    totp_last_step        INTEGER NOT NULL DEFAULT 0,
    phone                 BLOB,
    phone_pending         BLOB,
    phone_code            BLOB,
    phone_code_expires_at INTEGER,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX two_factor_org ON two_factor (org_id);

CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org_id    TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE two_factor_challenges (
    token_hash BLOB PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 0,
    sms_code   BLOB,
    sms_sent   INTEGER NOT NULL DEFAULT 0,
    used_at    INTEGER
);
CREATE INDEX two_factor_challenges_user ON two_factor_challenges (user_id);

CREATE TABLE org_two_factor (
    org_id   TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    required INTEGER NOT NULL
);
