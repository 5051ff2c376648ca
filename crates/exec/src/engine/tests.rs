//! The engine as a state machine, driven by scripted venue answers and user-stream events at
//! instants the test chooses (no I/O, no real clock).

use std::time::Duration;

use kestrel_model::instrument::binance_usdm;
use kestrel_model::order::{OrderType, PositionSide, TimeInForce, WorkingType};
use kestrel_model::{Instrument, Money, Price, Qty, Rate, Side};
use kestrel_venue::binance::orders::{UserTrade, VenueOrder};
use kestrel_venue::binance::user_data::{OrderTradeUpdate, UserEvent, parse_user_event};

use super::*;

mod algo;
use crate::breaker::{BreakerConfig, BreakerState, CircuitBreaker};
use crate::journal::MemoryJournal;
use crate::ratelimit::{OrderRateLimiter, VenueCounters, VenueLimits};
use crate::validate::{AccountView, DEFAULT_PRICE_BAND_PCT, Limits, MarketView, OrderContext};
use crate::{Clock, ManualClock};

/// An epoch-based start instant (2023-11-14), as the live clock would give.
const T0: Nanos = Nanos::from_secs(1_700_000_000);
const SYMBOL: &str = "BTCUSDT";

fn policy(max_retry_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_retry_attempts,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(2),
        recv_window: Duration::from_secs(5),
        clock_margin: Duration::from_secs(1),
    }
}

fn validator() -> Validator {
    Validator::new(
        Limits {
            price_band_pct: DEFAULT_PRICE_BAND_PCT,
            max_position_usdt: Money::parse("1000000").unwrap(),
            max_mark_age: Duration::from_secs(3600),
        },
        CircuitBreaker::new(BreakerConfig {
            threshold: 3,
            timeout: Duration::from_secs(30),
        }),
        OrderRateLimiter::per_second(100),
        VenueCounters::new(VenueLimits::binance_usdm()),
    )
}

fn engine_on(journal: MemoryJournal, max_retry_attempts: u32) -> Engine<MemoryJournal> {
    let config = EngineConfig::new("t.1", policy(max_retry_attempts));
    Engine::new(config, validator(), journal).unwrap()
}

fn engine() -> Engine<MemoryJournal> {
    engine_on(MemoryJournal::new(), 3)
}

fn btc() -> Instrument {
    binance_usdm(SYMBOL).unwrap()
}

fn ctx(instrument: &Instrument) -> OrderContext<'_> {
    OrderContext {
        instrument,
        market: MarketView {
            mark_price: Some(Price::parse("62750").unwrap()),
            mark_at: T0,
        },
        account: AccountView {
            position_qty: Qty::ZERO,
            open_orders: 0,
            available_balance: Money::parse("100000").unwrap(),
            leverage: 10,
            fee_rate: Rate::parse("0.0005").unwrap(),
        },
    }
}

