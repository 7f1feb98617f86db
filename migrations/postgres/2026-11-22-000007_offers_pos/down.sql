DROP TABLE idempotency_keys;
DROP TABLE holder_usage;
DROP TABLE redemptions;
DROP TABLE terminals;
DROP TABLE offers;
