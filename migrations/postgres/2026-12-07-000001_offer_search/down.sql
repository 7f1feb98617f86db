-- The extensions stay: they may have been there before this migration.
DROP INDEX offers_active_search_trgm_idx;
DROP TRIGGER merchants_search_text ON merchants;
DROP FUNCTION merchants_search_text();
DROP TRIGGER offers_search_text ON offers;
DROP FUNCTION offers_search_text();
ALTER TABLE offers DROP COLUMN search_text;
DROP INDEX merchants_active_sphere_idx;
DROP FUNCTION yj_sphere_point(DOUBLE PRECISION, DOUBLE PRECISION);
