//! The [`StrategyEngine`]: routing, isolation, aggregation, order generation, position
//! tracking and hot reload for every configured instance.
//!
//! # Driving it
//!
//! The engine is a synchronous state machine owned by the trading core's thread. Every entry
//! point takes an [`Outbox`] the caller drains afterwards:
//!
//! | call | when |
//! |---|---|
//! | [`StrategyEngine::new`] | at start, from `[strategies]` and the instruments |
//! | [`StrategyEngine::recover`] | at start, per instance, with the venue's open orders and the position |
//! | [`StrategyEngine::on_market`] | after each market event, with the symbol's [`crate::MarketView`] |
//! | [`StrategyEngine::on_fill`] | for each fill of an order the engine generated |
//! | [`StrategyEngine::on_order_closed`] | when one of its orders is cancelled, rejected, expired, or refused by risk |
//! | [`StrategyEngine::apply_config`] | on a config change (hot reload); [`StrategyEngine::add_instrument`] first for a new symbol |
//! | [`StrategyEngine::restart`] | when an operator restarts a faulted instance |
//! | [`StrategyEngine::states`], [`StrategyEngine::position`] | for the dashboard and `/status` |
//!
//! [`OrderCommand::Place`]s go through the risk check and then to execution; a refusal comes
//! back as `on_order_closed(id, CloseReason::RefusedByRisk, ..)`. In observation mode
//! ([`EngineSettings::execution_mode`]) no order command is produced at all and quotes are
//! reported closed at once. [`OrderCommand::Cancel`]s go straight to execution. Every call
//! returns in microseconds and never blocks; a strategy's panic is caught (the process's
//! panic hook still sees it, so the binary should install one that logs instead of printing).
//!
//! # One market event
//!
//! 1. Find the symbol's route; remember its touch; cancel resting signal orders that expired.
//! 2. Call each running instance of the symbol, in config order, inside a panic guard.
//! 3. Stamp each signal. Exits (and signals of instances that do not vote) become orders
//!    straight away; quotes become post-only orders or cancels; the first entry signal of
//!    each voting instance is its ballot.
//! 4. Aggregate the ballots ([`crate::aggregate`]); a winning side becomes one order sized by
//!    the sum of the contributors' `order_size`, priced by urgency ([`crate::pricing`]).

mod generate;
mod instance;
mod ledger;
mod output;
mod quotes;
mod recover;
mod reload;
mod settle;
mod signals;
mod state;
mod telemetry;

pub use instance::InstanceStatus;
pub use output::{
    CancelOrder, CancelReason, CloseReason, Incident, IncidentKind, OrderCommand, Origin, Outbox,
    PlaceOrder,
};
pub use reload::{InstanceChange, ReloadChange, ReloadReport};
pub use state::InstanceState;

use std::collections::BTreeMap;
use std::sync::Arc;

use kestrel_model::config::StrategiesConfig;
use kestrel_model::instrument::Instrument;
use kestrel_model::order::ExecutionMode;
use kestrel_model::position::Position;

use self::instance::{Call, Instance};
use self::ledger::Ledger;
use crate::action::{Actions, QuoteId};
use crate::aggregate::AggregationRule;
use crate::error::ConfigError;
use crate::market::MarketView;
use crate::pricing::Touch;
use crate::registry::Registry;

/// Engine-wide settings that are not per instance.
#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// Consecutive failures (errors or panics) after which an instance is disabled.
    pub max_consecutive_failures: u32,
    /// How long a post-only order from a signal may rest before the engine cancels it.
    pub resting_order_ttl_ms: u64,
    /// Ticks beyond the far touch an aggressive order's IOC limit may reach.
    pub aggressive_slippage_ticks: u32,
    /// Stamped on every request; `Observation` produces no order commands at all.
    pub execution_mode: ExecutionMode,
    /// A monotonic nanosecond clock to time strategies for
    /// `strategy_execution_latency_microseconds`; `None` skips timing. It only measures, it
    /// never decides anything.
    pub latency_clock: Option<fn() -> u64>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            max_consecutive_failures: 3,
            resting_order_ttl_ms: 5_000,
            aggressive_slippage_ticks: 0,
            execution_mode: ExecutionMode::Live,
            latency_clock: None,
        }
    }
}

/// One symbol: its instrument, its running instances in config order, its last touch.
struct Route {
    symbol: Arc<str>,
    instrument: Instrument,
    instances: Vec<usize>,
    touch: Touch,
    mid: Option<kestrel_model::money::Price>,
    aggregated: metrics::Counter,
}

impl Route {
    fn new(instrument: Instrument) -> Self {
        Self {
            symbol: Arc::from(instrument.symbol.as_str()),
            aggregated: telemetry::aggregated(&instrument.symbol),
            instrument,
            instances: Vec::new(),
            touch: Touch::default(),
            mid: None,
        }
    }
}

