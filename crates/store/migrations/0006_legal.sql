-- The organisation's privacy policy and terms of use: editable Markdown, every change a new
-- version (registrations record which were accepted). Organisational text, kept in clear.

CREATE TABLE legal_texts (
    org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT,
    created_at INTEGER NOT NULL,
    created_by TEXT,
    PRIMARY KEY (org_id, kind, version)
);
