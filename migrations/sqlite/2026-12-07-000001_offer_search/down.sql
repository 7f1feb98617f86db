DROP TRIGGER merchants_search_text;
DROP TRIGGER offers_search_text_update;
DROP TRIGGER offers_search_text_insert;
ALTER TABLE offers DROP COLUMN search_text;
