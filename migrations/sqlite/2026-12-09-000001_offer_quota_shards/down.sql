DROP TABLE offer_quota_shards;
