use kestrel_model::event::EventKind;

use super::*;
use crate::builtin::script::{around, feed, init, position, qty, signals};
use crate::market::LastTrade;

const PARAMS: &str =
    "ema_short_period = 3\nema_long_period = 10\nrsi_period = 3\ninterval_ms = 0\nretry_ms = 0";

fn scalper(params: &str) -> Scalper {
    let mut s = Scalper::default();
    init(&mut s, params, "0.01").unwrap();
    s
}

/// Feeds mids one per millisecond from `t0`; returns each signal with the mid it came at.
fn run(s: &mut Scalper, t0: u64, mids: &[i64]) -> Vec<(Price, SignalIntent)> {
    let mut found = Vec::new();
    for (k, mid) in mids.iter().enumerate() {
        let mid = Price::from_int(*mid).unwrap();
        for signal in signals(&feed(s, &around(mid, t0 + k as u64))) {
            found.push((mid, signal.clone()));
        }
    }
    found
}

fn rising(from: i64, step: i64, n: i64) -> Vec<i64> {
    (0..n).map(|k| from + k * step).collect()
}

#[test]
fn an_uptrend_dip_with_a_low_rsi_buys_with_a_stop_and_a_target() {
    let mut s = scalper(PARAMS);
    assert!(
        run(&mut s, 0, &rising(30_000, 10, 30)).is_empty(),
        "a steady rise has a high RSI"
    );
    let dip = run(&mut s, 100, &[30_270, 30_250, 30_230]);
    let (price, signal) = dip.first().expect("the dip is bought");
    assert_eq!(signal.side, Side::Buy);
    assert!(!signal.exit);
    assert!(
        s.short.scaled() > s.long.scaled(),
        "still an uptrend when it bought"
    );
    let half_pct = Price::from_raw(price.raw() / 200);
    assert_eq!(
        signal.stop_loss,
        Some(price.try_sub(half_pct).unwrap()),
        "0.5% below"
    );
    assert_eq!(
        signal.take_profit,
        Some(price.try_add(Price::from_raw(price.raw() / 100)).unwrap())
    );
    assert!(signal.strength >= Strength::new(Rate::from_raw(FIXED_ONE / 2)).unwrap());
}

#[test]
fn a_downtrend_spike_with_a_high_rsi_sells() {
    let mut s = scalper(PARAMS);
    assert!(run(&mut s, 0, &rising(30_300, -10, 30)).is_empty());
    let spike = run(&mut s, 100, &[30_030, 30_050, 30_070]);
    assert_eq!(spike.first().map(|(_, s)| s.side), Some(Side::Sell));
}

#[test]
fn it_does_not_enter_while_holding_a_position() {
    let mut s = scalper(PARAMS);
    s.on_position_update(&position("0.01", "30280"));
    run(&mut s, 0, &rising(30_000, 10, 30));
    let dip = run(&mut s, 100, &[30_270, 30_250, 30_230]);
    assert!(dip.iter().all(|(_, signal)| signal.exit), "{dip:?}");
}

#[test]
fn a_long_position_stops_out_aggressively_half_a_percent_down() {
    let mut s = scalper(PARAMS);
    s.on_position_update(&position("0.01", "30000"));
    assert!(
        run(&mut s, 0, &[29_851]).is_empty(),
        "0.497% down is not yet the stop"
    );
    let stop = run(&mut s, 1, &[29_850]);
    let (_, signal) = stop.first().expect("stopped out");
    assert_eq!(
        (signal.side, signal.urgency, signal.exit),
        (Side::Sell, Urgency::Aggressive, true)
    );
}

#[test]
fn a_long_position_takes_profit_one_percent_up_with_a_maker_order() {
    let mut s = scalper(PARAMS);
    s.on_position_update(&position("0.01", "30000"));
    assert!(run(&mut s, 0, &[30_299]).is_empty());
    let take = run(&mut s, 1, &[30_300]);
    let (_, signal) = take.first().expect("took profit");
    assert_eq!(
        (signal.side, signal.urgency, signal.exit),
        (Side::Sell, Urgency::Normal, true)
    );
}

#[test]
fn a_short_position_stops_out_on_a_rise() {
    let mut s = scalper(PARAMS);
    s.on_position_update(&position("-0.01", "30000"));
    let stop = run(&mut s, 0, &[30_150]);
    assert_eq!(
        stop.first().map(|(_, s)| (s.side, s.urgency)),
        Some((Side::Buy, Urgency::Aggressive))
    );
}

#[test]
fn an_exit_is_not_repeated_within_retry_ms() {
    let mut s =
        scalper("ema_short_period = 3\nema_long_period = 10\ninterval_ms = 0\nretry_ms = 1000");
    s.on_position_update(&position("0.01", "30000"));
    assert_eq!(run(&mut s, 0, &[29_800]).len(), 1);
    assert!(
        run(&mut s, 500, &[29_800]).is_empty(),
        "an exit order is still working"
    );
    assert_eq!(
        run(&mut s, 1_000, &[29_800]).len(),
        1,
        "retried after retry_ms"
    );
}

#[test]
fn min_volume_blocks_entries_after_a_thin_interval() {
    let mut s = scalper(&format!("{PARAMS}\nmin_volume = \"5\""));
    run(&mut s, 0, &rising(30_000, 10, 30));
    assert!(
        run(&mut s, 100, &[30_270, 30_250, 30_230]).is_empty(),
        "no trades, no volume"
    );
}

#[test]
fn traded_volume_lets_the_entry_through() {
    let mut s = scalper(&format!("{PARAMS}\nmin_volume = \"5\""));
    run(&mut s, 0, &rising(30_000, 10, 30));
    let mut bought = false;
    for (k, mid) in [30_270, 30_250, 30_230].into_iter().enumerate() {
        let t = 100 + 2 * k as u64;
        let mid = Price::from_int(mid).unwrap();
        let mut trade = around(mid, t);
        trade.trigger = EventKind::Trade;
        trade.last_trade = Some(LastTrade {
            price: mid,
            qty: qty("6"),
            aggressor: Side::Sell,
            time_ms: t,
        });
        bought |= signals(&feed(&mut s, &trade))
            .iter()
            .any(|x| x.side == Side::Buy);
        feed(&mut s, &around(mid, t + 1));
    }
    assert!(bought);
}

#[test]
fn the_short_ema_must_be_shorter_than_the_long_one() {
    let mut s = Scalper::default();
    let err = init(
        &mut s,
        "ema_short_period = 21\nema_long_period = 21",
        "0.01",
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("parameter `ema_short_period`"),
        "{err}"
    );
    let err = init(&mut s, "rsi_oversold = \"80\"", "0.01").unwrap_err();
    assert!(
        err.to_string().starts_with("parameter `rsi_overbought`"),
        "{err}"
    );
}
