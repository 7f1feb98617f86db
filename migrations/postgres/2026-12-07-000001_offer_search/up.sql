-- The offer listings (GET /offers, GET /holder/offers) as one query each over every
-- matching merchant (issue 15; src/db/offer_search.rs; docs/offer-search-bench.md).
--
-- Keyword (q): pg_trgm over one search column per offer, its title, description and
-- merchant's name, kept by triggers, so a keyword is a one-table predicate the planner
-- can serve either from the trigram index (a rare keyword) or while walking offers in
-- page order (a common one). Trigrams keep Chinese characters under this database's
-- LC_CTYPE (show_trgm('加油站优惠') has six); a keyword under three characters has no
-- trigram, so the index cannot serve it (see the benchmark note).
--
-- Near: merchants as points on the unit sphere (cube, a trusted extension), so a GiST
-- index returns them nearest first (the chord grows with the great-circle distance)
-- and a page stops after its last merchant instead of sorting the whole circle.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS cube;

-- The point on the unit sphere of a latitude and longitude in degrees. A SQL-standard
-- body is bound when it is created (no search path can change what it calls) and is
-- still inlined, so the planner matches it to the index and computes it natively.
CREATE FUNCTION yj_sphere_point(lat DOUBLE PRECISION, lng DOUBLE PRECISION) RETURNS cube
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN cube(ARRAY[cos(radians(lat)) * cos(radians(lng)),
                      cos(radians(lat)) * sin(radians(lng)),
                      sin(radians(lat))]);

CREATE INDEX merchants_active_sphere_idx ON merchants USING gist (yj_sphere_point(latitude, longitude))
    WHERE status = 'active';

-- Title, description and merchant name, one per line (a keyword holds no line break,
-- so it never matches across two of them), in lower case: the service lowers the
-- keyword, and LIKE costs half what ILIKE does on Chinese text (measured on 1,000,000
-- offers, docs/offer-search-bench.md).
ALTER TABLE offers ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE offers SET search_text = lower(offers.title || E'\n' || offers.description || E'\n' || merchants.name)
    FROM merchants WHERE merchants.id = offers.merchant_id;

CREATE FUNCTION offers_search_text() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := lower(NEW.title || E'\n' || NEW.description || E'\n'
        || COALESCE((SELECT name FROM merchants WHERE id = NEW.merchant_id), ''));
    RETURN NEW;
END
$$;
-- Only when these columns are written: a redemption's update of used_total does not
-- fire it.
CREATE TRIGGER offers_search_text BEFORE INSERT OR UPDATE OF title, description, merchant_id
    ON offers FOR EACH ROW EXECUTE FUNCTION offers_search_text();

CREATE FUNCTION merchants_search_text() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE offers SET search_text = lower(title || E'\n' || description || E'\n' || NEW.name)
        WHERE merchant_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER merchants_search_text AFTER UPDATE OF name ON merchants
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION merchants_search_text();

CREATE INDEX offers_active_search_trgm_idx ON offers USING gin (search_text gin_trgm_ops)
    WHERE status = 'active';
-- The planner chooses between the index (a rare keyword) and walking offers newest
-- first (a common one) by how many rows it expects a keyword to match; the default
-- histogram of 100 values cannot tell 0.01 % from 1 %, and a wrong guess cost 340 ms
-- instead of 6 ms on 1,000,000 offers (docs/offer-search-bench.md).
ALTER TABLE offers ALTER COLUMN search_text SET STATISTICS 1000;
