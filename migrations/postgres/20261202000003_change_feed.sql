-- The change feed: every committed write already records its op id here, in its own
-- transaction, so this table is also the shop's list of changes that other terminals follow.
-- `seq` numbers rows as they are inserted, `tx` is the inserting transaction's id; transactions
-- can commit in another order than they got their ids, so a reader orders by (tx, seq) and only
-- reads rows of transactions older than every transaction still running (the snapshot's xmin):
-- none of those can still add a row before its cursor.
ALTER TABLE applied_ops ADD COLUMN seq BIGSERIAL;
ALTER TABLE applied_ops ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE applied_ops ALTER COLUMN tx SET DEFAULT (pg_current_xact_id()::text::bigint);
-- Who made the change (the command's actor); NULL for ops recorded before it was kept.
ALTER TABLE applied_ops ADD COLUMN actor TEXT;
ALTER TABLE applied_ops DROP CONSTRAINT applied_ops_pkey;
ALTER TABLE applied_ops ADD PRIMARY KEY (seq);
ALTER TABLE applied_ops ADD CONSTRAINT applied_ops_op_id_key UNIQUE (op_id);
CREATE INDEX applied_ops_feed ON applied_ops (tx, seq);
