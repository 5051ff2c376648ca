//! Benchmarks of one market event through the strategy engine: routing → strategy → vote →
//! order generation. The system's budget for event → strategy → risk → signed order bytes is
//! 50 µs p99 (ARCHITECTURE.md); this part should take a few microseconds at most.
//!
//! - `tick/quiet momentum`: a book event reaches one `momentum` instance that samples it and
//!   stays silent (the common case).
//! - `tick/signal to order`: a book event reaches one instance that signals a buy; the vote
//!   passes and an `OrderRequest` is generated.
//! - `tick/3-way vote to order`: three instances on the symbol (two buying, one momentum),
//!   a majority vote, one order.
//!
//! Each generated order is closed again outside the timed section, so the engine's ledger
//! stays the size a live engine's would. Criterion reports means; the p50/p99/p99.9 of
//! single events are measured first, by timing each event of a long run on its own.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use kestrel_model::book::Level;
use kestrel_model::config::{Aggregation, StrategiesConfig, StrategyInstance};
use kestrel_model::instrument::binance_usdm;
use kestrel_model::money::{Price, Qty, Rate};
use kestrel_model::order::Side;
use kestrel_strategy::{
    Actions, CloseReason, EngineSettings, MarketView, OrderCommand, Outbox, Registry, SignalIntent,
    Strategy, StrategyContext, StrategyEngine, StrategyError, Strength, Urgency,
};

/// A strategy that buys on every event: the engine's own cost, with no indicator work.
struct AlwaysBuy;

impl Strategy for AlwaysBuy {
    fn name(&self) -> &'static str {
        "always_buy"
    }

    fn initialize(&mut self, ctx: &StrategyContext<'_>) -> Result<(), StrategyError> {
        ctx.params().finish()
    }

    fn on_market_data(
        &mut self,
        _: &MarketView<'_>,
        out: &mut Actions,
    ) -> Result<(), StrategyError> {
        out.signal(SignalIntent::new(
            Side::Buy,
            Strength::FULL,
            Urgency::Normal,
            "bench",
        ));
        Ok(())
    }

    fn state(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

fn instance(name: &str, kind: &str, parameters: &str) -> StrategyInstance {
    StrategyInstance {
        name: name.into(),
        kind: kind.into(),
        symbol: "BTCUSDT".into(),
        order_size: Qty::from_raw(1_000_000),
        parameters: parameters.parse().unwrap_or_default(),
        ..StrategyInstance::default()
    }
}

fn engine(instances: Vec<StrategyInstance>) -> Option<StrategyEngine> {
    let mut registry = Registry::with_builtins();
    registry
        .register("always_buy", || Box::new(AlwaysBuy))
        .ok()?;
    let config = StrategiesConfig {
        aggregation: Aggregation::Majority,
        aggregation_threshold_pct: Rate::from_int(50).ok()?,
        enable_hot_reload: false,
        instances,
    };
    let instruments = [binance_usdm("BTCUSDT")?];
    StrategyEngine::new(&config, registry, instruments, EngineSettings::default()).ok()
}

const MOMENTUM: &str = "lookback = 20\nthreshold = \"5\"\ninterval_ms = 0";

/// A book view whose bid walks a few ticks around 62,740.0 with `step`.
fn view(step: u64) -> MarketView<'static> {
    let tick = 10_000_000; // 0.1
    let bid = Price::from_raw((627_400 + (step % 7) as i64) * tick);
    let ask = Price::from_raw(bid.raw() + tick);
    let (bid, ask) = (Level::new(bid, Qty::ONE), Level::new(ask, Qty::ONE));
    MarketView::top_of_book("BTCUSDT", bid, ask, 1_700_000_000_000 + step)
}

/// Closes every order the event placed and empties the outbox (not timed).
fn settle(engine: &mut StrategyEngine, out: &mut Outbox, step: u64) {
    let placed: Vec<String> = out
        .commands
        .iter()
        .filter_map(|c| match c {
            OrderCommand::Place(p) => Some(p.request.request_id.clone()),
            OrderCommand::Cancel(_) => None,
        })
        .collect();
    out.clear();
    for id in placed {
        engine.on_order_closed(&id, CloseReason::Canceled, 1_700_000_000_000 + step, out);
    }
    out.clear();
}

/// Runs `iters` events, timing only `on_market`.
fn timed(engine: &mut StrategyEngine, out: &mut Outbox, step: &mut u64, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        *step += 1;
        let v = view(*step);
        let started = Instant::now();
        engine.on_market(black_box(&v), out);
        total += started.elapsed();
        black_box(&out.commands);
        settle(engine, out, *step);
    }
    total
}

fn scenarios() -> Vec<(&'static str, Vec<StrategyInstance>)> {
    vec![
        (
            "tick/quiet momentum",
            vec![instance("m", "momentum", MOMENTUM)],
        ),
        (
            "tick/signal to order",
            vec![instance("a", "always_buy", "")],
        ),
        (
            "tick/3-way vote to order",
            vec![
                instance("a", "always_buy", ""),
                instance("b", "always_buy", ""),
                instance("m", "momentum", MOMENTUM),
            ],
        ),
    ]
}

fn benches_tick(c: &mut Criterion) {
    for (name, instances) in scenarios() {
        let Some(mut e) = engine(instances) else {
            return;
        };
        let (mut out, mut step) = (Outbox::default(), 0u64);
        c.bench_function(name, |b| {
            b.iter_custom(|iters| timed(&mut e, &mut out, &mut step, iters));
        });
    }
}

/// Times each of `runs` events on its own and prints p50, p99, p99.9 and the maximum.
fn percentiles(runs: usize) {
    for (name, instances) in scenarios() {
        let Some(mut e) = engine(instances) else {
            return;
        };
        let (mut out, mut step) = (Outbox::default(), 0u64);
        let mut samples: Vec<u64> = Vec::with_capacity(runs);
        let mut orders = 0usize;
        for i in 0..runs + runs / 10 {
            step += 1;
            let v = view(step);
            let started = Instant::now();
            e.on_market(black_box(&v), &mut out);
            let elapsed = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            orders += out.commands.len();
            settle(&mut e, &mut out, step);
            // The first tenth warms caches and branch predictors.
            if i >= runs / 10 {
                samples.push(elapsed);
            }
        }
        samples.sort_unstable();
        let at = |per_mille: usize| {
            samples
                .get((samples.len() * per_mille / 1000).min(samples.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        println!(
            "{name}, {} single events ({orders} orders incl. warm-up): \
             p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
            samples.len(),
            at(500),
            at(990),
            at(999),
            samples.last().copied().unwrap_or_default()
        );
    }
}

criterion_group!(benches, benches_tick);

fn main() {
    percentiles(200_000);
    benches();
    Criterion::default().configure_from_args().final_summary();
}
