-- What an op id was used for, exactly: a hash of the command's content, so that the same op id
-- sent with a different command (a script's copy-paste, a bug) is refused instead of being
-- answered with another command's outcome. NULL for ops recorded before it was kept.
ALTER TABLE applied_ops ADD COLUMN fingerprint TEXT;
