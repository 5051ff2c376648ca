//! Benchmarks of the money hot paths: parsing exchange decimal strings, formatting, notional.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kestrel_model::{Money, Price, Qty};

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("money/parse");
    for text in ["61800.20", "0.00100000", "0.014"] {
        group.bench_function(text, |b| b.iter(|| Price::parse(black_box(text))));
    }
    group.bench_function("money 1234567.1234567890123456", |b| {
        b.iter(|| Money::parse(black_box("1234567.1234567890123456")))
    });
    group.finish();
}

fn format(c: &mut Criterion) {
    let price = Price::parse("61800.2").unwrap_or_default();
    let mut out = String::with_capacity(32);
    c.bench_function("money/format price {:.2}", |b| {
        b.iter(|| {
            out.clear();
            write!(out, "{:.2}", black_box(price))
        })
    });
}

fn notional(c: &mut Criterion) {
    let price = Price::parse("61800.2").unwrap_or_default();
    let qty = Qty::parse("0.014").unwrap_or_default();
    c.bench_function("money/notional price x qty", |b| {
        b.iter(|| black_box(price).notional(black_box(qty)))
    });
}

criterion_group!(benches, parse, format, notional);
criterion_main!(benches);
