-- Who has which product open with unsaved changes, one row per terminal and product: shown to
-- the shop's other terminals ("Ana is editing"), never a lock. A terminal renews its row about
-- every 15 s while the edit is open and deletes it when it closes; a row not renewed for 150 s
-- counts for nothing and the sweeper removes it.
CREATE TABLE editing (
    terminal   BLOB NOT NULL,
    product_id BLOB NOT NULL,
    actor      TEXT NOT NULL,
    started_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (terminal, product_id)
);
CREATE INDEX editing_seen ON editing (seen_at);
