//! One configured instance ([`Instance`]) and the isolation around every call into its
//! strategy (seed NFR-SE-003): a panic is caught, an error counted, and after
//! `max_consecutive_failures` failures in a row the instance is disabled while the others go on.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use kestrel_model::config::StrategyInstance;
use kestrel_model::order::PositionSide;
use kestrel_model::position::Position;
use serde::{Deserialize, Serialize};

use super::output::{Incident, IncidentKind};
use super::telemetry::InstanceMetrics;
use crate::action::{Actions, QuoteId};
use crate::error::StrategyError;
use crate::ids::InstanceTag;
use crate::strategy::Strategy;

/// Whether an instance runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceStatus {
    /// Receiving events.
    Running,
    /// `enabled = false` in the config.
    Disabled,
    /// Disabled after repeated failures; a config change or a restart starts it again.
    Faulted,
    /// No longer in the config (kept so late fills of its orders are still attributed).
    Removed,
}

/// An instance: its config, its strategy object while it runs, and what the engine tracks for
/// it (position, live quotes, failures).
pub(crate) struct Instance {
    pub config: StrategyInstance,
    pub name: Arc<str>,
    pub symbol: Arc<str>,
    pub route: usize,
    pub tag: InstanceTag,
    pub strategy: Option<Box<dyn Strategy>>,
    pub status: InstanceStatus,
    pub votes: bool,
    pub failures: u32,
    pub errors_total: u64,
    pub last_error: Option<String>,
    pub position: Position,
    /// Live quote orders: slot → client order id.
    pub quotes: BTreeMap<QuoteId, String>,
    pub metrics: InstanceMetrics,
}

/// The outcome of a guarded call.
pub(crate) enum Call<R> {
    /// The strategy answered.
    Done(R),
    /// It failed (counted); its actions were dropped.
    Failed,
    /// It failed once too often and is now disabled.
    Disabled,
}

impl Instance {
    pub fn new(config: StrategyInstance, route: usize) -> Self {
        let name: Arc<str> = Arc::from(config.name.as_str());
        let symbol: Arc<str> = Arc::from(config.symbol.as_str());
        Self {
            metrics: InstanceMetrics::new(&name, &symbol),
            tag: InstanceTag::of(&name),
            position: Position::flat(config.symbol.as_str(), PositionSide::Both),
            config,
            name,
            symbol,
            route,
            strategy: None,
            status: InstanceStatus::Disabled,
            votes: true,
            failures: 0,
            errors_total: 0,
            last_error: None,
            quotes: BTreeMap::new(),
        }
    }

    /// Runs `strategy`, marking the instance running.
    pub fn start(&mut self, strategy: Box<dyn Strategy>) {
        self.votes = strategy.votes();
        self.strategy = Some(strategy);
        self.status = InstanceStatus::Running;
        self.failures = 0;
        self.metrics.active.set(1.0);
    }

    /// Drops the strategy object and records why.
    pub fn stop(&mut self, status: InstanceStatus) {
        self.strategy = None;
        self.status = status;
        self.metrics.active.set(0.0);
    }

    pub fn is_running(&self) -> bool {
        self.status == InstanceStatus::Running && self.strategy.is_some()
    }

    /// Calls `f` on the strategy, catching panics and counting failures. Actions the call
    /// added are dropped when it fails.
    pub fn guarded<R>(
        &mut self,
        max_failures: u32,
        incidents: &mut Vec<Incident>,
        out: &mut Actions,
        f: impl FnOnce(&mut dyn Strategy, &mut Actions) -> Result<R, StrategyError>,
    ) -> Call<R> {
        let Some(strategy) = self.strategy.as_deref_mut() else {
            return Call::Failed;
        };
        let before = out.len();
        let result = catch_unwind(AssertUnwindSafe(|| f(strategy, &mut *out)));
        let (kind, message) = match result {
            Ok(Ok(value)) => {
                self.failures = 0;
                return Call::Done(value);
            }
            Ok(Err(error)) => (IncidentKind::Error, error.to_string()),
            Err(payload) => (IncidentKind::Panic, panic_message(payload.as_ref())),
        };
        out.truncate(before);
        self.fail(kind, message, max_failures, incidents)
    }

    fn fail<R>(
        &mut self,
        kind: IncidentKind,
        message: String,
        max_failures: u32,
        incidents: &mut Vec<Incident>,
    ) -> Call<R> {
        match kind {
            IncidentKind::Panic => self.metrics.panics.increment(1),
            _ => self.metrics.errors.increment(1),
        }
        self.failures = self.failures.saturating_add(1);
        self.errors_total = self.errors_total.saturating_add(1);
        tracing::warn!(strategy = %self.name, ?kind, failures = self.failures, "{message}");
        self.last_error = Some(message.clone());
        incidents.push(self.incident(kind, message));
        if self.failures < max_failures.max(1) {
            return Call::Failed;
        }
        self.stop(InstanceStatus::Faulted);
        let message = format!("disabled after {} consecutive failures", self.failures);
        tracing::error!(strategy = %self.name, "{message}");
        incidents.push(self.incident(IncidentKind::Disabled, message));
        Call::Disabled
    }

    pub fn incident(&self, kind: IncidentKind, message: String) -> Incident {
        Incident {
            strategy: Some(Arc::clone(&self.name)),
            kind,
            message,
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-text panic payload");
    format!("panicked: {text}")
}
