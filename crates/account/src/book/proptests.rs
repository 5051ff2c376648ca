//! Invariants of the book over arbitrary fill sequences: realized P&L is the cash flow once
//! flat, repeats change nothing, and reconciliation converges on the venue whatever was lost.

use kestrel_model::config::AccountConfig;
use kestrel_model::order::{Fill, Liquidity, PositionSide};
use kestrel_model::{Money, Price, Qty, Side};
use proptest::prelude::*;

use super::{AccountBook, BookConfig};
use crate::fill::FillUpdate;
use crate::snapshot::{VenueBalance, VenuePosition, VenueSnapshot};

const SYMBOL: &str = "ETHUSDT";
const LOADED: u64 = 1_760_000_000_000;

fn loaded() -> AccountBook {
    let mut book = AccountBook::new(BookConfig::new(&AccountConfig::default()), LOADED);
    let snapshot = VenueSnapshot {
        balances: vec![VenueBalance {
            asset: String::from("USDT"),
            wallet_balance: Money::from_raw(10_000 * 10_000_000_000_000_000),
            unrealized_pnl: Money::ZERO,
            available_balance: Money::ZERO,
            initial_margin: Money::ZERO,
            open_order_initial_margin: Money::ZERO,
            maint_margin: Money::ZERO,
            update_time_ms: LOADED,
        }],
        ..VenueSnapshot::default()
    };
    book.load(&snapshot, LOADED);
    book
}

/// Fills of 0.001..0.05 at 2000.00..3000.00 (a cent tick) with a commission on the 10⁻⁸ grid.
fn fills() -> impl Strategy<Value = Vec<FillUpdate>> {
    let one = (
        any::<bool>(),
        1..=50i64,
        200_000..=300_000i64,
        0..=200_000i64,
    );
    prop::collection::vec(one, 1..40).prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(|(i, (buy, lots, cents, fee))| {
                let side = if buy { Side::Buy } else { Side::Sell };
                make_fill(
                    i as u64 + 1,
                    side,
                    Qty::from_raw(lots * 100_000),
                    Price::from_raw(cents * 1_000_000),
                    fee,
                )
            })
            .collect()
    })
}

fn make_fill(id: u64, side: Side, qty: Qty, price: Price, fee_steps: i64) -> FillUpdate {
    FillUpdate::from(Fill {
        order_id: id,
        client_order_id: format!("p{id}"),
        symbol: SYMBOL.to_owned(),
        side,
        price,
        quantity: qty,
        commission: Money::from_raw(i128::from(fee_steps) * 100_000_000),
        commission_asset: String::from("USDT"),
        liquidity: Liquidity::Taker,
        trade_id: id,
        timestamp_ms: LOADED + id,
    })
}

fn qty_of(book: &AccountBook) -> Qty {
    book.legs
        .get(&(SYMBOL.to_owned(), PositionSide::Both))
        .map_or(Qty::ZERO, |leg| leg.position.qty)
}

fn wallet_of(book: &AccountBook) -> Money {
    book.assets.get("USDT").map_or(Money::ZERO, |a| a.wallet)
}

