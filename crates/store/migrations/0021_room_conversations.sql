-- A conversation per meeting room (docs/messaging.md, "Groups"): the room's chat, made when a
-- member first opens it and joined by whoever opens it after. One per room; it goes with the
-- room. Team channels have no room.

ALTER TABLE conversations ADD COLUMN room_id TEXT REFERENCES rooms(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX conversations_room ON conversations (room_id) WHERE room_id IS NOT NULL;
