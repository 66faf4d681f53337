-- Orders, stock reservations and sweeper runs (Postgres dialect).
-- Available stock is computed from `reservations` (on hand − active, unexpired holds); no
-- counter is kept, so a hold stops counting the moment it expires, sweeper or not.

CREATE TABLE orders (
    id                 UUID PRIMARY KEY,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'cancelled', 'expired')),
    payment_expires_at TIMESTAMPTZ NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    created_by         TEXT NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    updated_by         TEXT NOT NULL,
    paid_at            TIMESTAMPTZ,
    closed_at          TIMESTAMPTZ
);
-- The sweeper's queue: pending orders by deadline.
CREATE INDEX orders_pending_by_deadline ON orders (payment_expires_at, id) WHERE status = 'pending';
CREATE INDEX orders_by_status ON orders (status, created_at, id);
CREATE INDEX orders_by_created ON orders (created_at, id);

-- Lines keep a snapshot of what was sold (SKU, name, price) and no foreign key to the variant,
-- so an order outlives a renamed or deleted variant.
CREATE TABLE order_items (
    id               UUID PRIMARY KEY,
    order_id         UUID NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    line_no          BIGINT NOT NULL,
    variant_id       UUID NOT NULL,
    product_id       UUID NOT NULL,
    sku              TEXT NOT NULL,
    product_name     TEXT NOT NULL,
    quantity         BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_minor BIGINT NOT NULL CHECK (unit_price_minor >= 0),
    currency         TEXT NOT NULL,
    UNIQUE (order_id, line_no)
);

CREATE TABLE reservations (
    id             UUID PRIMARY KEY,
    order_id       UUID NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    order_item_id  UUID NOT NULL REFERENCES order_items(id) ON DELETE CASCADE,
    variant_id     UUID NOT NULL,
    quantity       BIGINT NOT NULL CHECK (quantity > 0),
    reserved_until TIMESTAMPTZ NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'converted', 'released', 'expired')),
    created_at     TIMESTAMPTZ NOT NULL,
    closed_at      TIMESTAMPTZ
);
-- What availability sums: active holds of one variant.
CREATE INDEX reservations_active_by_variant ON reservations (variant_id, reserved_until)
    WHERE status = 'active';
CREATE INDEX reservations_by_order ON reservations (order_id);
CREATE INDEX stock_movements_by_order ON stock_movements (order_id) WHERE order_id IS NOT NULL;

-- One row per sweeper run, for the UI's health view.
CREATE TABLE sweep_runs (
    id          UUID PRIMARY KEY,
    actor       TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
    errors      BIGINT NOT NULL DEFAULT 0,
    jobs        JSONB NOT NULL
);
CREATE INDEX sweep_runs_by_start ON sweep_runs (started_at);
