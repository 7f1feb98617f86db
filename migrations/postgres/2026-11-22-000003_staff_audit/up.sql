-- Staff accounts, the audit log, and failed sign-in attempts (for throttling).

CREATE TABLE staff_users (
    id UUID PRIMARY KEY,
    username VARCHAR(64) NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role VARCHAR(32) NOT NULL
        CHECK (role IN ('super_admin', 'region_admin', 'reviewer', 'auditor', 'merchant_staff')),
    region_code VARCHAR(6) REFERENCES regions(code),
    department VARCHAR(64),
    -- References merchants(id); the constraint is added with the merchants table.
    merchant_id UUID,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX staff_users_region_code_idx ON staff_users (region_code);

CREATE TABLE audit_log (
    id UUID PRIMARY KEY,
    actor_id UUID,
    actor_label VARCHAR(128) NOT NULL,
    action VARCHAR(64) NOT NULL,
    entity_type VARCHAR(32) NOT NULL,
    entity_id VARCHAR(64) NOT NULL,
    region_code VARCHAR(6),
    before_status VARCHAR(32),
    after_status VARCHAR(32),
    reason TEXT,
    details TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, created_at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, created_at);
CREATE INDEX audit_log_created_at_idx ON audit_log (created_at);

CREATE TABLE auth_failures (
    id UUID PRIMARY KEY,
    scope VARCHAR(16) NOT NULL,
    subject VARCHAR(128) NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX auth_failures_lookup_idx ON auth_failures (scope, subject, failed_at);
