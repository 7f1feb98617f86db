//! Checked types and lifecycle rules, with no I/O.

pub mod region;
pub mod staff;

pub use region::RegionCode;
pub use staff::{Password, Role, Username};
