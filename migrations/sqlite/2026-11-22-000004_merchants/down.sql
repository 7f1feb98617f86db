DROP TABLE badge_sequences;
DROP TABLE merchant_objections;
DROP TABLE merchant_reviews;
DROP TABLE merchants;
