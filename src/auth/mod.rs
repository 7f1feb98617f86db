//! Who is calling: tokens (staff, holder, card QR), password hashing, and the extractors
//! that prove a caller's identity from a request ([`extract`]).

pub mod extract;
pub mod password;
pub mod qr;
pub mod tokens;

pub use self::extract::bearer_token;
