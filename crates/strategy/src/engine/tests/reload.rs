//! Hot reload: what changes, what is kept, and all-or-nothing refusal.

use super::*;
use crate::error::SetupError;

fn change(report: &ReloadReport, instance: &str) -> Option<ReloadChange> {
    report
        .changes
        .iter()
        .find(|c| c.instance == instance)
        .map(|c| c.change)
}

fn base() -> StrategiesConfig {
    majority(vec![
        scripted("keep", "BTCUSDT", ""),
        scripted("tune", "BTCUSDT", "label = 1"),
        scripted("mm", "BTCUSDT", "votes = false\nquote_price = \"29990\""),
    ])
}

#[test]
fn a_reload_adds_reconfigures_reweights_and_removes() {
    let log = new_log();
    let mut e = engine(&base(), &log);
    let quote_id = requests(&btc_tick(&mut e, 1))[0].request_id.clone();
    let mut next = config(
        Aggregation::Weighted,
        60,
        vec![
            scripted("keep", "BTCUSDT", ""),
            scripted("tune", "BTCUSDT", "label = 2"),
            scripted("new", "ETHUSDT", ""),
        ],
    );
    next.instances[0].weight = Rate::from_int(2).unwrap();
    let mut out = Outbox::default();
    let report = e.apply_config(&next, &mut out).unwrap();
    assert!(report.aggregation_changed);
    assert_eq!(change(&report, "keep"), Some(ReloadChange::Reweighted));
    assert_eq!(change(&report, "tune"), Some(ReloadChange::Reconfigured));
    assert_eq!(change(&report, "new"), Some(ReloadChange::Added));
    assert_eq!(change(&report, "mm"), Some(ReloadChange::Removed));
    assert_eq!(report.changes.len(), 4);
    assert_eq!(
        cancels(&out)[0].client_order_id,
        quote_id,
        "the removed maker's quote is cancelled"
    );
    assert_eq!(e.status("mm"), Some(InstanceStatus::Removed));
    assert_eq!(e.aggregation().method, Aggregation::Weighted);
}

#[test]
fn reconfiguring_keeps_the_strategys_state() {
    let log = new_log();
    let mut e = engine(&base(), &log);
    btc_tick(&mut e, 1);
    btc_tick(&mut e, 2);
    let mut next = base();
    next.instances[1] = scripted("tune", "BTCUSDT", "label = 2");
    e.apply_config(&next, &mut Outbox::default()).unwrap();
    assert!(
        calls(&log, "tune").contains(&"reconfigure:2".to_owned()),
        "it had seen two events"
    );
}

#[test]
fn a_new_type_or_symbol_replaces_the_strategy() {
    let log = new_log();
    let mut e = engine(&base(), &log);
    let mut next = base();
    next.instances[0] = scripted("keep", "ETHUSDT", "");
    next.instances[1].kind = "momentum".into();
    next.instances[1].parameters = toml::Table::new();
    let report = e.apply_config(&next, &mut Outbox::default()).unwrap();
    assert_eq!(change(&report, "keep"), Some(ReloadChange::Replaced));
    assert_eq!(change(&report, "tune"), Some(ReloadChange::Replaced));
    calls(&log, "keep");
    tick(&mut e, "ETHUSDT", "2000.00", "2000.01", 3);
    assert_eq!(
        calls(&log, "keep"),
        ["market:ETHUSDT"],
        "now routed by its new symbol"
    );
}

#[test]
fn disabling_stops_and_enabling_starts_again() {
    let log = new_log();
    let mut e = engine(&base(), &log);
    let mut next = base();
    next.instances[0].enabled = false;
    assert_eq!(
        change(
            &e.apply_config(&next, &mut Outbox::default()).unwrap(),
            "keep"
        ),
        Some(ReloadChange::Stopped)
    );
    btc_tick(&mut e, 1);
    assert!(calls(&log, "keep").is_empty());
    let report = e.apply_config(&base(), &mut Outbox::default()).unwrap();
    assert_eq!(change(&report, "keep"), Some(ReloadChange::Started));
    btc_tick(&mut e, 2);
    assert_eq!(calls(&log, "keep"), ["market:BTCUSDT"]);
}

#[test]
fn an_unchanged_config_changes_nothing() {
    let log = new_log();
    let mut e = engine(&base(), &log);
    let mut out = Outbox::default();
    let report = e.apply_config(&base(), &mut out).unwrap();
    assert_eq!(report, ReloadReport::default());
    assert!(out.is_empty());
}

