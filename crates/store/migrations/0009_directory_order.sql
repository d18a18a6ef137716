-- The directory lists an organisation's users oldest first: an index in that order saves
-- sorting every row (profiles included) on each listing.
CREATE INDEX users_org_created ON users (org_id, created_at, id);
DROP INDEX users_org;
