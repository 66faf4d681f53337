-- Staff profiles and who did what. A profile's PIN is kept only as an Argon2id hash (PHC string).
-- A shop with no live profile works as before (whoever runs it acts as the owner); from the first
-- profile on every command names one (`actor_id`) and the core checks its role on fresh data.
CREATE TABLE staff (
    id              BLOB NOT NULL PRIMARY KEY,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'staff')),
    pin_hash        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    -- A removed profile stays, so history that names it keeps its name; it can no longer act.
    removed_at      TEXT,
    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until    TEXT
);
-- One live profile per name, whatever its case (people sign in by name).
CREATE UNIQUE INDEX staff_live_name ON staff (lower(name)) WHERE removed_at IS NULL;

-- Sign-ins, wrong PINs and lockouts, for the owner to read.
CREATE TABLE staff_events (
    id       BLOB NOT NULL PRIMARY KEY,
    staff_id BLOB NOT NULL REFERENCES staff(id),
    name     TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('signed_in', 'wrong_pin', 'locked_out', 'refused_locked')),
    terminal BLOB,
    at       TEXT NOT NULL
);
CREATE INDEX staff_events_by_time ON staff_events (at);

-- The profile beside the name already recorded (NULL for rows from before profiles, or from a
-- shop without any).
ALTER TABLE product_history ADD COLUMN actor_id BLOB;
ALTER TABLE stock_movements ADD COLUMN actor_id BLOB;
ALTER TABLE orders ADD COLUMN created_by_id BLOB;
ALTER TABLE orders ADD COLUMN updated_by_id BLOB;
ALTER TABLE applied_ops ADD COLUMN actor_id BLOB;