fn request(request_id: &str, price: &str) -> OrderRequest {
    OrderRequest {
        request_id: request_id.to_owned(),
        symbol: SYMBOL.to_owned(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: Some(TimeInForce::Gtc),
        price: Some(Price::parse(price).unwrap()),
        quantity: Qty::parse("0.010").unwrap(),
        stop_price: None,
        reduce_only: false,
        close_position: false,
        position_side: PositionSide::Both,
        client_order_id: None,
        execution_mode: ExecutionMode::Live,
        working_type: WorkingType::ContractPrice,
        callback_rate: None,
        activation_price: None,
    }
}

/// Submits an acceptable order and expects the command to place it.
fn place(engine: &mut Engine<MemoryJournal>, request_id: &str, now: Nanos) -> Placement {
    let btc = btc();
    match engine
        .submit(request(request_id, "62740.00"), &ctx(&btc), now)
        .unwrap()
    {
        Submit::Place(placement) => placement,
        other => panic!("expected a placement, got {other:?}"),
    }
}

fn venue_order(client_order_id: &str, order_id: u64, status: &str, executed: &str) -> VenueOrder {
    serde_json::from_str(&format!(
        r#"{{"clientOrderId":"{client_order_id}","cumQty":"{executed}","cumQuote":"0","executedQty":"{executed}","orderId":{order_id},"avgPrice":"0.00000","origQty":"0.010","price":"62740.00","reduceOnly":false,"side":"BUY","positionSide":"BOTH","status":"{status}","stopPrice":"0","closePosition":false,"symbol":"BTCUSDT","timeInForce":"GTC","type":"LIMIT","origType":"LIMIT","updateTime":1700000000000,"workingType":"CONTRACT_PRICE","priceProtect":false}}"#
    ))
    .unwrap()
}

/// An `ORDER_TRADE_UPDATE`: a fill when `last_qty` is positive.
fn update(
    client_order_id: &str,
    order_id: u64,
    status: &str,
    last_qty: &str,
    trade_id: u64,
    maker: bool,
) -> OrderTradeUpdate {
    let execution = if last_qty == "0" { status } else { "TRADE" };
    let frame = format!(
        r#"{{"e":"ORDER_TRADE_UPDATE","E":1700000000123,"T":1700000000120,"o":{{"s":"BTCUSDT","c":"{client_order_id}","S":"BUY","o":"LIMIT","f":"GTC","q":"0.010","p":"62740.00","ap":"62740.00","sp":"0.00","x":"{execution}","X":"{status}","i":{order_id},"l":"{last_qty}","z":"0","L":"62740.00","n":"0.01","T":1700000000120,"t":{trade_id},"b":"0","a":"0","m":{maker},"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0,"er":"0","N":"USDT"}}}}"#
    );
    match parse_user_event(&frame).unwrap() {
        UserEvent::OrderTradeUpdate(update) => update,
        other => panic!("not an order update: {other:?}"),
    }
}

fn user_trade(order_id: u64, trade_id: u64, qty: &str) -> UserTrade {
    serde_json::from_str(&format!(
        r#"{{"buyer":true,"commission":"0.01","commissionAsset":"USDT","id":{trade_id},"maker":false,"orderId":{order_id},"price":"62740.00","qty":"{qty}","quoteQty":"0","realizedPnl":"0","side":"BUY","positionSide":"BOTH","symbol":"BTCUSDT","time":1700000000000}}"#
    ))
    .unwrap()
}

fn failure(class: FailureClass) -> VenueFailure {
    VenueFailure::new(class, format!("{class:?}"))
}

fn go(engine: &mut Engine<MemoryJournal>, client_order_id: &str, now: Nanos) -> u32 {
    match engine.on_sending(client_order_id, now).unwrap() {
        SendGate::Go { attempt } => attempt,
        SendGate::Stop(answer) => panic!("send stopped: {answer}"),
    }
}

fn done(step: Step) -> OrderAnswer {
    match step {
        Step::Done(answer) => answer,
        other => panic!("expected an answer, got {other:?}"),
    }
}

fn intent_state(engine: &Engine<MemoryJournal>, request_id: &str) -> IntentState {
    engine.journal().intent(request_id).unwrap().state
}

#[test]
fn a_first_send_held_up_is_stamped_again_before_it_goes() {
    let mut engine = engine();
    place(&mut engine, "r1", T0);
    let late = Nanos::from_nanos(T0.as_nanos() + 250 * 1_000_000);
    assert_eq!(go(&mut engine, "t.1-1", late), 1);
    let journaled = engine.journal().intent("r1").unwrap();
    assert_eq!(
        journaled.sent_at_ms,
        Some(late.as_nanos() / 1_000_000),
        "the acceptance window is judged from the real send, not from the intent's time"
    );
}

#[test]
fn a_refused_order_is_journaled_with_its_refusal_and_never_as_sent() {
    let mut engine = engine();
    let btc = btc();
    let off_tick = request("r1", "62740.05");
    let Submit::Refused(answer) = engine.submit(off_tick, &ctx(&btc), T0).unwrap() else {
        panic!("an off-tick price is refused");
    };
    let journaled = engine.journal().intent("r1").unwrap();
    assert_eq!(
        (journaled.state, journaled.sends),
        (IntentState::Rejected, 0)
    );
    assert_eq!(journaled.answer, Some(answer));
}

#[test]
fn an_approved_order_is_journaled_before_the_send_and_acknowledged_after() {
    let mut engine = engine();
    let placement = place(&mut engine, "r1", T0);
    assert_eq!(placement.client_order_id, "t.1-1");
    assert_eq!(placement.order.client_order_id, "t.1-1");
    let journaled = engine.journal().intent("r1").unwrap();
    assert_eq!(
        (journaled.state, journaled.sends, journaled.sent_at_ms),
        (IntentState::Sent, 1, Some(T0.as_nanos() / 1_000_000)),
        "the write-ahead of the first send is made with the intent, before the send"
    );
    assert_eq!(
        engine.order("t.1-1").unwrap().status,
        OrderStatus::PendingSubmit
    );

    assert_eq!(go(&mut engine, "t.1-1", T0), 1);
    let journaled = engine.journal().intent("r1").unwrap();
    assert_eq!(
        (journaled.state, journaled.sends),
        (IntentState::Sent, 1),
        "the first send writes nothing more"
    );
    assert_eq!(
        engine.order("t.1-1").unwrap().status,
        OrderStatus::Submitted
    );

    let answer = done(
        engine
            .on_place_result(
                "t.1-1",
                Ok(venue_order("t.1-1", 42, "NEW", "0")),
                VenueUsage::default(),
                T0,
            )
            .unwrap(),
    );
    assert_eq!(answer.venue_order_id(), Some(42));
    assert_eq!(engine.take_settled(), [answer]);
    assert_eq!(intent_state(&engine, "r1"), IntentState::Acknowledged);
    assert_eq!(engine.order("t.1-1").unwrap().venue_order_id, Some(42));
    let statuses: Vec<OrderStatus> = engine
        .take_events()
        .into_iter()
        .map(|event| match event {
            ExecEvent::Order(order) => order.status,
            ExecEvent::Fill(fill) => panic!("unexpected fill {fill:?}"),
        })
        .collect();
    assert_eq!(
        statuses,
        [
            OrderStatus::PendingSubmit,
            OrderStatus::Submitted,
            OrderStatus::Submitted
        ]
    );
}

#[test]
fn each_acknowledged_send_gives_one_round_trip_sample_taken_once() {
    let mut engine = engine();
    let ms = |n: u64| Nanos::from_nanos(T0.as_nanos() + n * 1_000_000);
    for (i, (sent, answered)) in [(0, 37), (100, 101)].into_iter().enumerate() {
        let placement = place(&mut engine, &format!("rt{i}"), ms(sent));
        let id = placement.client_order_id;
        go(&mut engine, &id, ms(sent));
        let order_id = u64::try_from(i).unwrap() + 42;
        let result = Ok(venue_order(&id, order_id, "NEW", "0"));
        engine
            .on_place_result(&id, result, VenueUsage::default(), ms(answered))
            .unwrap();
    }
    assert_eq!(engine.take_round_trips(), [37, 1]);
    assert!(engine.take_round_trips().is_empty());
}

#[test]
fn a_repeated_request_id_gets_the_first_answer_even_after_a_restart() {
    let journal = MemoryJournal::new();
    let mut engine = engine_on(journal.clone(), 3);
    let btc = btc();
    let placement = place(&mut engine, "r1", T0);
    assert_eq!(
        engine
            .submit(request("r1", "62740.00"), &ctx(&btc), T0)
            .unwrap(),
        Submit::InProgress {
            request_id: "r1".to_owned(),
            client_order_id: placement.client_order_id.clone()
        }
    );
    go(&mut engine, &placement.client_order_id, T0);
    let first = done(
        engine
            .on_place_result(
                &placement.client_order_id,
                Ok(venue_order("t.1-1", 7, "NEW", "0")),
                VenueUsage::default(),
                T0,
            )
            .unwrap(),
    );
    assert_eq!(
        engine
            .submit(request("r1", "62740.00"), &ctx(&btc), T0)
            .unwrap(),
        Submit::Repeat(first.clone())
    );
    let mut restarted = engine_on(journal.clone(), 3);
    assert_eq!(
        restarted
            .submit(request("r1", "62740.00"), &ctx(&btc), T0)
            .unwrap(),
        Submit::Repeat(first)
    );
    assert_eq!(journal.intents().len(), 1, "one intent, one order");
}

#[test]
fn a_refusal_is_journaled_and_repeated_as_the_first_answer() {
    let mut engine = engine();
    let btc = btc();
    let far = request("r1", "80000.00");
    let Submit::Refused(answer) = engine.submit(far, &ctx(&btc), T0).unwrap() else {
        panic!("a price far from the mark is refused");
    };
    assert_eq!(answer.code(), Some("price_above_band"));
    assert_eq!(intent_state(&engine, "r1"), IntentState::Rejected);
    assert_eq!(
        engine
            .submit(request("r1", "62740.00"), &ctx(&btc), T0)
            .unwrap(),
        Submit::Repeat(answer),
        "the same request id keeps its first answer"
    );
}

#[test]
fn rate_limited_placement_is_resent_after_the_venue_wait() {
    let mut engine = engine();
    let placement = place(&mut engine, "r1", T0);
    let id = placement.client_order_id.as_str();
    go(&mut engine, id, T0);
    let limited = FailureClass::RateLimited {
        retry_after: Some(Duration::from_secs(3)),
    };
    let step = engine
        .on_place_result(id, Err(failure(limited)), VenueUsage::default(), T0)
        .unwrap();
    let Step::Resend { after } = step else {
        panic!("429 is retried: {step:?}");
    };
    assert!(after >= Duration::from_secs(3));
    let later = T0.saturating_add(after);
    assert_eq!(go(&mut engine, id, later), 2);
    assert_eq!(engine.journal().intent("r1").unwrap().sends, 2);
    let answer = done(
        engine
            .on_place_result(
                id,
                Ok(venue_order(id, 9, "NEW", "0")),
                VenueUsage::default(),
                later,
            )
            .unwrap(),
    );
    assert!(answer.is_accepted());
}

#[test]
fn repeated_503s_open_the_breaker_which_stops_the_resend_and_refuses_new_orders() {
    let mut engine = engine();
    let btc = btc();
    let unavailable = FailureClass::Server {
        outcome_unknown: false,
    };
    let placement = place(&mut engine, "r1", T0);
    let id = placement.client_order_id.as_str();
    let mut now = T0;
    for attempt in 1..=3 {
        assert_eq!(go(&mut engine, id, now), attempt);
        match engine
            .on_place_result(id, Err(failure(unavailable)), VenueUsage::default(), now)
            .unwrap()
        {
            Step::Resend { after } => now = now.saturating_add(after),
            other => panic!("503 is retried: {other:?}"),
        }
    }
    assert_eq!(engine.validator().breaker().state(now), BreakerState::Open);
    let SendGate::Stop(answer) = engine.on_sending(id, now).unwrap() else {
        panic!("an open breaker stops the resend");
    };
    assert_eq!(answer.code(), Some("circuit_open"));
    assert_eq!(intent_state(&engine, "r1"), IntentState::Failed);
    let Submit::Refused(refused) = engine
        .submit(request("r2", "62740.00"), &ctx(&btc), now)
        .unwrap()
    else {
        panic!("new orders are refused while open");
    };
    assert_eq!(refused.code(), Some("circuit_open"));

    // After the timeout one probe goes through and its success closes the breaker.
    let later = now.saturating_add(Duration::from_secs(30));
    let probe = place(&mut engine, "r3", later);
    go(&mut engine, &probe.client_order_id, later);
    engine
        .on_place_result(
            &probe.client_order_id,
            Ok(venue_order(&probe.client_order_id, 5, "NEW", "0")),
            VenueUsage::default(),
            later,
        )
        .unwrap();
    assert_eq!(
        engine.validator().breaker().state(later),
        BreakerState::Closed
    );
}

#[test]
fn auth_failure_halts_trading_and_refuses_every_later_order() {
    let mut engine = engine();
    let btc = btc();
    let placement = place(&mut engine, "r1", T0);
    go(&mut engine, &placement.client_order_id, T0);
    let answer = done(
        engine
            .on_place_result(
                &placement.client_order_id,
                Err(failure(FailureClass::Auth)),
                VenueUsage::default(),
                T0,
            )
            .unwrap(),
    );
    assert_eq!(answer.code(), Some("auth_failed"));
    assert!(engine.halted().unwrap().contains("credentials"));
    let Submit::Refused(refused) = engine
        .submit(request("r2", "62740.00"), &ctx(&btc), T0)
        .unwrap()
    else {
        panic!("a halted engine refuses");
    };
    assert_eq!(refused.code(), Some("trading_halted"));
    engine.resume();
    assert!(engine.halted().is_none());
}

#[test]
fn a_timed_out_placement_is_queried_then_adopted_when_found() {
    let mut engine = engine();
    let placement = place(&mut engine, "r1", T0);
    let id = placement.client_order_id.as_str();
    go(&mut engine, id, T0);
    let step = engine
        .on_place_result(
            id,
            Err(failure(FailureClass::Timeout)),
            VenueUsage::default(),
            T0,
        )
        .unwrap();
    assert!(
        matches!(step, Step::Query { .. }),
        "never a blind resend: {step:?}"
    );
    let answer = done(
        engine
            .on_query_result(id, Ok(Some(venue_order(id, 77, "NEW", "0"))), T0)
            .unwrap(),
    );
    assert!(matches!(
        answer,
        OrderAnswer::Accepted {
            adopted: true,
            venue_order_id: 77,
            ..
        }
    ));
    assert_eq!(intent_state(&engine, "r1"), IntentState::Adopted);
}

#[test]
fn an_absent_order_is_resent_only_after_its_window_and_failed_without_attempts() {
    let clock = ManualClock::new(T0);
    let mut engine = engine_on(MemoryJournal::new(), 1);
    let placement = place(&mut engine, "r1", clock.now());
    let id = placement.client_order_id.as_str();
    go(&mut engine, id, clock.now());
    engine
        .on_place_result(
            id,
            Err(failure(FailureClass::Timeout)),
            VenueUsage::default(),
            clock.now(),
        )
        .unwrap();
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        engine.on_query_result(id, Ok(None), clock.now()).unwrap(),
        Step::Query {
            after: Duration::from_secs(4)
        },
        "absent inside recvWindow + margin: ask again when it has passed"
    );
    clock.advance(Duration::from_secs(4));
    let Step::Resend { after } = engine.on_query_result(id, Ok(None), clock.now()).unwrap() else {
        panic!("absent after the window with an attempt left: resend");
    };
    clock.advance(after);
    assert_eq!(go(&mut engine, id, clock.now()), 2);
    engine
        .on_place_result(
            id,
            Err(failure(FailureClass::Timeout)),
            VenueUsage::default(),
            clock.now(),
        )
        .unwrap();
    clock.advance(Duration::from_secs(7));
    let answer = done(engine.on_query_result(id, Ok(None), clock.now()).unwrap());
    assert_eq!(answer.code(), Some("not_placed"));
    assert_eq!(intent_state(&engine, "r1"), IntentState::Failed);
    assert_eq!(engine.order(id).unwrap().status, OrderStatus::Rejected);
}

