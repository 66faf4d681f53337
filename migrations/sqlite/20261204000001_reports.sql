-- What the reports read (crates/stockdesk/src/reports/), SQLite dialect.

-- Edits that met a conflict. A conflicting edit writes nothing (its transaction rolls back), so
-- without this the shop could not tell how often two people's edits clashed. One row per op id,
-- written in a short transaction of its own when `commands::apply` sees the conflict; the same
-- command retried and refused again is still one row.
CREATE TABLE edit_conflicts (
    op_id            BLOB NOT NULL PRIMARY KEY,
    product_id       BLOB NOT NULL,
    kind             TEXT NOT NULL,
    actor            TEXT NOT NULL,
    actor_id         BLOB,
    expected_version INTEGER NOT NULL,
    current_version  INTEGER NOT NULL,
    -- The clashing paths (`name`, `variants.<id>.price_minor`, …), a JSON array.
    paths            TEXT NOT NULL,
    at               TEXT NOT NULL
);
CREATE INDEX edit_conflicts_by_time ON edit_conflicts (at);

-- Sales per day: paid orders by the time they were paid.
CREATE INDEX orders_paid_by_time ON orders (paid_at, id) WHERE status = 'paid';
-- Edits per day: the applied commands of one kind by time.
CREATE INDEX applied_ops_by_kind ON applied_ops (kind, created_at);
-- The sweeper's runs per day and how many failed, from the index alone (a run every 30 s is
-- 86,400 rows a month); it serves whatever the index on started_at alone did.
DROP INDEX sweep_runs_by_start;
CREATE INDEX sweep_runs_by_start ON sweep_runs (started_at, status);
