//! Conditional orders in the engine, driven by scripted algo answers, `ALGO_UPDATE`s and child
//! order events in the order the simulator sends them.

use kestrel_model::Price;
use kestrel_model::order::{OrderStatus, OrderType, WorkingType};
use kestrel_venue::binance::orders::{AlgoOrder, Placed};
use kestrel_venue::binance::user_data::{AlgoUpdate, UserEvent, parse_user_event};

use super::*;
use crate::engine::{AlgoFollowUp, CancelCommand, FillOutcome, TradeOutcome};

/// A stop-market buy 1.2 % above the test mark: it waits for its trigger.
fn stop(request_id: &str) -> OrderRequest {
    let mut stop = request(request_id, "62740.00");
    stop.order_type = OrderType::StopMarket;
    stop.time_in_force = None;
    stop.price = None;
    stop.stop_price = Some(Price::parse("63500.00").unwrap());
    stop.working_type = WorkingType::MarkPrice;
    stop
}

/// The algo endpoint's object for conditional order `client_order_id`.
fn algo(client_order_id: &str, algo_id: u64, status: &str, child: Option<u64>) -> AlgoOrder {
    let child = child.map_or_else(String::new, |c| c.to_string());
    serde_json::from_str(&format!(
        r#"{{"algoId":{algo_id},"clientAlgoId":"{client_order_id}","algoType":"CONDITIONAL","orderType":"STOP_MARKET","symbol":"BTCUSDT","side":"BUY","positionSide":"BOTH","timeInForce":"GTC","quantity":"0.010","algoStatus":"{status}","triggerPrice":"63500.00","price":"0.00","workingType":"MARK_PRICE","closePosition":false,"priceProtect":false,"reduceOnly":false,"createTime":1700000000000,"updateTime":1700000000000,"triggerTime":0,"actualOrderId":"{child}"}}"#
    ))
    .unwrap()
}

/// An `ALGO_UPDATE` for conditional order `client_order_id`.
fn algo_update(
    client_order_id: &str,
    algo_id: u64,
    status: &str,
    child: Option<u64>,
    reason: &str,
) -> AlgoUpdate {
    let child = child.map_or_else(String::new, |c| c.to_string());
    let frame = format!(
        r#"{{"e":"ALGO_UPDATE","T":1700000000200,"E":1700000000201,"o":{{"caid":"{client_order_id}","aid":{algo_id},"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"BUY","ps":"BOTH","f":"GTC","q":"0.010","X":"{status}","ai":"{child}","tp":"63500.00","p":"0.00","V":"NONE","wt":"MARK_PRICE","pm":"NONE","cp":false,"pP":false,"R":false,"tt":0,"gtd":0,"rm":"{reason}"}}}}"#
    );
    match parse_user_event(&frame).unwrap() {
        UserEvent::AlgoUpdate(update) => update,
        other => panic!("not an algo update: {other:?}"),
    }
}

/// Places the stop `request_id` and has the algo endpoint accept it as `algo_id`.
fn placed_stop(engine: &mut Engine<MemoryJournal>, request_id: &str, algo_id: u64) -> String {
    let btc = btc();
    let Submit::Place(placement) = engine.submit(stop(request_id), &ctx(&btc), T0).unwrap() else {
        panic!("the stop was not approved");
    };
    assert!(placement.order.is_algo());
    let id = placement.client_order_id;
    go(engine, &id, T0);
    let answer = Ok(Placed::Algo(algo(&id, algo_id, "NEW", None)));
    let step = engine
        .on_place_answer(&id, answer, VenueUsage::default(), T0)
        .unwrap();
    assert!(done(step).is_accepted());
    id
}