/// The strategy engine (seed 000 Strategy Engine).
pub struct StrategyEngine {
    settings: EngineSettings,
    registry: Registry,
    rule: AggregationRule,
    routes: Vec<Route>,
    instances: Vec<Instance>,
    by_name: BTreeMap<String, usize>,
    /// Running and disabled instances in config order.
    order: Vec<usize>,
    ledger: Ledger,
    next_seq: u64,
    scratch: Actions,
    ballots: Vec<(usize, usize)>,
    closures: Vec<(usize, QuoteId)>,
}

impl std::fmt::Debug for StrategyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategyEngine")
            .field("settings", &self.settings)
            .field("rule", &self.rule)
            .field("instances", &self.by_name.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl StrategyEngine {
    /// An engine running `config`'s instances with strategies from `registry`, on the given
    /// instruments (one per symbol an instance may trade).
    ///
    /// # Errors
    /// [`ConfigError`] listing every instance that cannot be created (unknown type, bad
    /// parameter, symbol without an instrument, duplicate name); nothing runs then.
    pub fn new(
        config: &StrategiesConfig,
        registry: Registry,
        instruments: impl IntoIterator<Item = Instrument>,
        settings: EngineSettings,
    ) -> Result<Self, ConfigError> {
        let routes = instruments.into_iter().map(Route::new).collect();
        let mut engine = Self {
            settings,
            registry,
            rule: AggregationRule {
                method: config.aggregation,
                threshold_pct: config.aggregation_threshold_pct,
            },
            routes,
            instances: Vec::new(),
            by_name: BTreeMap::new(),
            order: Vec::new(),
            ledger: Ledger::default(),
            next_seq: 0,
            scratch: Actions::with_capacity(16),
            ballots: Vec::with_capacity(8),
            closures: Vec::new(),
        };
        let mut out = Outbox::default();
        engine.apply_config(config, &mut out)?;
        Ok(engine)
    }

    /// Adds the trading rules of a symbol, or replaces them (after an `exchangeInfo` refresh),
    /// so instances can trade it from the next [`StrategyEngine::apply_config`].
    pub fn add_instrument(&mut self, instrument: Instrument) {
        if let Some(route) = self
            .routes
            .iter_mut()
            .find(|r| *r.symbol == *instrument.symbol)
        {
            route.instrument = instrument;
            return;
        }
        self.routes.push(Route::new(instrument));
    }

    /// The aggregation method and threshold in force.
    #[must_use]
    pub const fn aggregation(&self) -> AggregationRule {
        self.rule
    }

    /// The tracked position of instance `name` (FR-SE-007), if it exists.
    #[must_use]
    pub fn position(&self, name: &str) -> Option<&Position> {
        self.instance(name).map(|i| &i.position)
    }

    /// The status of instance `name`, if it exists.
    #[must_use]
    pub fn status(&self, name: &str) -> Option<InstanceStatus> {
        self.instance(name).map(|i| i.status)
    }

    fn instance(&self, name: &str) -> Option<&Instance> {
        self.by_name.get(name).and_then(|&i| self.instances.get(i))
    }

    fn route_of(&self, symbol: &str) -> Option<usize> {
        // A linear scan: an engine trades a handful of symbols, and comparing a few short
        // strings beats hashing one.
        self.routes.iter().position(|r| &*r.symbol == symbol)
    }

    /// Runs one market event through the symbol's instances, the vote and order generation.
    pub fn on_market(&mut self, view: &MarketView<'_>, out: &mut Outbox) {
        let Some(route) = self.route_of(view.symbol) else {
            return;
        };
        if let Some(r) = self.routes.get_mut(route) {
            r.touch = Touch {
                bid: view.best_bid.map(|l| l.price),
                ask: view.best_ask.map(|l| l.price),
            };
            r.mid = view.mid().or(r.mid);
        }
        if self.ledger.has_expired(view.time_ms) {
            self.cancel_expired(view.time_ms, out);
        }
        self.ballots.clear();
        let count = self.routes.get(route).map_or(0, |r| r.instances.len());
        for k in 0..count {
            let Some(&id) = self.routes.get(route).and_then(|r| r.instances.get(k)) else {
                break;
            };
            self.run_market(id, view, out);
        }
        if !self.ballots.is_empty() {
            self.vote(route, view.time_ms, out);
        }
        self.deliver_closures(view.time_ms, out);
    }

    fn run_market(&mut self, id: usize, view: &MarketView<'_>, out: &mut Outbox) {
        let max = self.settings.max_consecutive_failures;
        let clock = self.settings.latency_clock;
        let mut actions = std::mem::take(&mut self.scratch);
        let Some(inst) = self.instances.get_mut(id) else {
            return;
        };
        if !inst.is_running() {
            self.scratch = actions;
            return;
        }
        let started = clock.map(|now| now());
        let call = inst.guarded(max, &mut out.incidents, &mut actions, |s, a| {
            s.on_market_data(view, a)
        });
        if let (Some(now), Some(started)) = (clock, started) {
            inst.metrics.latency(now().saturating_sub(started));
        }
        if matches!(call, Call::Disabled) {
            self.withdraw(id, out);
        }
        self.apply_actions(id, &mut actions, true, view.time_ms, out);
        self.scratch = actions;
    }
}

#[cfg(test)]
mod tests;
