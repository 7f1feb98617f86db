DROP INDEX auth_failures_age_idx;
DROP INDEX auth_failures_client_idx;
ALTER TABLE auth_failures DROP COLUMN client_addr;