#[test]
fn one_bad_instance_refuses_the_whole_reload() {
    let log = new_log();
    let mut e = engine(&base(), &log);
    let mut next = base();
    next.instances[1] = scripted("tune", "BTCUSDT", "label = \"x\"");
    next.instances.push(scripted("extra", "BTCUSDT", ""));
    next.instances.push(StrategyInstance {
        kind: "nope".into(),
        ..scripted("typo", "BTCUSDT", "")
    });
    let err = e.apply_config(&next, &mut Outbox::default()).unwrap_err();
    assert_eq!(err.errors.len(), 2);
    let text = err.to_string();
    assert!(
        text.contains(
            "strategy instance \"tune\" (scripted): parameter `label`: expected a whole number"
        ),
        "{text}"
    );
    assert!(
        text.contains("strategy instance \"typo\": unknown type \"nope\""),
        "{text}"
    );
    assert_eq!(e.status("extra"), None, "nothing was applied");
    btc_tick(&mut e, 1);
    assert_eq!(
        calls(&log, "tune"),
        ["market:BTCUSDT"],
        "the old config still runs"
    );
}

#[test]
fn a_symbol_without_an_instrument_is_refused_at_start() {
    let log = new_log();
    let cfg = majority(vec![scripted("x", "DOGEUSDT", "")]);
    let instruments = [binance_usdm("BTCUSDT").unwrap()];
    let err = StrategyEngine::new(&cfg, registry(&log), instruments, EngineSettings::default())
        .unwrap_err();
    assert!(
        matches!(&err.errors[0], SetupError::Field { key: "symbol", .. }),
        "{err}"
    );
}

#[test]
fn a_config_change_restarts_a_faulted_instance() {
    let log = new_log();
    let cfg = solo("bad", "fail = \"error\"");
    let mut e = engine_with(&cfg, &log, disabled_after(1));
    btc_tick(&mut e, 1);
    assert_eq!(e.status("bad"), Some(InstanceStatus::Faulted));
    assert!(
        e.apply_config(&cfg, &mut Outbox::default())
            .unwrap()
            .changes
            .is_empty(),
        "same config: stays faulted"
    );
    let fixed = solo("bad", "");
    let report = e.apply_config(&fixed, &mut Outbox::default()).unwrap();
    assert_eq!(change(&report, "bad"), Some(ReloadChange::Started));
    assert_eq!(e.status("bad"), Some(InstanceStatus::Running));
}

#[test]
fn states_list_every_instance_for_the_dashboard() {
    let log = new_log();
    let mut e = engine(&base(), &log);
    btc_tick(&mut e, 1);
    let states = e.states();
    assert_eq!(
        states.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["keep", "tune", "mm"]
    );
    assert_eq!(states[2].live_quotes, 1);
    assert_eq!(states[0].strategy, serde_json::json!({ "seen": 1 }));
    assert_eq!(states[0].current_price, Some(px("30000.5")));
    let json = serde_json::to_value(&states[0]).unwrap();
    assert_eq!(json["status"], "running");
}

#[test]
fn a_disabled_instance_moved_to_another_symbol_trades_there_once_enabled() {
    let log = new_log();
    let mut e = engine(&base(), &log);
    let mut next = base();
    next.instances[0] = StrategyInstance {
        enabled: false,
        ..scripted("keep", "ETHUSDT", "")
    };
    e.apply_config(&next, &mut Outbox::default()).unwrap();
    next.instances[0].enabled = true;
    let report = e.apply_config(&next, &mut Outbox::default()).unwrap();
    assert_eq!(change(&report, "keep"), Some(ReloadChange::Started));
    btc_tick(&mut e, 1);
    tick(&mut e, "ETHUSDT", "2000.00", "2000.01", 2);
    assert_eq!(calls(&log, "keep"), ["market:ETHUSDT"]);
    assert_eq!(e.position("keep").unwrap().symbol, "ETHUSDT");
}

#[test]
fn an_instrument_added_later_can_be_traded_after_a_reload() {
    let log = new_log();
    let mut e = engine(&base(), &log);
    let mut next = base();
    next.instances.push(scripted("sol", "SOLUSDT", ""));
    assert!(e.apply_config(&next, &mut Outbox::default()).is_err());
    e.add_instrument(binance_usdm("SOLUSDT").unwrap());
    let report = e.apply_config(&next, &mut Outbox::default()).unwrap();
    assert_eq!(change(&report, "sol"), Some(ReloadChange::Added));
}

#[test]
fn the_engine_can_move_to_its_own_thread() {
    fn send<T: Send>(_: &T) {}
    let log = new_log();
    send(&engine(&base(), &log));
}
