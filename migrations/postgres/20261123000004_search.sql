-- Substring search over name, slug and SKUs without scanning every product: a trigram index
-- that `search_text LIKE '%…%'` uses directly. pg_trgm is a trusted extension (PG 13+), so the
-- database owner can create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX products_search_trgm ON products USING gin (search_text gin_trgm_ops);
