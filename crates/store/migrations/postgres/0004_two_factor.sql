-- Two-factor sign-in. The TOTP secret and the phone number are sealed (see vault.rs); SMS and
-- recovery codes are kept only as keyed hashes; sign-in challenges only as the SHA-256 of their
-- token. Everything in clear is an id, a timestamp, a counter or a flag.

CREATE TABLE two_factor (
    user_id               TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    org_id                TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    totp_secret           bytea,
    totp_pending          bytea,
    totp_last_step        bigint NOT NULL DEFAULT 0,
    phone                 bytea,
    phone_pending         bytea,
    phone_code            bytea,
    phone_code_expires_at bigint,
    updated_at            bigint NOT NULL
);
CREATE INDEX two_factor_org ON two_factor (org_id);

CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org_id    TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    used_at   bigint,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE two_factor_challenges (
    token_hash bytea PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    failures   bigint NOT NULL DEFAULT 0,
    sms_code   bytea,
    sms_sent   bigint NOT NULL DEFAULT 0,
    used_at    bigint
);
CREATE INDEX two_factor_challenges_user ON two_factor_challenges (user_id);

CREATE TABLE org_two_factor (
    org_id   TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    required bigint NOT NULL
);
