//! Benchmarks of pre-trade validation (target: < 2 µs p99 per order, ARCHITECTURE.md).
//!
//! Criterion reports means; the p50/p99/p99.9 of single validations are measured first by
//! timing each call of a long run on its own, and printed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use kestrel_exec::breaker::{BreakerConfig, CircuitBreaker};
use kestrel_exec::clock::Nanos;
use kestrel_exec::ratelimit::{Cost, OrderRateLimiter, VenueCounters, VenueLimits, VenueUsage};
use kestrel_exec::validate::{
    AccountView, DEFAULT_PRICE_BAND_PCT, Limits, MarketView, OrderContext, Validator,
};
use kestrel_model::instrument::binance_usdm;
use kestrel_model::order::{ExecutionMode, OrderType, PositionSide, TimeInForce, WorkingType};
use kestrel_model::{Instrument, Money, OrderRequest, Price, Qty, Rate, Side};

struct Setup {
    instrument: Instrument,
    request: OrderRequest,
    account: AccountView,
    mark: Price,
}

fn setup() -> Option<Setup> {
    let instrument = binance_usdm("BTCUSDT")?;
    let request = OrderRequest {
        request_id: "0b7c8d4e-5f60-4a1b-9c2d-3e4f5a6b7c8d".to_owned(),
        symbol: "BTCUSDT".to_owned(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: Some(TimeInForce::Gtc),
        price: Price::parse("62740.00").ok(),
        quantity: Qty::parse("0.014").ok()?,
        stop_price: None,
        reduce_only: false,
        close_position: false,
        position_side: PositionSide::Both,
        client_order_id: Some("mm1.s7-1048576".to_owned()),
        execution_mode: ExecutionMode::Live,
        working_type: WorkingType::ContractPrice,
        callback_rate: None,
        activation_price: None,
    };
    let account = AccountView {
        position_qty: Qty::parse("0.050").ok()?,
        open_orders: 3,
        available_balance: Money::parse("25000").ok()?,
        leverage: 10,
        fee_rate: Rate::parse("0.0005").ok()?,
    };
    Some(Setup {
        instrument,
        request,
        account,
        mark: Price::parse("62750.00").ok()?,
    })
}

fn validator() -> Validator {
    Validator::new(
        Limits {
            price_band_pct: DEFAULT_PRICE_BAND_PCT,
            max_position_usdt: Money::parse("10000").unwrap_or(Money::MAX),
            max_mark_age: Duration::from_secs(5),
        },
        CircuitBreaker::new(BreakerConfig {
            threshold: 5,
            timeout: Duration::from_secs(30),
        }),
        OrderRateLimiter::per_second(10),
        VenueCounters::new(VenueLimits::binance_usdm()),
    )
}

fn context(s: &Setup, now: Nanos) -> OrderContext<'_> {
    OrderContext {
        instrument: &s.instrument,
        market: MarketView {
            mark_price: Some(s.mark),
            mark_at: now,
        },
        account: s.account,
    }
}

/// One approval as the engine does it: validate (commit included), then settle the venue
/// count as the answer would. Time moves 1 s per order so the local limit never refuses.
fn approve_once(
    v: &mut Validator,
    s: &Setup,
    request: OrderRequest,
    now: Nanos,
) -> (OrderRequest, bool) {
    let ctx = context(s, now);
    let outcome = match v.validate(black_box(request), &ctx, now) {
        Ok(approved) => (approved.into_inner(), true),
        Err(refused) => (refused.request, false),
    };
    v.venue_mut()
        .on_answer(Cost::ORDER, VenueUsage::default(), now);
    outcome
}

fn benches_validate(c: &mut Criterion) {
    let Some(s) = setup() else {
        return;
    };
    let mut v = validator();
    let mut request = Some(s.request.clone());
    let mut now = Nanos::from_secs(1);
    c.bench_function("validate/approve limit order (all rules, commit)", |b| {
        b.iter(|| {
            now = now.saturating_add(Duration::from_secs(1));
            if let Some(r) = request.take() {
                request = Some(approve_once(&mut v, &s, r, now).0);
            }
        })
    });
    let v = validator();
    let now = Nanos::from_secs(1);
    let ctx = context(&s, now);
    c.bench_function("validate/check limit order (dry run)", |b| {
        b.iter(|| v.check(black_box(&s.request), &ctx, now))
    });
    let mut off_tick = s.request.clone();
    off_tick.price = Price::parse("62740.05").ok();
    c.bench_function("validate/check refused off tick", |b| {
        b.iter(|| v.check(black_box(&off_tick), &ctx, now))
    });
    let mut too_big = s.request.clone();
    too_big.quantity = Qty::parse("0.500").unwrap_or(Qty::ONE);
    c.bench_function("validate/check refused at position limit", |b| {
        b.iter(|| v.check(black_box(&too_big), &ctx, now))
    });
}

/// Times each of `runs` approvals on its own and prints p50, p99, p99.9 and the maximum.
fn percentiles(runs: usize) {
    let Some(s) = setup() else {
        return;
    };
    let mut v = validator();
    let mut request = s.request.clone();
    let mut now = Nanos::from_secs(1);
    let mut samples: Vec<u64> = Vec::with_capacity(runs);
    let mut approved = 0usize;
    for i in 0..runs + runs / 10 {
        now = now.saturating_add(Duration::from_secs(1));
        let started = Instant::now();
        let (back, ok) = approve_once(&mut v, &s, request, now);
        let elapsed = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        request = back;
        approved += usize::from(ok);
        // The first tenth warms caches and branch predictors.
        if i >= runs / 10 {
            samples.push(elapsed);
        }
    }
    samples.sort_unstable();
    let at = |per_mille: usize| samples[(samples.len() * per_mille / 1000).min(samples.len() - 1)];
    println!(
        "validate/approve limit order, {} single calls ({approved} approved incl. warm-up): p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
        samples.len(),
        at(500),
        at(990),
        at(999),
        samples.last().copied().unwrap_or_default()
    );
}

criterion_group!(benches, benches_validate);

fn main() {
    percentiles(1_000_000);
    benches();
    Criterion::default().configure_from_args().final_summary();
}
