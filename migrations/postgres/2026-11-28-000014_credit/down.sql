DROP TABLE credit_listings;
