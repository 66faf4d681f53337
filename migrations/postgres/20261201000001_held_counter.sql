-- Units held by each variant's active reservations, kept in the variant row by the same
-- transaction that opens or closes a hold. The decisive check of a new order is then one
-- conditional UPDATE of the row it locks (`stock_on_hand - held >= wanted`), which sees the
-- latest committed figure even when it had to wait for the lock, so an order commits in one
-- statement instead of holding the lock across round trips.
-- It counts holds whose time has passed until they are expired, so it can only err towards
-- "less available": whatever reports or refuses stock subtracts the lapsed holds again
-- (available = on hand - held + lapsed), and an order they stand in the way of expires them
-- first. Correctness still never waits for the sweeper.
ALTER TABLE variants ADD COLUMN held BIGINT NOT NULL DEFAULT 0 CHECK (held >= 0);
UPDATE variants SET held = COALESCE((
    SELECT SUM(r.quantity) FROM reservations r
    WHERE r.variant_id = variants.id AND r.status = 'active'), 0);
