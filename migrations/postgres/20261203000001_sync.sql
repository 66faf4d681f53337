-- Offline-first terminals (docs/sync.md). A terminal keeps a replica of the shop in its own
-- SQLite file and sends its commands to the shop's Postgres, which decides each one once.
-- Both dialects carry every table (the schema is the same everywhere); the sync_terminals and
-- sync_set_aside tables are used on the shop's server, the others on a terminal's replica.

-- The command that wrote a movement, so a replica fetches exactly the rows a change wrote.
ALTER TABLE stock_movements ADD COLUMN op_id UUID;
CREATE INDEX stock_movements_by_op ON stock_movements (op_id) WHERE op_id IS NOT NULL;

-- On the server: the terminals that keep a replica of the shop, and the highest sequence number
-- of each one's commands that has been decided (applied or set aside), updated in the
-- transaction that decides it, so commands of one terminal are decided once and in order.
CREATE TABLE sync_terminals (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL,
    joined_at    TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    last_seq     BIGINT NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    left_at      TIMESTAMPTZ
);
-- Managers tell live terminals apart by name.
CREATE UNIQUE INDEX sync_terminals_live_name ON sync_terminals (lower(name)) WHERE left_at IS NULL;

-- On the server: commands set aside (a clash, a broken rule), with the error, so that the same
-- command sent again is answered the same way.
CREATE TABLE sync_set_aside (
    op_id       UUID PRIMARY KEY,
    terminal_id UUID NOT NULL REFERENCES sync_terminals(id),
    seq         BIGINT NOT NULL,
    error       JSONB NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX sync_set_aside_by_terminal ON sync_set_aside (terminal_id, seq);

-- On a replica (one row): which shop it copies, as which terminal, and how far it has read the
-- shop's change feed. The URL may hold a password: the file is made readable by its owner only.
CREATE TABLE sync_replica (
    terminal_id     UUID PRIMARY KEY,
    terminal_name   TEXT NOT NULL,
    shop_url        TEXT NOT NULL,
    server_identity TEXT NOT NULL,
    cursor_tx       BIGINT NOT NULL,
    cursor_seq      BIGINT NOT NULL,
    joined_at       TIMESTAMPTZ NOT NULL,
    last_push_at    TIMESTAMPTZ,
    last_pull_at    TIMESTAMPTZ,
    last_error      TEXT,
    last_error_at   TIMESTAMPTZ
);

-- On a replica: the outbox. Every local write is applied to the replica and appended here in
-- the same transaction, numbered in order, until the server has decided it. `command` is what
-- is sent (an edit carries the snapshot it was made on); `outcome` is the server's outcome, or
-- the error {code, message, details} of a command set aside.
CREATE TABLE sync_outbox (
    seq         BIGINT PRIMARY KEY CHECK (seq > 0),
    op_id       UUID NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    command     JSONB NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'set_aside', 'resolved', 'discarded')),
    made_at     TIMESTAMPTZ NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT,
    decided_at  TIMESTAMPTZ,
    outcome     JSONB,
    resolved_by UUID
);
CREATE INDEX sync_outbox_by_status ON sync_outbox (status, seq);

-- On a replica: per product, the latest version of it that came from the server (what an
-- offline edit's snapshot derives from).
CREATE TABLE sync_seen (
    product_id UUID PRIMARY KEY,
    version    BIGINT NOT NULL
);
