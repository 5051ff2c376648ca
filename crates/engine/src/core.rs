//! [`TradingCore`]: the deterministic heart of the system (ARCHITECTURE.md principle 2). One
//! owner, no locks, no I/O, time as an argument: market events go to the strategies, what they
//! ask for goes through the risk manager's pre-trade checks, and the core hands back the
//! [`CoreAction`]s (orders to place, orders to cancel) for the async edge to give the execution
//! engine. Fills and closed orders come back in and reach the strategies and the risk state.
//!
//! The same core runs live, on the simulator and in a backtest; only what feeds it changes.

use kestrel_exec::Veto;
use kestrel_model::book::OrderBook;
use kestrel_model::config::{RiskConfig, StrategiesConfig};
use kestrel_model::event::MarketEvent;
use kestrel_model::order::PositionSide;
use kestrel_model::position::Position;
use kestrel_model::{Fill, OrderRequest};
use kestrel_risk::{
    FlattenOrder, KillSwitchStatus, RiskEngine, RiskEvent, RiskRule, RiskStatus, Stage,
};
use kestrel_strategy::{
    CloseReason, ConfigError, InstanceState, MarketState, OpenOrder, OrderCommand, Outbox,
    ReloadReport, SetupError, StrategyEngine,
};
use serde::Serialize;

/// How long new strategy orders wait after an order-frequency refusal.
const THROTTLE_MS: u64 = 100;

/// Levels of each side a strategy sees.
pub const VIEW_DEPTH: usize = 10;

/// What the core asks the execution side to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreAction {
    /// Place this order (it passed the risk checks).
    Place(OrderRequest),
    /// Cancel one order.
    Cancel {
        /// Its symbol.
        symbol: String,
        /// Its client order id.
        client_order_id: String,
    },
}

/// The trading core (module docs).
pub struct TradingCore {
    strategies: StrategyEngine,
    risk: RiskEngine,
    markets: Vec<MarketState>,
    outbox: Outbox,
    actions: Vec<CoreAction>,
    halted: Option<String>,
    /// Until when new orders are closed back to their strategies without asking risk: set
    /// when risk refuses for order frequency, so a market maker that re-quotes on every event
    /// does not turn each event into a refusal (log line, event, metric) while the window is
    /// full.
    throttled_until_ms: u64,
    throttled: metrics::Counter,
}

impl std::fmt::Debug for TradingCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TradingCore")
            .field("strategies", &self.strategies)
            .field("halted", &self.halted)
            .finish_non_exhaustive()
    }
}

/// The core's state for `/status`.
#[derive(Debug, Clone, Serialize)]
pub struct CoreStatus {
    /// Why strategies are halted (the kill switch), if they are.
    pub strategies_halted: Option<String>,
    /// Every strategy instance: status, position, state.
    pub strategies: Vec<InstanceState>,
    /// The risk manager: kill switch, breakers, limits, exposure.
    pub risk: RiskStatus,
}

impl TradingCore {
    /// A core running `strategies` under `risk` for `symbols`.
    #[must_use]
    pub fn new(strategies: StrategyEngine, risk: RiskEngine, symbols: &[String]) -> Self {
        Self {
            strategies,
            risk,
            markets: symbols
                .iter()
                .map(|s| MarketState::new(s.clone(), VIEW_DEPTH))
                .collect(),
            outbox: Outbox::default(),
            actions: Vec::with_capacity(16),
            halted: None,
            throttled_until_ms: 0,
            throttled: metrics::counter!(
                kestrel_model::telemetry::names::STRATEGY_ORDERS_THROTTLED_TOTAL
            ),
        }
    }

