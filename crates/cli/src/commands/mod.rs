//! The `kestrel` subcommands, one module each.

pub mod bench;
pub mod config;
pub mod endpoints;
pub mod exec;
pub mod exec_mode;
pub mod http_auth;
pub mod md;
pub mod metrics;
pub mod record;
pub mod run;
pub mod sim;
