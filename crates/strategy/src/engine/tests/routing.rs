//! Routing, voting and order generation.

use kestrel_model::order::{ExecutionMode, OrderType, TimeInForce, check_client_order_id};
use proptest::prelude::{Just, ProptestConfig, prop, prop_assert, prop_oneof, proptest};
use proptest::strategy::Strategy as Generate;

use super::*;

#[test]
fn market_data_reaches_only_the_instances_of_its_symbol() {
    let log = new_log();
    let cfg = majority(vec![
        scripted("btc", "BTCUSDT", ""),
        scripted("eth", "ETHUSDT", ""),
    ]);
    let mut e = engine(&cfg, &log);
    btc_tick(&mut e, 1);
    assert_eq!(calls(&log, "btc"), ["market:BTCUSDT"]);
    assert!(calls(&log, "eth").is_empty());
}

#[test]
fn an_event_for_an_unknown_symbol_does_nothing() {
    let log = new_log();
    let mut e = engine(&solo("a", "signal = \"buy\""), &log);
    assert!(tick(&mut e, "DOGEUSDT", "1", "2", 1).is_empty());
}

#[test]
fn a_majority_buys_once_for_the_sum_of_its_order_sizes_one_tick_inside_the_bid() {
    let log = new_log();
    let cfg = majority(vec![
        scripted("a", "BTCUSDT", "signal = \"buy\""),
        scripted("b", "BTCUSDT", "signal = \"buy\"\nstrength = \"0.5\""),
        scripted("c", "BTCUSDT", ""),
    ]);
    let mut e = engine(&cfg, &log);
    let out = btc_tick(&mut e, 1);
    assert_eq!(out.signals.len(), 2);
    let r = requests(&out);
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].side, r[0].quantity, r[0].price),
        (Side::Buy, qty("0.02"), Some(px("30000.1")))
    );
    assert_eq!(
        (r[0].order_type, r[0].time_in_force),
        (OrderType::Limit, Some(TimeInForce::Gtx))
    );
    let agg = &out.aggregated[0];
    assert_eq!(
        agg.contributing_strategies
            .iter()
            .map(|s| &**s)
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(agg.combined_strength.rate(), Rate::from_raw(75_000_000));
}

#[test]
fn a_split_vote_places_nothing() {
    let log = new_log();
    let cfg = majority(vec![
        scripted("a", "BTCUSDT", "signal = \"buy\""),
        scripted("b", "BTCUSDT", "signal = \"sell\""),
        scripted("c", "BTCUSDT", ""),
    ]);
    let out = btc_tick(&mut engine(&cfg, &log), 1);
    assert_eq!(out.signals.len(), 2, "both signals are still recorded");
    assert!(out.commands.is_empty() && out.aggregated.is_empty());
}

#[test]
fn first_above_threshold_takes_the_first_strong_signal_alone() {
    let log = new_log();
    let cfg = config(
        Aggregation::First,
        50,
        vec![
            scripted("weak", "BTCUSDT", "signal = \"buy\"\nstrength = \"0.3\""),
            scripted("strong", "BTCUSDT", "signal = \"sell\"\nstrength = \"0.9\""),
        ],
    );
    let out = btc_tick(&mut engine(&cfg, &log), 1);
    let r = requests(&out);
    assert_eq!(
        (r.len(), r[0].side, r[0].quantity),
        (1, Side::Sell, qty("0.01"))
    );
    assert_eq!(
        places(&out)[0].origin,
        Origin::Signal {
            strategies: vec![Arc::from("strong")]
        }
    );
}

#[test]
fn weighted_lets_a_heavy_instance_outvote_two_light_ones() {
    let log = new_log();
    let mut heavy = scripted("heavy", "BTCUSDT", "signal = \"sell\"");
    heavy.weight = Rate::from_int(3).unwrap();
    let cfg = config(
        Aggregation::Weighted,
        10,
        vec![
            scripted("a", "BTCUSDT", "signal = \"buy\""),
            scripted("b", "BTCUSDT", "signal = \"buy\""),
            heavy,
        ],
    );
    let out = btc_tick(&mut engine(&cfg, &log), 1);
    assert_eq!(
        requests(&out)[0].side,
        Side::Sell,
        "net 1 of a total weight 5 is 20%, above 10%"
    );
}

