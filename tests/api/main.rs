//! The integration suite: the real server, on PostgreSQL + Redis and on SQLite +
//! the in-process cache.

mod helpers;

mod auth;
mod beneficiaries;
mod cache;
mod cli;
mod health;
mod merchants;
mod migrations;
mod openapi;
mod outages;
mod pos;
mod privacy;
mod regions;
mod users;
