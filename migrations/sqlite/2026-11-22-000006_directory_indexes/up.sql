-- The directory's "near" search with a category (see the PostgreSQL migration; SQLite
-- needs no pattern operator class).
CREATE INDEX merchants_active_category_geo_idx ON merchants (category, latitude, longitude)
    WHERE status = 'active';
