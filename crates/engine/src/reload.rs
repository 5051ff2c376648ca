//! Hot reload (seed 000 FR-SE-001, "changing a strategy's parameters applies without
//! restarting"): with `strategies.enable_hot_reload`, the config file is checked every
//! [`POLL`]; when its modification time changes it is loaded again (file plus environment, as
//! at start) and, when valid, handed to the core, which applies the strategies' instances and
//! the risk limits. An invalid file is logged with every problem and the running
//! configuration stays. Other sections (venue, store, ...) need a restart and are not applied.
//!
//! Off by default: on a live system a config edit that silently changes trading is a risk the
//! operator opts into.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use kestrel_model::config::{Config, ConfigSource};
use tokio::sync::watch;

use crate::control::ControlSender;

/// How often the file is checked.
pub const POLL: Duration = Duration::from_secs(1);

/// Watches `file` until `stop` says stop, handing each valid new version to the core.
pub async fn watch(file: PathBuf, control: ControlSender, mut stop: watch::Receiver<bool>) {
    let mut seen = modified(&file);
    let mut every = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = every.tick() => {}
        }
        let now = modified(&file);
        if now == seen {
            continue;
        }
        seen = now;
        match Config::load(ConfigSource::from_process_env(Some(&file))) {
            Ok(loaded) => control.reload(loaded.config).await,
            Err(errors) => {
                for error in errors.iter() {
                    tracing::error!(target: "kestrel::engine", file = %file.display(), %error, "config change refused");
                }
            }
        }
    }
}

fn modified(file: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(file).and_then(|m| m.modified()).ok()
}
