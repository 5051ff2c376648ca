use super::*;
use crate::builtin::script::{around, feed, init, position, px, signals};

const PARAMS: &str = "lookback = 3\nthreshold = \"0.5\"\ninterval_ms = 0";

fn momentum(params: &str) -> Momentum {
    let mut m = Momentum::default();
    init(&mut m, params, "0.01").unwrap();
    m
}

/// Feeds mids (as text) one per millisecond, returning the signals of the last one.
fn run(m: &mut Momentum, mids: &[&str]) -> Vec<SignalIntent> {
    let mut last = Vec::new();
    for (t, mid) in mids.iter().enumerate() {
        let actions = feed(m, &around(px(mid), t as u64));
        last = signals(&actions).into_iter().cloned().collect();
    }
    last
}

#[test]
fn a_rise_of_more_than_the_threshold_over_the_lookback_emits_a_normal_buy() {
    let mut m = momentum(PARAMS);
    let s = run(&mut m, &["30000", "30010", "30050", "30180"]);
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!((s[0].side, s[0].urgency), (Side::Buy, Urgency::Normal));
    assert_eq!(
        s[0].strength.rate(),
        Rate::from_raw(60_000_000),
        "0.6% over twice 0.5%"
    );
}

#[test]
fn a_move_of_exactly_the_threshold_is_not_enough() {
    let mut m = momentum(PARAMS);
    assert!(run(&mut m, &["30000", "30000", "30000", "30150"]).is_empty());
}

#[test]
fn a_fall_emits_a_sell() {
    let mut m = momentum(PARAMS);
    let s = run(&mut m, &["30000", "29990", "29950", "29820"]);
    assert_eq!(s.first().map(|s| s.side), Some(Side::Sell));
}

#[test]
fn a_move_of_twice_the_threshold_is_aggressive_at_full_strength() {
    let mut m = momentum(PARAMS);
    let s = run(&mut m, &["30000", "30000", "30000", "30300"]);
    assert_eq!(s[0].urgency, Urgency::Aggressive);
    assert_eq!(s[0].strength, Strength::FULL);
}

#[test]
fn a_lasting_move_signals_once_and_a_new_move_signals_again() {
    let mut m = momentum(PARAMS);
    assert_eq!(run(&mut m, &["30000", "30000", "30000", "30200"]).len(), 1);
    assert!(run(&mut m, &["30250"]).is_empty(), "still the same move");
    assert!(
        run(&mut m, &["30250", "30250", "30250"]).is_empty(),
        "the move faded"
    );
    assert_eq!(run(&mut m, &["30500"]).len(), 1, "a new move");
}

#[test]
fn it_does_not_build_a_position_beyond_max_units() {
    let mut m = momentum(PARAMS);
    m.on_position_update(&position("0.01", "30000"));
    assert!(
        run(&mut m, &["30000", "30000", "30000", "30200"]).is_empty(),
        "already long one unit"
    );
    let s = run(&mut m, &["30200", "30200", "29900"]);
    assert_eq!(
        s.first().map(|s| s.side),
        Some(Side::Sell),
        "selling is still allowed"
    );
}

#[test]
fn events_inside_one_interval_are_sampled_once() {
    let mut m = momentum("lookback = 2\nthreshold = \"0.5\"\ninterval_ms = 1000");
    for (t, mid) in [
        (0, "30000"),
        (1_000, "30000"),
        (1_500, "31000"),
        (1_999, "31000"),
    ] {
        assert!(feed(&mut m, &around(px(mid), t)).is_empty(), "t={t}");
    }
    let actions = feed(&mut m, &around(px("30200"), 2_000));
    assert_eq!(
        signals(&actions).len(),
        1,
        "the third sample, 2 samples after the first"
    );
}

#[test]
fn bad_parameters_are_refused_by_name() {
    let mut m = Momentum::default();
    let err = init(&mut m, "lookback = 1", "0.01").unwrap_err();
    assert!(err.to_string().starts_with("parameter `lookback`"), "{err}");
    let err = init(&mut m, "threshold = \"-1\"", "0.01").unwrap_err();
    assert!(
        err.to_string().starts_with("parameter `threshold`"),
        "{err}"
    );
    assert!(init(&mut m, "lookbak = 5", "0.01").is_err());
}

#[test]
fn reconfiguring_the_threshold_keeps_the_samples() {
    let mut m = momentum(PARAMS);
    run(&mut m, &["30000", "30000", "30000"]);
    let table: toml::Table = "lookback = 3\nthreshold = \"0.1\"\ninterval_ms = 0"
        .parse()
        .unwrap();
    let instrument = crate::builtin::script::btc();
    let ctx = StrategyContext {
        instance: "test",
        symbol: "BTCUSDT",
        order_size: Qty::parse("0.01").unwrap(),
        instrument: &instrument,
        parameters: &table,
    };
    m.reconfigure(&ctx).unwrap();
    let s = run(&mut m, &["30040"]);
    assert_eq!(
        s.len(),
        1,
        "0.13% beats the new 0.1% using the samples taken before"
    );
}