proptest! {
    #[test]
    fn realized_pnl_is_the_cash_flow_once_flat(mut fills in fills(), close_cents in 200_000..=300_000i64) {
        let mut book = loaded();
        for fill in &fills {
            book.apply_fill(fill, LOADED).unwrap();
        }
        let open = qty_of(&book);
        if !open.is_zero() {
            let side = if open.is_positive() { Side::Sell } else { Side::Buy };
            let id = fills.len() as u64 + 1;
            let close = make_fill(id, side, open.abs(), Price::from_raw(close_cents * 1_000_000), 0);
            book.apply_fill(&close, LOADED).unwrap();
            fills.push(close);
        }
        prop_assert!(qty_of(&book).is_zero());
        let cash = fills.iter().fold(Money::ZERO, |sum, f| {
            let flow = f.fill.price.notional(f.fill.quantity);
            if f.fill.side == Side::Buy { sum.try_sub(flow).unwrap() } else { sum.try_add(flow).unwrap() }
        });
        let leg = &book.legs[&(SYMBOL.to_owned(), PositionSide::Both)];
        // Exact: the model's realized P&L over a flat round trip is the cash flow.
        prop_assert_eq!(leg.position.realized_pnl, cash);
        // Booked: each fill's realized P&L rounded once to 10⁻⁸, so within half a step each.
        let booked = book.pnl(LOADED).realized_pnl;
        let slack = Money::from_raw(fills.len() as i128 * 50_000_000);
        prop_assert!(booked.try_sub(cash).unwrap().abs() <= slack, "{booked} vs {cash}");
        // The wallet moved by exactly the booked realized P&L less the commissions.
        let fees = fills.iter().fold(Money::ZERO, |s, f| s.try_add(f.fill.commission).unwrap());
        let start = Money::from_raw(10_000 * 10_000_000_000_000_000);
        prop_assert_eq!(wallet_of(&book), start.try_add(booked).unwrap().try_sub(fees).unwrap());
    }

    #[test]
    fn repeated_fills_change_nothing(fills in fills(), repeats in prop::collection::vec(any::<prop::sample::Index>(), 0..40)) {
        let mut once = loaded();
        let mut twice = loaded();
        for (i, fill) in fills.iter().enumerate() {
            once.apply_fill(fill, LOADED).unwrap();
            twice.apply_fill(fill, LOADED).unwrap();
            if let Some(index) = repeats.get(i) {
                let earlier = &fills[index.index(i + 1)];
                twice.apply_fill(earlier, LOADED).unwrap();
            }
        }
        prop_assert_eq!(once.view(LOADED), twice.view(LOADED));
    }

    #[test]
    fn reconciliation_converges_whatever_was_lost(fills in fills(), lost in prop::collection::vec(any::<bool>(), 40)) {
        let mut venue = loaded();
        let mut local = loaded();
        for (fill, lose) in fills.iter().zip(&lost) {
            venue.apply_fill(fill, LOADED).unwrap();
            if !lose {
                local.apply_fill(fill, LOADED).unwrap();
            }
        }
        let truth = snapshot_of(&venue);
        let later = LOADED + 60_000;
        local.reconcile(&truth, later);
        prop_assert_eq!(qty_of(&local), qty_of(&venue));
        prop_assert_eq!(wallet_of(&local), wallet_of(&venue));
        let again = local.reconcile(&truth, later + 1);
        prop_assert!(!again.mismatch);
        // Whatever arrives late is already in: nothing moves.
        for fill in &fills {
            local.apply_fill(fill, later + 2).unwrap();
        }
        prop_assert_eq!(qty_of(&local), qty_of(&venue));
        prop_assert_eq!(wallet_of(&local), wallet_of(&venue));
    }
}

/// What a venue holding `book`'s state would report.
fn snapshot_of(book: &AccountBook) -> VenueSnapshot {
    let last = book
        .legs
        .values()
        .map(|l| l.last_fill_ms)
        .max()
        .unwrap_or(LOADED);
    let positions = book
        .legs
        .values()
        .map(|leg| VenuePosition {
            symbol: leg.position.symbol.clone(),
            position_side: leg.position.position_side,
            qty: leg.position.qty,
            entry_price: leg.position.entry_price().unwrap_or(Price::ZERO),
            mark_price: Price::ZERO,
            unrealized_pnl: Money::ZERO,
            liquidation_price: Price::ZERO,
            initial_margin: Money::ZERO,
            maint_margin: Money::ZERO,
            update_time_ms: leg.last_fill_ms,
        })
        .collect();
    let balances = book
        .assets
        .iter()
        .map(|(asset, state)| VenueBalance {
            asset: asset.clone(),
            wallet_balance: state.wallet,
            unrealized_pnl: Money::ZERO,
            available_balance: Money::ZERO,
            initial_margin: Money::ZERO,
            open_order_initial_margin: Money::ZERO,
            maint_margin: Money::ZERO,
            update_time_ms: last,
        })
        .collect();
    VenueSnapshot {
        balances,
        positions,
        ..VenueSnapshot::default()
    }
}
