-- A variant's EAN-13, EAN-8 or UPC-A barcode, digits only (checked by its check digit in the
-- core), for the till's scanner. Optional; unique among variants, NULLs aside (the partial index
-- also keeps the many variants without one out of it).
ALTER TABLE variants ADD COLUMN barcode TEXT;
CREATE UNIQUE INDEX variants_by_barcode ON variants (barcode) WHERE barcode IS NOT NULL;
