-- What a replica's status shows without asking the shop: when a sync last worked, and the
-- stable code of the last failure (the app words it; `last_error` keeps the message).
ALTER TABLE sync_replica ADD COLUMN last_sync_at TEXT;
ALTER TABLE sync_replica ADD COLUMN last_error_code TEXT;