#[test]
fn a_fill_before_the_placement_answer_is_matched_and_settles_the_placement() {
    let mut engine = engine();
    let placement = place(&mut engine, "r1", T0);
    let id = placement.client_order_id.clone();
    go(&mut engine, &id, T0);
    engine.take_events();
    engine
        .on_user_event(&update(&id, 88, "PARTIALLY_FILLED", "0.004", 501, true), T0)
        .unwrap();
    let order = engine.order(&id).unwrap();
    assert_eq!(order.status, OrderStatus::PartiallyFilled);
    assert_eq!(order.filled_qty, Qty::parse("0.004").unwrap());
    assert_eq!(order.venue_order_id, Some(88));
    assert_eq!(intent_state(&engine, "r1"), IntentState::Acknowledged);
    let events = engine.take_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ExecEvent::Fill(f) if f.trade_id == 501))
    );
    assert!(events.iter().all(|e| e.symbol() == SYMBOL));
    assert_eq!(events[0].topic().unwrap().to_string(), "orders.BTCUSDT");

    // The late placement answer changes nothing and repeats the first answer.
    let first = engine.journal().intent("r1").unwrap().answer.unwrap();
    let step = engine
        .on_place_result(
            &id,
            Ok(venue_order(&id, 88, "NEW", "0")),
            VenueUsage::default(),
            T0,
        )
        .unwrap();
    assert_eq!(step, Step::Done(first));
    assert_eq!(
        engine.order(&id).unwrap().status,
        OrderStatus::PartiallyFilled
    );
}

