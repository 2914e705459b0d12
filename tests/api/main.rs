//! The integration suite: one binary, so the harness compiles once. Each module is a feature;
//! every test runs on SQLite, and on PostgreSQL too when `TEST_DATABASE_URL` is set.

mod common;

mod audit;
mod auth;
mod console;
mod console_work;
mod enterprises;
mod exports;
mod imports;
mod migrations;
mod pages;
mod platform;
mod products;
mod public_api;
mod registrations;
mod replicas;
mod snapshots;
mod spot_checks;
mod standards;
mod supervision;
mod synthetic;
mod users;
mod verification;
mod webhooks;
mod workflow;
