-- Terminal allotments (issue 16): units of a variant held on the shop for one terminal, so it
-- can sell them while offline with certainty. They count in `variants.held` like an order's
-- holds, so every rule that keeps buyers off held units keeps them off allotted ones too.
-- A revoked allotment keeps its row (units 0): a sale pushed later from it is recognised.
CREATE TABLE allotments (
    terminal_id UUID NOT NULL,
    variant_id  UUID NOT NULL REFERENCES variants(id) ON DELETE CASCADE,
    units       BIGINT NOT NULL CHECK (units >= 0),
    status      TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  TEXT NOT NULL,
    revoked_at  TIMESTAMPTZ,
    PRIMARY KEY (terminal_id, variant_id),
    CHECK (status = 'active' OR units = 0)
);
CREATE INDEX allotments_by_variant ON allotments (variant_id);

-- "Keep N at each till": the units each terminal's allotment of a variant is brought to on
-- every sync (topped up from free stock as far as it goes, or handed back).
CREATE TABLE allotment_policies (
    variant_id UUID PRIMARY KEY REFERENCES variants(id) ON DELETE CASCADE,
    keep_units BIGINT NOT NULL CHECK (keep_units >= 0),
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL
);

-- Which terminal's allotment an order was taken from (a sale made at a till offline); its
-- cancellation gives the units back to that allotment.
ALTER TABLE orders ADD COLUMN terminal_id UUID;

-- A sale pushed from a terminal that the shop could not cover (its allotment revoked, or a
-- "sell anyway" sale beyond it): the goods are gone, the order is recorded, and the units short
-- wait here for a manager. The line's hold covers the rest of the line: hold + units short =
-- line quantity. Resolving it records the missing sale (a count correction, or units freed by
-- cancelling another order).
CREATE TABLE oversell_exceptions (
    id            UUID PRIMARY KEY,
    order_id      UUID NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    order_item_id UUID NOT NULL REFERENCES order_items(id) ON DELETE CASCADE,
    variant_id    UUID NOT NULL,
    terminal_id   UUID NOT NULL,
    units         BIGINT NOT NULL CHECK (units > 0),
    kind          TEXT NOT NULL CHECK (kind IN ('revoked_allotment', 'short')),
    created_at    TIMESTAMPTZ NOT NULL,
    op_id         UUID NOT NULL,
    resolved_at   TIMESTAMPTZ,
    resolution    TEXT CHECK (resolution IN ('count', 'cancel_order', 'order_cancelled')),
    resolved_by   TEXT,
    resolved_op   UUID,
    -- The order a `cancel_order` settlement cancelled.
    cancelled_order_id UUID,
    note          TEXT
);
CREATE INDEX oversell_exceptions_open ON oversell_exceptions (created_at, id) WHERE resolved_at IS NULL;
