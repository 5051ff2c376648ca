//! Kestrel's strategy engine (seed 000 "Strategy Engine", FR-SE-001..007): the [`Strategy`]
//! trait, the [`Registry`] of strategy types, the built-in strategies, signal aggregation,
//! order generation by urgency, per-strategy positions, isolation of failing strategies and
//! hot reload.
//!
//! # What it owns, and what it must not do
//!
//! This crate is a deterministic, synchronous core. Its time comes in with the events (venue
//! milliseconds), never from the system clock; it does no I/O, spawns nothing and takes no
//! lock, so a backtest, the paper engine and live trading run the same code and a replay gives
//! the same orders, ids included. Money is exact fixed-point throughout, indicators too. It
//! does not check risk, send orders or watch files: it returns [`OrderCommand`]s for the
//! engine crate to put through `kestrel-risk` and `kestrel-exec`, and applies a new config
//! when handed one.
//!
//! # The pieces
//!
//! - [`market`]: [`MarketView`], what strategies see of one event, and [`MarketState`], which
//!   builds it from events and the book without allocating.
//! - [`strategy`]: the [`Strategy`] trait; [`action`]: what strategies ask for
//!   ([`StrategyAction`]: signals, quotes, cancels) and what they are told back.
//! - [`signal`]: [`Urgency`], [`SignalIntent`], the seed's [`Signal`] and [`AggregatedSignal`].
//! - [`aggregate`]: majority, weighted and first-above-threshold voting per symbol.
//! - [`pricing`]: order type, time in force and price by urgency; never crossing, on the tick.
//! - [`engine`]: the [`StrategyEngine`] that routes events, isolates failures, votes,
//!   generates orders, tracks per-strategy positions and reloads config.
//! - [`registry`], [`params`], [`indicators`], [`ids`], [`builtin`].
//!
//! # Adding a strategy
//!
//! 1. Write a type implementing [`Strategy`]: read its parameters in
//!    [`Strategy::initialize`] with [`StrategyContext::params`] (each with a default and a
//!    range, then [`params::Params::finish`] to refuse unknown keys), react in
//!    [`Strategy::on_market_data`] by pushing signals or quotes into the [`Actions`], and
//!    describe itself in [`Strategy::state`]. Market makers also handle fills and closed
//!    quotes, may [`Strategy::recover`] their orders at start-up, and return `false` from
//!    [`Strategy::votes`].
//! 2. Register it: `registry.register("my_type", || Box::new(MyType::default()))`.
//! 3. Configure an instance: `[[strategies.instances]]` with `type = "my_type"`.
//!
//! The engine needs no change; see [`builtin`] for four worked examples.

pub mod action;
pub mod aggregate;
pub mod builtin;
pub mod engine;
pub mod error;
pub mod ids;
pub mod indicators;
pub mod market;
pub mod params;
pub mod pricing;
pub mod registry;
pub mod signal;
pub mod strategy;

pub use action::{Actions, OpenOrder, Quote, QuoteId, Recovery, StrategyAction, StrategyFill};
pub use engine::{
    CancelOrder, CancelReason, CloseReason, EngineSettings, Incident, IncidentKind, InstanceChange,
    InstanceState, InstanceStatus, OrderCommand, Origin, Outbox, PlaceOrder, ReloadChange,
    ReloadReport, StrategyEngine,
};
pub use error::{ConfigError, SetupError, StrategyError};
pub use market::{LastTrade, MarketState, MarketView};
pub use registry::{Factory, Registry};
pub use signal::{AggregatedSignal, Signal, SignalIntent, Strength, Urgency};
pub use strategy::{Strategy, StrategyContext};