#[test]
fn fills_from_the_stream_and_from_rest_are_applied_once_each() {
    let mut engine = engine();
    let placement = place(&mut engine, "r1", T0);
    let id = placement.client_order_id.clone();
    go(&mut engine, &id, T0);
    engine
        .on_place_result(
            &id,
            Ok(venue_order(&id, 9, "NEW", "0")),
            VenueUsage::default(),
            T0,
        )
        .unwrap();
    engine
        .on_user_event(&update(&id, 9, "PARTIALLY_FILLED", "0.004", 1, true), T0)
        .unwrap();
    engine
        .on_user_event(&update(&id, 9, "PARTIALLY_FILLED", "0.004", 1, true), T0)
        .unwrap();
    for trade in [
        user_trade(9, 1, "0.004"),
        user_trade(9, 2, "0.006"),
        user_trade(9, 2, "0.006"),
    ] {
        engine.on_user_trade(&trade, T0).unwrap();
    }
    let order = engine.order(&id).unwrap();
    assert_eq!(order.status, OrderStatus::Filled);
    assert_eq!(order.filled_qty, Qty::parse("0.010").unwrap());
    let fills = engine
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, ExecEvent::Fill(_)))
        .count();
    assert_eq!(fills, 2);
    let stats = engine.stats();
    assert_eq!((stats.maker_fills, stats.taker_fills), (1, 1));
    assert_eq!(stats.commission["USDT"], Money::parse("0.02").unwrap());
    assert_eq!(engine.last_trade_id(SYMBOL), Some(2));
    assert_eq!(
        engine
            .on_user_trade(&user_trade(404, 3, "0.001"), T0)
            .unwrap(),
        TradeOutcome::UnknownOrder {
            symbol: SYMBOL.to_owned(),
            order_id: 404
        }
    );
}

