//! Authentication (passwords, tokens, the caller extractor) and the access policy.

pub mod extract;
pub mod password;
pub mod policy;
pub mod routes;
pub mod throttle;
pub mod token;

pub use extract::Caller;
pub use policy::{check, Action, Actor, Target};
