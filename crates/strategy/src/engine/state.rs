//! [`InstanceState`]: what the dashboard shows of each instance.

use std::panic::{AssertUnwindSafe, catch_unwind};

use kestrel_model::money::{Money, Price};
use kestrel_model::position::Position;
use serde::Serialize;

use super::StrategyEngine;
use super::instance::InstanceStatus;

/// One instance as the dashboard shows it: config, health, position (seed FR-SE-007
/// `Position`) and the strategy's own state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceState {
    /// The instance name.
    pub name: String,
    /// Its strategy type.
    pub kind: String,
    /// Its symbol.
    pub symbol: String,
    /// Running, disabled, faulted or removed.
    pub status: InstanceStatus,
    /// Failures in a row (reset by a success).
    pub consecutive_failures: u32,
    /// Failures since it was created.
    pub errors_total: u64,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// The position attributed to it.
    pub position: Position,
    /// The symbol's last mid price.
    pub current_price: Option<Price>,
    /// Unrealized P&L of the position at `current_price`.
    pub unrealized_pnl: Option<Money>,
    /// How many quote slots hold an order.
    pub live_quotes: usize,
    /// The strategy's own state (`null` when it is not running or its `state` panicked).
    pub strategy: serde_json::Value,
}

impl StrategyEngine {
    /// Every instance's state, in config order (removed ones last).
    #[must_use]
    pub fn states(&self) -> Vec<InstanceState> {
        let removed = self
            .instances
            .iter()
            .enumerate()
            .filter(|(id, _)| !self.order.contains(id));
        let listed = self
            .order
            .iter()
            .filter_map(|&id| self.instances.get(id).map(|i| (id, i)));
        listed
            .chain(removed)
            .map(|(_, inst)| {
                let current_price = self.routes.get(inst.route).and_then(|r| r.mid);
                let strategy = inst
                    .strategy
                    .as_deref()
                    .map_or(serde_json::Value::Null, |s| {
                        catch_unwind(AssertUnwindSafe(|| s.state()))
                            .unwrap_or(serde_json::Value::Null)
                    });
                InstanceState {
                    name: inst.config.name.clone(),
                    kind: inst.config.kind.clone(),
                    symbol: inst.config.symbol.clone(),
                    status: inst.status,
                    consecutive_failures: inst.failures,
                    errors_total: inst.errors_total,
                    last_error: inst.last_error.clone(),
                    position: inst.position.clone(),
                    current_price,
                    unrealized_pnl: current_price
                        .and_then(|p| inst.position.unrealized_pnl(p).ok()),
                    live_quotes: inst.quotes.len(),
                    strategy,
                }
            })
            .collect()
    }
}
