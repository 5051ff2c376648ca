use proptest::prelude::*;

use super::*;

fn p(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn q(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

fn m(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn one_way() -> Position {
    Position::flat("BTCUSDT", PositionSide::Both)
}

#[test]
fn increasing_averages_the_entry_price() {
    let mut pos = one_way();
    pos.apply_fill(Side::Buy, q("1"), p("100"), m("0.04"))
        .unwrap();
    pos.apply_fill(Side::Buy, q("3"), p("104"), m("0.12"))
        .unwrap();
    assert_eq!(pos.qty, q("4"));
    assert_eq!(pos.entry_price(), Some(p("103")));
    assert_eq!(pos.cost_basis, m("412"));
    assert_eq!(pos.fees, m("0.16"));
    assert_eq!(pos.direction(), Direction::Long);
    assert_eq!(pos.unrealized_pnl(p("105")).unwrap(), m("8"));
    assert_eq!(
        pos.unrealized_pnl_percent(p("105")),
        Some(Rate::parse("1.94174757").unwrap())
    );
}

#[test]
fn reducing_realizes_against_the_average_entry() {
    let mut pos = one_way();
    pos.apply_fill(Side::Buy, q("2"), p("100"), Money::ZERO)
        .unwrap();
    let effect = pos
        .apply_fill(Side::Sell, q("0.5"), p("110"), Money::ZERO)
        .unwrap();
    assert_eq!(
        effect,
        FillEffect {
            closed: q("0.5"),
            opened: Qty::ZERO,
            realized_pnl: m("5")
        }
    );
    assert_eq!(pos.qty, q("1.5"));
    assert_eq!(pos.entry_price(), Some(p("100")));
    let effect = pos
        .apply_fill(Side::Sell, q("1.5"), p("90"), Money::ZERO)
        .unwrap();
    assert_eq!(effect.realized_pnl, m("-15"));
    assert_eq!(pos.realized_pnl, m("-10"));
    assert_eq!(
        (pos.direction(), pos.cost_basis),
        (Direction::Flat, Money::ZERO)
    );
    assert_eq!(pos.entry_price(), None);
}

#[test]
fn a_fill_larger_than_the_position_flips_it() {
    let mut pos = one_way();
    pos.apply_fill(Side::Buy, q("1"), p("100"), Money::ZERO)
        .unwrap();
    let effect = pos
        .apply_fill(Side::Sell, q("3"), p("120"), Money::ZERO)
        .unwrap();
    assert_eq!(
        effect,
        FillEffect {
            closed: q("1"),
            opened: q("2"),
            realized_pnl: m("20")
        }
    );
    assert_eq!(pos.qty, q("-2"));
    assert_eq!(pos.direction(), Direction::Short);
    assert_eq!(pos.entry_price(), Some(p("120")));
    // A short gains when the mark falls.
    assert_eq!(pos.unrealized_pnl(p("110")).unwrap(), m("20"));
    assert_eq!(pos.notional_at(p("110")), m("220"));
}

#[test]
fn short_positions_realize_with_the_right_sign() {
    let mut pos = one_way();
    pos.apply_fill(Side::Sell, q("2"), p("50"), Money::ZERO)
        .unwrap();
    let effect = pos
        .apply_fill(Side::Buy, q("1"), p("40"), Money::ZERO)
        .unwrap();
    assert_eq!(effect.realized_pnl, m("10"));
    assert_eq!(pos.qty, q("-1"));
}

#[test]
fn thirds_close_exactly_to_the_last_unit() {
    let mut pos = one_way();
    pos.apply_fill(Side::Buy, q("3"), p("100.00000001"), Money::ZERO)
        .unwrap();
    let mut total = Money::ZERO;
    for _ in 0..3 {
        total = total
            .try_add(
                pos.apply_fill(Side::Sell, q("1"), p("100.1"), Money::ZERO)
                    .unwrap()
                    .realized_pnl,
            )
            .unwrap();
    }
    assert_eq!(total, m("0.29999997"));
    assert_eq!(pos.cost_basis, Money::ZERO);
}

#[test]
fn hedge_legs_cannot_cross_zero() {
    let mut long = Position::flat("ETHUSDT", PositionSide::Long);
    long.apply_fill(Side::Buy, q("1"), p("3000"), Money::ZERO)
        .unwrap();
    let before = long.clone();
    let err = long
        .apply_fill(Side::Sell, q("2"), p("3000"), Money::ZERO)
        .unwrap_err();
    assert!(
        matches!(err, PositionError::HedgeLegCrossesZero { .. }),
        "{err}"
    );
    assert_eq!(long, before);
    let mut short = Position::flat("ETHUSDT", PositionSide::Short);
    short
        .apply_fill(Side::Sell, q("1"), p("3000"), Money::ZERO)
        .unwrap();
    assert_eq!(short.qty, q("-1"));
    assert!(
        short
            .apply_fill(Side::Buy, q("1.5"), p("2900"), Money::ZERO)
            .is_err()
    );
    assert_eq!(
        short
            .apply_fill(Side::Buy, q("1"), p("2900"), Money::ZERO)
            .unwrap()
            .realized_pnl,
        m("100")
    );
}

#[test]
fn non_positive_fills_are_refused() {
    let mut pos = one_way();
    assert!(
        pos.apply_fill(Side::Buy, Qty::ZERO, p("1"), Money::ZERO)
            .is_err()
    );
    assert!(
        pos.apply_fill(Side::Buy, q("1"), Price::ZERO, Money::ZERO)
            .is_err()
    );
    assert_eq!(pos, one_way());
}

#[test]
fn balance_locks_and_releases_within_what_is_there() {
    let mut usdt = Balance::new("USDT", m("1000"), 1);
    usdt.lock(m("600"), 2).unwrap();
    assert_eq!(usdt.available(), m("400"));
    let err = usdt.lock(m("400.0000000000000001"), 3).unwrap_err();
    assert_eq!(
        err.to_string(),
        "USDT: cannot lock 400.0000000000000001, only 400 available"
    );
    usdt.apply(m("-12.5"), 4).unwrap();
    assert_eq!(
        (usdt.total, usdt.available(), usdt.timestamp_ms),
        (m("987.5"), m("387.5"), 4)
    );
    assert!(usdt.release(m("601"), 5).is_err());
    usdt.release(m("600"), 6).unwrap();
    assert_eq!(usdt.available(), m("987.5"));
}

proptest! {
    /// Whatever the fills, realized + unrealized P&L equals the mark value of what is held
    /// minus the net cash spent: exact, with no rounding drift.
    #[test]
    fn pnl_is_conserved_exactly(
        fills in prop::collection::vec((any::<bool>(), 1i64..500_000_000, 1i64..20_000_000_000_000), 1..60),
        mark_raw in 1i64..20_000_000_000_000,
    ) {
        let mut pos = one_way();
        let mut cash_spent = Money::ZERO;
        let mut net_qty = Qty::ZERO;
        for (buy, qty_raw, price_raw) in fills {
            let side = if buy { Side::Buy } else { Side::Sell };
            let (qty, price) = (Qty::from_raw(qty_raw), Price::from_raw(price_raw));
            pos.apply_fill(side, qty, price, Money::ZERO).unwrap();
            let flow = price.notional(qty);
            cash_spent = if buy { cash_spent.try_add(flow) } else { cash_spent.try_sub(flow) }.unwrap();
            net_qty = net_qty.try_add(qty.try_mul_int(side.sign()).unwrap()).unwrap();
            prop_assert_eq!(pos.qty, net_qty);
            prop_assert!(pos.cost_basis.is_zero() == pos.qty.is_zero());
            prop_assert!(pos.qty.is_zero() || pos.cost_basis.is_positive() == pos.qty.is_positive());
        }
        let mark = Price::from_raw(mark_raw);
        let total = pos.realized_pnl.try_add(pos.unrealized_pnl(mark).unwrap()).unwrap();
        prop_assert_eq!(total, mark.notional(pos.qty).try_sub(cash_spent).unwrap());
    }
}
