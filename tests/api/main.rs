//! The integration suite: the real server, on PostgreSQL + Redis and on SQLite +
//! the in-process cache.

mod helpers;

mod architecture;
mod auth;
mod beneficiaries;
mod browser;
mod cache;
mod caching;
mod cli;
mod console;
mod console_flows;
mod console_lists;
mod demo;
mod exports;
mod group_commit;
mod health;
mod hostile;
mod lockout;
mod merchants;
mod migrations;
mod money;
mod needs;
mod offer_search;
mod office;
mod offline;
mod openapi;
mod outages;
mod oversight;
mod partition;
mod permissions;
mod pos;
mod privacy;
mod reference;
mod regions;
mod stats;
mod usecases;
mod users;
mod walkthrough;
