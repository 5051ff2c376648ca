//! Start-up recovery through the engine, with the built-in grid.

use super::*;
use crate::action::OpenOrder;
use crate::ids::{InstanceTag, client_order_id};

fn grid_config() -> StrategiesConfig {
    let grid = StrategyInstance {
        kind: "grid".into(),
        parameters: "spacing = \"10\"\nlevels = 2\nreference_price = \"30000\""
            .parse()
            .unwrap(),
        ..scripted("grid", "BTCUSDT", "")
    };
    majority(vec![grid])
}

fn venue_order(tag: &str, seq: u64, side: Side, price: &str) -> OpenOrder {
    OpenOrder {
        client_order_id: client_order_id(InstanceTag::of(tag), 1_000, seq),
        side,
        price: px(price),
        qty: qty("0.01"),
    }
}

#[test]
fn a_recovered_grid_keeps_its_venue_orders_and_cancels_strays() {
    let log = new_log();
    let mut e = engine(&grid_config(), &log);
    let orders = [
        venue_order("grid", 1, Side::Buy, "29980"),
        venue_order("grid", 2, Side::Buy, "29990"),
        venue_order("grid", 3, Side::Sell, "30010"),
        venue_order("grid", 4, Side::Sell, "30015"),
        venue_order("someone-else", 5, Side::Sell, "30020"),
    ];
    let mut out = Outbox::default();
    e.recover(
        "grid",
        &orders,
        Position::flat("BTCUSDT", kestrel_model::order::PositionSide::Both),
        5_000,
        &mut out,
    )
    .unwrap();
    let c = cancels(&out);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(
        (c[0].client_order_id.as_str(), c[0].reason),
        (
            orders[3].client_order_id.as_str(),
            CancelReason::NotRecovered
        )
    );
    let first = btc_tick(&mut e, 6_000);
    let placed: Vec<_> = requests(&first)
        .iter()
        .map(|r| (r.side, r.price.unwrap()))
        .collect();
    assert_eq!(
        placed,
        [(Side::Sell, px("30020"))],
        "only the missing slot is placed"
    );
}

#[test]
fn a_fill_of_an_adopted_order_flips_the_grid() {
    let log = new_log();
    let mut e = engine(&grid_config(), &log);
    let buy = venue_order("grid", 1, Side::Buy, "29990");
    let flat = Position::flat("BTCUSDT", kestrel_model::order::PositionSide::Both);
    e.recover(
        "grid",
        std::slice::from_ref(&buy),
        flat,
        5_000,
        &mut Outbox::default(),
    )
    .unwrap();
    tick(&mut e, "BTCUSDT", "29990.0", "29990.1", 6_000);
    let f = Fill {
        order_id: 9,
        client_order_id: buy.client_order_id.clone(),
        symbol: "BTCUSDT".into(),
        side: Side::Buy,
        price: buy.price,
        quantity: buy.qty,
        commission: Money::ZERO,
        commission_asset: "USDT".into(),
        liquidity: Liquidity::Maker,
        trade_id: 1,
        timestamp_ms: 6_001,
    };
    let mut out = Outbox::default();
    assert!(e.on_fill(&f, &mut out));
    assert_eq!(e.position("grid").unwrap().qty, qty("0.01"));
    let placed: Vec<_> = requests(&out)
        .iter()
        .map(|r| (r.side, r.price.unwrap()))
        .collect();
    assert_eq!(placed, [(Side::Sell, px("30000"))], "the sell one level up");
}

#[test]
fn recovering_an_unknown_instance_is_an_error() {
    let log = new_log();
    let mut e = engine(&grid_config(), &log);
    let flat = Position::flat("BTCUSDT", kestrel_model::order::PositionSide::Both);
    assert!(
        e.recover("nobody", &[], flat.clone(), 0, &mut Outbox::default())
            .is_err()
    );
    let eth = Position::flat("ETHUSDT", kestrel_model::order::PositionSide::Both);
    assert!(
        e.recover("grid", &[], eth, 0, &mut Outbox::default())
            .is_err(),
        "wrong symbol"
    );
}