    /// One market event; `book` is the symbol's maintained book, read for depth diffs.
    /// Returns what to do (valid until the next call).
    pub fn on_market(
        &mut self,
        event: &MarketEvent<'_>,
        book: Option<&OrderBook>,
        now_ms: u64,
    ) -> &[CoreAction] {
        self.actions.clear();
        let symbol = event.symbol();
        let Some(state) = self.markets.iter_mut().find(|m| m.view().symbol == symbol) else {
            return &self.actions;
        };
        if matches!(event, MarketEvent::Depth(_)) {
            let Some(book) = book else {
                return &self.actions;
            };
            state.apply_book(book, event_time_ms(event));
        } else if !state.apply(event) {
            return &self.actions;
        }
        let view = state.view();
        self.risk.on_market_data(symbol, now_ms);
        if let Some(mid) = view.mid() {
            // The mid stands in for the mark until the mark-price stream feeds the core.
            let _ = self.risk.on_mark_price(symbol, mid, now_ms);
        }
        if self.halted.is_none() {
            self.strategies.on_market(&view, &mut self.outbox);
        }
        self.settle(now_ms);
        &self.actions
    }

    /// A fill of one of our orders.
    pub fn on_fill(&mut self, fill: &Fill, now_ms: u64) -> &[CoreAction] {
        self.actions.clear();
        if let Err(error) = self.risk.on_fill(fill, PositionSide::Both, now_ms) {
            tracing::warn!(target: "kestrel::engine", %error, "risk could not take a fill");
        }
        self.strategies.on_fill(fill, &mut self.outbox);
        self.settle(now_ms);
        &self.actions
    }

    /// One of our orders ended without filling completely.
    pub fn on_order_closed(
        &mut self,
        client_order_id: &str,
        reason: CloseReason,
        now_ms: u64,
    ) -> &[CoreAction] {
        self.actions.clear();
        self.strategies
            .on_order_closed(client_order_id, reason, now_ms, &mut self.outbox);
        self.settle(now_ms);
        &self.actions
    }

    /// The account's wallet balance, for the risk manager's equity.
    pub fn on_wallet_balance(&mut self, wallet: kestrel_model::Money, now_ms: u64) {
        self.risk.on_wallet_balance(wallet, now_ms);
    }

    /// The passing of time: day rolls, breaker trips for stale data and resets.
    pub fn on_time(&mut self, now_ms: u64) {
        self.risk.on_time(now_ms);
    }

    /// A venue round trip (an order sent → its acknowledgement) took `latency_ms`: feeds the
    /// venue-latency breaker.
    pub fn on_venue_latency(&mut self, latency_ms: u64, now_ms: u64) {
        self.risk.on_venue_latency(latency_ms, now_ms);
    }

