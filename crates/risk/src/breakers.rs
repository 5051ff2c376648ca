//! Trading circuit breakers (seed 001 REQ-RISK-001): pause opening risk after consecutive
//! losing trades, a drawdown within a rolling window, slow venue round trips, or stale market
//! data. While a breaker is tripped, orders that open or grow a position are refused under its
//! rule; orders that only reduce one pass, so a position can always be closed.
//!
//! When each trips and how it resets is tabled in the crate docs.

use kestrel_model::Money;
use kestrel_model::config::RiskConfig;
use serde::{Deserialize, Serialize};

use crate::events::RiskEvent;
use crate::losses::LossStreak;
use crate::peak::PeakWindow;
use crate::ratio::{self, PERCENT};
use crate::rule::RiskRule;

/// Round trips in a row within the limit that reset the latency breaker.
pub const LATENCY_HEALTHY_SAMPLES: u32 = 3;

/// One of the trading circuit breakers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Breaker {
    /// Too many losing trades in a row.
    ConsecutiveLosses,
    /// Too deep a drawdown within the rolling window.
    WindowDrawdown,
    /// The venue answers too slowly.
    VenueLatency,
    /// A symbol's market data is too old.
    StaleMarketData,
}

/// How a breaker resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetPolicy {
    /// Only an operator resets it.
    Manual,
    /// It resets by itself once the condition is healthy again.
    WhenHealthy,
}

impl Breaker {
    /// Every breaker, in check order.
    pub const ALL: [Self; 4] = [
        Self::ConsecutiveLosses,
        Self::WindowDrawdown,
        Self::VenueLatency,
        Self::StaleMarketData,
    ];

    /// The pre-trade rule that refuses orders while it is tripped (same code).
    #[must_use]
    pub const fn rule(self) -> RiskRule {
        match self {
            Self::ConsecutiveLosses => RiskRule::ConsecutiveLosses,
            Self::WindowDrawdown => RiskRule::WindowDrawdown,
            Self::VenueLatency => RiskRule::VenueLatency,
            Self::StaleMarketData => RiskRule::StaleMarketData,
        }
    }

    /// The stable code (metric label `breaker`).
    #[must_use]
    pub const fn code(self) -> &'static str {
        self.rule().code()
    }

    /// How it resets (module docs).
    #[must_use]
    pub const fn reset_policy(self) -> ResetPolicy {
        match self {
            Self::ConsecutiveLosses | Self::WindowDrawdown => ResetPolicy::Manual,
            Self::VenueLatency | Self::StaleMarketData => ResetPolicy::WhenHealthy,
        }
    }
}

/// Why and since when a breaker is tripped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trip {
    /// Why, with the values and the limit.
    pub reason: String,
    /// When it tripped (ms since the epoch).
    pub since_ms: u64,
}

/// The portfolio-wide breakers (staleness is per symbol and lives with the symbol's state).
#[derive(Debug, Clone)]
pub(crate) struct Breakers {
    /// Tripped consecutive-losses breaker.
    pub losses: Option<Trip>,
    /// Tripped window-drawdown breaker.
    pub drawdown: Option<Trip>,
    /// Tripped latency breaker.
    pub latency: Option<Trip>,
    /// The latest venue round trip.
    pub last_latency_ms: Option<u64>,
    healthy_samples: u32,
    /// Losing trades in a row.
    pub streak: LossStreak,
    /// Equity peaks of the rolling window.
    pub peaks: PeakWindow,
}

/// Trips the breaker held in `slot`, returning the event to publish.
fn set_tripped(slot: &mut Option<Trip>, breaker: Breaker, reason: String, at_ms: u64) -> RiskEvent {
    let event = RiskEvent::BreakerTripped {
        breaker,
        symbol: None,
        reason: reason.clone(),
        at_ms,
    };
    *slot = Some(Trip {
        reason,
        since_ms: at_ms,
    });
    event
}

impl Breakers {
    /// Nothing tripped, nothing seen.
    pub fn new(config: &RiskConfig) -> Self {
        Self {
            losses: None,
            drawdown: None,
            latency: None,
            last_latency_ms: None,
            healthy_samples: 0,
            streak: LossStreak::default(),
            peaks: PeakWindow::new(config.drawdown_window_seconds),
        }
    }