#[test]
fn urgency_sets_the_order_type_and_price() {
    for (urgency, tif, price) in [
        ("passive", TimeInForce::Gtx, "30000.0"),
        ("normal", TimeInForce::Gtx, "30000.1"),
        ("aggressive", TimeInForce::Ioc, "30001.0"),
    ] {
        let log = new_log();
        let params = format!("signal = \"buy\"\nurgency = \"{urgency}\"");
        let out = btc_tick(&mut engine(&solo("a", &params), &log), 1);
        let r = requests(&out);
        assert_eq!(
            (r[0].time_in_force, r[0].price),
            (Some(tif), Some(px(price))),
            "{urgency}"
        );
    }
}

#[test]
fn an_exit_skips_the_vote_and_closes_the_strategys_own_position() {
    let log = new_log();
    let cfg = majority(vec![
        scripted(
            "exit",
            "BTCUSDT",
            "signal = \"sell\"\nexit = true\nurgency = \"aggressive\"",
        ),
        scripted("quiet1", "BTCUSDT", ""),
        scripted("quiet2", "BTCUSDT", ""),
    ]);
    let mut e = engine(&cfg, &log);
    let flat = btc_tick(&mut e, 1);
    assert!(flat.commands.is_empty());
    assert_eq!(
        flat.incidents[0].kind,
        IncidentKind::OrderSkipped,
        "nothing to close"
    );
    let mut long = Position::flat("BTCUSDT", kestrel_model::order::PositionSide::Both);
    long.apply_fill(Side::Buy, qty("0.03"), px("29000"), Money::ZERO)
        .unwrap();
    e.recover("exit", &[], long, 2, &mut Outbox::default())
        .unwrap();
    let out = btc_tick(&mut e, 3);
    let r = requests(&out);
    assert_eq!(
        (r[0].side, r[0].quantity, r[0].time_in_force),
        (Side::Sell, qty("0.03"), Some(TimeInForce::Ioc))
    );
    assert!(matches!(places(&out)[0].origin, Origin::Exit { .. }));
}

#[test]
fn a_non_voting_instance_trades_its_own_signals() {
    let log = new_log();
    let cfg = majority(vec![
        scripted("solo", "BTCUSDT", "signal = \"buy\"\nvotes = false"),
        scripted("quiet", "BTCUSDT", ""),
    ]);
    let out = btc_tick(&mut engine(&cfg, &log), 1);
    assert_eq!(requests(&out).len(), 1);
    assert!(out.aggregated.is_empty(), "no vote took place");
}

#[test]
fn observation_mode_records_signals_but_places_no_order() {
    let log = new_log();
    let settings = EngineSettings {
        execution_mode: ExecutionMode::Observation,
        ..EngineSettings::default()
    };
    let cfg = solo("a", "signal = \"buy\"");
    let out = btc_tick(&mut engine_with(&cfg, &log, settings), 1);
    assert_eq!((out.signals.len(), out.aggregated.len()), (1, 1));
    assert!(out.commands.is_empty());
}

#[test]
fn the_same_events_give_the_same_orders_and_ids() {
    let run = || {
        let log = new_log();
        let cfg = solo("a", "signal = \"buy\"");
        let mut e = engine(&cfg, &log);
        (1..=3).map(|t| btc_tick(&mut e, t)).collect::<Vec<_>>()
    };
    let (first, second) = (run(), run());
    assert_eq!(first, second);
    let ids: Vec<&str> = first
        .iter()
        .flat_map(requests)
        .map(|r| r.request_id.as_str())
        .collect();
    assert_eq!(ids.len(), 3);
    for (k, id) in ids.iter().enumerate() {
        check_client_order_id(id).unwrap();
        assert!(!ids[..k].contains(id), "ids are unique");
        assert_eq!(first[k].commands.len(), 1);
    }
    let r = requests(&first[0])[0];
    assert_eq!(r.client_order_id.as_deref(), Some(r.request_id.as_str()));
    r.check_shape().unwrap();
}

#[test]
fn a_resting_signal_order_is_cancelled_once_after_its_ttl() {
    let log = new_log();
    let settings = EngineSettings {
        resting_order_ttl_ms: 1_000,
        ..EngineSettings::default()
    };
    let cfg = solo("a", "signal = \"buy\"");
    let mut e = engine_with(&cfg, &log, settings);
    let first = requests(&btc_tick(&mut e, 0))[0].request_id.clone();
    assert!(cancels(&btc_tick(&mut e, 999)).is_empty());
    let out = btc_tick(&mut e, 1_000);
    let c = cancels(&out);
    assert_eq!(c.len(), 1);
    assert_eq!(
        (c[0].client_order_id.as_str(), c[0].reason),
        (first.as_str(), CancelReason::Expired)
    );
    let later = btc_tick(&mut e, 2_000);
    assert!(
        cancels(&later).iter().all(|c| c.client_order_id != first),
        "cancelled once"
    );
}

