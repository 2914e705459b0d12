//! The core of access: passwords, tokens, the caller extractor, the login throttle and the
//! access policy. It imports no feature: sign-in lives in `sessions`, sign-up in `enterprises`.

pub mod extract;
pub mod password;
pub mod policy;
pub mod refresh;
pub mod throttle;
pub mod token;

pub use extract::Caller;
pub use policy::{authorize, check, Action, Actor, Target};
