-- Catalog, history, idempotency and the stock ledger (Postgres dialect).
-- Ids are UUIDv7 native UUIDs; times TIMESTAMPTZ.

CREATE TABLE categories (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE attributes (
    id          UUID PRIMARY KEY,
    category_id UUID NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    position    BIGINT NOT NULL DEFAULT 0,
    UNIQUE (category_id, name)
);

CREATE TABLE attribute_values (
    id           UUID PRIMARY KEY,
    attribute_id UUID NOT NULL REFERENCES attributes(id) ON DELETE CASCADE,
    value        TEXT NOT NULL,
    position     BIGINT NOT NULL DEFAULT 0,
    UNIQUE (attribute_id, value)
);

CREATE TABLE products (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    category_id UUID REFERENCES categories(id),
    search_text TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  TEXT NOT NULL
);
CREATE INDEX products_by_name ON products (name, id);
CREATE INDEX products_by_status ON products (status, name, id);
CREATE INDEX products_by_category ON products (category_id, name, id);

CREATE TABLE variants (
    id            UUID PRIMARY KEY,
    product_id    UUID NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    sku           TEXT NOT NULL UNIQUE,
    price_minor   BIGINT NOT NULL CHECK (price_minor >= 0),
    currency      TEXT NOT NULL,
    stock_on_hand BIGINT NOT NULL CHECK (stock_on_hand BETWEEN 0 AND 1000000),
    position      BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX variants_by_product ON variants (product_id, position);
CREATE INDEX variants_by_stock ON variants (stock_on_hand, product_id);

CREATE TABLE variant_attributes (
    variant_id   UUID NOT NULL REFERENCES variants(id) ON DELETE CASCADE,
    attribute_id UUID NOT NULL REFERENCES attributes(id),
    value_id     UUID NOT NULL REFERENCES attribute_values(id),
    PRIMARY KEY (variant_id, attribute_id)
);

CREATE TABLE images (
    id           UUID PRIMARY KEY,
    product_id   UUID NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    blob_key     TEXT NOT NULL,
    alt          TEXT NOT NULL DEFAULT '',
    position     BIGINT NOT NULL,
    is_thumbnail BOOLEAN NOT NULL DEFAULT FALSE,
    version      BIGINT NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX images_by_product ON images (product_id, position);
CREATE UNIQUE INDEX images_one_thumbnail ON images (product_id) WHERE is_thumbnail;

-- One row per committed version: who, when, what changed, and the whole product as it then was.
CREATE TABLE product_history (
    product_id UUID NOT NULL,
    version    BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    op_id      UUID,
    changes    JSONB NOT NULL,
    snapshot   JSONB NOT NULL,
    PRIMARY KEY (product_id, version)
);

-- Idempotency: an operation id is claimed by the transaction that applies it.
CREATE TABLE applied_ops (
    op_id      UUID PRIMARY KEY,
    kind       TEXT NOT NULL,
    outcome    JSONB,
    created_at TIMESTAMPTZ NOT NULL
);

-- The stock ledger: on-hand stock changes only together with a row here. No foreign key, so
-- the ledger outlives a deleted variant.
CREATE TABLE stock_movements (
    id            UUID PRIMARY KEY,
    variant_id    UUID NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('initial', 'receipt', 'sale', 'count', 'adjustment')),
    quantity      BIGINT NOT NULL,
    on_hand_after BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    order_id      UUID,
    at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX stock_movements_by_variant ON stock_movements (variant_id, at);
