//! Hand-worked scenarios: each test pins down one rule of the engine.

use kestrel_model::book::{BookSide, Level};
use kestrel_model::order::{Side, TimeInForce};
use kestrel_model::{Price, Qty};

use super::*;

const ALICE: AccountId = AccountId(1);
const BOB: AccountId = AccountId(2);
const CAROL: AccountId = AccountId(3);

fn px(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn qty(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

fn lvl(price: &str, amount: &str) -> Level {
    Level::new(px(price), qty(amount))
}

fn gtc(id: OrderId, account: AccountId, side: Side, price: &str, amount: &str) -> NewOrder {
    NewOrder::limit(id, account, side, px(price), qty(amount), TimeInForce::Gtc)
}

fn market(id: OrderId, account: AccountId, side: Side, amount: &str) -> NewOrder {
    NewOrder::market(id, account, side, qty(amount))
}

fn engine() -> MatchingEngine {
    MatchingEngine::new(EngineConfig {
        last_update_id: 1_000,
        last_trade_id: 500,
        order_capacity: 64,
    })
}

/// Submits and returns the outcome with the events of this submit alone.
fn submit(engine: &mut MatchingEngine, order: NewOrder) -> (TakerOutcome, Vec<EngineEvent>) {
    let mut events = Vec::new();
    let outcome = engine.submit(order, &mut events).unwrap();
    assert_eq!(events.last(), Some(&EngineEvent::Taker(outcome)));
    (outcome, events)
}

fn rest(engine: &mut MatchingEngine, order: NewOrder) {
    let (outcome, _) = submit(engine, order);
    assert!(
        matches!(outcome.status, TakerStatus::Rested { .. }),
        "{outcome:?}"
    );
}

fn fills(events: &[EngineEvent]) -> Vec<Fill> {
    events
        .iter()
        .filter_map(|event| match event {
            EngineEvent::Fill(fill) => Some(*fill),
            _ => None,
        })
        .collect()
}

/// (maker id, price, qty) of each fill.
fn trades(events: &[EngineEvent]) -> Vec<(OrderId, Price, Qty)> {
    fills(events)
        .iter()
        .map(|fill| (fill.maker.id, fill.price, fill.qty))
        .collect()
}

fn depth(engine: &MatchingEngine, side: BookSide) -> Vec<Level> {
    engine.levels(side).collect()
}

fn ids_at(engine: &MatchingEngine, side: BookSide, price: &str) -> Vec<OrderId> {
    engine.orders_at(side, px(price)).map(|o| o.id).collect()
}

/// Three asks over three levels: 100.0 (1 + 2), 100.5 (1.5), 101.0 (4).
fn ask_ladder() -> MatchingEngine {
    let mut engine = engine();
    rest(&mut engine, gtc(1, ALICE, Side::Sell, "100.0", "1"));
    rest(&mut engine, gtc(2, BOB, Side::Sell, "100.0", "2"));
    rest(&mut engine, gtc(3, ALICE, Side::Sell, "100.5", "1.5"));
    rest(&mut engine, gtc(4, BOB, Side::Sell, "101.0", "4"));
    engine
}

// ---------------------------------------------------------------------------------------------
// Resting and matching

#[test]
fn limit_that_does_not_cross_rests_with_new_status() {
    let mut engine = engine();
    let (outcome, events) = submit(&mut engine, gtc(7, ALICE, Side::Buy, "99.5", "2"));
    assert_eq!(events.len(), 1);
    assert_eq!(outcome.status, TakerStatus::Rested { priority: 0 });
    assert_eq!(outcome.remaining_qty, qty("2"));
    assert_eq!(outcome.binance_status(), "NEW");
    assert_eq!(engine.best_bid(), Some(lvl("99.5", "2")));
    assert_eq!(engine.best_ask(), None);
    let resting = engine.order(7).unwrap();
    assert_eq!(
        (
            resting.orig_qty,
            resting.remaining_qty,
            resting.filled_qty()
        ),
        (qty("2"), qty("2"), Qty::ZERO)
    );
    assert_eq!(engine.update_id(), 1_001);
}

#[test]
fn partial_fills_across_several_levels_leave_the_exact_book() {
    let mut engine = ask_ladder();
    let order = gtc(10, CAROL, Side::Buy, "100.5", "4").with_tag(77);
    let (outcome, events) = submit(&mut engine, order);
    assert_eq!(
        trades(&events),
        [
            (1, px("100.0"), qty("1")),
            (2, px("100.0"), qty("2")),
            (3, px("100.5"), qty("1")),
        ]
    );
    let all = fills(&events);
    assert_eq!(
        all.iter().map(|f| f.trade_id).collect::<Vec<_>>(),
        [501, 502, 503]
    );
    assert!(
        all.iter()
            .all(|f| f.taker.tag == 77 && f.taker_side == Side::Buy)
    );
    assert_eq!(
        all.iter()
            .map(|f| f.taker_remaining_qty)
            .collect::<Vec<_>>(),
        [qty("3"), qty("1"), Qty::ZERO]
    );
    assert!(all[0].maker_fully_filled && all[1].maker_fully_filled);
    assert!(!all[2].maker_fully_filled);
    assert_eq!(all[2].maker_remaining_qty, qty("0.5"));
    assert_eq!(outcome.status, TakerStatus::Filled);
    assert_eq!(outcome.filled_qty, qty("4"));
    assert_eq!(
        depth(&engine, BookSide::Ask),
        [lvl("100.5", "0.5"), lvl("101.0", "4")]
    );
    assert!(depth(&engine, BookSide::Bid).is_empty());
    assert_eq!(engine.order(1), None);
    assert_eq!(engine.order(3).unwrap().filled_qty(), qty("1"));
    assert_eq!(engine.last_trade_id(), 503);
}

#[test]
fn gtc_remainder_rests_after_sweeping_what_crosses() {
    let mut engine = ask_ladder();
    let (outcome, events) = submit(&mut engine, gtc(10, CAROL, Side::Buy, "100.2", "5"));
    assert_eq!(trades(&events).len(), 2);
    assert_eq!(outcome.filled_qty, qty("3"));
    assert_eq!(outcome.remaining_qty, qty("2"));
    assert!(matches!(outcome.status, TakerStatus::Rested { .. }));
    assert_eq!(outcome.binance_status(), "PARTIALLY_FILLED");
    assert_eq!(engine.best_bid(), Some(lvl("100.2", "2")));
    assert_eq!(engine.best_ask(), Some(lvl("100.5", "1.5")));
    let resting = engine.order(10).unwrap();
    assert_eq!(
        (resting.orig_qty, resting.remaining_qty),
        (qty("5"), qty("2"))
    );
}

#[test]
fn fills_happen_at_the_maker_price() {
    let mut engine = engine();
    rest(&mut engine, gtc(1, ALICE, Side::Buy, "101.0", "1"));
    let (_, events) = submit(&mut engine, gtc(2, BOB, Side::Sell, "99.0", "1"));
    assert_eq!(trades(&events), [(1, px("101.0"), qty("1"))]);
    assert_eq!(fills(&events)[0].maker_side(), Side::Buy);
}

#[test]
fn time_priority_within_a_level_fills_the_oldest_first() {
    let mut engine = engine();
    for id in [5, 3, 9] {
        rest(&mut engine, gtc(id, ALICE, Side::Buy, "50.0", "1"));
    }
    assert_eq!(ids_at(&engine, BookSide::Bid, "50.0"), [5, 3, 9]);
    let (_, events) = submit(&mut engine, gtc(20, BOB, Side::Sell, "50.0", "1.5"));
    assert_eq!(
        trades(&events),
        [(5, px("50.0"), qty("1")), (3, px("50.0"), qty("0.5"))]
    );
    assert_eq!(ids_at(&engine, BookSide::Bid, "50.0"), [3, 9]);
    assert_eq!(engine.l2_qty_at(BookSide::Bid, px("50.0")), qty("1.5"));
}

#[test]
fn cancel_from_the_middle_of_a_queue_keeps_the_others_in_order() {
    let mut engine = engine();
    for id in 1..=4 {
        rest(&mut engine, gtc(id, ALICE, Side::Sell, "10.0", "1"));
    }
    let mut events = Vec::new();
    engine.cancel(2, &mut events).unwrap();
    engine.cancel(4, &mut events).unwrap();
    assert_eq!(ids_at(&engine, BookSide::Ask, "10.0"), [1, 3]);
    rest(&mut engine, gtc(5, ALICE, Side::Sell, "10.0", "1"));
    assert_eq!(ids_at(&engine, BookSide::Ask, "10.0"), [1, 3, 5]);
    assert_eq!(engine.l2_qty_at(BookSide::Ask, px("10.0")), qty("3"));
}

// ---------------------------------------------------------------------------------------------
// Time in force

#[test]
fn fok_that_cannot_fill_is_rejected_and_changes_nothing() {
    let mut engine = ask_ladder();
    let asks_before = depth(&engine, BookSide::Ask);
    let update_id = engine.update_id();
    let log_len = engine.level_changes().len();
    let order = gtc(10, CAROL, Side::Buy, "100.5", "4.6").with_tif(TimeInForce::Fok);
    let (outcome, events) = submit(&mut engine, order);
    assert_eq!(events.len(), 1);
    assert_eq!(
        outcome.status,
        TakerStatus::Rejected(RejectReason::FokCannotFill)
    );
    assert_eq!(RejectReason::FokCannotFill.binance_code(), -5021);
    assert_eq!(
        (outcome.filled_qty, outcome.remaining_qty),
        (Qty::ZERO, qty("4.6"))
    );
    assert_eq!(depth(&engine, BookSide::Ask), asks_before);
    assert_eq!(engine.update_id(), update_id);
    assert_eq!(engine.level_changes().len(), log_len);
    assert_eq!(engine.last_trade_id(), 500);
    assert_eq!(engine.order(10), None);
}

#[test]
fn fok_that_can_fill_executes_completely() {
    let mut engine = ask_ladder();
    let order = gtc(10, CAROL, Side::Buy, "100.5", "4.5").with_tif(TimeInForce::Fok);
    let (outcome, events) = submit(&mut engine, order);
    assert_eq!(trades(&events).len(), 3);
    assert_eq!(outcome.status, TakerStatus::Filled);
    assert_eq!(depth(&engine, BookSide::Ask), [lvl("101.0", "4")]);
}

#[test]
fn market_fok_on_a_thin_book_is_rejected() {
    let mut engine = ask_ladder();
    let order = market(10, CAROL, Side::Buy, "9").with_tif(TimeInForce::Fok);
    let (outcome, _) = submit(&mut engine, order);
    assert_eq!(
        outcome.status,
        TakerStatus::Rejected(RejectReason::FokCannotFill)
    );
    assert_eq!(engine.open_order_count(), 4);
}

#[test]
fn gtx_that_would_cross_is_rejected() {
    let mut engine = ask_ladder();
    let update_id = engine.update_id();
    let order = gtc(10, CAROL, Side::Buy, "100.0", "0.1").with_tif(TimeInForce::Gtx);
    let (outcome, events) = submit(&mut engine, order);
    assert_eq!(events.len(), 1);
    assert_eq!(
        outcome.status,
        TakerStatus::Rejected(RejectReason::PostOnlyWouldTake)
    );
    assert_eq!(RejectReason::PostOnlyWouldTake.binance_code(), -5022);
    assert_eq!(engine.update_id(), update_id);
    assert_eq!(engine.best_ask(), Some(lvl("100.0", "3")));
}

#[test]
fn gtx_that_does_not_cross_rests() {
    let mut engine = ask_ladder();
    let order = gtc(10, CAROL, Side::Buy, "99.9", "0.1").with_tif(TimeInForce::Gtx);
    let (outcome, _) = submit(&mut engine, order);
    assert!(matches!(outcome.status, TakerStatus::Rested { .. }));
    assert_eq!(engine.best_bid(), Some(lvl("99.9", "0.1")));
    assert_eq!(engine.order(10).unwrap().tif, TimeInForce::Gtx);
}

#[test]
fn ioc_remainder_expires() {
    let mut engine = ask_ladder();
    let order = gtc(10, CAROL, Side::Buy, "100.0", "5").with_tif(TimeInForce::Ioc);
    let (outcome, events) = submit(&mut engine, order);
    assert_eq!(trades(&events).len(), 2);
    assert_eq!(
        outcome.status,
        TakerStatus::Expired(ExpiryReason::IocRemainder)
    );
    assert_eq!(
        (outcome.filled_qty, outcome.remaining_qty),
        (qty("3"), qty("2"))
    );
    assert_eq!(outcome.binance_status(), "EXPIRED");
    assert_eq!(ExpiryReason::IocRemainder.binance_code(), 2);
    assert_eq!(engine.best_bid(), None);
    assert_eq!(engine.order(10), None);
}

#[test]
fn market_order_on_a_thin_book_fills_what_it_can_and_expires_the_rest() {
    let mut engine = ask_ladder();
    let (outcome, events) = submit(&mut engine, market(10, CAROL, Side::Buy, "10"));
    assert_eq!(trades(&events).len(), 4);
    assert_eq!(
        outcome.status,
        TakerStatus::Expired(ExpiryReason::MarketRemainder)
    );
    assert_eq!(
        (outcome.filled_qty, outcome.remaining_qty),
        (qty("8.5"), qty("1.5"))
    );
    assert_eq!(ExpiryReason::MarketRemainder.binance_code(), 9);
    assert!(depth(&engine, BookSide::Ask).is_empty());
    assert_eq!(outcome.price, None);
}

#[test]
fn market_order_that_fits_the_book_fills() {
    let mut engine = ask_ladder();
    let (outcome, events) = submit(&mut engine, market(10, CAROL, Side::Buy, "3.5"));
    assert_eq!(trades(&events).last(), Some(&(3, px("100.5"), qty("0.5"))));
    assert_eq!(outcome.status, TakerStatus::Filled);
}

#[test]
fn market_order_on_an_empty_side_expires_everything_and_changes_no_level() {
    let mut engine = ask_ladder();
    let update_id = engine.update_id();
    let (outcome, events) = submit(&mut engine, market(10, CAROL, Side::Sell, "1"));
    assert_eq!(events.len(), 1);
    assert_eq!(
        outcome.status,
        TakerStatus::Expired(ExpiryReason::MarketRemainder)
    );
    assert_eq!(
        (outcome.filled_qty, outcome.remaining_qty),
        (Qty::ZERO, qty("1"))
    );
    assert_eq!(engine.update_id(), update_id);
}

// ---------------------------------------------------------------------------------------------
// Self-trade prevention

/// Asks: Alice 1 @ 100.0, then Bob 1 @ 100.0, then Alice 1 @ 100.5.
fn self_trade_book() -> MatchingEngine {
    let mut engine = engine();
    rest(&mut engine, gtc(1, ALICE, Side::Sell, "100.0", "1"));
    rest(&mut engine, gtc(2, BOB, Side::Sell, "100.0", "1"));
    rest(&mut engine, gtc(3, ALICE, Side::Sell, "100.5", "1"));
    engine
}

fn maker_expiries(events: &[EngineEvent]) -> Vec<OrderId> {
    events
        .iter()
        .filter_map(|event| match event {
            EngineEvent::MakerExpired(expired) => Some(expired.order.id),
            _ => None,
        })
        .collect()
}

#[test]
fn stp_none_lets_an_account_trade_with_itself() {
    let mut engine = self_trade_book();
    let (outcome, events) = submit(&mut engine, gtc(10, ALICE, Side::Buy, "100.0", "2"));
    assert_eq!(
        trades(&events),
        [(1, px("100.0"), qty("1")), (2, px("100.0"), qty("1"))]
    );
    assert_eq!(outcome.status, TakerStatus::Filled);
}

#[test]
fn stp_expire_taker_expires_the_taker_remainder_and_keeps_the_maker() {
    let mut engine = engine();
    rest(&mut engine, gtc(2, BOB, Side::Sell, "99.5", "1"));
    rest(&mut engine, gtc(1, ALICE, Side::Sell, "100.0", "1"));
    let order = gtc(10, ALICE, Side::Buy, "100.0", "3").with_stp(Stp::ExpireTaker);
    let (outcome, events) = submit(&mut engine, order);
    assert_eq!(trades(&events), [(2, px("99.5"), qty("1"))]);
    assert!(maker_expiries(&events).is_empty());
    assert_eq!(
        outcome.status,
        TakerStatus::Expired(ExpiryReason::SelfTradePrevention)
    );
    assert_eq!(
        (outcome.filled_qty, outcome.remaining_qty),
        (qty("1"), qty("2"))
    );
    assert_eq!(outcome.binance_status(), "EXPIRED_IN_MATCH");
    assert_eq!(engine.order(1).unwrap().remaining_qty, qty("1"));
    assert_eq!(
        engine.best_bid(),
        None,
        "an expired GTC taker does not rest"
    );
}

#[test]
fn stp_expire_maker_cancels_the_own_maker_and_keeps_matching() {
    let mut engine = self_trade_book();
    let order = gtc(10, ALICE, Side::Buy, "100.5", "1.5").with_stp(Stp::ExpireMaker);
    let (outcome, events) = submit(&mut engine, order);
    assert_eq!(maker_expiries(&events), [1, 3]);
    assert_eq!(trades(&events), [(2, px("100.0"), qty("1"))]);
    assert!(matches!(events[0], EngineEvent::MakerExpired(_)));
    let EngineEvent::MakerExpired(expired) = events[0] else {
        unreachable!()
    };
    assert_eq!(expired.expired_qty, qty("1"));
    assert_eq!(expired.taker.id, 10);
    assert_eq!(expired.reason.binance_code(), 1);
    assert_eq!(outcome.remaining_qty, qty("0.5"));
    assert!(matches!(outcome.status, TakerStatus::Rested { .. }));
    assert!(depth(&engine, BookSide::Ask).is_empty());
    assert_eq!(engine.best_bid(), Some(lvl("100.5", "0.5")));
}

#[test]
fn stp_expire_both_expires_the_maker_and_the_taker() {
    let mut engine = self_trade_book();
    let order = gtc(10, ALICE, Side::Buy, "100.5", "3").with_stp(Stp::ExpireBoth);
    let (outcome, events) = submit(&mut engine, order);
    assert_eq!(maker_expiries(&events), [1]);
    assert!(trades(&events).is_empty());
    assert_eq!(
        outcome.status,
        TakerStatus::Expired(ExpiryReason::SelfTradePrevention)
    );
    assert_eq!(outcome.remaining_qty, qty("3"));
    assert_eq!(ids_at(&engine, BookSide::Ask, "100.0"), [2]);
    assert_eq!(engine.order(3).unwrap().remaining_qty, qty("1"));
}

#[test]
fn stp_on_an_ioc_taker_reports_expiry_reason_3() {
    let mut engine = self_trade_book();
    let order = gtc(10, ALICE, Side::Buy, "100.0", "1")
        .with_tif(TimeInForce::Ioc)
        .with_stp(Stp::ExpireTaker);
    let (outcome, _) = submit(&mut engine, order);
    assert_eq!(
        outcome.status,
        TakerStatus::Expired(ExpiryReason::IocSelfTradePrevention)
    );
    assert_eq!(ExpiryReason::IocSelfTradePrevention.binance_code(), 3);
}

#[test]
fn stp_applies_to_market_orders() {
    let mut engine = self_trade_book();
    let order = market(10, ALICE, Side::Buy, "5").with_stp(Stp::ExpireMaker);
    let (outcome, events) = submit(&mut engine, order);
    assert_eq!(maker_expiries(&events), [1, 3]);
    assert_eq!(trades(&events), [(2, px("100.0"), qty("1"))]);
    assert_eq!(
        outcome.status,
        TakerStatus::Expired(ExpiryReason::MarketRemainder)
    );
}

#[test]
fn stp_is_ignored_for_fok_orders() {
    let mut engine = self_trade_book();
    let order = gtc(10, ALICE, Side::Buy, "100.0", "2")
        .with_tif(TimeInForce::Fok)
        .with_stp(Stp::ExpireBoth);
    let (outcome, events) = submit(&mut engine, order);
    assert_eq!(
        trades(&events),
        [(1, px("100.0"), qty("1")), (2, px("100.0"), qty("1"))]
    );
    assert_eq!(outcome.status, TakerStatus::Filled);
}

#[test]
fn stp_ignores_other_accounts() {
    let mut engine = self_trade_book();
    let order = gtc(10, CAROL, Side::Buy, "100.0", "2").with_stp(Stp::ExpireBoth);
    let (outcome, events) = submit(&mut engine, order);
    assert_eq!(trades(&events).len(), 2);
    assert_eq!(outcome.status, TakerStatus::Filled);
}

// ---------------------------------------------------------------------------------------------
// Cancel and amend

#[test]
fn cancel_of_an_unknown_order_is_binance_2011() {
    let mut engine = ask_ladder();
    let mut events = Vec::new();
    let update_id = engine.update_id();
    let error = engine.cancel(99, &mut events).unwrap_err();
    assert_eq!(error, EngineError::UnknownOrder { order_id: 99 });
    assert_eq!(error.binance_code(), -2011);
    assert!(events.is_empty());
    assert_eq!(engine.update_id(), update_id);
}

#[test]
fn cancel_removes_the_order_and_a_second_cancel_is_unknown() {
    let mut engine = ask_ladder();
    let mut events = Vec::new();
    let canceled = engine.cancel(3, &mut events).unwrap();
    assert_eq!(events, [EngineEvent::Canceled(canceled)]);
    assert_eq!(canceled.canceled_qty, qty("1.5"));
    assert_eq!(canceled.reason, CancelReason::User);
    assert_eq!(engine.l2_qty_at(BookSide::Ask, px("100.5")), Qty::ZERO);
    assert_eq!(
        engine.cancel(3, &mut events),
        Err(EngineError::UnknownOrder { order_id: 3 })
    );
}

#[test]
fn cancel_of_a_filled_order_is_unknown() {
    let mut engine = ask_ladder();
    submit(&mut engine, market(10, CAROL, Side::Buy, "1"));
    let mut events = Vec::new();
    assert_eq!(
        engine.cancel(1, &mut events),
        Err(EngineError::UnknownOrder { order_id: 1 })
    );
}

#[test]
fn cancel_all_cancels_an_accounts_orders_oldest_first_in_one_update() {
    let mut engine = ask_ladder();
    rest(&mut engine, gtc(5, ALICE, Side::Buy, "90.0", "1"));
    let update_id = engine.update_id();
    let open: Vec<OrderId> = engine.open_orders(ALICE).map(|o| o.id).collect();
    assert_eq!(open, [1, 3, 5]);
    let mut events = Vec::new();
    assert_eq!(engine.cancel_all(ALICE, &mut events), 3);
    let canceled: Vec<OrderId> = events
        .iter()
        .map(|event| match event {
            EngineEvent::Canceled(c) => c.order.id,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(canceled, [1, 3, 5]);
    assert_eq!(engine.update_id(), update_id + 1);
    assert_eq!(engine.open_orders(ALICE).count(), 0);
    assert_eq!(engine.open_orders(BOB).count(), 2);
    assert_eq!(
        depth(&engine, BookSide::Ask),
        [lvl("100.0", "2"), lvl("101.0", "4")]
    );
    assert_eq!(engine.cancel_all(ALICE, &mut events), 0);
    assert_eq!(engine.update_id(), update_id + 1, "nothing changed");
}

#[test]
fn open_orders_follow_resting_order_and_amend_moves_an_order_to_the_back() {
    let mut engine = ask_ladder();
    let mut events = Vec::new();
    engine
        .amend(1, Some(px("100.0")), qty("0.5"), &mut events)
        .unwrap();
    let open: Vec<OrderId> = engine.open_orders(ALICE).map(|o| o.id).collect();
    assert_eq!(open, [3, 1]);
}

#[test]
fn amend_loses_time_priority_even_when_only_the_qty_shrinks() {
    let mut engine = ask_ladder();
    let before = engine.order(1).unwrap().priority;
    let mut events = Vec::new();
    let outcome = engine
        .amend(1, Some(px("100.0")), qty("0.5"), &mut events)
        .unwrap();
    let AmendOutcome::Amended(taker) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(matches!(taker.status, TakerStatus::Rested { priority } if priority > before));
    assert!(matches!(
        events[0],
        EngineEvent::Amended(Amended { orig_qty, remaining_qty, .. })
            if orig_qty == qty("0.5") && remaining_qty == qty("0.5")
    ));
    assert_eq!(ids_at(&engine, BookSide::Ask, "100.0"), [2, 1]);
    assert_eq!(engine.l2_qty_at(BookSide::Ask, px("100.0")), qty("2.5"));
}

#[test]
fn amend_to_a_new_price_moves_the_order_between_levels() {
    let mut engine = ask_ladder();
    let mut events = Vec::new();
    engine
        .amend(3, Some(px("102.0")), qty("1.5"), &mut events)
        .unwrap();
    assert_eq!(
        depth(&engine, BookSide::Ask),
        [lvl("100.0", "3"), lvl("101.0", "4"), lvl("102.0", "1.5")]
    );
    assert_eq!(engine.order(3).unwrap().price, px("102.0"));
}

#[test]
fn amend_keeps_fills_and_counts_them_against_the_new_qty() {
    let mut engine = ask_ladder();
    submit(&mut engine, market(10, CAROL, Side::Buy, "3.5")); // order 3 fills 0.5 of 1.5
    let mut events = Vec::new();
    let outcome = engine
        .amend(3, Some(px("100.5")), qty("2"), &mut events)
        .unwrap();
    let AmendOutcome::Amended(taker) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (taker.filled_qty, taker.remaining_qty),
        (qty("0.5"), qty("1.5"))
    );
    let resting = engine.order(3).unwrap();
    assert_eq!(
        (resting.orig_qty, resting.remaining_qty),
        (qty("2"), qty("1.5"))
    );
}

#[test]
fn amend_down_to_at_or_below_the_filled_qty_cancels_the_order() {
    let mut engine = ask_ladder();
    submit(&mut engine, market(10, CAROL, Side::Buy, "3.5")); // order 3 fills 0.5 of 1.5
    let mut events = Vec::new();
    let outcome = engine
        .amend(3, Some(px("100.5")), qty("0.5"), &mut events)
        .unwrap();
    let AmendOutcome::Canceled(canceled) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(canceled.reason, CancelReason::AmendQtyNotAboveFilled);
    assert_eq!(
        (canceled.canceled_qty, canceled.filled_qty),
        (qty("1"), qty("0.5"))
    );
    assert_eq!(events, [EngineEvent::Canceled(canceled)]);
    assert_eq!(engine.order(3), None);
}

#[test]
fn amend_of_a_gtx_order_to_a_crossing_price_cancels_it() {
    let mut engine = ask_ladder();
    rest(
        &mut engine,
        gtc(10, CAROL, Side::Buy, "99.0", "1").with_tif(TimeInForce::Gtx),
    );
    let mut events = Vec::new();
    let outcome = engine
        .amend(10, Some(px("100.0")), qty("1"), &mut events)
        .unwrap();
    assert!(matches!(
        outcome,
        AmendOutcome::Canceled(Canceled {
            reason: CancelReason::AmendPostOnlyWouldCross,
            ..
        })
    ));
    assert!(fills(&events).is_empty());
    assert_eq!(engine.best_bid(), None);
}

#[test]
fn amend_of_a_gtc_order_to_a_crossing_price_trades_as_taker() {
    let mut engine = ask_ladder();
    rest(&mut engine, gtc(10, CAROL, Side::Buy, "99.0", "4"));
    let mut events = Vec::new();
    let outcome = engine
        .amend(10, Some(px("100.0")), qty("4"), &mut events)
        .unwrap();
    assert!(matches!(events[0], EngineEvent::Amended(_)));
    assert_eq!(
        trades(&events),
        [(1, px("100.0"), qty("1")), (2, px("100.0"), qty("2"))]
    );
    let AmendOutcome::Amended(taker) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(taker.remaining_qty, qty("1"));
    assert_eq!(engine.best_bid(), Some(lvl("100.0", "1")));
}

#[test]
fn amend_refuses_bad_requests_and_changes_nothing() {
    let mut engine = ask_ladder();
    let update_id = engine.update_id();
    let mut events = Vec::new();
    let same = engine.amend(1, Some(px("100.0")), qty("1"), &mut events);
    assert_eq!(
        same.unwrap_err().binance_code(),
        -5027,
        "modify with no change"
    );
    assert_eq!(
        engine.amend(1, None, qty("1"), &mut events),
        Err(EngineError::AmendToMarket { order_id: 1 })
    );
    assert_eq!(
        engine.amend(42, Some(px("1")), qty("1"), &mut events),
        Err(EngineError::UnknownOrder { order_id: 42 })
    );
    assert!(matches!(
        engine.amend(1, Some(px("100")), Qty::ZERO, &mut events),
        Err(EngineError::NonPositiveQty { .. })
    ));
    assert!(matches!(
        engine.amend(1, Some(px("-1")), qty("1"), &mut events),
        Err(EngineError::NonPositivePrice { .. })
    ));
    assert!(events.is_empty());
    assert_eq!(engine.update_id(), update_id);
    assert_eq!(ids_at(&engine, BookSide::Ask, "100.0"), [1, 2]);
}

// ---------------------------------------------------------------------------------------------
// Refused submissions

#[test]
fn bad_submissions_are_errors_that_change_nothing() {
    let mut engine = ask_ladder();
    let update_id = engine.update_id();
    let mut events = Vec::new();
    let cases = [
        (
            gtc(10, ALICE, Side::Buy, "100", "0"),
            EngineError::NonPositiveQty {
                order_id: 10,
                qty: Qty::ZERO,
            },
        ),
        (
            gtc(10, ALICE, Side::Buy, "100", "-1"),
            EngineError::NonPositiveQty {
                order_id: 10,
                qty: qty("-1"),
            },
        ),
        (
            gtc(10, ALICE, Side::Buy, "0", "1"),
            EngineError::NonPositivePrice {
                order_id: 10,
                price: Price::ZERO,
            },
        ),
        (
            market(10, ALICE, Side::Buy, "1").with_tif(TimeInForce::Gtx),
            EngineError::LimitWithoutPrice {
                order_id: 10,
                tif: TimeInForce::Gtx,
            },
        ),
        (
            gtc(2, ALICE, Side::Buy, "90", "1"),
            EngineError::DuplicateOrderId { order_id: 2 },
        ),
    ];
    for (order, expected) in cases {
        assert_eq!(engine.submit(order, &mut events), Err(expected));
    }
    assert!(events.is_empty());
    assert_eq!(engine.update_id(), update_id);
    assert_eq!(engine.open_order_count(), 4);
}

#[test]
fn a_level_total_that_would_overflow_is_refused() {
    let mut engine = engine();
    let big = Qty::from_raw(i64::MAX / 2 + 1);
    let order = NewOrder::limit(1, ALICE, Side::Buy, px("1"), big, TimeInForce::Gtc);
    rest(&mut engine, order);
    let mut events = Vec::new();
    let second = NewOrder { id: 2, ..order };
    assert_eq!(
        engine.submit(second, &mut events),
        Err(EngineError::LevelQtyOverflow {
            order_id: 2,
            price: px("1")
        })
    );
    let ioc = second.with_tif(TimeInForce::Ioc);
    assert!(
        engine.submit(ioc, &mut events).is_ok(),
        "an IOC never rests"
    );
}

// ---------------------------------------------------------------------------------------------
// Depth, update ids and the change log

#[test]
fn l2_depth_aggregates_orders_per_price_best_first() {
    let mut engine = ask_ladder();
    rest(&mut engine, gtc(5, CAROL, Side::Buy, "99.0", "1"));
    rest(&mut engine, gtc(6, CAROL, Side::Buy, "99.5", "2"));
    rest(&mut engine, gtc(7, BOB, Side::Buy, "99.0", "0.25"));
    assert_eq!(
        depth(&engine, BookSide::Bid),
        [lvl("99.5", "2"), lvl("99.0", "1.25")]
    );
    let mut top = vec![lvl("1", "1")];
    engine.copy_top(BookSide::Ask, 2, &mut top);
    assert_eq!(top, [lvl("100.0", "3"), lvl("100.5", "1.5")]);
    assert_eq!(engine.level_count(BookSide::Ask), 3);
    assert_eq!(engine.best(BookSide::Bid), Some(lvl("99.5", "2")));
    assert_eq!(engine.l2_qty_at(BookSide::Bid, px("98")), Qty::ZERO);
}

#[test]
fn level_change_log_carries_update_ids_and_final_quantities() {
    let mut engine = ask_ladder();
    let mut log = Vec::new();
    engine.drain_level_changes(&mut log);
    assert_eq!(log.len(), 4);
    assert_eq!(
        log.iter().map(|c| c.update_id).collect::<Vec<_>>(),
        [1_001, 1_002, 1_003, 1_004]
    );
    assert!(engine.level_changes().is_empty());

    // One taker sweeps 100.0 (two makers) and part of 100.5, then rests: one update id, and
    // the sweep through 100.0 is logged once with its final (zero) total.
    log.clear();
    submit(&mut engine, gtc(10, CAROL, Side::Buy, "100.5", "5"));
    engine.drain_level_changes(&mut log);
    let change = |side, price: &str, amount: &str| LevelChange {
        update_id: 1_005,
        side,
        price: px(price),
        qty: qty(amount),
    };
    assert_eq!(
        log,
        [
            change(BookSide::Ask, "100.0", "0"),
            change(BookSide::Ask, "100.5", "0"),
            change(BookSide::Bid, "100.5", "0.5"),
        ]
    );
    assert_eq!(engine.update_id(), 1_005);

    let mut events = Vec::new();
    engine.cancel(10, &mut events).unwrap();
    engine
        .amend(4, Some(px("101.0")), qty("3"), &mut events)
        .unwrap();
    log.clear();
    engine.drain_level_changes(&mut log);
    assert_eq!(
        log,
        [
            LevelChange {
                update_id: 1_006,
                ..change(BookSide::Bid, "100.5", "0")
            },
            LevelChange {
                update_id: 1_007,
                ..change(BookSide::Ask, "101.0", "3")
            },
        ]
    );
}

#[test]
fn operations_that_change_no_level_keep_the_update_id() {
    let mut engine = ask_ladder();
    let update_id = engine.update_id();
    submit(&mut engine, market(10, CAROL, Side::Sell, "1"));
    submit(
        &mut engine,
        gtc(11, CAROL, Side::Buy, "100.0", "1").with_tif(TimeInForce::Gtx),
    );
    submit(
        &mut engine,
        gtc(12, CAROL, Side::Buy, "99.0", "1").with_tif(TimeInForce::Ioc),
    );
    assert_eq!(engine.update_id(), update_id);
    engine.clear_level_changes();
    assert!(engine.level_changes().is_empty());
}

#[test]
fn counters_start_at_the_configured_values() {
    let mut engine = MatchingEngine::new(EngineConfig {
        last_update_id: 41,
        last_trade_id: 9,
        order_capacity: 0,
    });
    assert_eq!((engine.update_id(), engine.last_trade_id()), (41, 9));
    rest(&mut engine, gtc(1, ALICE, Side::Sell, "10", "1"));
    let (_, events) = submit(&mut engine, market(2, BOB, Side::Buy, "1"));
    assert_eq!(fills(&events)[0].trade_id, 10);
    assert_eq!(engine.update_id(), 43);
}

// ---------------------------------------------------------------------------------------------
// Determinism

/// A fixed script touching every operation.
fn script(engine: &mut MatchingEngine) -> (Vec<EngineEvent>, Vec<LevelChange>) {
    let mut events = Vec::new();
    let mut results = Vec::new();
    let accounts = [ALICE, BOB, CAROL];
    let modes = [
        Stp::None,
        Stp::ExpireTaker,
        Stp::ExpireMaker,
        Stp::ExpireBoth,
    ];
    let tifs = [
        TimeInForce::Gtc,
        TimeInForce::Ioc,
        TimeInForce::Fok,
        TimeInForce::Gtx,
    ];
    for i in 0..400_u64 {
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let offset = i64::try_from((i * 7919) % 21).unwrap() - 10;
        let price = Price::from_raw(100 * 100_000_000 + offset * 10_000_000);
        let amount = Qty::from_raw(i64::try_from(1 + (i * 31) % 7).unwrap() * 25_000_000);
        let account = accounts[usize::try_from(i % 3).unwrap()];
        let order = NewOrder::limit(i, account, side, price, amount, tifs[(i % 4) as usize])
            .with_stp(modes[(i / 3 % 4) as usize])
            .with_tag(i * 10);
        results.push(engine.submit(order, &mut events).map(|_| ()));
        if i % 5 == 0 {
            results.push(engine.cancel(i / 2, &mut events).map(|_| ()));
        }
        if i % 7 == 0 {
            let new_qty = Qty::from_raw(amount.raw() * 2);
            let target = i.saturating_sub(3);
            results.push(
                engine
                    .amend(target, Some(price), new_qty, &mut events)
                    .map(|_| ()),
            );
        }
        if i % 97 == 0 {
            engine.cancel_all(account, &mut events);
        }
    }
    assert!(results.iter().any(Result::is_ok));
    let mut log = Vec::new();
    engine.drain_level_changes(&mut log);
    (events, log)
}

#[test]
fn the_same_sequence_gives_identical_events_and_depth_updates() {
    let first = script(&mut engine());
    let second = script(&mut engine());
    assert!(first.0.iter().any(|e| matches!(e, EngineEvent::Fill(_))));
    assert!(
        first
            .0
            .iter()
            .any(|e| matches!(e, EngineEvent::MakerExpired(_)))
    );
    assert_eq!(first, second);
}

#[test]
fn reduce_takes_quantity_off_in_place_and_keeps_the_queue_position() {
    let mut engine = engine();
    rest(&mut engine, gtc(1, ALICE, Side::Sell, "100", "5"));
    rest(&mut engine, gtc(2, BOB, Side::Sell, "100", "1"));
    let before = engine.update_id();
    let mut events = Vec::new();
    let left = engine.reduce(1, qty("3"), &mut events).unwrap();
    assert_eq!(left, qty("2"));
    assert!(events.is_empty(), "a partial reduce reports nothing");
    assert_eq!(engine.update_id(), before + 1, "one depth update");
    assert_eq!(ids_at(&engine, BookSide::Ask, "100"), [1, 2], "still first");
    assert_eq!(depth(&engine, BookSide::Ask), [lvl("100", "3")]);
    let order = engine.order(1).unwrap();
    assert_eq!((order.orig_qty, order.remaining_qty), (qty("2"), qty("2")));
    // The next taker still meets order 1 first.
    let (_, events) = submit(&mut engine, market(3, CAROL, Side::Buy, "2.5"));
    assert_eq!(
        trades(&events),
        [(1, px("100"), qty("2")), (2, px("100"), qty("0.5"))]
    );
}

#[test]
fn reducing_by_all_that_remains_cancels_and_unknown_or_zero_is_refused() {
    let mut engine = engine();
    rest(&mut engine, gtc(1, ALICE, Side::Buy, "99", "1"));
    let mut events = Vec::new();
    assert_eq!(engine.reduce(1, qty("2"), &mut events).unwrap(), Qty::ZERO);
    assert!(
        matches!(events[..], [EngineEvent::Canceled(_)]),
        "{events:?}"
    );
    assert!(engine.order(1).is_none());
    assert!(depth(&engine, BookSide::Bid).is_empty());
    assert!(matches!(
        engine.reduce(1, qty("1"), &mut events),
        Err(EngineError::UnknownOrder { order_id: 1 })
    ));
    rest(&mut engine, gtc(2, ALICE, Side::Buy, "99", "1"));
    assert!(matches!(
        engine.reduce(2, Qty::ZERO, &mut events),
        Err(EngineError::NonPositiveQty { .. })
    ));
}
