//! [`RiskEngine`]: the risk state, the checks over it, the kill switch and the breakers,
//! behind one synchronous API. Events go in ([`feed`]), decisions and snapshots come out
//! ([`report`]), and what should be published queues until drained.

mod feed;
mod report;

use kestrel_model::OrderRequest;
use kestrel_model::config::RiskConfig;

use crate::approval::{Approved, Refused};
use crate::breakers::{Breaker, Breakers, Trip};
use crate::day::DayLedger;
use crate::events::{EventQueue, RiskEvent, RiskRejection};
use crate::frequency::{OrderWindow, request_key};
use crate::kill::{KillSwitch, KillSwitchStatus};
use crate::limits::{self, View};
use crate::peak::PeakWindow;
use crate::refusal::Refusal;
use crate::rule::{RiskRule, Stage};
use crate::state::Portfolio;
use crate::telemetry;

/// The risk core of one trading engine: call it from the engine's thread with the time of
/// each call (ms since the Unix epoch, UTC).
#[derive(Debug, Clone)]
pub struct RiskEngine {
    config: RiskConfig,
    portfolio: Portfolio,
    breakers: Breakers,
    kill: KillSwitch,
    day: DayLedger,
    window: OrderWindow,
    events: EventQueue,
    rejections: [u64; RiskRule::ALL.len()],
    started: bool,
}

impl RiskEngine {
    /// An engine with the `[risk]` limits, no positions, no balance, nothing tripped.
    #[must_use]
    pub fn new(config: RiskConfig) -> Self {
        Self {
            breakers: Breakers::new(&config),
            window: OrderWindow::new(config.max_orders_per_second),
            config,
            portfolio: Portfolio::default(),
            kill: KillSwitch::default(),
            day: DayLedger::default(),
            events: EventQueue::default(),
            rejections: [0; RiskRule::ALL.len()],
            started: false,
        }
    }

    /// The limits in force.
    #[must_use]
    pub const fn config(&self) -> &RiskConfig {
        &self.config
    }

    /// Applies new limits (a `config.changes` hot reload). The frequency window keeps its
    /// recent orders; a new drawdown window length starts its peaks afresh.
    pub fn reconfigure(&mut self, config: RiskConfig) {
        self.window.resize(config.max_orders_per_second);
        if config.drawdown_window_seconds != self.config.drawdown_window_seconds {
            self.breakers.peaks = PeakWindow::new(config.drawdown_window_seconds);
        }
        self.config = config;
    }

    /// Declares the state loaded (balance, positions, marks): the trading day is anchored at
    /// the current equity — or at the first wallet balance, if none has arrived yet — and
    /// drawdown sampling begins. The first [`Self::admit`] or [`Self::on_time`] does this if
    /// the caller has not.
    pub fn start(&mut self, now_ms: u64) {
        if self.started {
            return;
        }
        self.started = true;
        self.anchor_if_ready(now_ms);
    }

    /// Anchors the day once started and funded (the `day` module docs).
    fn anchor_if_ready(&mut self, now_ms: u64) {
        if self.started && self.portfolio.wallet_known() && !self.day.is_anchored() {
            self.day.anchor(now_ms, self.portfolio.equity());
        }
        self.after_change(now_ms);
    }

