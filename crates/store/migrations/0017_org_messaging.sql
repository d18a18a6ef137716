-- An organisation's choices for end-to-end encrypted messaging (docs/messaging.md): whether
-- messages may wait on the server for devices that are offline (store and forward), and how
-- many days a message that no device fetched is kept at most. No row: the node's defaults
-- (store and forward on, `retention.messages_days`).

CREATE TABLE org_messaging (
    org_id            TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    store_and_forward INTEGER NOT NULL,
    retention_days    INTEGER NOT NULL
);
