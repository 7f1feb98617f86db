PRAGMA foreign_keys = OFF;
BEGIN;
DROP TABLE task_events;
DROP TABLE tasks;
DROP TABLE resources;
DROP TABLE needs;
DELETE FROM staff_users WHERE role = 'military_liaison';
CREATE TABLE staff_users_old (
    id TEXT PRIMARY KEY NOT NULL,
    username VARCHAR(64) NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role VARCHAR(32) NOT NULL
        CHECK (role IN ('super_admin', 'region_admin', 'reviewer', 'auditor', 'merchant_staff')),
    region_code VARCHAR(6) REFERENCES regions(code),
    department VARCHAR(64),
    merchant_id TEXT,
    disabled BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO staff_users_old SELECT id, username, password_hash, role, region_code, department,
    merchant_id, disabled, created_at, updated_at FROM staff_users;
DROP TABLE staff_users;
ALTER TABLE staff_users_old RENAME TO staff_users;
CREATE INDEX staff_users_region_code_idx ON staff_users (region_code);
COMMIT;
PRAGMA foreign_keys = ON;
