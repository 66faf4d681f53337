-- Catalog, history, idempotency and the stock ledger (SQLite dialect).
-- Ids are UUIDv7 stored as 16-byte BLOBs; times are RFC 3339 text in UTC.

CREATE TABLE categories (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE attributes (
    id          BLOB PRIMARY KEY,
    category_id BLOB NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    position    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (category_id, name)
);

CREATE TABLE attribute_values (
    id           BLOB PRIMARY KEY,
    attribute_id BLOB NOT NULL REFERENCES attributes(id) ON DELETE CASCADE,
    value        TEXT NOT NULL,
    position     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (attribute_id, value)
);

CREATE TABLE products (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    category_id BLOB REFERENCES categories(id),
    search_text TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
);
CREATE INDEX products_by_name ON products (name, id);
CREATE INDEX products_by_status ON products (status, name, id);
CREATE INDEX products_by_category ON products (category_id, name, id);

CREATE TABLE variants (
    id            BLOB PRIMARY KEY,
    product_id    BLOB NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    sku           TEXT NOT NULL UNIQUE,
    price_minor   INTEGER NOT NULL CHECK (price_minor >= 0),
    currency      TEXT NOT NULL,
    stock_on_hand INTEGER NOT NULL CHECK (stock_on_hand BETWEEN 0 AND 1000000),
    position      INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX variants_by_product ON variants (product_id, position);
CREATE INDEX variants_by_stock ON variants (stock_on_hand, product_id);

CREATE TABLE variant_attributes (
    variant_id   BLOB NOT NULL REFERENCES variants(id) ON DELETE CASCADE,
    attribute_id BLOB NOT NULL REFERENCES attributes(id),
    value_id     BLOB NOT NULL REFERENCES attribute_values(id),
    PRIMARY KEY (variant_id, attribute_id)
);

CREATE TABLE images (
    id           BLOB PRIMARY KEY,
    product_id   BLOB NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    blob_key     TEXT NOT NULL,
    alt          TEXT NOT NULL DEFAULT '',
    position     INTEGER NOT NULL,
    is_thumbnail BOOLEAN NOT NULL DEFAULT FALSE,
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX images_by_product ON images (product_id, position);
CREATE UNIQUE INDEX images_one_thumbnail ON images (product_id) WHERE is_thumbnail;

-- One row per committed version: who, when, what changed, and the whole product as it then was.
CREATE TABLE product_history (
    product_id BLOB NOT NULL,
    version    INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL,
    op_id      BLOB,
    changes    TEXT NOT NULL,
    snapshot   TEXT NOT NULL,
    PRIMARY KEY (product_id, version)
);

-- Idempotency: an operation id is claimed by the transaction that applies it.
CREATE TABLE applied_ops (
    op_id      BLOB PRIMARY KEY,
    kind       TEXT NOT NULL,
    outcome    TEXT,
    created_at TEXT NOT NULL
);

-- The stock ledger: on-hand stock changes only together with a row here. No foreign key, so
-- the ledger outlives a deleted variant.
CREATE TABLE stock_movements (
    id            BLOB PRIMARY KEY,
    variant_id    BLOB NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('initial', 'receipt', 'sale', 'count', 'adjustment')),
    quantity      INTEGER NOT NULL,
    on_hand_after INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    order_id      BLOB,
    at            TEXT NOT NULL
);
CREATE INDEX stock_movements_by_variant ON stock_movements (variant_id, at);
