-- An offer's total quota, counted on sixteen rows of its own (issue 15). Redemptions
-- of one limited offer used to wait on the offer's row, each batch holding its lock
-- from the count to its commit; the quota is now split into shards that batches take
-- from side by side (a batch that finds its shard short takes from the others), so the
-- quota is still never exceeded, within the redemption's own transaction.
-- `offers.used_total` stays as what is shown (remaining places); it is added to after
-- each batch commits and recomputed from the shards at start-up.
CREATE TABLE offer_quota_shards (
    offer_id TEXT NOT NULL,
    shard SMALLINT NOT NULL,
    -- How many of the quota this shard may hand out, and how many it has.
    granted BIGINT NOT NULL,
    used BIGINT NOT NULL,
    PRIMARY KEY (offer_id, shard),
    CHECK (used >= 0 AND used <= granted)
);

-- Every offer with a quota: what it has used on shard 0, the rest split evenly.
INSERT INTO offer_quota_shards (offer_id, shard, granted, used)
SELECT o.id, s.n,
       (o.total_quota - u.used) / 16
           + CASE WHEN s.n < (o.total_quota - u.used) % 16 THEN 1 ELSE 0 END
           + CASE WHEN s.n = 0 THEN u.used ELSE 0 END,
       CASE WHEN s.n = 0 THEN u.used ELSE 0 END
FROM offers o
JOIN (SELECT id, CASE WHEN used_total < total_quota THEN used_total ELSE total_quota END AS used
      FROM offers WHERE total_quota IS NOT NULL) u ON u.id = o.id
CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3
            UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7
            UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11
            UNION ALL SELECT 12 UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15) s;
