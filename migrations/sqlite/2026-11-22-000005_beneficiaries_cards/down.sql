DROP TABLE cards;
DROP TABLE beneficiaries;
DROP TABLE card_products;