#[test]
fn start_up_recovery_adopts_found_intents_and_fails_absent_ones_after_their_window() {
    let journal = MemoryJournal::new();
    let mut first = engine_on(journal.clone(), 3);
    let found = place(&mut first, "found", T0).client_order_id;
    let absent = place(&mut first, "absent", T0).client_order_id;
    let young = place(&mut first, "young", T0).client_order_id;
    go(&mut first, &found, T0);
    go(&mut first, &absent, T0);
    drop(first); // crash: three intents, none answered
    let now = T0.saturating_add(Duration::from_secs(60));
    let mut engine = engine_on(journal.clone(), 3);
    // A fill of the found order arrives on the stream before recovery loads it.
    engine
        .on_user_event(
            &update(&found, 31, "PARTIALLY_FILLED", "0.002", 700, false),
            now,
        )
        .unwrap();
    for intent in journal.unresolved().unwrap() {
        assert!(engine.recover(intent, now));
    }
    assert_eq!(
        intent_state(&engine, "found"),
        IntentState::Adopted,
        "its parked fill proves it"
    );
    assert_eq!(
        engine.order(&found).unwrap().filled_qty,
        Qty::parse("0.002").unwrap()
    );
    let answer = done(engine.on_query_result(&absent, Ok(None), now).unwrap());
    assert_eq!(answer.code(), Some("not_placed"));
    assert_eq!(intent_state(&engine, "absent"), IntentState::Failed);
    // "young" was journaled but never sent: absent means never placed.
    done(engine.on_query_result(&young, Ok(None), now).unwrap());
    assert_eq!(intent_state(&engine, "young"), IntentState::Failed);
    assert!(journal.unresolved().unwrap().is_empty());
}

#[test]
fn a_recovered_intent_inside_its_window_is_queried_again_not_resent() {
    let journal = MemoryJournal::new();
    let mut first = engine_on(journal.clone(), 3);
    let id = place(&mut first, "r1", T0).client_order_id;
    go(&mut first, &id, T0);
    drop(first);
    let mut engine = engine_on(journal.clone(), 3);
    let now = T0.saturating_add(Duration::from_secs(1));
    engine.recover(journal.intent("r1").unwrap(), now);
    assert_eq!(
        engine.on_query_result(&id, Ok(None), now).unwrap(),
        Step::Query {
            after: Duration::from_secs(5)
        }
    );
    let later = now.saturating_add(Duration::from_secs(5));
    let answer = done(engine.on_query_result(&id, Ok(None), later).unwrap());
    assert_eq!(answer.code(), Some("not_placed"), "recovery never resends");
}

#[test]
fn client_ids_come_in_journal_blocks_and_are_never_reused_after_a_restart() {
    let journal = MemoryJournal::new();
    let config = EngineConfig {
        id_block_size: 2,
        ..EngineConfig::new("t.1", policy(3))
    };
    let mut engine = Engine::new(config.clone(), validator(), journal.clone()).unwrap();
    let ids: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|r| place(&mut engine, r, T0).client_order_id)
        .collect();
    assert_eq!(ids, ["t.1-1", "t.1-2", "t.1-3"]);
    let mut restarted = Engine::new(config, validator(), journal).unwrap();
    assert_eq!(place(&mut restarted, "d", T0).client_order_id, "t.1-5");
}

#[test]
fn cancel_of_an_order_the_venue_no_longer_has_is_taken_as_already_gone() {
    let mut engine = engine();
    let id = place(&mut engine, "r1", T0).client_order_id;
    go(&mut engine, &id, T0);
    engine
        .on_place_result(
            &id,
            Ok(venue_order(&id, 3, "NEW", "0")),
            VenueUsage::default(),
            T0,
        )
        .unwrap();
    assert_eq!(
        engine.cancel(&id).unwrap(),
        CancelCommand::One {
            symbol: SYMBOL.to_owned(),
            client_order_id: id.clone()
        }
    );
    let outcome = engine
        .on_cancel_result(&id, Err(failure(FailureClass::NotFound)), T0)
        .unwrap();
    assert_eq!(outcome, CancelOutcome::AlreadyGone);
    assert_eq!(engine.order(&id).unwrap().status, OrderStatus::Canceled);
    assert!(matches!(
        engine.cancel(&id),
        Err(CancelRefusal::NotOpen { .. })
    ));
}

