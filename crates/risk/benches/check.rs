//! Benchmarks of one full pre-trade risk check (target: well under 2 µs p99, ARCHITECTURE.md
//! "pre-trade validation").
//!
//! The state is a working book: a funded wallet, five symbols with positions and marks. The
//! order passes all fifteen checks, so every rule runs. Criterion reports means; the
//! p50/p99/p99.9 of single admissions are measured first by timing each call of a long run on
//! its own, and printed.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use kestrel_model::config::RiskConfig;
use kestrel_model::order::{ExecutionMode, OrderType, PositionSide, TimeInForce, WorkingType};
use kestrel_model::{Money, OrderRequest, Price, Qty, Side};
use kestrel_risk::{RiskEngine, Stage};

const T0: u64 = 1_700_000_000_000;
/// Time between admissions: ten orders per second stay within `max_orders_per_second = 10`.
const STEP_MS: u64 = 101;

fn order(id: usize, quantity: &str) -> Option<OrderRequest> {
    Some(OrderRequest {
        request_id: format!("0b7c8d4e-5f60-4a1b-9c2d-{id:012}"),
        symbol: "BTCUSDT".to_owned(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: Some(TimeInForce::Gtc),
        price: Price::parse("62740.00").ok(),
        quantity: Qty::parse(quantity).ok()?,
        stop_price: None,
        reduce_only: false,
        close_position: false,
        position_side: PositionSide::Both,
        client_order_id: None,
        execution_mode: ExecutionMode::Live,
        working_type: WorkingType::ContractPrice,
        callback_rate: None,
        activation_price: None,
    })
}

/// A funded engine holding five positions, with market data that never goes stale here.
fn engine() -> Option<RiskEngine> {
    let config = RiskConfig {
        max_market_data_staleness_ms: u64::MAX,
        ..RiskConfig::default()
    };
    let mut engine = RiskEngine::new(config);
    engine.on_wallet_balance(Money::parse("100000").ok()?, T0);
    for (symbol, qty, mark) in [
        ("BTCUSDT", "0.05", "62750"),
        ("ETHUSDT", "1.2", "3050.5"),
        ("SOLUSDT", "-20", "145.2"),
        ("BNBUSDT", "3", "590.1"),
        ("XRPUSDT", "2000", "0.52"),
    ] {
        let mark = Price::parse(mark).ok()?;
        engine.on_mark_price(symbol, mark, T0).ok()?;
        engine
            .on_position(symbol, PositionSide::Both, Qty::parse(qty).ok()?, mark, T0)
            .ok()?;
    }
    engine.start(T0);
    Some(engine)
}

/// Distinct orders to cycle through, so the frequency window sees new request ids.
fn orders() -> Vec<OrderRequest> {
    (0..64).filter_map(|id| order(id, "0.014")).collect()
}

fn benches_check(c: &mut Criterion) {
    let (Some(engine), Some(big)) = (engine(), order(999, "0.5")) else {
        return;
    };
    let pending = orders();
    let Some(first) = pending.first() else {
        return;
    };
    c.bench_function(
        "risk/check approved limit order (all 15 rules, dry run)",
        |b| b.iter(|| engine.check(black_box(first), T0)),
    );
    c.bench_function(
        "risk/check refused at position size (message formatted)",
        |b| b.iter(|| engine.check(black_box(&big), T0)),
    );
    let mut engine = engine.clone();
    let mut pending = pending;
    let mut now = T0;
    let mut i = 0usize;
    c.bench_function(
        "risk/admit approved limit order (frequency slot taken)",
        |b| {
            b.iter(|| {
                now += STEP_MS;
                i = (i + 1) % pending.len();
                let order = pending.swap_remove(i);
                let back = match engine.admit(black_box(order), Stage::Order, now) {
                    Ok(approved) => approved.into_inner(),
                    Err(refused) => refused.request,
                };
                pending.push(back);
            })
        },
    );
}

/// Times each of `runs` admissions on its own and prints p50, p99, p99.9 and the maximum.
fn percentiles(runs: usize) {
    let Some(mut engine) = engine() else {
        return;
    };
    let mut pending = orders();
    let mut samples: Vec<u64> = Vec::with_capacity(runs);
    let (mut now, mut approved) = (T0, 0usize);
    for n in 0..runs + runs / 10 {
        now += STEP_MS;
        let slot = n % pending.len();
        let order = pending.swap_remove(slot);
        let started = Instant::now();
        let outcome = engine.admit(black_box(order), Stage::Order, now);
        let elapsed = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let back = match outcome {
            Ok(ok) => {
                approved += 1;
                ok.into_inner()
            }
            Err(refused) => refused.request,
        };
        pending.push(back);
        // The first tenth warms caches and branch predictors.
        if n >= runs / 10 {
            samples.push(elapsed);
        }
        // Nobody publishes here; keep the queue from filling with day rolls.
        engine.drain_events().for_each(drop);
    }
    samples.sort_unstable();
    let at = |per_mille: usize| {
        samples
            .get((samples.len() * per_mille / 1000).min(samples.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "risk/admit approved limit order, {} single calls ({approved} approved incl. warm-up): p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
        samples.len(),
        at(500),
        at(990),
        at(999),
        samples.last().copied().unwrap_or_default()
    );
}

criterion_group!(benches, benches_check);

fn main() {
    percentiles(1_000_000);
    benches();
    Criterion::default().configure_from_args().final_summary();
}
