-- Needs and resources (需求清单 · 资源目录), the joint task list (双清单) and its
-- ledger (台账); see the PostgreSQL migration. SQLite cannot change a CHECK: the staff
-- table is rebuilt with the new role (部队联络员), the way SQLite documents it: outside
-- a transaction (metadata.toml) with foreign keys off, then one transaction, checked.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE staff_users_new (
    id TEXT PRIMARY KEY NOT NULL,
    username VARCHAR(64) NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role VARCHAR(32) NOT NULL
        CHECK (role IN ('super_admin', 'region_admin', 'reviewer', 'auditor', 'merchant_staff',
                        'military_liaison')),
    region_code VARCHAR(6) REFERENCES regions(code),
    department VARCHAR(64),
    -- References merchants(id), checked by the application (as before).
    merchant_id TEXT,
    disabled BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO staff_users_new SELECT id, username, password_hash, role, region_code, department,
    merchant_id, disabled, created_at, updated_at FROM staff_users;
DROP TABLE staff_users;
ALTER TABLE staff_users_new RENAME TO staff_users;
CREATE INDEX staff_users_region_code_idx ON staff_users (region_code);
PRAGMA foreign_key_check;

-- What a unit, or the holders it speaks for, needs.
CREATE TABLE needs (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category VARCHAR(16) NOT NULL,
    region_code VARCHAR(6) NOT NULL REFERENCES regions(code),
    requesting_unit TEXT NOT NULL,
    beneficiaries_count BIGINT NOT NULL CHECK (beneficiaries_count >= 0),
    urgency VARCHAR(16) NOT NULL,
    wanted_by DATE,
    status VARCHAR(16) NOT NULL,
    close_reason TEXT,
    created_by VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    done_at TIMESTAMP
);
CREATE INDEX needs_region_idx ON needs (region_code, created_at);

-- What a partner can give.
CREATE TABLE resources (
    id TEXT PRIMARY KEY NOT NULL,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    title TEXT NOT NULL,
    category VARCHAR(16) NOT NULL,
    capacity TEXT NOT NULL,
    capacity_amount BIGINT,
    capacity_unit TEXT,
    region_code VARCHAR(6) NOT NULL REFERENCES regions(code),
    available_from DATE,
    available_until DATE,
    mode VARCHAR(16) NOT NULL,
    created_by VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX resources_category_idx ON resources (category, region_code);
CREATE INDEX resources_merchant_idx ON resources (merchant_id);

-- A need taken up, or what the troops do for the locality: one line of the 台账.
CREATE TABLE tasks (
    id TEXT PRIMARY KEY NOT NULL,
    need_id TEXT REFERENCES needs(id),
    direction VARCHAR(24) NOT NULL,
    title TEXT NOT NULL,
    region_code VARCHAR(6) NOT NULL REFERENCES regions(code),
    owner_unit TEXT NOT NULL,
    owner_user VARCHAR(64) NOT NULL,
    measures TEXT NOT NULL,
    deadline DATE NOT NULL,
    -- References merchants(id), checked by the application (as before).
    merchant_id TEXT,
    publish BOOLEAN NOT NULL DEFAULT 0,
    status VARCHAR(16) NOT NULL,
    close_reason TEXT,
    evidence TEXT,
    created_by VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    done_at TIMESTAMP
);
CREATE INDEX tasks_region_idx ON tasks (region_code, deadline);
CREATE INDEX tasks_need_idx ON tasks (need_id);
CREATE INDEX tasks_published_idx ON tasks (created_at) WHERE publish = 1;

-- A task's progress notes, status changes and completion, in order.
CREATE TABLE task_events (
    id TEXT PRIMARY KEY NOT NULL,
    task_id TEXT NOT NULL REFERENCES tasks(id),
    kind VARCHAR(16) NOT NULL,
    body TEXT NOT NULL,
    attachments TEXT NOT NULL DEFAULT '',
    status VARCHAR(16),
    author VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX task_events_task_idx ON task_events (task_id, created_at);
COMMIT;
PRAGMA foreign_keys = ON;
