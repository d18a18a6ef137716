-- A user whose password an administrator chose (created with an initial password, or a password
-- set for them) must choose their own at their next sign-in: until then their session serves
-- only that (docs/api.md). Not personal data: a flag, in clear.

ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
