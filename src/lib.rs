//! Yongjun (拥军): the backend of a partner-merchant discount network for military
//! personnel, their families, veterans and other entitled beneficiaries.

pub mod auth;
pub mod cache;
pub mod cli;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod export;
pub mod extract;
pub mod import;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod stats;
pub mod telemetry;
