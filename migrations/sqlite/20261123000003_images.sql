-- Image files: the blob registry (and, for the database backend, the bytes), staged uploads,
-- and the deletion outbox (SQLite dialect). See docs/images.md for the crash-safety argument.

-- Every blob Stockdesk knows of, keyed by the SHA-256 of its bytes (lower-case hex). With the
-- directory backend `data` is NULL and the bytes live in <data_dir>/blobs; with the database
-- backend the bytes are here. Either way the row is what writers of a key lock, so a deletion
-- and a new upload of the same bytes never interleave.
CREATE TABLE blobs (
    key        TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    data       BLOB
);

-- Uploads written but not yet used by a committed edit. A staged row keeps its blobs alive
-- until a commit claims it or the sweeper expires it.
CREATE TABLE staged_blobs (
    id           BLOB PRIMARY KEY,
    blob_key     TEXT NOT NULL,
    thumb_key    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX staged_blobs_by_expiry ON staged_blobs (expires_at);
CREATE INDEX staged_blobs_by_blob ON staged_blobs (blob_key);
CREATE INDEX staged_blobs_by_thumb ON staged_blobs (thumb_key);

-- Blobs an edit stopped referencing, queued in the edit's own transaction. A row leaves the
-- outbox once its blob is deleted (or found to be referenced again).
CREATE TABLE blob_outbox (
    id              BLOB PRIMARY KEY,
    blob_key        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TEXT NOT NULL
);
CREATE INDEX blob_outbox_due ON blob_outbox (next_attempt_at);
CREATE INDEX blob_outbox_by_blob ON blob_outbox (blob_key);

-- The list-size thumbnail of an image. NULL only on rows written before images had files.
ALTER TABLE images ADD COLUMN thumb_key TEXT;
CREATE INDEX images_by_blob ON images (blob_key);
CREATE INDEX images_by_thumb ON images (thumb_key);
