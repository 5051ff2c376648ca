//! Kestrel's risk manager: pre-trade checks, limits, kill switch, trading circuit breakers,
//! and the VaR and stress figures of seed 003.
//!
//! # What it owns
//!
//! One deterministic, synchronous core, [`RiskEngine`], that both the strategy engine's risk
//! filter (seed 000 FR-SE-005) and the execution engine's pre-trade validation call. It holds
//! the state the checks read — positions per symbol and leg, marks, market-data times,
//! wallet and equity, the UTC day's opening equity, the losing streak, equity peaks, venue
//! latency — and is updated by events the caller feeds it (`on_fill`, `on_position`,
//! `on_wallet_balance`, `on_mark_price`, `on_market_data`, `on_venue_latency`, `on_time`).
//! The limits are the `[risk]` section of the config ([`kestrel_model::config::RiskConfig`]).
//!
//! # What it must not do
//!
//! No I/O, no tasks, no locks, no clock: every call takes the time as `now_ms`, milliseconds
//! since the Unix epoch (UTC) — the same clock as the venue's fill and balance timestamps —
//! so a backtest replays exactly what happened live. It never panics on input and never uses
//! `f64` for money: amounts are the model's fixed-point [`kestrel_model::Money`], and ratios
//! (drawdown percentages, leverage) are decided by exact integer cross-multiplication
//! (the `ratio` module). What must reach the outside — refusals, breaker trips, the kill
//! switch — is counted with the `metrics` facade and queued as serialisable [`RiskEvent`]s
//! for the caller to publish ([`RiskEngine::drain_events`]).
//!
//! # The decision
//!
//! [`RiskEngine::admit`] runs the checks below in this fixed order ([`RiskRule::ALL`]) and
//! stops at the first refusal; [`RiskEngine::check`] does the same without recording
//! anything, and [`RiskEngine::evaluate_all`] lists every failing rule for diagnostics. An
//! approval is an [`Approved`] value that only this crate can make.
//!
//! | # | rule | refuses when | spares reductions |
//! |---|---|---|---|
//! | 1 | `invalid_quantity` | quantity ≤ 0 (not a close-position order) | no |
//! | 2 | `kill_switch` | the kill switch is engaged and the order is not reduce-only / closing | no (needs the flag) |
//! | 3 | `consecutive_losses` | the breaker is tripped | yes |
//! | 4 | `window_drawdown` | the breaker is tripped | yes |
//! | 5 | `venue_latency` | the breaker is tripped | yes |
//! | 6 | `stale_market_data` | the symbol's data is older than `max_market_data_staleness_ms` (strictly), or absent | yes |
//! | 7 | `daily_loss` | loss since UTC midnight ≥ `max_daily_loss_usdt` | yes |
//! | 8 | `daily_drawdown` | that loss ≥ `max_daily_drawdown_pct` % of the day's opening equity | yes |
//! | 9 | `no_price` / `out_of_range` | the order cannot be valued | yes |
//! | 10 | `order_notional` | price × quantity > `max_order_notional_usdt` | yes |
//! | 11 | `position_size` | the symbol's position after > `max_position_size_usdt` and larger than now | yes |
//! | 12 | `positions_per_symbol` | open legs after > `max_positions_per_symbol` and more than now | yes |
//! | 13 | `total_exposure` | exposure after > `max_total_exposure_usdt` and larger than now | yes |
//! | 14 | `leverage` | exposure after / equity > `max_leverage` and exposure grows (or equity ≤ 0) | yes |
//! | 15 | `order_frequency` | `max_orders_per_second` orders admitted in the last second | no |
//!
//! Sizes may reach their limit exactly; losses halt trading when they reach theirs.
//!
//! **A position can always be closed.** An order *reduces* when the leg it acts on ends no
//! larger and not flipped (a flip opens a position). Such an order passes every rule marked
//! "spares reductions" whatever the state — limits below the position, the day in loss,
//! breakers tripped, data stale, no price at all. The size rules also never refuse an order
//! that leaves the figure they guard no larger than it is (a flip that ends smaller), which
//! a limit lowered below the current position would otherwise do.
//!
//! The frequency window counts an order once per `request_id`, so the strategy filter and
//! the execution validator may both admit the same order.
//!
//! An order is valued at the highest of its limit, stop and activation prices and the
//! symbol's mark (the conservative choice for size limits); its symbol's position before and
//! after is valued at that same price, so "does it grow?" never depends on two prices.
//! Exposure is gross: the absolute notionals of every leg of every symbol at their marks.
//!
//! # Kill switch
//!
//! [`RiskEngine::engage_kill_switch`] halts trading until [`RiskEngine::release_kill_switch`]:
//! every order is refused under `kill_switch` except those the venue itself will not let
//! grow a position — reduce-only, close-position, and hedge-mode closes of a leg. A one-way
//! order that happens to reduce but is not flagged is refused: by the time it fills the
//! position may have changed. The crate touches no venue: the queued
//! [`RiskEvent::KillSwitchEngaged`] tells the engine to cancel every open order and, with
//! `flatten`, to send the orders of [`RiskEngine::flatten_plan`].
//!
//! # Breakers (seed 001 REQ-RISK-001): when each trips and how it resets
//!
//! | breaker | trips when | resets |
//! |---|---|---|
//! | `consecutive_losses` | losing trades in a row exceed `max_consecutive_losses` (the 6th loss with 5) | manually only: a strategy that keeps losing needs a person to look at it |
//! | `window_drawdown` | equity is `max_window_drawdown_pct` or more below its peak of the last `drawdown_window_seconds` | manually only, for the same reason; the reset also forgets the old peak |
//! | `venue_latency` | a venue round trip takes longer than `max_venue_latency_ms` | by itself after [`LATENCY_HEALTHY_SAMPLES`] round trips in a row within the limit (one fast answer between slow ones is not recovery); the engine keeps measuring while paused, e.g. with pings |
//! | `stale_market_data` | a symbol's newest market data is older than `max_market_data_staleness_ms`, or none has arrived (per symbol) | by itself with the symbol's next market data |
//!
//! A *trade*, for the losses breaker, is the closing part of one order — all its fills —
//! with its share of the fee; a winning trade ends the streak, a break-even one leaves it. A
//! UTC day roll resets no breaker. Manual resets come from an operator
//! ([`RiskEngine::reset_breaker`]); resetting a breaker that has not tripped changes
//! nothing.
//!
//! The daily limits are not breakers: they restart by themselves at UTC midnight (the first
//! event or check on a new date).
//!
//! Refusal codes, metric names (`signals_rejected_by_risk{reason}` for the strategy stage,
//! `risk_rejections_total{reason}` for the execution stage,
//! `risk_circuit_breaker_trips_total{breaker}`) and events are stable: dashboards and alerts
//! key on them.

mod approval;
mod breakers;
mod day;
mod engine;
mod error;
mod events;
mod frequency;
mod impact;
mod kill;
mod limits;
mod losses;
mod peak;
mod ratio;
mod refusal;
mod rule;
mod state;
mod status;
pub mod stress;
mod telemetry;
pub mod var;

pub use approval::{Approved, Refused};
pub use breakers::{Breaker, LATENCY_HEALTHY_SAMPLES, ResetPolicy, Trip};
pub use day::DAY_MS;
pub use engine::RiskEngine;
pub use error::{AnalysisError, RiskError};
pub use events::{EVENT_QUEUE_CAPACITY, RiskEvent, RiskRejection, Severity};
pub use frequency::WINDOW_MS;
pub use kill::{FlattenOrder, KillSwitchStatus};
pub use refusal::{Measure, Refusal};
pub use rule::{RiskRule, Stage};
pub use state::MARGIN_ASSET;
pub use status::{BreakerStatus, PositionStatus, RiskStatus, RuleCount};

#[cfg(test)]
mod tests;