    fn view(&self, now_ms: u64) -> View<'_> {
        View {
            config: &self.config,
            portfolio: &self.portfolio,
            breakers: &self.breakers,
            kill: &self.kill,
            day: &self.day,
            window: &self.window,
            now_ms,
        }
    }

    /// Runs every check on `order` at `now_ms` without recording anything: the first
    /// refusal, in the order of [`RiskRule::ALL`], or `Ok`.
    ///
    /// # Errors
    /// The first [`Refusal`].
    pub fn check(&self, order: &OrderRequest, now_ms: u64) -> Result<(), Refusal> {
        let mut first = None;
        limits::evaluate(&self.view(now_ms), order, &mut |refusal| {
            first = Some(refusal);
            false
        });
        first.map_or(Ok(()), Err)
    }

    /// Every rule that would refuse `order` at `now_ms`, in check order (diagnostics; records
    /// nothing).
    #[must_use]
    pub fn evaluate_all(&self, order: &OrderRequest, now_ms: u64) -> Vec<Refusal> {
        let mut all = Vec::new();
        limits::evaluate(&self.view(now_ms), order, &mut |refusal| {
            all.push(refusal);
            true
        });
        all
    }

    /// The pre-trade decision for `order` at `stage`: on approval the order takes a slot of
    /// the frequency window (once per `request_id`, so the strategy filter and the execution
    /// validator may both admit it); on refusal the refusal is counted (metric and
    /// [`crate::RiskStatus::rejections`]), logged, and queued as [`RiskEvent::Rejected`].
    ///
    /// # Errors
    /// [`Refused`] with the order and the first refusal.
    #[expect(
        clippy::result_large_err,
        reason = "both arms carry the order by value; boxing would allocate per refusal"
    )]
    pub fn admit(
        &mut self,
        order: OrderRequest,
        stage: Stage,
        now_ms: u64,
    ) -> Result<Approved<OrderRequest>, Refused<OrderRequest>> {
        self.start(now_ms);
        self.advance(now_ms);
        match self.check(&order, now_ms) {
            Ok(()) => {
                self.window.admit(request_key(&order.request_id), now_ms);
                Ok(Approved::new(order, stage, now_ms))
            }
            Err(refusal) => {
                self.count_refusal(&refusal, &order, stage, now_ms);
                Err(Refused {
                    request: order,
                    refusal,
                })
            }
        }
    }

    fn count_refusal(
        &mut self,
        refusal: &Refusal,
        order: &OrderRequest,
        stage: Stage,
        now_ms: u64,
    ) {
        if let Some(slot) = self.rejections.get_mut(refusal.rule.index()) {
            *slot = slot.saturating_add(1);
        }
        telemetry::rejected(stage, refusal.rule);
        tracing::info!(
            rule = refusal.rule.code(),
            request_id = %order.request_id,
            symbol = %order.symbol,
            "{}",
            refusal.message
        );
        let event = RiskRejection::new(refusal, order, stage, now_ms);
        self.events.push(RiskEvent::Rejected(event));
    }

    /// Engages the kill switch: every order but reduce-only and closing ones is refused
    /// until [`Self::release_kill_switch`]. The queued [`RiskEvent::KillSwitchEngaged`] tells
    /// the engine to cancel all open orders and, with `flatten`, to close every position.
    pub fn engage_kill_switch(
        &mut self,
        reason: &str,
        flatten: bool,
        now_ms: u64,
    ) -> KillSwitchStatus {
        let event = self.kill.engage(reason, flatten, now_ms);
        tracing::error!(reason, flatten, "risk: kill switch engaged");
        self.events.push(event);
        self.kill.status()
    }

    /// Releases the kill switch; whether it was engaged.
    pub fn release_kill_switch(&mut self, now_ms: u64) -> bool {
        let Some(event) = self.kill.release(now_ms) else {
            return false;
        };
        tracing::warn!("risk: kill switch released");
        self.events.push(event);
        true
    }

    /// The kill switch's state.
    #[must_use]
    pub fn kill_switch(&self) -> KillSwitchStatus {
        self.kill.status()
    }

    /// An operator resets `breaker` (the only way the consecutive-losses and window-drawdown
    /// breakers reset); whether it was tripped. The staleness breaker resets only with data.
    pub fn reset_breaker(&mut self, breaker: Breaker, now_ms: u64) -> bool {
        let Some(event) = self.breakers.reset(breaker, now_ms) else {
            return false;
        };
        tracing::warn!(breaker = breaker.code(), "risk: breaker reset by operator");
        self.events.push(event);
        true
    }

    /// Why and since when a portfolio-wide breaker is tripped (`None` when it is not, and
    /// always for the per-symbol staleness breaker: see [`Self::status`]).
    #[must_use]
    pub const fn breaker_trip(&self, breaker: Breaker) -> Option<&Trip> {
        self.breakers.trip(breaker)
    }

    /// Takes the events queued since the last drain, oldest first, for the caller to publish.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, RiskEvent> {
        self.events.drain()
    }

    /// Queues an event, counting and logging breaker trips.
    fn emit(&mut self, event: RiskEvent) {
        if let RiskEvent::BreakerTripped {
            breaker, reason, ..
        } = &event
        {
            telemetry::tripped(*breaker);
            tracing::warn!(breaker = breaker.code(), "risk: breaker tripped: {reason}");
        }
        self.events.push(event);
    }
}
