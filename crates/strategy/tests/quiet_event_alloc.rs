//! Proves a quiet market event allocates nothing once the engine is warmed up (ARCHITECTURE.md:
//! "no allocation per market-data message after warm-up"): 10,000 book and trade events reach
//! a `momentum` instance sampling every event, a `spread_maker` whose quotes are already
//! resting, and a `grid` whose slots are all working, and a counting global allocator must
//! count zero.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kestrel_model::book::Level;
use kestrel_model::config::{Aggregation, StrategiesConfig, StrategyInstance};
use kestrel_model::event::{BookTicker, MarketEvent, ReceiveTime, TradeEvent};
use kestrel_model::instrument::binance_usdm;
use kestrel_model::money::{Price, Qty, Rate};
use kestrel_strategy::{EngineSettings, MarketState, Outbox, Registry, StrategyEngine};
use kestrel_testkit::{CountingAllocator, allocations};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn instance(kind: &str, parameters: &str) -> StrategyInstance {
    StrategyInstance {
        name: kind.into(),
        kind: kind.into(),
        symbol: "BTCUSDT".into(),
        order_size: Qty::parse("0.01").unwrap(),
        parameters: parameters.parse().unwrap(),
        ..StrategyInstance::default()
    }
}

fn engine() -> StrategyEngine {
    let config = StrategiesConfig {
        aggregation: Aggregation::Majority,
        aggregation_threshold_pct: Rate::from_int(50).unwrap(),
        enable_hot_reload: false,
        instances: vec![
            instance(
                "momentum",
                "lookback = 50\nthreshold = \"5\"\ninterval_ms = 0",
            ),
            instance("spread_maker", "spread_bps = \"10\"\nrequote_ticks = 50"),
            instance("grid", "spacing = \"50\"\nlevels = 4"),
        ],
    };
    let instruments = [binance_usdm("BTCUSDT").unwrap()];
    StrategyEngine::new(
        &config,
        Registry::with_builtins(),
        instruments,
        EngineSettings::default(),
    )
    .unwrap()
}

fn ticker(bid_ticks: i64, time_ms: u64) -> MarketEvent<'static> {
    let tick = 10_000_000;
    MarketEvent::BookTicker(BookTicker {
        symbol: "BTCUSDT",
        update_id: time_ms,
        event_time_ms: time_ms,
        transaction_time_ms: time_ms,
        received: ReceiveTime::default(),
        bid: Level::new(Price::from_raw(bid_ticks * tick), Qty::ONE),
        ask: Level::new(Price::from_raw((bid_ticks + 1) * tick), Qty::ONE),
    })
}

fn trade(price_ticks: i64, time_ms: u64) -> MarketEvent<'static> {
    MarketEvent::Trade(TradeEvent {
        symbol: "BTCUSDT",
        trade_id: time_ms,
        price: Price::from_raw(price_ticks * 10_000_000),
        qty: Qty::parse("0.002").unwrap(),
        trade_time_ms: time_ms,
        event_time_ms: time_ms,
        buyer_is_maker: time_ms.is_multiple_of(2),
        received: ReceiveTime::default(),
    })
}

#[test]
fn a_quiet_market_event_allocates_nothing_after_warm_up() {
    let mut engine = engine();
    let mut market = MarketState::new("BTCUSDT", 5);
    let mut out = Outbox::default();
    // Warm up: the makers place their quotes, buffers reach their working size.
    let mut placed = 0;
    for t in 0..100 {
        market.apply(&ticker(300_000 + t % 2, t as u64));
        engine.on_market(&market.view(), &mut out);
        placed += out.commands.len();
        out.clear();
    }
    assert_eq!(
        placed,
        8 + 2,
        "the grid's eight slots and the maker's two quotes"
    );
    let before = allocations();
    for t in 100..10_100u64 {
        let wiggle = i64::try_from(t % 2).unwrap();
        let event = if t % 3 == 0 {
            trade(300_000 + wiggle, t)
        } else {
            ticker(300_000 + wiggle, t)
        };
        market.apply(&event);
        engine.on_market(&market.view(), &mut out);
        assert!(out.commands.is_empty(), "t={t}: {:?}", out.commands);
        out.clear();
    }
    assert_eq!(allocations() - before, 0, "allocations on quiet events");
}
