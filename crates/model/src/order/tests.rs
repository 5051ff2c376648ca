use proptest::prelude::*;

use super::*;
use crate::money::{Money, Price, Qty, Rate};

fn limit_buy(qty: &str) -> OrderRequest {
    OrderRequest {
        request_id: "7f1c3a0e-2b9d-4c61-a1f4-0d6f2b0c9e11".into(),
        symbol: "BTCUSDT".into(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: Some(TimeInForce::Gtc),
        price: Some(Price::parse("67250.1").unwrap()),
        quantity: Qty::parse(qty).unwrap(),
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

fn fill(trade_id: u64, qty: &str, price: &str, liquidity: Liquidity) -> Fill {
    Fill {
        order_id: 42,
        client_order_id: "k-1".into(),
        symbol: "BTCUSDT".into(),
        side: Side::Buy,
        price: Price::parse(price).unwrap(),
        quantity: Qty::parse(qty).unwrap(),
        commission: Money::parse("0.01").unwrap(),
        commission_asset: "USDT".into(),
        liquidity,
        trade_id,
        timestamp_ms: 1_723_161_240_000,
    }
}

fn submitted(qty: &str) -> Order {
    let mut order = Order::new(limit_buy(qty), "k-1".into());
    order.apply(OrderEvent::Queue).unwrap();
    order.apply(OrderEvent::Send).unwrap();
    order
}

#[test]
fn happy_path_walks_every_state_to_filled() {
    let mut order = Order::new(limit_buy("0.003"), "k-1".into());
    assert_eq!(order.status, OrderStatus::New);
    assert_eq!(
        order.apply(OrderEvent::Queue).unwrap(),
        OrderStatus::PendingSubmit
    );
    assert_eq!(
        order.apply(OrderEvent::Send).unwrap(),
        OrderStatus::Submitted
    );
    assert_eq!(
        order
            .apply(OrderEvent::Accept { venue_order_id: 42 })
            .unwrap(),
        OrderStatus::Submitted
    );
    let status = order
        .apply(OrderEvent::Fill(fill(
            1,
            "0.001",
            "67250",
            Liquidity::Maker,
        )))
        .unwrap();
    assert_eq!(status, OrderStatus::PartiallyFilled);
    let status = order
        .apply(OrderEvent::Fill(fill(
            2,
            "0.002",
            "67251",
            Liquidity::Taker,
        )))
        .unwrap();
    assert_eq!(status, OrderStatus::Filled);
    assert_eq!(order.venue_order_id, Some(42));
    assert_eq!(order.filled_qty, Qty::parse("0.003").unwrap());
    assert_eq!(order.filled_notional, Money::parse("201.752").unwrap());
    assert_eq!(
        order.average_price(),
        Some(Price::parse("67250.66666667").unwrap())
    );
    assert_eq!(order.commission, Money::parse("0.02").unwrap());
    assert_eq!((order.maker_fills, order.taker_fills), (1, 1));
    assert!(order.remaining_qty().is_zero());
}

#[test]
fn illegal_transitions_are_errors_and_leave_the_order_unchanged() {
    let mut order = Order::new(limit_buy("1"), "k-1".into());
    let before = order.clone();
    for event in [
        OrderEvent::Send,
        OrderEvent::Expire,
        OrderEvent::Accept { venue_order_id: 1 },
    ] {
        let err = order.apply(event).unwrap_err();
        assert!(
            matches!(
                err,
                OrderError::IllegalTransition {
                    from: OrderStatus::New,
                    ..
                }
            ),
            "{err}"
        );
    }
    assert_eq!(order, before);
    let mut filled = submitted("0.001");
    filled
        .apply(OrderEvent::Fill(fill(
            1,
            "0.001",
            "67250",
            Liquidity::Maker,
        )))
        .unwrap();
    for event in [
        OrderEvent::Cancel,
        OrderEvent::Expire,
        OrderEvent::Queue,
        OrderEvent::Reject { reason: "x".into() },
    ] {
        assert!(filled.apply(event).is_err(), "a filled order never reopens");
    }
    let mut rejected = submitted("1");
    rejected
        .apply(OrderEvent::Reject {
            reason: "-2019 Margin is insufficient.".into(),
        })
        .unwrap();
    assert_eq!(
        rejected.reject_reason.as_deref(),
        Some("-2019 Margin is insufficient.")
    );
    let err = rejected
        .apply(OrderEvent::Fill(fill(9, "1", "1", Liquidity::Maker)))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "order k-1: cannot fill an order that is Rejected"
    );
}

#[test]
fn partially_filled_order_cannot_be_rejected_but_can_expire() {
    let mut order = submitted("2");
    order
        .apply(OrderEvent::Fill(fill(1, "1", "100", Liquidity::Taker)))
        .unwrap();
    assert!(
        order
            .apply(OrderEvent::Reject {
                reason: "late".into()
            })
            .is_err()
    );
    assert_eq!(
        order.apply(OrderEvent::Expire).unwrap(),
        OrderStatus::Expired
    );
    assert_eq!(order.remaining_qty(), Qty::parse("1").unwrap());
}

#[test]
fn overfill_and_duplicate_fills_are_refused() {
    let mut order = submitted("0.002");
    order
        .apply(OrderEvent::Fill(fill(1, "0.001", "100", Liquidity::Maker)))
        .unwrap();
    let dup = order
        .apply(OrderEvent::Fill(fill(1, "0.001", "100", Liquidity::Maker)))
        .unwrap_err();
    assert!(matches!(dup, OrderError::DuplicateFill { trade_id: 1, .. }));
    let over = order
        .apply(OrderEvent::Fill(fill(2, "0.0011", "100", Liquidity::Maker)))
        .unwrap_err();
    assert!(matches!(over, OrderError::Overfill { .. }), "{over}");
    assert_eq!(order.filled_qty, Qty::parse("0.001").unwrap());
    assert_eq!(order.status, OrderStatus::PartiallyFilled);
}

#[test]
fn fill_racing_ahead_of_the_placement_answer_is_kept() {
    let mut order = Order::new(limit_buy("1"), "k-1".into());
    order.apply(OrderEvent::Queue).unwrap();
    let status = order
        .apply(OrderEvent::Fill(fill(1, "1", "100", Liquidity::Taker)))
        .unwrap();
    assert_eq!(status, OrderStatus::Filled);
    assert_eq!(
        order
            .apply(OrderEvent::Accept { venue_order_id: 7 })
            .unwrap(),
        OrderStatus::Filled
    );
}

#[test]
fn late_fill_after_cancel_is_recorded_without_reopening() {
    let mut order = submitted("2");
    order.apply(OrderEvent::Cancel).unwrap();
    let status = order
        .apply(OrderEvent::Fill(fill(5, "0.5", "100", Liquidity::Maker)))
        .unwrap();
    assert_eq!(status, OrderStatus::Canceled);
    assert_eq!(order.filled_qty, Qty::parse("0.5").unwrap());
}

#[test]
fn fill_for_another_side_or_symbol_is_refused() {
    let mut order = submitted("1");
    let mut wrong = fill(1, "1", "100", Liquidity::Maker);
    wrong.side = Side::Sell;
    assert!(matches!(
        order.apply(OrderEvent::Fill(wrong)),
        Err(OrderError::ForeignFill { .. })
    ));
}

#[test]
fn request_shape_rules_name_the_field() {
    let ok = limit_buy("0.001");
    assert_eq!(ok.check_shape(), Ok(()));

    let mut no_price = limit_buy("1");
    no_price.price = None;
    assert_eq!(
        no_price.check_shape().unwrap_err().to_string(),
        "Limit order requires `price`"
    );

    let mut no_tif = limit_buy("1");
    no_tif.time_in_force = None;
    assert!(
        no_tif
            .check_shape()
            .unwrap_err()
            .to_string()
            .contains("time_in_force")
    );

    let mut zero = limit_buy("1");
    zero.quantity = Qty::ZERO;
    assert_eq!(
        zero.check_shape().unwrap_err().to_string(),
        "`quantity` must be greater than zero, got 0"
    );

    let mut market_with_price = limit_buy("1");
    market_with_price.order_type = OrderType::Market;
    market_with_price.time_in_force = None;
    assert!(matches!(
        market_with_price.check_shape(),
        Err(OrderRequestError::FieldNotAllowed { field: "price", .. })
    ));

    let mut stop = limit_buy("1");
    stop.order_type = OrderType::StopLimit;
    assert!(
        stop.check_shape()
            .unwrap_err()
            .to_string()
            .contains("stop_price")
    );
    stop.stop_price = Some(Price::parse("67000").unwrap());
    assert_eq!(stop.check_shape(), Ok(()));

    let mut hedge_reduce = limit_buy("1");
    hedge_reduce.reduce_only = true;
    hedge_reduce.position_side = PositionSide::Long;
    assert!(hedge_reduce.check_shape().is_err());

    let mut bad_id = limit_buy("1");
    bad_id.client_order_id = Some("has space".into());
    assert!(matches!(
        bad_id.check_shape(),
        Err(OrderRequestError::BadClientOrderId(_))
    ));
    bad_id.client_order_id = Some("x".repeat(37));
    assert!(bad_id.check_shape().is_err());
    bad_id.client_order_id = Some("x-cvBPrNm9:abc/DEF_1.2".into());
    assert_eq!(bad_id.check_shape(), Ok(()));

    let mut lower = limit_buy("1");
    lower.symbol = "btcusdt".into();
    assert!(matches!(
        lower.check_shape(),
        Err(OrderRequestError::BadSymbol(_))
    ));
}

#[test]
fn close_position_and_trailing_stop_rules() {
    let mut close = limit_buy("0");
    close.order_type = OrderType::StopMarket;
    close.price = None;
    close.time_in_force = None;
    close.stop_price = Some(Price::parse("60000").unwrap());
    close.close_position = true;
    assert_eq!(close.check_shape(), Ok(()));
    close.quantity = Qty::ONE;
    assert!(
        close.check_shape().is_err(),
        "close_position takes no quantity"
    );

    let mut trailing = limit_buy("1");
    trailing.order_type = OrderType::TrailingStopMarket;
    trailing.price = None;
    trailing.time_in_force = None;
    assert!(
        trailing
            .check_shape()
            .unwrap_err()
            .to_string()
            .contains("callback_rate")
    );
    trailing.callback_rate = Some(Rate::parse("11").unwrap());
    assert!(
        trailing
            .check_shape()
            .unwrap_err()
            .to_string()
            .contains("between 0.1 and 10")
    );
    trailing.callback_rate = Some(Rate::parse("1").unwrap());
    assert_eq!(trailing.check_shape(), Ok(()));
}

#[test]
fn serde_accepts_the_seed_and_binance_spellings() {
    let json = r#"{"request_id":"r1","symbol":"ETHUSDT","side":"SELL","type":"STOP",
        "time_in_force":"POST_ONLY","price":"3000.5","quantity":"0.1","stop_price":"3001",
        "execution_mode":"simulation"}"#;
    let req: OrderRequest = serde_json::from_str(json).unwrap();
    assert_eq!(req.side, Side::Sell);
    assert_eq!(req.order_type, OrderType::StopLimit);
    assert_eq!(req.order_type.binance_name(), "STOP");
    assert_eq!(
        req.time_in_force.map(TimeInForce::binance_name),
        Some("GTX")
    );
    assert_eq!(req.execution_mode, ExecutionMode::Simulation);
    assert_eq!(req.check_shape(), Ok(()));
    let unknown = r#"{"request_id":"r1","symbol":"ETHUSDT","side":"buy","type":"market","quantity":"1","qty":"2"}"#;
    assert!(
        serde_json::from_str::<OrderRequest>(unknown)
            .unwrap_err()
            .to_string()
            .contains("unknown field `qty`")
    );
}

fn event_strategy() -> impl Strategy<Value = OrderEvent> {
    prop_oneof![
        Just(OrderEvent::Queue),
        Just(OrderEvent::Send),
        Just(OrderEvent::Cancel),
        Just(OrderEvent::Expire),
        Just(OrderEvent::Reject { reason: "r".into() }),
        (1u64..1000).prop_map(|venue_order_id| OrderEvent::Accept { venue_order_id }),
        (0u64..20, 1i64..60_000_000).prop_map(|(trade_id, raw)| {
            let mut f = fill(trade_id, "1", "100", Liquidity::Maker);
            f.quantity = Qty::from_raw(raw);
            OrderEvent::Fill(f)
        }),
    ]
}

proptest! {
    #[test]
    fn lifecycle_invariants_hold_for_any_event_sequence(events in prop::collection::vec(event_strategy(), 0..40)) {
        let mut order = Order::new(limit_buy("1"), "k-1".into());
        for event in events {
            let before = order.clone();
            match order.apply(event) {
                Ok(_) => {
                    prop_assert!(order.filled_qty >= before.filled_qty, "filled qty never decreases");
                    if before.status.is_terminal() {
                        prop_assert_eq!(order.status, before.status, "a terminal order never reopens");
                    }
                }
                Err(_) => prop_assert_eq!(&order, &before, "a refused event changes nothing"),
            }
            prop_assert!(order.filled_qty <= order.request.quantity);
            prop_assert_eq!(order.status == OrderStatus::Filled, order.remaining_qty().is_zero() && !order.filled_qty.is_zero() && !matches!(order.status, OrderStatus::Canceled | OrderStatus::Expired));
        }
    }
}