    /// The tripped state of a portfolio-wide breaker (`None` for the per-symbol one).
    pub const fn trip(&self, breaker: Breaker) -> Option<&Trip> {
        match breaker {
            Breaker::ConsecutiveLosses => self.losses.as_ref(),
            Breaker::WindowDrawdown => self.drawdown.as_ref(),
            Breaker::VenueLatency => self.latency.as_ref(),
            Breaker::StaleMarketData => None,
        }
    }

    /// A trade closed with `pnl`; trips when the streak exceeds the limit.
    pub fn on_trade(
        &mut self,
        client_order_id: &str,
        pnl: Money,
        config: &RiskConfig,
        now_ms: u64,
    ) -> Option<RiskEvent> {
        self.streak.record(client_order_id, pnl);
        let count = self.streak.count();
        if self.losses.is_some() || count <= config.max_consecutive_losses {
            return None;
        }
        let reason = format!(
            "{count} losing trades in a row; the limit is max_consecutive_losses {}",
            config.max_consecutive_losses
        );
        Some(set_tripped(
            &mut self.losses,
            Breaker::ConsecutiveLosses,
            reason,
            now_ms,
        ))
    }

    /// Equity is `equity` at `now_ms`; trips when it is the limit or more below the window's
    /// peak.
    pub fn on_equity(
        &mut self,
        equity: Money,
        config: &RiskConfig,
        now_ms: u64,
    ) -> Option<RiskEvent> {
        self.peaks.sample(now_ms, equity);
        if self.drawdown.is_some() {
            return None;
        }
        let peak = self.peaks.peak()?;
        let fall = peak.try_sub(equity).ok()?;
        let limit = config.max_window_drawdown_pct;
        if ratio::compare(fall, peak, PERCENT, limit)?.is_lt() || !fall.is_positive() {
            return None;
        }
        let reason = format!(
            "equity {equity:.2} USDT is {:.2}% below its peak of {peak:.2} USDT within the last {} s; the limit is max_window_drawdown_pct {limit}%",
            ratio::ratio(fall, peak, PERCENT).unwrap_or(limit),
            config.drawdown_window_seconds,
        );
        Some(set_tripped(
            &mut self.drawdown,
            Breaker::WindowDrawdown,
            reason,
            now_ms,
        ))
    }

    /// A venue round trip took `latency_ms`; trips above the limit, resets after
    /// [`LATENCY_HEALTHY_SAMPLES`] healthy ones in a row.
    pub fn on_latency(
        &mut self,
        latency_ms: u64,
        config: &RiskConfig,
        now_ms: u64,
    ) -> Option<RiskEvent> {
        self.last_latency_ms = Some(latency_ms);
        if latency_ms <= config.max_venue_latency_ms {
            self.healthy_samples = self.healthy_samples.saturating_add(1);
            if self.latency.is_some() && self.healthy_samples >= LATENCY_HEALTHY_SAMPLES {
                self.latency = None;
                return Some(reset_event(Breaker::VenueLatency, false, now_ms));
            }
            return None;
        }
        self.healthy_samples = 0;
        if self.latency.is_some() {
            return None;
        }
        let reason = format!(
            "venue round trip took {latency_ms} ms; the limit is max_venue_latency_ms {}",
            config.max_venue_latency_ms
        );
        Some(set_tripped(
            &mut self.latency,
            Breaker::VenueLatency,
            reason,
            now_ms,
        ))
    }

    /// An operator resets `breaker`; returns the event when it was tripped.
    pub fn reset(&mut self, breaker: Breaker, now_ms: u64) -> Option<RiskEvent> {
        let was = match breaker {
            Breaker::ConsecutiveLosses => {
                self.streak.clear();
                self.losses.take()
            }
            Breaker::WindowDrawdown => {
                self.peaks.clear();
                self.drawdown.take()
            }
            Breaker::VenueLatency => {
                self.healthy_samples = 0;
                self.latency.take()
            }
            Breaker::StaleMarketData => None,
        };
        was.map(|_| reset_event(breaker, true, now_ms))
    }
}

/// The event for a reset of a portfolio-wide breaker.
const fn reset_event(breaker: Breaker, manual: bool, at_ms: u64) -> RiskEvent {
    RiskEvent::BreakerReset {
        breaker,
        symbol: None,
        manual,
        at_ms,
    }
}
