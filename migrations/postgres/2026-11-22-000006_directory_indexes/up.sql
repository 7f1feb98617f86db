-- Measured on 100,000 seeded merchants (docs/benchmarks.md): "near" with a category
-- scanned every active merchant of the category (10 ms); a (category, lat, lng) index
-- over active merchants narrows it to the box (0.8 ms). Region filters are prefix
-- LIKEs ('4403%'), which a B-tree under a non-C collation only serves with
-- varchar_pattern_ops.
CREATE INDEX merchants_active_category_geo_idx ON merchants (category, latitude, longitude)
    WHERE status = 'active';

DROP INDEX merchants_status_region_idx;
CREATE INDEX merchants_status_region_idx ON merchants (status, region_code varchar_pattern_ops);
DROP INDEX merchants_status_category_region_idx;
CREATE INDEX merchants_status_category_region_idx
    ON merchants (status, category, region_code varchar_pattern_ops);

DROP INDEX beneficiaries_region_category_idx;
CREATE INDEX beneficiaries_region_category_idx
    ON beneficiaries (region_code varchar_pattern_ops, category);
CREATE INDEX audit_log_region_created_idx ON audit_log (region_code varchar_pattern_ops, created_at);
