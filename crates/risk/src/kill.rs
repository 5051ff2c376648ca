//! The kill switch: an operator's (or a supervisor's) stop, engaged until released. What it
//! lets through (orders the venue will not let grow a position) and what the engine does on
//! [`RiskEvent::KillSwitchEngaged`] (cancel all, flatten on request) are in the crate docs.

use kestrel_model::order::PositionSide;
use kestrel_model::{Qty, Side};
use serde::{Deserialize, Serialize};

use crate::events::RiskEvent;

/// The kill switch's state, for `/status` and the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillSwitchStatus {
    /// Whether trading is halted.
    pub engaged: bool,
    /// Why, while engaged.
    pub reason: Option<String>,
    /// Since when (ms since the epoch), while engaged.
    pub since_ms: Option<u64>,
    /// Whether closing every position was asked for.
    pub flatten: bool,
}

/// One order the engine sends to close a position while flattening: a reduce-only market
/// order (one-way) or a closing market order on the leg (hedge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlattenOrder {
    /// The symbol.
    pub symbol: String,
    /// The leg it closes (`Both` in one-way mode).
    pub position_side: PositionSide,
    /// The closing side (opposite the position).
    pub side: Side,
    /// The whole position, positive.
    pub quantity: Qty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Engagement {
    reason: String,
    since_ms: u64,
    flatten: bool,
}

/// Engaged or not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KillSwitch {
    engaged: Option<Engagement>,
}

impl KillSwitch {
    /// Whether trading is halted.
    pub const fn is_engaged(&self) -> bool {
        self.engaged.is_some()
    }

    /// Engages (or, when already engaged, keeps the first reason and time and adds the
    /// flatten request if this one asks for it).
    pub fn engage(&mut self, reason: &str, flatten: bool, now_ms: u64) -> RiskEvent {
        let engagement = self.engaged.get_or_insert_with(|| Engagement {
            reason: reason.to_owned(),
            since_ms: now_ms,
            flatten,
        });
        engagement.flatten |= flatten;
        RiskEvent::KillSwitchEngaged {
            reason: engagement.reason.clone(),
            flatten: engagement.flatten,
            since_ms: engagement.since_ms,
            at_ms: now_ms,
        }
    }

    /// Releases; the event when it was engaged.
    pub fn release(&mut self, now_ms: u64) -> Option<RiskEvent> {
        self.engaged
            .take()
            .map(|engagement| RiskEvent::KillSwitchReleased {
                reason: engagement.reason,
                engaged_since_ms: engagement.since_ms,
                at_ms: now_ms,
            })
    }

    /// The state for `/status`.
    pub fn status(&self) -> KillSwitchStatus {
        self.engaged
            .as_ref()
            .map_or_else(KillSwitchStatus::default, |e| KillSwitchStatus {
                engaged: true,
                reason: Some(e.reason.clone()),
                since_ms: Some(e.since_ms),
                flatten: e.flatten,
            })
    }

    /// Why it is engaged, if it is.
    pub fn reason(&self) -> Option<&str> {
        self.engaged.as_ref().map(|e| e.reason.as_str())
    }
}
