-- The change feed: every committed write already records its op id here, in its own
-- transaction, so this table is also the shop's list of changes that other terminals follow.
-- SQLite has one writer at a time, so `seq` (AUTOINCREMENT: never reused) is commit order and
-- `tx` stays 0. The table is rebuilt to make `seq` its key; nothing refers to it.
CREATE TABLE applied_ops_feed (
    seq         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    op_id       BLOB NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    outcome     TEXT,
    created_at  TEXT NOT NULL,
    fingerprint TEXT,
    tx          INTEGER NOT NULL DEFAULT 0,
    -- Who made the change (the command's actor); NULL for ops recorded before it was kept.
    actor       TEXT
);
INSERT INTO applied_ops_feed (op_id, kind, outcome, created_at, fingerprint)
    SELECT op_id, kind, outcome, created_at, fingerprint FROM applied_ops ORDER BY created_at, op_id;
DROP TABLE applied_ops;
ALTER TABLE applied_ops_feed RENAME TO applied_ops;
CREATE INDEX applied_ops_feed ON applied_ops (tx, seq);