#[test]
fn a_triggered_stop_is_known_by_its_child_and_the_fills_that_came_first_are_its_own() {
    let mut engine = engine();
    let id = placed_stop(&mut engine, "s1", 7);
    let order = engine.order(&id).unwrap();
    assert_eq!(
        (order.status, order.venue_order_id),
        (OrderStatus::Submitted, Some(7))
    );
    engine.take_events();

    // As the venue sends it: TRIGGERING, the child's own events under a client order id of
    // the venue's, then the algo update that names the child.
    let triggering = algo_update(&id, 7, "TRIGGERING", None, "");
    assert_eq!(
        engine.on_algo_update(&triggering, T0).unwrap(),
        AlgoFollowUp::Nothing
    );
    let child_fill = update("kstl000000000000000012", 12, "FILLED", "0.010", 55, false);
    engine.on_user_event(&child_fill, T0).unwrap();
    assert_eq!(engine.order(&id).unwrap().filled_qty, Qty::ZERO, "parked");
    let finished = algo_update(&id, 7, "FINISHED", Some(12), "");
    assert_eq!(
        engine.on_algo_update(&finished, T0).unwrap(),
        AlgoFollowUp::Nothing,
        "filled: nothing left to read"
    );

    let order = engine.order(&id).unwrap();
    assert_eq!(
        (order.status, order.venue_order_id),
        (OrderStatus::Filled, Some(12))
    );
    let fills: Vec<Fill> = engine
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            ExecEvent::Fill(fill) => Some(fill),
            ExecEvent::Order(_) => None,
        })
        .collect();
    assert_eq!(fills.len(), 1);
    assert_eq!(
        (fills[0].client_order_id.as_str(), fills[0].order_id),
        (id.as_str(), 12)
    );
    // The same trade again, from REST recovery: applied once.
    assert_eq!(
        engine
            .on_user_trade(&user_trade(12, 55, "0.010"), T0)
            .unwrap(),
        TradeOutcome::Fill(FillOutcome::Duplicate)
    );
}

#[test]
fn an_algo_id_is_never_taken_for_an_order_id() {
    let mut engine = engine();
    let plain = place(&mut engine, "p1", T0).client_order_id;
    go(&mut engine, &plain, T0);
    let venue = venue_order(&plain, 7, "NEW", "0");
    engine
        .on_place_result(&plain, Ok(venue), VenueUsage::default(), T0)
        .unwrap();
    let stop = placed_stop(&mut engine, "s1", 7);
    assert_eq!(
        engine
            .on_user_trade(&user_trade(7, 1, "0.004"), T0)
            .unwrap(),
        TradeOutcome::Fill(FillOutcome::Applied)
    );
    assert_eq!(
        engine.order(&plain).unwrap().filled_qty,
        Qty::parse("0.004").unwrap()
    );
    assert_eq!(engine.order(&stop).unwrap().filled_qty, Qty::ZERO);
    assert_eq!(engine.open_at_venue(SYMBOL), vec![(plain, 7)]);
    assert_eq!(engine.awaiting_trigger(SYMBOL), vec![stop.clone()]);
    assert_eq!(engine.fills_order(&stop), None, "no child yet");
}

#[test]
fn cancels_name_the_algo_order_before_the_trigger_and_the_child_after() {
    let mut engine = engine();
    let id = placed_stop(&mut engine, "s1", 7);
    assert_eq!(
        engine.cancel(&id).unwrap(),
        CancelCommand::Algo {
            symbol: SYMBOL.to_owned(),
            client_order_id: id.clone()
        }
    );
    let triggered = algo_update(&id, 7, "TRIGGERED", Some(12), "");
    engine.on_algo_update(&triggered, T0).unwrap();
    assert_eq!(
        engine.cancel(&id).unwrap(),
        CancelCommand::Child {
            symbol: SYMBOL.to_owned(),
            client_order_id: id.clone(),
            order_id: 12
        }
    );
    assert_eq!(engine.fills_order(&id), Some((SYMBOL.to_owned(), 12)));
    let batch = engine.cancel_batch(SYMBOL, std::slice::from_ref(&id));
    assert!(matches!(batch.as_slice(), [CancelCommand::Child { .. }]));

    // The child cancelled (its REST answer names the venue's client order id).
    let child = venue_order("kstl000000000000000012", 12, "CANCELED", "0");
    let outcome = engine.on_cancel_result(&id, Ok(child), T0).unwrap();
    assert_eq!(outcome, CancelOutcome::Done(OrderStatus::Canceled));
}

#[test]
fn an_algo_cancel_and_a_symbol_cancel_end_waiting_stops() {
    let mut engine = engine();
    let a = placed_stop(&mut engine, "a", 7);
    let b = placed_stop(&mut engine, "b", 8);
    assert_eq!(
        engine.on_algo_cancel_result(&a, Ok(()), T0).unwrap(),
        CancelOutcome::Done(OrderStatus::Canceled)
    );
    assert_eq!(
        engine
            .on_cancel_all_algos_result(SYMBOL, Ok(()), T0)
            .unwrap(),
        vec![b.clone()]
    );
    assert_eq!(engine.order(&b).unwrap().status, OrderStatus::Canceled);
}

