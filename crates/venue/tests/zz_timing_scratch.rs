#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
mod support;
use std::hint::black_box;
use std::time::Instant;
use kestrel_venue::binance::market::floor::{self, FloorKind, FloorPlan};
use kestrel_venue::binance::market::ReceiveTime;
use kestrel_venue::binance::{JsonLib, MarketParser};

fn min_pass<F: FnMut(&str, FloorPlan) -> bool>(msgs: &[(FloorPlan, &str)], passes: usize, mut f: F) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..passes {
        let t = Instant::now();
        for &(p, m) in msgs { black_box(f(black_box(m), p)); }
        let ns = t.elapsed().as_nanos() as f64 / msgs.len() as f64;
        if ns < best { best = ns; }
    }
    best
}

#[inline(never)]
fn full_one(parser: &mut MarketParser, m: &str) -> bool { parser.parse(m, ReceiveTime::default()).is_ok() }
#[inline(never)]
fn floor_one(json: JsonLib, p: FloorPlan, m: &str) -> bool { floor::parse(json, p, m).is_ok() }

#[test]
#[ignore]
fn timing() {
    let text = support::read_vector(support::RECORDING);
    let lines = support::recording_lines(&text);
    let all: Vec<(FloorPlan, &str)> = lines.iter().map(|l| (FloorPlan::classify(l.json).unwrap(), l.json)).collect();
    let only = std::env::var("ONLY").ok();
    let passes: usize = std::env::var("PASSES").ok().map_or(5, |p| p.parse().unwrap());
    let rounds: usize = std::env::var("ROUNDS").ok().map_or(3, |p| p.parse().unwrap());
    for (name, kind) in [("bookTicker", Some(FloorKind::BookTicker)), ("trade", Some(FloorKind::Trade)), ("depth", Some(FloorKind::Depth)), ("mix", None)] {
        if only.as_deref().is_some_and(|o| o != name) { continue; }
        let msgs: Vec<_> = all.iter().copied().filter(|(p, _)| kind.is_none_or(|k| p.kind == k)).collect();
        let json = JsonLib::SonicRs;
        let mut best = [f64::MAX; 2];
        for _ in 0..rounds {
            let mut parser = MarketParser::new().with_json_lib(json);
            best[0] = best[0].min(min_pass(&msgs, passes, |m, _| full_one(&mut parser, m)));
            best[1] = best[1].min(min_pass(&msgs, passes, |m, p| floor_one(json, p, m)));
        }
        println!("{name:10} full {:8.1} ns  floor {:8.1} ns  ratio {:.3}", best[0], best[1], best[0] / best[1]);
    }
}
