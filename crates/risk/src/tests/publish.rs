//! What leaves the core: metrics, events for the bus, the status snapshot.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kestrel_model::Side;
use kestrel_model::order::PositionSide;
use metrics::{
    Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};

use super::*;
use crate::{Breaker, EVENT_QUEUE_CAPACITY, RiskEvent, RiskStatus, RuleCount, Severity};

/// Counters by `name{label=value,...}`; gauges and histograms are ignored.
#[derive(Default)]
struct Counters(Mutex<BTreeMap<String, Arc<AtomicU64>>>);

struct Cell(Arc<AtomicU64>);

impl CounterFn for Cell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }

    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }
}

impl Counters {
    fn get(&self, key: &str) -> u64 {
        self.0
            .lock()
            .unwrap()
            .get(key)
            .map_or(0, |cell| cell.load(Ordering::Relaxed))
    }
}

impl Recorder for Counters {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let labels: Vec<String> = key
            .labels()
            .map(|label| format!("{}={}", label.key(), label.value()))
            .collect();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        let cell = Arc::clone(self.0.lock().unwrap().entry(name).or_default());
        Counter::from_arc(Arc::new(Cell(cell)))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

fn too_big(id: &str) -> OrderRequest {
    limit(id, "BTCUSDT", Side::Buy, "0.3", "50000")
}

#[test]
fn every_refusal_is_counted_by_reason_under_the_seed_metric_of_its_stage() {
    let counters = Counters::default();
    metrics::with_local_recorder(&counters, || {
        let mut engine = engine();
        assert!(engine.admit(too_big("a"), Stage::Signal, T0).is_err());
        assert!(engine.admit(too_big("b"), Stage::Order, T0).is_err());
        assert!(engine.admit(too_big("c"), Stage::Order, T0).is_err());
        engine.on_venue_latency(5_000, T0);
    });
    assert_eq!(
        counters.get("signals_rejected_by_risk{reason=order_notional}"),
        1
    );
    assert_eq!(
        counters.get("risk_rejections_total{reason=order_notional}"),
        2
    );
    assert_eq!(
        counters.get("risk_circuit_breaker_trips_total{breaker=venue_latency}"),
        1
    );
}

#[test]
fn a_refusal_is_queued_as_a_serialisable_event_for_the_alerts_topic() {
    let mut engine = engine();
    engine.drain_events().for_each(drop);
    assert!(engine.admit(too_big("req-1"), Stage::Order, T0).is_err());
    let events: Vec<RiskEvent> = engine.drain_events().collect();
    let [RiskEvent::Rejected(rejection)] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(
        (rejection.rule, rejection.request_id.as_str()),
        (RiskRule::OrderNotional, "req-1")
    );
    assert_eq!(events[0].severity(), Severity::Info);
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(json["type"], "rejected");
    assert_eq!(json["rule"], "order_notional");
    assert_eq!(json["stage"], "order");
    assert_eq!(json["observed"]["unit"], "usdt");
    assert_eq!(json["observed"]["value"], "15000");
    assert_eq!(json["limit"]["value"], "5000");
    let back: RiskEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, events[0]);
}

#[test]
fn the_status_snapshot_shows_halts_breakers_pnl_exposure_and_limits() {
    let mut engine = engine();
    hold_btc(&mut engine, "0.1", "50000");
    engine.on_mark_price("BTCUSDT", px("49000"), T0).unwrap();
    engine.on_venue_latency(2_000, T0);
    engine.engage_kill_switch("manual", false, T0);
    assert!(engine.admit(too_big("a"), Stage::Order, T0).is_err());
    let status = engine.status(T0);
    assert!(!status.opening_allowed);
    assert_eq!(
        status.halted_by,
        [RiskRule::KillSwitch, RiskRule::VenueLatency]
    );
    assert!(status.kill_switch.engaged);
    let latency = status
        .breakers
        .iter()
        .find(|b| b.breaker == Breaker::VenueLatency)
        .unwrap();
    assert!(latency.tripped);
    assert_eq!(status.daily_pnl, usdt("-100"));
    assert_eq!(status.equity, usdt("99900"));
    assert_eq!(status.total_exposure, usdt("4900"));
    assert_eq!(status.leverage, Some(rate("0.04904904")));
    assert_eq!(status.window_peak_equity, Some(usdt("100000")));
    assert_eq!(status.window_drawdown_pct, Some(rate("0.1")));
    assert_eq!(status.positions.len(), 1);
    assert_eq!(status.positions[0].position_side, PositionSide::Both);
    assert_eq!(status.positions[0].unrealised_pnl, Some(usdt("-100")));
    assert_eq!(
        status.rejections,
        [RuleCount {
            rule: RiskRule::KillSwitch,
            count: 1
        }]
    );
    assert_eq!(status.limits, config());
    let json = serde_json::to_string(&status).unwrap();
    let back: RiskStatus = serde_json::from_str(&json).unwrap();
    assert_eq!(back, status);
}

#[test]
fn the_event_queue_is_bounded_and_counts_what_it_drops() {
    let mut engine = engine();
    engine.drain_events().for_each(drop);
    for i in 0..EVENT_QUEUE_CAPACITY + 10 {
        assert!(
            engine
                .admit(too_big(&format!("r{i}")), Stage::Order, T0)
                .is_err()
        );
    }
    assert_eq!(engine.status(T0).events_dropped, 10);
    assert_eq!(engine.drain_events().count(), EVENT_QUEUE_CAPACITY);
    assert!(engine.admit(too_big("after"), Stage::Order, T0).is_err());
    assert_eq!(engine.drain_events().count(), 1);
}
