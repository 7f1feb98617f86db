-- Failed attempts are counted per account and client address (and per address across
-- accounts), so that wrong passwords from one address cannot lock the account out for
-- everyone else. The address is the key `domain::network::client_key` gives: an IPv4
-- address, or an IPv6 /64. Rows from before are kept with '' and age out.
ALTER TABLE auth_failures ADD COLUMN client_addr VARCHAR(64) NOT NULL DEFAULT '';
CREATE INDEX auth_failures_client_idx ON auth_failures (scope, client_addr, failed_at);
CREATE INDEX auth_failures_age_idx ON auth_failures (scope, failed_at);
