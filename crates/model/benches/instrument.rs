//! Benchmarks of pre-trade checks against an instrument's exchange rules.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kestrel_model::instrument::{OrderCheck, binance_usdm};
use kestrel_model::{Price, Qty, Side};

fn validate(c: &mut Criterion) {
    let Some(btc) = binance_usdm("BTCUSDT") else {
        return;
    };
    let order = OrderCheck {
        side: Side::Buy,
        is_market: false,
        price: Price::parse("61800.2").ok(),
        needs_price: true,
        stop_price: None,
        quantity: Qty::parse("0.014").unwrap_or_default(),
        reduce_only: false,
        close_position: false,
        mark_price: Price::parse("61805.1").ok(),
        open_orders: 3,
    };
    c.bench_function("instrument/validate limit order (all rules pass)", |b| {
        b.iter(|| btc.validate(black_box(&order)))
    });
    let off_tick = OrderCheck {
        price: Price::parse("61800.25").ok(),
        ..order
    };
    c.bench_function("instrument/validate limit order (tick rule fails)", |b| {
        b.iter(|| btc.validate(black_box(&off_tick)))
    });
    let raw = Price::parse("61800.27").unwrap_or_default();
    c.bench_function("instrument/round price to tick for a buy", |b| {
        b.iter(|| btc.round_price_for(Side::Buy, black_box(raw)))
    });
}

criterion_group!(benches, validate);
criterion_main!(benches);