#[test]
fn a_quote_is_placed_once_and_kept_while_unchanged() {
    let log = new_log();
    let cfg = maker("29990", "");
    let mut e = engine(&cfg, &log);
    let r = btc_tick(&mut e, 1);
    let r = requests(&r);
    assert_eq!(
        (r.len(), r[0].price, r[0].time_in_force),
        (1, Some(px("29990")), Some(TimeInForce::Gtx))
    );
    assert!(
        btc_tick(&mut e, 2).commands.is_empty(),
        "the slot already holds it"
    );
}

#[test]
fn a_moved_quote_replaces_the_slots_order() {
    let log = new_log();
    let mut e = engine(&maker("29990", "quote_step = \"1\""), &log);
    let old = requests(&btc_tick(&mut e, 1))[0].request_id.clone();
    let out = btc_tick(&mut e, 2);
    let c = cancels(&out);
    assert_eq!(
        (c[0].client_order_id.as_str(), c[0].reason),
        (old.as_str(), CancelReason::Replaced)
    );
    assert_eq!(requests(&out)[0].price, Some(px("29991")));
}

#[test]
fn a_quote_that_would_cross_is_not_sent_and_its_slot_is_freed() {
    let log = new_log();
    let cfg = maker("30001", "");
    let out = btc_tick(&mut engine(&cfg, &log), 1);
    assert!(
        out.commands.is_empty(),
        "a post-only buy at the ask would take"
    );
    assert!(
        out.incidents
            .iter()
            .any(|i| i.kind == IncidentKind::OrderSkipped)
    );
    assert!(
        calls(&log, "mm").contains(&"closed:0".to_owned()),
        "the strategy learns its slot is free"
    );
}

fn arb_side() -> impl Generate<Value = &'static str> {
    prop_oneof![Just("buy"), Just("sell"), Just("none")]
}

fn arb_method() -> impl Generate<Value = Aggregation> {
    prop_oneof![
        Just(Aggregation::Majority),
        Just(Aggregation::Weighted),
        Just(Aggregation::First)
    ]
}

fn arb_urgency() -> impl Generate<Value = &'static str> {
    prop_oneof![Just("passive"), Just("normal"), Just("aggressive")]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn one_event_never_yields_orders_on_both_sides_and_makers_never_cross(
        votes in prop::collection::vec((arb_side(), 0u32..=100, arb_urgency()), 1..5),
        method in arb_method(),
        threshold in 0i64..=100,
        bid_ticks in 300_000i64..400_000,
        spread in 1i64..20,
    ) {
        let instances = votes.iter().enumerate().map(|(k, (side, strength, urgency))| {
            let strength = percent(*strength);
            let params =
                format!("signal = \"{side}\"\nstrength = \"{strength}\"\nurgency = \"{urgency}\"");
            scripted(&format!("s{k}"), "BTCUSDT", &params)
        }).collect();
        let log = new_log();
        let mut e = engine(&config(method, threshold, instances), &log);
        let tick_raw = 10_000_000;
        let bid = Price::from_raw(bid_ticks * tick_raw);
        let ask = Price::from_raw((bid_ticks + spread) * tick_raw);
        let out = tick(&mut e, "BTCUSDT", &bid.to_string(), &ask.to_string(), 1);
        let r = requests(&out);
        prop_assert!(r.len() <= 1, "{r:?}");
        let btc = binance_usdm("BTCUSDT").unwrap();
        for request in r {
            let price = request.price.unwrap();
            prop_assert!(price.is_on_step(btc.price_filter.tick_size, btc.price_filter.min_price));
            prop_assert!(request.quantity.is_on_step(btc.lot_size.step_size, btc.lot_size.min_qty));
            if request.time_in_force == Some(TimeInForce::Gtx) {
                match request.side {
                    Side::Buy => prop_assert!(price < ask),
                    Side::Sell => prop_assert!(price > bid),
                }
            }
        }
    }
}

/// `n` percent as an exact decimal string.
fn percent(n: u32) -> String {
    Rate::from_raw(i64::from(n) * 1_000_000).to_string()
}