#[test]
fn the_algo_status_ends_a_stop_refused_expired_or_cancelled_at_the_venue() {
    let mut engine = engine();
    let refused = placed_stop(&mut engine, "r", 7);
    let expired = placed_stop(&mut engine, "e", 8);
    let cancelled = placed_stop(&mut engine, "c", 9);
    let updates = [
        algo_update(&refused, 7, "REJECTED", None, "Reduce Only reject"),
        algo_update(&expired, 8, "EXPIRED", None, ""),
        algo_update(&cancelled, 9, "CANCELED", None, ""),
    ];
    for update in &updates {
        engine.on_algo_update(update, T0).unwrap();
    }
    let refused = engine.order(&refused).unwrap();
    assert_eq!(refused.status, OrderStatus::Rejected);
    assert!(
        refused
            .reject_reason
            .as_deref()
            .unwrap()
            .contains("Reduce Only reject")
    );
    assert_eq!(engine.order(&expired).unwrap().status, OrderStatus::Expired);
    assert_eq!(
        engine.order(&cancelled).unwrap().status,
        OrderStatus::Canceled
    );
}

#[test]
fn a_stop_finished_with_quantity_left_has_its_child_read() {
    let mut engine = engine();
    let id = placed_stop(&mut engine, "s1", 7);
    let finished = algo_update(&id, 7, "FINISHED", Some(12), "");
    assert_eq!(
        engine.on_algo_update(&finished, T0).unwrap(),
        AlgoFollowUp::ReadChild {
            symbol: SYMBOL.to_owned(),
            order_id: 12
        }
    );
    let child = venue_order("kstl000000000000000012", 12, "EXPIRED", "0");
    assert_eq!(engine.on_rest_order(&child, T0).unwrap(), RestOrder::Known);
    assert_eq!(engine.order(&id).unwrap().status, OrderStatus::Expired);
}

#[test]
fn a_recovered_conditional_intent_found_on_the_algo_endpoint_is_adopted_never_resent() {
    let journal = MemoryJournal::new();
    let mut first = engine_on(journal.clone(), 3);
    let btc = btc();
    let Submit::Place(placement) = first.submit(stop("s1"), &ctx(&btc), T0).unwrap() else {
        panic!("not approved");
    };
    let id = placement.client_order_id;
    go(&mut first, &id, T0);
    drop(first);

    let mut engine = engine_on(journal.clone(), 3);
    for intent in journal.unresolved().unwrap() {
        assert!(engine.recover(intent, T0));
    }
    assert!(engine.is_conditional(&id));
    let found = Ok(Some(Placed::Algo(algo(&id, 7, "TRIGGERED", Some(12)))));
    let answer = done(engine.on_lookup(&id, found, T0).unwrap());
    assert!(
        matches!(
            answer,
            OrderAnswer::Accepted {
                venue_order_id: 7,
                adopted: true,
                ..
            }
        ),
        "{answer}"
    );
    assert_eq!(intent_state(&engine, "s1"), IntentState::Adopted);
    assert_eq!(journal.intent("s1").unwrap().sends, 1);
    assert_eq!(engine.fills_order(&id), Some((SYMBOL.to_owned(), 12)));
}

#[test]
fn an_earlier_runs_open_algo_order_is_adopted_any_other_ignored() {
    let mut engine = engine();
    let ours = algo("t.1-77", 7, "NEW", None);
    assert_eq!(
        engine.on_rest_algo(&ours, T0).unwrap(),
        (RestOrder::Adopted, AlgoFollowUp::Nothing)
    );
    let order = engine.order("t.1-77").unwrap();
    assert_eq!(order.request.order_type, OrderType::StopMarket);
    assert_eq!(order.status, OrderStatus::Submitted);
    assert_eq!(engine.awaiting_trigger(SYMBOL), vec!["t.1-77".to_owned()]);
    let foreign = algo("someone-else", 8, "NEW", None);
    assert_eq!(
        engine.on_rest_algo(&foreign, T0).unwrap().0,
        RestOrder::Foreign
    );
}