#[test]
fn batch_cancels_hold_at_most_ten_open_orders_of_the_symbol() {
    let mut engine = engine();
    let ids: Vec<String> = (0..12u64)
        .map(|i| {
            let id = place(&mut engine, &format!("r{i}"), T0).client_order_id;
            go(&mut engine, &id, T0);
            let venue = venue_order(&id, 100 + i, "NEW", "0");
            engine
                .on_place_result(&id, Ok(venue), VenueUsage::default(), T0)
                .unwrap();
            id
        })
        .collect();
    let in_flight = place(&mut engine, "in-flight", T0).client_order_id;
    let mut asked = ids.clone();
    asked.push(in_flight);
    asked.push("unknown".to_owned());
    let commands = engine.cancel_batch(SYMBOL, &asked);
    let sizes: Vec<usize> = commands
        .iter()
        .map(|c| match c {
            CancelCommand::Batch {
                client_order_ids, ..
            } => client_order_ids.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sizes, [10, 2]);
}

#[test]
fn an_order_still_being_placed_is_not_cancelled_before_its_answer() {
    let mut engine = engine();
    let id = place(&mut engine, "r1", T0).client_order_id;
    go(&mut engine, &id, T0);
    assert_eq!(
        engine.cancel(&id),
        Err(CancelRefusal::PlacementInFlight(id.clone()))
    );
}

#[test]
fn cancel_all_cancels_the_acknowledged_open_orders_of_the_symbol() {
    let mut engine = engine();
    let acked = place(&mut engine, "a", T0).client_order_id;
    let in_flight = place(&mut engine, "b", T0).client_order_id;
    go(&mut engine, &acked, T0);
    engine
        .on_place_result(
            &acked,
            Ok(venue_order(&acked, 1, "NEW", "0")),
            VenueUsage::default(),
            T0,
        )
        .unwrap();
    let canceled = engine.on_cancel_all_result(SYMBOL, Ok(()), T0).unwrap();
    assert_eq!(canceled, std::slice::from_ref(&acked));
    assert_eq!(engine.order(&acked).unwrap().status, OrderStatus::Canceled);
    assert_eq!(
        engine.order(&in_flight).unwrap().status,
        OrderStatus::PendingSubmit
    );
}

#[test]
fn a_venue_cancel_on_the_stream_closes_the_order() {
    let mut engine = engine();
    let id = place(&mut engine, "r1", T0).client_order_id;
    go(&mut engine, &id, T0);
    engine
        .on_place_result(
            &id,
            Ok(venue_order(&id, 4, "NEW", "0")),
            VenueUsage::default(),
            T0,
        )
        .unwrap();
    engine
        .on_user_event(&update(&id, 4, "CANCELED", "0", 0, false), T0)
        .unwrap();
    assert_eq!(engine.order(&id).unwrap().status, OrderStatus::Canceled);
}

/// An engine on a fresh journal whose order `r1` (venue id 9) was acknowledged in an earlier
/// run and filled 0.004 by trade 1; returns the restored order as the store would give it.
fn earlier_run_order() -> (String, RestoredOrder) {
    let journal = MemoryJournal::new();
    let mut first = engine_on(journal.clone(), 3);
    let id = place(&mut first, "r1", T0).client_order_id;
    go(&mut first, &id, T0);
    first
        .on_place_result(
            &id,
            Ok(venue_order(&id, 9, "NEW", "0")),
            VenueUsage::default(),
            T0,
        )
        .unwrap();
    let restored = RestoredOrder {
        intent: journal.intent("r1").unwrap(),
        venue_order_id: Some(9),
        fills: vec![user_trade(9, 1, "0.004").to_fill(&id)],
    };
    (id, restored)
}

#[test]
fn an_order_restored_from_the_store_takes_its_later_fills_once_and_can_be_cancelled() {
    let (id, restored) = earlier_run_order();
    let mut engine = engine_on(MemoryJournal::new(), 3);
    assert!(engine.restore(restored.clone(), T0));
    assert!(!engine.restore(restored, T0), "already tracked");
    assert!(
        engine.take_events().is_empty(),
        "the store holds it already"
    );
    let order = engine.order(&id).unwrap();
    assert_eq!(order.venue_order_id, Some(9));
    assert_eq!(order.status, OrderStatus::PartiallyFilled);
    assert_eq!(engine.stats().taker_fills, 0, "an earlier run's fill");
    assert_eq!(engine.last_trade_id(SYMBOL), Some(1));
    assert_eq!(engine.restored_since_ms(SYMBOL), Some(1_700_000_000_000));
    assert_eq!(
        engine
            .on_user_trade(&user_trade(9, 1, "0.004"), T0)
            .unwrap(),
        TradeOutcome::Fill(FillOutcome::Duplicate)
    );
    assert_eq!(
        engine
            .on_user_trade(&user_trade(9, 2, "0.003"), T0)
            .unwrap(),
        TradeOutcome::Fill(FillOutcome::Applied)
    );
    assert_eq!(
        engine.order(&id).unwrap().filled_qty,
        Qty::parse("0.007").unwrap()
    );
    assert!(matches!(engine.cancel(&id), Ok(CancelCommand::One { .. })));
    let repeat = engine
        .submit(request("r1", "62740.00"), &ctx(&btc()), T0)
        .unwrap();
    assert!(
        matches!(
            repeat,
            Submit::Repeat(OrderAnswer::Accepted {
                venue_order_id: 9,
                ..
            })
        ),
        "{repeat:?}"
    );
}

#[test]
fn only_placed_intents_are_restored() {
    let (_, restored) = earlier_run_order();
    let mut engine = engine_on(MemoryJournal::new(), 3);
    for state in [
        IntentState::Sent,
        IntentState::Failed,
        IntentState::Rejected,
    ] {
        let mut intent = restored.intent.clone();
        intent.state = state;
        let offered = RestoredOrder {
            intent,
            ..restored.clone()
        };
        assert!(!engine.restore(offered, T0), "{state}");
    }
    assert_eq!(engine.orders().count(), 0);
}

#[test]
fn an_untracked_venue_order_with_our_prefix_is_adopted_and_published_any_other_ignored() {
    let mut engine = engine();
    let ours = venue_order("t.1-500", 77, "PARTIALLY_FILLED", "0.002");
    assert_eq!(engine.on_rest_order(&ours, T0).unwrap(), RestOrder::Adopted);
    let order = engine.order("t.1-500").unwrap().clone();
    assert_eq!(
        (order.venue_order_id, order.status),
        (Some(77), OrderStatus::Submitted),
        "its fills come from the venue's trades"
    );
    assert_eq!(order.request.price, Some(Price::parse("62740.00").unwrap()));
    let events = engine.take_events();
    assert!(
        matches!(&events[..], [ExecEvent::Order(o)] if o.client_order_id == "t.1-500"),
        "published once so the store records it: {events:?}"
    );
    assert_eq!(
        engine
            .on_user_trade(&user_trade(77, 5, "0.002"), T0)
            .unwrap(),
        TradeOutcome::Fill(FillOutcome::Applied)
    );
    assert!(matches!(
        engine.cancel("t.1-500"),
        Ok(CancelCommand::One { .. })
    ));
    assert_eq!(engine.on_rest_order(&ours, T0).unwrap(), RestOrder::Known);
    for foreign in ["other.1-5", "t.1-", "t.1-5x", "t.10-5", "t.1"] {
        let venue = venue_order(foreign, 78, "NEW", "0");
        assert_eq!(
            engine.on_rest_order(&venue, T0).unwrap(),
            RestOrder::Foreign,
            "{foreign}"
        );
        assert!(engine.order(foreign).is_none());
    }
}

#[test]
fn fill_recovery_resumes_at_the_last_trade_an_earlier_run_stored() {
    let mut engine = engine();
    assert!(engine.symbols().is_empty());
    engine.resume_fills_at("ETHUSDT", 40, &[Side::Buy]);
    engine.resume_fills_at("ETHUSDT", 12, &[Side::Sell]);
    assert_eq!(engine.last_trade_id("ETHUSDT"), Some(40));
    assert_eq!(
        engine.symbols(),
        ["ETHUSDT"],
        "reconciled though no order is open"
    );
    let mut stored = user_trade(404, 40, "0.001");
    stored.symbol = "ETHUSDT".to_owned();
    assert_eq!(
        engine.on_user_trade(&stored, T0).unwrap(),
        TradeOutcome::Fill(FillOutcome::Duplicate),
        "the stored leg is not asked about again"
    );
    let other_leg = UserTrade {
        side: Side::Sell,
        order_id: 405,
        ..stored
    };
    assert_eq!(
        engine.on_user_trade(&other_leg, T0).unwrap(),
        TradeOutcome::UnknownOrder {
            symbol: "ETHUSDT".to_owned(),
            order_id: 405
        },
        "the other leg of the same self-trade was not stored: its order is looked up"
    );
}

#[test]
fn both_legs_of_a_self_trade_are_applied_to_their_orders() {
    let mut engine = engine();
    let buy = place(&mut engine, "r-buy", T0).client_order_id;
    let btc = btc();
    let sell_request = OrderRequest {
        side: Side::Sell,
        ..request("r-sell", "62740.00")
    };
    let sell = match engine.submit(sell_request, &ctx(&btc), T0).unwrap() {
        Submit::Place(placement) => placement.client_order_id,
        other => panic!("expected a placement, got {other:?}"),
    };
    for (id, order_id) in [(&buy, 9), (&sell, 10)] {
        go(&mut engine, id, T0);
        engine
            .on_place_result(
                id,
                Ok(venue_order(id, order_id, "NEW", "0")),
                VenueUsage::default(),
                T0,
            )
            .unwrap();
    }
    let buy_leg = user_trade(9, 77, "0.004");
    let sell_leg = UserTrade {
        side: Side::Sell,
        buyer: false,
        maker: true,
        order_id: 10,
        ..buy_leg.clone()
    };
    for (leg, client_order_id) in [(&buy_leg, &buy), (&sell_leg, &sell)] {
        assert_eq!(
            engine.on_user_trade(leg, T0).unwrap(),
            TradeOutcome::Fill(FillOutcome::Applied),
            "{:?} leg",
            leg.side
        );
        let order = engine.order(client_order_id).unwrap();
        assert_eq!(order.filled_qty, Qty::parse("0.004").unwrap());
        assert_eq!(order.status, OrderStatus::PartiallyFilled);
    }
    assert_eq!(
        engine.on_user_trade(&sell_leg, T0).unwrap(),
        TradeOutcome::Fill(FillOutcome::Duplicate),
        "each leg still counts once"
    );
    let fills = engine
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, ExecEvent::Fill(_)))
        .count();
    assert_eq!(fills, 2, "both legs are published (and so persisted)");
    let stats = engine.stats();
    assert_eq!((stats.maker_fills, stats.taker_fills), (1, 1));
}

