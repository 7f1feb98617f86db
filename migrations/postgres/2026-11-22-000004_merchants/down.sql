DROP TABLE badge_sequences;
DROP TABLE merchant_objections;
DROP TABLE merchant_reviews;
ALTER TABLE staff_users DROP CONSTRAINT staff_users_merchant_id_fkey;
DROP TABLE merchants;
