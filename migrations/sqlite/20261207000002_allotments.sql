-- Terminal allotments (issue 16): units of a variant held on the shop for one terminal, so it
-- can sell them while offline with certainty. They count in `variants.held` like an order's
-- holds, so every rule that keeps buyers off held units keeps them off allotted ones too.
-- A revoked allotment keeps its row (units 0): a sale pushed later from it is recognised.
CREATE TABLE allotments (
    terminal_id BLOB NOT NULL,
    variant_id  BLOB NOT NULL REFERENCES variants(id) ON DELETE CASCADE,
    units       INTEGER NOT NULL CHECK (units >= 0),
    status      TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    revoked_at  TEXT,
    PRIMARY KEY (terminal_id, variant_id),
    CHECK (status = 'active' OR units = 0)
);
CREATE INDEX allotments_by_variant ON allotments (variant_id);

-- "Keep N at each till": the units each terminal's allotment of a variant is brought to on
-- every sync (topped up from free stock as far as it goes, or handed back).
CREATE TABLE allotment_policies (
    variant_id BLOB NOT NULL PRIMARY KEY REFERENCES variants(id) ON DELETE CASCADE,
    keep_units INTEGER NOT NULL CHECK (keep_units >= 0),
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- Which terminal's allotment an order was taken from (a sale made at a till offline); its
-- cancellation gives the units back to that allotment.
ALTER TABLE orders ADD COLUMN terminal_id BLOB;

-- A sale pushed from a terminal that the shop could not cover (its allotment revoked, or a
-- "sell anyway" sale beyond it): the goods are gone, the order is recorded, and the units short
-- wait here for a manager. The line's hold covers the rest of the line: hold + units short =
-- line quantity. Resolving it records the missing sale (a count correction, or units freed by
-- cancelling another order).
CREATE TABLE oversell_exceptions (
    id            BLOB NOT NULL PRIMARY KEY,
    order_id      BLOB NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    order_item_id BLOB NOT NULL REFERENCES order_items(id) ON DELETE CASCADE,
    variant_id    BLOB NOT NULL,
    terminal_id   BLOB NOT NULL,
    units         INTEGER NOT NULL CHECK (units > 0),
    kind          TEXT NOT NULL CHECK (kind IN ('revoked_allotment', 'short')),
    created_at    TEXT NOT NULL,
    op_id         BLOB NOT NULL,
    resolved_at   TEXT,
    resolution    TEXT CHECK (resolution IN ('count', 'cancel_order', 'order_cancelled')),
    resolved_by   TEXT,
    resolved_op   BLOB,
    -- The order a `cancel_order` settlement cancelled.
    cancelled_order_id BLOB,
    note          TEXT
);
CREATE INDEX oversell_exceptions_open ON oversell_exceptions (created_at, id) WHERE resolved_at IS NULL;