    /// Takes the risk events since the last call, oldest first — refusals (each already
    /// counted by reason in the metrics), breaker trips and resets, kill switch changes, day
    /// rolls — for the log and the `risk.events` topic.
    pub fn drain_events(&mut self) -> impl Iterator<Item = RiskEvent> + '_ {
        self.risk.drain_events()
    }

    /// Engages the kill switch and halts the strategies; returns the orders that would close
    /// every position (for the caller to send when flattening was asked).
    pub fn kill(&mut self, reason: &str, flatten: bool, now_ms: u64) -> Vec<FlattenOrder> {
        self.risk.engage_kill_switch(reason, flatten, now_ms);
        self.halted = Some(reason.to_owned());
        if flatten {
            self.risk.flatten_plan()
        } else {
            Vec::new()
        }
    }

    /// Releases the kill switch and lets the strategies trade again; whether it was engaged.
    pub fn resume(&mut self, now_ms: u64) -> bool {
        self.halted = None;
        self.risk.release_kill_switch(now_ms)
    }

    /// Applies a changed configuration (hot reload): the strategies' instances and the risk
    /// limits. All of the strategies' change or none of it; returns what changed, and the
    /// cancels of withdrawn quotes as actions.
    ///
    /// # Errors
    /// The strategies' refusal, naming each refused instance; nothing changed then.
    pub fn reload(
        &mut self,
        strategies: &StrategiesConfig,
        risk: RiskConfig,
        now_ms: u64,
    ) -> Result<(ReloadReport, Vec<CoreAction>), ConfigError> {
        self.actions.clear();
        let report = self.strategies.apply_config(strategies, &mut self.outbox)?;
        self.risk.reconfigure(risk);
        self.settle(now_ms);
        Ok((report, std::mem::take(&mut self.actions)))
    }

    /// Start-up recovery of instance `name`: its open orders at the venue (those carrying its
    /// tag are adopted or cancelled) and its position rebuilt from its stored fills.
    ///
    /// # Errors
    /// The strategy engine's refusal (unknown or stopped instance, position of another symbol).
    pub fn recover(
        &mut self,
        name: &str,
        open_orders: &[OpenOrder],
        position: Position,
        now_ms: u64,
    ) -> Result<&[CoreAction], SetupError> {
        self.actions.clear();
        self.strategies
            .recover(name, open_orders, position, now_ms, &mut self.outbox)?;
        self.settle(now_ms);
        Ok(&self.actions)
    }

    /// The risk manager's verdict on an order from outside the strategies (the order API):
    /// admitted into the risk state like a strategy's order, or refused with the rule's code
    /// (`risk_{rule}`) and message, the refusal counted and queued as an event.
    pub fn vet(&mut self, request: OrderRequest, now_ms: u64) -> Option<Veto> {
        match self.risk.admit(request, Stage::Order, now_ms) {
            Ok(_) => None,
            Err(refused) => Some(Veto {
                code: format!("risk_{}", refused.refusal.rule.code()),
                message: refused.refusal.message,
            }),
        }
    }

    /// The kill switch's state.
    #[must_use]
    pub fn kill_switch(&self) -> KillSwitchStatus {
        self.risk.kill_switch()
    }

    /// Everything `/status` shows of the core.
    #[must_use]
    pub fn status(&self, now_ms: u64) -> CoreStatus {
        CoreStatus {
            strategies_halted: self.halted.clone(),
            strategies: self.strategies.states(),
            risk: self.risk.status(now_ms),
        }
    }

    /// Puts the strategies' commands through risk: approved orders and cancels become
    /// actions; a refused order is closed back to its strategy (which may ask again).
    fn settle(&mut self, now_ms: u64) {
        // A refusal tells the strategy, which may produce more commands: a few rounds at most.
        for _ in 0..4 {
            if self.outbox.commands.is_empty() {
                break;
            }
            let commands = std::mem::take(&mut self.outbox.commands);
            for command in commands {
                self.take(command, now_ms);
            }
        }
        self.outbox.clear();
    }

    fn take(&mut self, command: OrderCommand, now_ms: u64) {
        match command {
            OrderCommand::Place(place) if now_ms < self.throttled_until_ms => {
                self.throttled.increment(1);
                let id = place.request.request_id;
                self.strategies.on_order_closed(
                    &id,
                    CloseReason::RefusedByRisk,
                    now_ms,
                    &mut self.outbox,
                );
            }
            OrderCommand::Place(place) => {
                match self.risk.admit(place.request, Stage::Signal, now_ms) {
                    Ok(approved) => self.actions.push(CoreAction::Place(approved.into_inner())),
                    Err(refused) => {
                        if refused.refusal.rule == RiskRule::OrderFrequency {
                            self.throttled_until_ms = now_ms.saturating_add(THROTTLE_MS);
                        }
                        let id = refused.request.request_id;
                        self.strategies.on_order_closed(
                            &id,
                            CloseReason::RefusedByRisk,
                            now_ms,
                            &mut self.outbox,
                        );
                    }
                }
            }
            OrderCommand::Cancel(cancel) => self.actions.push(CoreAction::Cancel {
                symbol: cancel.symbol.to_string(),
                client_order_id: cancel.client_order_id,
            }),
        }
    }
}

fn event_time_ms(event: &MarketEvent<'_>) -> u64 {
    match event {
        MarketEvent::Depth(d) => d.event_time_ms,
        MarketEvent::BookTicker(t) => t.event_time_ms,
        MarketEvent::Trade(t) => t.event_time_ms,
        MarketEvent::Snapshot(s) => s.event_time_ms,
    }
}
