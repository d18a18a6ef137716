-- Each guest link says how many guests may join through it in all (set by the member who made
-- it); the server also limits how many of them are signed in at once and how fast they join.
ALTER TABLE guest_links ADD COLUMN max_guests INTEGER NOT NULL DEFAULT 20;
CREATE INDEX guests_link ON guests (org_id, link_id);
