-- The offer listings' keyword (see the PostgreSQL migration): one search column per
-- offer, its title, description and merchant's name in lower case, kept by triggers
-- (SQLite's lower() folds ASCII only, as its LIKE does). SQLite scans it
-- with LIKE (no trigram index), which the embedded county tier's few thousand offers
-- afford; "near" uses merchants_active_geo_idx for the box and yj_distance_km, a
-- function each connection registers (src/db/offer_search.rs), for the circle.
ALTER TABLE offers ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE offers SET search_text = lower(title || char(10) || description || char(10)
    || COALESCE((SELECT name FROM merchants WHERE merchants.id = offers.merchant_id), ''));

CREATE TRIGGER offers_search_text_insert AFTER INSERT ON offers
BEGIN
    UPDATE offers SET search_text = lower(NEW.title || char(10) || NEW.description || char(10)
        || COALESCE((SELECT name FROM merchants WHERE merchants.id = NEW.merchant_id), ''))
        WHERE id = NEW.id;
END;

CREATE TRIGGER offers_search_text_update AFTER UPDATE OF title, description, merchant_id ON offers
BEGIN
    UPDATE offers SET search_text = lower(NEW.title || char(10) || NEW.description || char(10)
        || COALESCE((SELECT name FROM merchants WHERE merchants.id = NEW.merchant_id), ''))
        WHERE id = NEW.id;
END;

CREATE TRIGGER merchants_search_text AFTER UPDATE OF name ON merchants
    WHEN OLD.name IS NOT NEW.name
BEGIN
    UPDATE offers SET search_text = lower(title || char(10) || description || char(10) || NEW.name)
        WHERE merchant_id = NEW.id;
END;
