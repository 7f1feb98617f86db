-- Needs and resources (需求清单 · 资源目录), the joint task list (双清单) and its
-- ledger (台账), and the unit's contact (部队联络员) who posts the needs.
ALTER TABLE staff_users DROP CONSTRAINT staff_users_role_check;
ALTER TABLE staff_users ADD CONSTRAINT staff_users_role_check
    CHECK (role IN ('super_admin', 'region_admin', 'reviewer', 'auditor', 'merchant_staff',
                    'military_liaison'));

-- What a unit, or the holders it speaks for, needs.
CREATE TABLE needs (
    id UUID PRIMARY KEY,
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
CREATE INDEX needs_region_idx ON needs (region_code varchar_pattern_ops, created_at);

-- What a partner can give.
CREATE TABLE resources (
    id UUID PRIMARY KEY,
    merchant_id UUID NOT NULL REFERENCES merchants(id),
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
    id UUID PRIMARY KEY,
    need_id UUID REFERENCES needs(id),
    direction VARCHAR(24) NOT NULL,
    title TEXT NOT NULL,
    region_code VARCHAR(6) NOT NULL REFERENCES regions(code),
    owner_unit TEXT NOT NULL,
    owner_user VARCHAR(64) NOT NULL,
    measures TEXT NOT NULL,
    deadline DATE NOT NULL,
    merchant_id UUID REFERENCES merchants(id),
    publish BOOLEAN NOT NULL DEFAULT FALSE,
    status VARCHAR(16) NOT NULL,
    close_reason TEXT,
    evidence TEXT,
    created_by VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    done_at TIMESTAMP
);
CREATE INDEX tasks_region_idx ON tasks (region_code varchar_pattern_ops, deadline);
CREATE INDEX tasks_need_idx ON tasks (need_id);
CREATE INDEX tasks_published_idx ON tasks (created_at) WHERE publish;

-- A task's progress notes, status changes and completion, in order.
CREATE TABLE task_events (
    id UUID PRIMARY KEY,
    task_id UUID NOT NULL REFERENCES tasks(id),
    kind VARCHAR(16) NOT NULL,
    body TEXT NOT NULL,
    attachments TEXT NOT NULL DEFAULT '',
    status VARCHAR(16),
    author VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX task_events_task_idx ON task_events (task_id, created_at);
