//! The integration suite: the real server, on PostgreSQL + Redis and on SQLite +
//! the in-process cache.

mod helpers;

mod architecture;
mod auth;
mod beneficiaries;
mod cache;
mod cli;
mod exports;
mod health;
mod merchants;
mod migrations;
mod openapi;
mod offline;
mod outages;
mod oversight;
mod pos;
mod privacy;
mod regions;
mod stats;
mod usecases;
mod users;
mod walkthrough;
mod office;
