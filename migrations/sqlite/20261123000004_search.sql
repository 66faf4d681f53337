-- Substring search over name, slug and SKUs without scanning every product: an FTS5 trigram
-- index kept in step with products.search_text by triggers (so writers outside Stockdesk keep
-- it right too).
CREATE VIRTUAL TABLE products_fts USING fts5(
    search_text,
    content = 'products',
    content_rowid = 'rowid',
    tokenize = 'trigram'
);
INSERT INTO products_fts (products_fts) VALUES ('rebuild');

CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF search_text ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO products_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
