-- Settings that belong to the shop, not to one terminal: every terminal reads them from the
-- database they share (where images are kept, for one).
CREATE TABLE shop_settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
