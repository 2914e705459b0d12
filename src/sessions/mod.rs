//! Sessions: signing in with a password, refreshing and ending a session, and who is signed in.
//! Tokens themselves (and refresh-token storage) are `auth` core.

pub mod routes;
