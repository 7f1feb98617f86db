-- Cache invalidations not delivered to Redis when their change committed (the cache's
-- outbox): delivered, then deleted, by whichever API process reaches Redis.
CREATE TABLE cache_invalidations (
    id UUID PRIMARY KEY,
    keys TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX cache_invalidations_created_at_idx ON cache_invalidations (created_at);
