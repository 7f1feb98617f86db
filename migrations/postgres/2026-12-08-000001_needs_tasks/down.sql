DROP TABLE task_events;
DROP TABLE tasks;
DROP TABLE resources;
DROP TABLE needs;
DELETE FROM staff_users WHERE role = 'military_liaison';
ALTER TABLE staff_users DROP CONSTRAINT staff_users_role_check;
ALTER TABLE staff_users ADD CONSTRAINT staff_users_role_check
    CHECK (role IN ('super_admin', 'region_admin', 'reviewer', 'auditor', 'merchant_staff'));
