DROP INDEX audit_log_region_created_idx;
DROP INDEX beneficiaries_region_category_idx;
CREATE INDEX beneficiaries_region_category_idx ON beneficiaries (region_code, category);
DROP INDEX merchants_status_category_region_idx;
CREATE INDEX merchants_status_category_region_idx ON merchants (status, category, region_code);
DROP INDEX merchants_status_region_idx;
CREATE INDEX merchants_status_region_idx ON merchants (status, region_code);
DROP INDEX merchants_active_category_geo_idx;
