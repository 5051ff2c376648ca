//! The `kestrel` subcommands, one module each.

pub mod config;
pub mod md;
pub mod metrics;
pub mod sim;
