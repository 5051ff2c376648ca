//! Isolation of failing strategies (NFR-SE-003) and the seed's metrics.

use super::*;

fn failing(fail: &str) -> StrategiesConfig {
    config(
        Aggregation::First,
        0,
        vec![
            scripted(
                "bad",
                "BTCUSDT",
                &format!("fail = \"{fail}\"\nsignal = \"sell\"\nvotes = false"),
            ),
            scripted("good", "BTCUSDT", "signal = \"buy\""),
        ],
    )
}

#[test]
fn a_panicking_strategy_is_caught_and_the_others_trade_on() {
    let log = new_log();
    let mut e = engine(&failing("panic"), &log);
    let out = btc_tick(&mut e, 1);
    let r = requests(&out);
    assert_eq!(r.len(), 1, "only the good instance's order");
    assert_eq!(
        r[0].side,
        Side::Buy,
        "the panicking call's sell signal was dropped"
    );
    assert_eq!(out.incidents[0].kind, IncidentKind::Panic);
    assert!(out.incidents[0].message.contains("scripted panic"));
    assert_eq!(
        e.status("bad"),
        Some(InstanceStatus::Running),
        "one failure is tolerated"
    );
}

#[test]
fn repeated_failures_disable_the_strategy_and_only_it() {
    let log = new_log();
    let mut e = engine(&failing("error"), &log);
    for t in 1..=2 {
        btc_tick(&mut e, t);
    }
    let third = btc_tick(&mut e, 3);
    assert!(
        third
            .incidents
            .iter()
            .any(|i| i.kind == IncidentKind::Disabled)
    );
    assert_eq!(e.status("bad"), Some(InstanceStatus::Faulted));
    calls(&log, "bad");
    let later = btc_tick(&mut e, 4);
    assert!(
        calls(&log, "bad").is_empty(),
        "a faulted instance gets no more events"
    );
    assert_eq!(requests(&later).len(), 1, "the good one goes on");
    assert!(later.incidents.is_empty());
}

#[test]
fn a_success_resets_the_failure_count() {
    let log = new_log();
    let settings = disabled_after(2);
    let cfg = config(
        Aggregation::First,
        0,
        vec![scripted(
            "flaky",
            "BTCUSDT",
            "fail = \"error\"\nfail_every = 2",
        )],
    );
    let mut e = engine_with(&cfg, &log, settings);
    let failures: usize = (1..=6).map(|t| btc_tick(&mut e, t).incidents.len()).sum();
    assert_eq!(failures, 3, "every second event fails");
    assert_eq!(
        e.status("flaky"),
        Some(InstanceStatus::Running),
        "never twice in a row"
    );
}

#[test]
fn a_faulted_market_maker_has_its_quotes_cancelled() {
    let log = new_log();
    let cfg = maker("29990", "fail = \"panic\"\nfail_every = 2");
    let mut e = engine_with(&cfg, &log, disabled_after(1));
    let id = requests(&btc_tick(&mut e, 1))[0].request_id.clone();
    let out = btc_tick(&mut e, 2);
    assert_eq!(e.status("mm"), Some(InstanceStatus::Faulted));
    let c = cancels(&out);
    assert_eq!(
        (c.len(), c[0].client_order_id.as_str(), c[0].reason),
        (1, id.as_str(), CancelReason::Stopped)
    );
    assert!(
        requests(&out).is_empty(),
        "the failing call's quote was dropped"
    );
}

#[test]
fn a_faulted_instance_can_be_restarted() {
    let log = new_log();
    let mut e = engine_with(&failing("error"), &log, disabled_after(1));
    btc_tick(&mut e, 1);
    assert_eq!(e.status("bad"), Some(InstanceStatus::Faulted));
    e.restart("bad", &mut Outbox::default()).unwrap();
    assert_eq!(e.status("bad"), Some(InstanceStatus::Running));
    assert!(e.restart("nobody", &mut Outbox::default()).is_err());
}

/// A metrics recorder keeping counter totals and gauge values by `name{labels}`.
mod capture {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use metrics::{
        Counter, CounterFn, Gauge, GaugeFn, Histogram, Key, KeyName, Metadata, Recorder,
        SharedString, Unit,
    };

    #[derive(Default, Clone)]
    pub struct Capture(pub Arc<Mutex<BTreeMap<String, f64>>>);

    struct Cell(String, Arc<Mutex<BTreeMap<String, f64>>>);

    impl CounterFn for Cell {
        #[allow(clippy::float_arithmetic, clippy::cast_precision_loss)] // small whole counts
        fn increment(&self, value: u64) {
            *self.1.lock().unwrap().entry(self.0.clone()).or_default() += value as f64;
        }
        fn absolute(&self, _: u64) {}
    }

    impl GaugeFn for Cell {
        fn increment(&self, _: f64) {}
        fn decrement(&self, _: f64) {}
        fn set(&self, value: f64) {
            self.1.lock().unwrap().insert(self.0.clone(), value);
        }
    }

    impl Capture {
        fn cell(&self, key: &Key) -> Arc<Cell> {
            let mut labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            Arc::new(Cell(
                format!("{}{{{}}}", key.name(), labels.join(",")),
                Arc::clone(&self.0),
            ))
        }

        pub fn get(&self, key: &str) -> f64 {
            self.0.lock().unwrap().get(key).copied().unwrap_or_default()
        }
    }

    impl Recorder for Capture {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(self.cell(key))
        }
        fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::from_arc(self.cell(key))
        }
        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::noop()
        }
    }
}

#[test]
#[allow(clippy::float_cmp)] // whole counts
fn failures_signals_and_orders_are_counted_under_the_seed_names() {
    let capture = capture::Capture::default();
    metrics::with_local_recorder(&capture, || {
        let log = new_log();
        let mut e = engine_with(&failing("panic"), &log, disabled_after(2));
        assert_eq!(capture.get("strategies_active{name=bad}"), 1.0);
        for t in 1..=2 {
            btc_tick(&mut e, t);
        }
        assert_eq!(
            capture.get("strategy_errors_total{strategy=bad,type=panic}"),
            2.0
        );
        assert_eq!(capture.get("strategies_active{name=bad}"), 0.0);
        assert_eq!(
            capture.get("signals_generated_total{side=BUY,strategy=good,symbol=BTCUSDT}"),
            2.0
        );
        assert_eq!(
            capture.get("signals_generated_total{side=SELL,strategy=bad,symbol=BTCUSDT}"),
            0.0,
            "dropped with the panic"
        );
        assert_eq!(capture.get("signals_aggregated_total{symbol=BTCUSDT}"), 2.0);
        assert_eq!(
            capture.get("orders_generated_total{strategy=good,symbol=BTCUSDT}"),
            2.0
        );
    });
}
