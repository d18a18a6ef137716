-- When an organisation's rooms use the media server (docs/sfu.md, "When a room uses the SFU"):
-- its own threshold, the number of people at which a room moves from the peer-to-peer mesh to
-- the media server (2 to 100; NULL: the node's `sfu.threshold`), and meeting rooms and
-- receptions marked large, which always use it. Settings, not personal data: in clear.

ALTER TABLE orgs ADD COLUMN sfu_threshold INTEGER;
ALTER TABLE rooms ADD COLUMN large INTEGER NOT NULL DEFAULT 0;