/// A metrics recorder that keeps what it is given, keyed `name{label=value,...}`.
mod capture {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use metrics::{
        Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata,
        Recorder, SharedString, Unit,
    };

    type Store<T> = Arc<Mutex<BTreeMap<String, T>>>;

    #[derive(Default, Clone)]
    pub struct Capture {
        pub counters: Store<u64>,
        pub gauges: Store<f64>,
        pub histograms: Store<usize>,
    }

    fn render(key: &Key) -> String {
        let mut labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        labels.sort();
        format!("{}{{{}}}", key.name(), labels.join(","))
    }

    struct Handle<T> {
        key: String,
        store: Store<T>,
    }

    impl CounterFn for Handle<u64> {
        fn increment(&self, value: u64) {
            *self
                .store
                .lock()
                .unwrap()
                .entry(self.key.clone())
                .or_default() += value;
        }
        fn absolute(&self, value: u64) {
            self.store.lock().unwrap().insert(self.key.clone(), value);
        }
    }

    impl GaugeFn for Handle<f64> {
        fn increment(&self, _: f64) {}
        fn decrement(&self, _: f64) {}
        fn set(&self, value: f64) {
            self.store.lock().unwrap().insert(self.key.clone(), value);
        }
    }

    impl HistogramFn for Handle<usize> {
        fn record(&self, _: f64) {
            *self
                .store
                .lock()
                .unwrap()
                .entry(self.key.clone())
                .or_default() += 1;
        }
    }

