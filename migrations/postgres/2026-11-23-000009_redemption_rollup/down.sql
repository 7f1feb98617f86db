DROP TABLE redemption_rollup_months;
DROP TABLE redemption_rollup;
