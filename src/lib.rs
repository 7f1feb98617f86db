//! Yongjun (拥军): the backend of a partner-merchant discount network for military
//! personnel, their families, veterans and other entitled beneficiaries.
//!
//! The layers (docs/architecture.md): `domain` (checked types and lifecycle rules, no
//! I/O) · `db` (queries taking a connection) · `app` (the use cases) · `auth` (tokens
//! and the extractors that prove a caller) · `http` and `routes` (the HTTP edge) ·
//! `state` (what handlers reach) · `startup` (wiring) · `cli` (the command line).

pub mod app;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod validate;
