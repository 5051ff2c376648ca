//! Fills, closed orders and per-strategy positions (FR-SE-007).

use super::*;

fn buyer(name: &str) -> StrategyInstance {
    scripted(name, "BTCUSDT", "signal = \"buy\"")
}

#[test]
fn a_fill_updates_the_strategys_position_then_tells_it() {
    let log = new_log();
    let mut e = engine(&majority(vec![buyer("a")]), &log);
    let out = btc_tick(&mut e, 1);
    let request = requests(&out)[0].clone();
    calls(&log, "a");
    assert!(e.on_fill(&fill_of(&request, qty("0.004"), 1), &mut Outbox::default()));
    let position = e.position("a").unwrap();
    assert_eq!(position.qty, qty("0.004"));
    assert_eq!(position.entry_price(), request.price);
    assert_eq!(
        calls(&log, "a"),
        ["position:0.004", "fill:0.004:None:false"]
    );
}

#[test]
fn a_shared_order_is_split_by_order_size() {
    let log = new_log();
    let mut big = buyer("big");
    big.order_size = qty("0.03");
    let mut e = engine(&majority(vec![buyer("small"), big]), &log);
    let request = requests(&btc_tick(&mut e, 1))[0].clone();
    assert_eq!(request.quantity, qty("0.04"));
    e.on_fill(&fill_of(&request, qty("0.02"), 1), &mut Outbox::default());
    assert_eq!(e.position("small").unwrap().qty, qty("0.005"));
    assert_eq!(e.position("big").unwrap().qty, qty("0.015"));
}

#[test]
fn a_fee_in_the_margin_asset_is_shared_with_the_fill() {
    let log = new_log();
    let mut e = engine(&majority(vec![buyer("a"), buyer("b")]), &log);
    let request = requests(&btc_tick(&mut e, 1))[0].clone();
    let mut f = fill_of(&request, qty("0.02"), 1);
    f.commission = Money::parse("0.12").unwrap();
    e.on_fill(&f, &mut Outbox::default());
    assert_eq!(e.position("a").unwrap().fees, Money::parse("0.06").unwrap());
    f.trade_id = 2;
    f.commission_asset = "BNB".into();
    e.on_fill(&f, &mut Outbox::default());
    assert_eq!(
        e.position("a").unwrap().fees,
        Money::parse("0.06").unwrap(),
        "BNB is not a USDT cost"
    );
}

#[test]
fn a_completely_filled_quote_frees_its_slot() {
    let log = new_log();
    let cfg = maker("29990", "");
    let mut e = engine(&cfg, &log);
    let request = requests(&btc_tick(&mut e, 1))[0].clone();
    e.on_fill(&fill_of(&request, qty("0.004"), 1), &mut Outbox::default());
    assert!(
        btc_tick(&mut e, 2).commands.is_empty(),
        "partly filled: still working"
    );
    e.on_fill(&fill_of(&request, qty("0.006"), 2), &mut Outbox::default());
    let log_lines = calls(&log, "mm");
    assert!(
        log_lines.contains(&"fill:0.004:Some(QuoteId(0)):false".to_owned()),
        "{log_lines:?}"
    );
    assert!(
        log_lines.contains(&"fill:0.006:Some(QuoteId(0)):true".to_owned()),
        "{log_lines:?}"
    );
    assert_eq!(
        requests(&btc_tick(&mut e, 3)).len(),
        1,
        "the free slot is quoted again"
    );
}

#[test]
fn a_cancelled_quote_frees_its_slot_and_tells_the_strategy() {
    let log = new_log();
    let cfg = maker("29990", "");
    let mut e = engine(&cfg, &log);
    let id = requests(&btc_tick(&mut e, 1))[0].request_id.clone();
    calls(&log, "mm");
    assert!(e.on_order_closed(&id, CloseReason::Rejected, 2, &mut Outbox::default()));
    assert_eq!(calls(&log, "mm"), ["closed:0"]);
    assert_eq!(requests(&btc_tick(&mut e, 3)).len(), 1);
    assert!(
        e.on_order_closed(&id, CloseReason::Canceled, 4, &mut Outbox::default()),
        "a repeat is harmless"
    );
    assert!(
        calls(&log, "mm").iter().all(|l| l != "closed:0"),
        "and not reported twice"
    );
}

#[test]
fn a_fill_after_a_cancel_still_counts_for_the_strategy() {
    let log = new_log();
    let mut e = engine(&majority(vec![buyer("a")]), &log);
    let request = requests(&btc_tick(&mut e, 1))[0].clone();
    e.on_order_closed(
        &request.request_id,
        CloseReason::Canceled,
        2,
        &mut Outbox::default(),
    );
    assert!(e.on_fill(&fill_of(&request, qty("0.01"), 1), &mut Outbox::default()));
    assert_eq!(e.position("a").unwrap().qty, qty("0.01"));
}

#[test]
fn fills_of_orders_the_engine_did_not_place_are_ignored() {
    let log = new_log();
    let mut e = engine(&majority(vec![buyer("a")]), &log);
    let mut request = requests(&btc_tick(&mut e, 1))[0].clone();
    request.client_order_id = Some("web_manual_1".into());
    assert!(!e.on_fill(&fill_of(&request, qty("0.01"), 1), &mut Outbox::default()));
    assert!(e.position("a").unwrap().qty.is_zero());
}

#[test]
fn risk_refusal_of_a_quote_frees_the_slot() {
    let log = new_log();
    let cfg = maker("29990", "");
    let mut e = engine(&cfg, &log);
    let id = requests(&btc_tick(&mut e, 1))[0].request_id.clone();
    e.on_order_closed(&id, CloseReason::RefusedByRisk, 1, &mut Outbox::default());
    let states = e.states();
    assert_eq!(states[0].live_quotes, 0);
}
