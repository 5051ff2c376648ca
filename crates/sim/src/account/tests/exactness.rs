//! Exactness: whatever the fills and funding, the wallet is the deposit plus what was
//! reported, to the last unit, and stays on the 8-decimal grid.

use kestrel_model::money::{Money, Price, Qty, Rate};
use kestrel_model::order::{PositionSide, Side};
use kestrel_model::position::PositionMode;
use proptest::prelude::*;

use super::super::rounding;
use super::super::{AccountTotals, LegMargin};
use super::*;

const SYMBOLS: [&str; 3] = ["BTCUSDT", "ETHUSDT", "XUSDT"];

#[derive(Debug, Clone)]
enum Event {
    Fill {
        symbol: usize,
        buy: bool,
        long_leg: bool,
        qty_raw: i64,
        price_raw: i64,
        is_maker: bool,
    },
    Funding {
        symbol: usize,
        mark_raw: i64,
        rate_raw: i64,
    },
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (0..3usize, any::<bool>(), any::<bool>(), 1..500_000_000i64,
              1_000_000..10_000_000_000_000i64, any::<bool>())
            .prop_map(|(symbol, buy, long_leg, qty_raw, price_raw, is_maker)| Event::Fill {
                symbol, buy, long_leg, qty_raw, price_raw, is_maker,
            }),
        1 => (0..3usize, 1_000_000..10_000_000_000_000i64, -300_000..300_000i64)
            .prop_map(|(symbol, mark_raw, rate_raw)| Event::Funding { symbol, mark_raw, rate_raw }),
    ]
}

/// Running sums of what the account reported.
#[derive(Default)]
struct Reported {
    realized: Money,
    commission: Money,
    funding: Money,
    fills: i128,
}

fn apply(account: &mut Account, event: &Event, now_ms: u64, sums: &mut Reported) {
    match *event {
        Event::Fill {
            symbol,
            buy,
            long_leg,
            qty_raw,
            price_raw,
            is_maker,
        } => {
            let side = if buy { Side::Buy } else { Side::Sell };
            let position_side = match (account.position_mode(), long_leg) {
                (PositionMode::OneWay, _) => PositionSide::Both,
                (PositionMode::Hedge, true) => PositionSide::Long,
                (PositionMode::Hedge, false) => PositionSide::Short,
            };
            let fill = Execution {
                symbol: SYMBOLS[symbol],
                side,
                position_side,
                qty: Qty::from_raw(qty_raw),
                price: Price::from_raw(price_raw),
                is_maker,
            };
            // A hedge fill that would cross its leg is refused and changes nothing.
            if let Ok(booking) = account.apply_fill(&fill, now_ms) {
                sums.realized = sums.realized.try_add(booking.realized_pnl).unwrap();
                sums.commission = sums.commission.try_add(booking.commission).unwrap();
                sums.fills += 1;
            }
        }
        Event::Funding {
            symbol,
            mark_raw,
            rate_raw,
        } => {
            let mark = Price::from_raw(mark_raw);
            let rate = Rate::from_raw(rate_raw);
            let change = account
                .apply_funding(SYMBOLS[symbol], mark, rate, now_ms)
                .unwrap();
            sums.funding = sums.funding.try_add(change.unwrap_or(Money::ZERO)).unwrap();
        }
    }
}

fn sum(legs: &[LegMargin], field: fn(&LegMargin) -> Money) -> Money {
    legs.iter()
        .fold(Money::ZERO, |total, leg| total.try_add(field(leg)).unwrap())
}

fn assert_totals_are_sums(totals: &AccountTotals, legs: &[LegMargin], wallet: Money) {
    let unrealized = sum(legs, |l| l.unrealized_pnl);
    assert_eq!(totals.total_unrealized_profit, unrealized);
    assert_eq!(
        totals.total_margin_balance,
        wallet.try_add(unrealized).unwrap()
    );
    assert_eq!(totals.total_maint_margin, sum(legs, |l| l.maint_margin));
    let initial = sum(legs, |l| l.position_initial_margin)
        .try_add(sum(legs, |l| l.open_order_initial_margin))
        .unwrap();
    assert_eq!(totals.total_initial_margin, initial);
    assert_eq!(
        totals.available_balance,
        totals.total_margin_balance.try_sub(initial).unwrap()
    );
    for figure in [
        totals.total_margin_balance,
        totals.total_initial_margin,
        totals.total_maint_margin,
    ] {
        assert!(rounding::is_on_grid(figure), "{figure}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_wallet_is_the_deposit_plus_everything_reported(
        hedge in any::<bool>(),
        events in proptest::collection::vec(event(), 1..60),
    ) {
        let deposit = m("100000");
        let mut account = funded("100000");
        account.set_fee_rates(r("-0.00013"), r("0.00047"));
        if hedge {
            account.set_position_mode(PositionMode::Hedge, false, 1).unwrap();
        }
        let mut sums = Reported::default();
        for (now_ms, event) in (10u64..).zip(&events) {
            apply(&mut account, event, now_ms, &mut sums);
        }
        let expected = deposit
            .try_add(sums.realized).unwrap()
            .try_sub(sums.commission).unwrap()
            .try_add(sums.funding).unwrap();
        prop_assert_eq!(account.wallet_balance(), expected);
        prop_assert!(rounding::is_on_grid(account.wallet_balance()));
        // Each booked realized P&L is within half a unit of the exact one.
        let exact = account.positions().fold(Money::ZERO, |t, p| t.try_add(p.realized_pnl).unwrap());
        let drift = exact.try_sub(sums.realized).unwrap().abs();
        prop_assert!(drift.raw() * 2 <= sums.fills * 100_000_000, "drift {}", drift);
        let marks = marks(&[("BTCUSDT", "61234.5"), ("ETHUSDT", "3012.25")]);
        let sheet = account.margin(&[], &marks).unwrap();
        assert_totals_are_sums(&sheet.totals, &sheet.legs, account.wallet_balance());
    }
}