    impl Recorder for Capture {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(Arc::new(Handle {
                key: render(key),
                store: Arc::clone(&self.counters),
            }))
        }
        fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::from_arc(Arc::new(Handle {
                key: render(key),
                store: Arc::clone(&self.gauges),
            }))
        }
        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::from_arc(Arc::new(Handle {
                key: render(key),
                store: Arc::clone(&self.histograms),
            }))
        }
    }
}

#[test]
fn metrics_use_the_seed_names_and_labels() {
    let capture = capture::Capture::default();
    metrics::with_local_recorder(&capture, || {
        let mut engine = engine();
        let btc = btc();
        let id = place(&mut engine, "ok", T0).client_order_id;
        go(&mut engine, &id, T0);
        engine
            .on_place_result(
                &id,
                Ok(venue_order(&id, 1, "NEW", "0")),
                VenueUsage::default(),
                T0.saturating_add(Duration::from_millis(3)),
            )
            .unwrap();
        engine
            .on_user_event(&update(&id, 1, "FILLED", "0.010", 10, true), T0)
            .unwrap();
        engine
            .submit(request("far", "80000.00"), &ctx(&btc), T0)
            .unwrap();
        let cancel = place(&mut engine, "c", T0).client_order_id;
        go(&mut engine, &cancel, T0);
        engine
            .on_place_result(
                &cancel,
                Ok(venue_order(&cancel, 2, "NEW", "0")),
                VenueUsage::default(),
                T0,
            )
            .unwrap();
        engine
            .on_user_event(&update(&cancel, 2, "CANCELED", "0", 0, false), T0)
            .unwrap();
        let failing = place(&mut engine, "f", T0).client_order_id;
        let unavailable = FailureClass::Server {
            outcome_unknown: false,
        };
        for _ in 0..3 {
            go(&mut engine, &failing, T0);
            engine
                .on_place_result(
                    &failing,
                    Err(failure(unavailable)),
                    VenueUsage::default(),
                    T0,
                )
                .unwrap();
        }
        engine.on_sending(&failing, T0).unwrap();
        let auth =
            place(&mut engine, "a", T0.saturating_add(Duration::from_secs(60))).client_order_id;
        go(
            &mut engine,
            &auth,
            T0.saturating_add(Duration::from_secs(60)),
        );
        engine
            .on_place_result(
                &auth,
                Err(failure(FailureClass::Auth)),
                VenueUsage::default(),
                T0.saturating_add(Duration::from_secs(60)),
            )
            .unwrap();
    });
    let counters = capture.counters.lock().unwrap().clone();
    let count = |key: &str| counters.get(key).copied().unwrap_or(0);
    assert_eq!(count("order_requests_total{result=success}"), 2);
    assert_eq!(count("order_requests_total{result=rejected}"), 1);
    assert_eq!(count("order_requests_total{result=failed}"), 2);
    assert_eq!(count("orders_submitted_total{side=BUY,symbol=BTCUSDT}"), 4);
    assert_eq!(count("orders_filled_total{side=BUY,symbol=BTCUSDT}"), 1);
    assert_eq!(count("orders_canceled_total{symbol=BTCUSDT}"), 1);
    assert_eq!(count("maker_fills_total{symbol=BTCUSDT}"), 1);
    assert_eq!(
        count("alerts_generated_total{category=execution,severity=critical}"),
        1
    );
    assert_eq!(
        capture
            .histograms
            .lock()
            .unwrap()
            .get("order_submit_latency_milliseconds{symbol=BTCUSDT}"),
        Some(&2)
    );
    let gauges = capture.gauges.lock().unwrap().clone();
    assert!(
        gauges.contains_key("circuit_breaker_state{service=venue_orders}"),
        "{gauges:?}"
    );
    for key in counters.keys() {
        let name = key.split('{').next().unwrap();
        assert!(
            kestrel_model::telemetry::spec(name).is_some(),
            "{name} is in the catalogue"
        );
    }
}
