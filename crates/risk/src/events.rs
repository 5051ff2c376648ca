//! [`RiskEvent`]: what the risk core wants the world to know — refusals, breaker trips and
//! resets, the kill switch, the day roll — as serialisable values the caller publishes on the
//! bus (`alerts`). The crate does no I/O: events queue inside the engine until the caller
//! drains them ([`crate::RiskEngine::drain_events`]).

use kestrel_model::{Money, Qty, Side};
use serde::{Deserialize, Serialize};

use crate::breakers::Breaker;
use crate::refusal::{Measure, Refusal};
use crate::rule::{RiskRule, Stage};

/// Events kept while nobody drains them; beyond this the newest are dropped and counted
/// ([`crate::RiskStatus::events_dropped`]), so a caller that never drains cannot grow memory.
pub const EVENT_QUEUE_CAPACITY: usize = 1_024;

/// How urgent an event is (the seed's `Alert.severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For the record (a refusal: "log info, don't send order, publish rejection event").
    Info,
    /// Trading is limited until something changes.
    Warning,
    /// Something failed.
    Error,
    /// Trading is halted.
    Critical,
}

/// One refused order, for the `risk.events` topic (seed 000: "publish rejection event").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskRejection {
    /// Which check refused it.
    pub stage: Stage,
    /// The order's idempotency key.
    pub request_id: String,
    /// The order's symbol.
    pub symbol: String,
    /// The order's side.
    pub side: Side,
    /// The order's quantity.
    pub quantity: Qty,
    /// The rule (stable code).
    pub rule: RiskRule,
    /// What the rule measured.
    pub observed: Measure,
    /// The limit.
    pub limit: Measure,
    /// The refusal in words.
    pub message: String,
    /// When (ms since the epoch).
    pub at_ms: u64,
}

impl RiskRejection {
    /// The event for `refusal` of an order.
    pub(crate) fn new(
        refusal: &Refusal,
        order: &kestrel_model::OrderRequest,
        stage: Stage,
        at_ms: u64,
    ) -> Self {
        Self {
            stage,
            request_id: order.request_id.clone(),
            symbol: order.symbol.clone(),
            side: order.side,
            quantity: order.quantity,
            rule: refusal.rule,
            observed: refusal.observed,
            limit: refusal.limit,
            message: refusal.message.clone(),
            at_ms,
        }
    }
}

/// Something the caller should publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RiskEvent {
    /// An order was refused.
    Rejected(RiskRejection),
    /// A breaker tripped: orders that open or grow positions are refused until it resets.
    BreakerTripped {
        /// Which breaker.
        breaker: Breaker,
        /// The symbol, for the per-symbol staleness breaker.
        symbol: Option<String>,
        /// Why, with the values and the limit.
        reason: String,
        /// When (ms since the epoch).
        at_ms: u64,
    },
    /// A breaker reset.
    BreakerReset {
        /// Which breaker.
        breaker: Breaker,
        /// The symbol, for the per-symbol staleness breaker.
        symbol: Option<String>,
        /// Whether an operator reset it (otherwise it reset by itself when healthy).
        manual: bool,
        /// When (ms since the epoch).
        at_ms: u64,
    },
    /// The kill switch was engaged (or engaged again, possibly now asking to flatten).
    KillSwitchEngaged {
        /// Why.
        reason: String,
        /// Whether the engine must also close every position (it always cancels open orders).
        flatten: bool,
        /// When it was first engaged (ms since the epoch).
        since_ms: u64,
        /// When this event happened.
        at_ms: u64,
    },
    /// The kill switch was released; trading resumes.
    KillSwitchReleased {
        /// Why it had been engaged.
        reason: String,
        /// When it had been engaged.
        engaged_since_ms: u64,
        /// When it was released.
        at_ms: u64,
    },
    /// A new UTC day began: the daily loss and drawdown limits count from zero again.
    DayRolled {
        /// The start of the new day (ms since the epoch).
        day_start_ms: u64,
        /// The P&L of the day that ended.
        previous_day_pnl: Money,
        /// The new day's opening equity.
        open_equity: Money,
    },
}

impl RiskEvent {
    /// How urgent the event is, for the caller's alert.
    #[must_use]
    pub const fn severity(&self) -> Severity {
        match self {
            Self::Rejected(_) | Self::BreakerReset { .. } | Self::DayRolled { .. } => {
                Severity::Info
            }
            Self::BreakerTripped { .. } | Self::KillSwitchReleased { .. } => Severity::Warning,
            Self::KillSwitchEngaged { .. } => Severity::Critical,
        }
    }
}

/// Events waiting to be drained, bounded by [`EVENT_QUEUE_CAPACITY`].
#[derive(Debug, Clone, Default)]
pub(crate) struct EventQueue {
    events: Vec<RiskEvent>,
    dropped: u64,
}

impl EventQueue {
    /// Queues `event`, or counts it dropped when the queue is full.
    pub fn push(&mut self, event: RiskEvent) {
        if self.events.len() < EVENT_QUEUE_CAPACITY {
            self.events.push(event);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// Takes every queued event, oldest first.
    pub fn drain(&mut self) -> std::vec::Drain<'_, RiskEvent> {
        self.events.drain(..)
    }

    /// Events dropped because the queue was full.
    pub const fn dropped(&self) -> u64 {
        self.dropped
    }
}
