//! The `kestrel` subcommands, one module each.

pub mod config;
pub mod metrics;
pub mod sim;
