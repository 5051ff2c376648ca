//! The book against scripted fills, events and snapshots, with every figure worked out by hand
//! in the comments (the rules: Binance's and the simulator's, see the module docs).

use kestrel_model::config::AccountConfig;
use kestrel_model::order::{Fill, Liquidity, PositionSide};
use kestrel_model::position::Direction;
use kestrel_model::{Money, Price, Qty, Rate, Side};
use kestrel_venue::binance::user_data::{UserEvent, parse_user_event};

use super::*;
use crate::alerts::AlertKind;
use crate::error::AccountError;
use crate::fill::FillUpdate;
use crate::reconciliation::DiscrepancyKind;
use crate::snapshot::{VenueBalance, VenuePosition, VenueSnapshot};

const SYMBOL: &str = "BTCUSDT";
/// Venue time of the load snapshot.
const LOADED: u64 = 1_760_000_000_000;

fn usdt(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn price(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn qty(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

fn rate(text: &str) -> Rate {
    Rate::parse(text).unwrap()
}

fn balance(wallet: &str, time: u64) -> VenueBalance {
    VenueBalance {
        asset: String::from("USDT"),
        wallet_balance: usdt(wallet),
        unrealized_pnl: Money::ZERO,
        available_balance: usdt(wallet),
        initial_margin: Money::ZERO,
        open_order_initial_margin: Money::ZERO,
        maint_margin: Money::ZERO,
        update_time_ms: time,
    }
}

fn venue_leg(amount: &str, entry: &str, mark: &str, time: u64) -> VenuePosition {
    VenuePosition {
        symbol: SYMBOL.to_owned(),
        position_side: PositionSide::Both,
        qty: qty(amount),
        entry_price: price(entry),
        mark_price: price(mark),
        unrealized_pnl: Money::ZERO,
        liquidation_price: Price::ZERO,
        initial_margin: Money::ZERO,
        maint_margin: Money::ZERO,
        update_time_ms: time,
    }
}

/// A book loaded with 10,000 USDT and no position.
fn funded() -> AccountBook {
    let mut book = AccountBook::new(BookConfig::new(&AccountConfig::default()), LOADED);
    let snapshot = VenueSnapshot {
        balances: vec![balance("10000", LOADED)],
        ..VenueSnapshot::default()
    };
    book.load(&snapshot, LOADED);
    book
}

fn fill(id: u64, side: Side, amount: &str, at: &str, commission: &str) -> FillUpdate {
    FillUpdate::from(Fill {
        order_id: id,
        client_order_id: format!("c{id}"),
        symbol: SYMBOL.to_owned(),
        side,
        price: price(at),
        quantity: qty(amount),
        commission: usdt(commission),
        commission_asset: String::from("USDT"),
        liquidity: Liquidity::Taker,
        trade_id: id,
        timestamp_ms: LOADED + id,
    })
}

fn wallet(book: &AccountBook) -> Money {
    book.balances()[0].total_balance
}

/// The round trip the hand-worked figures below follow.
fn trade_round_trip(book: &mut AccountBook) {
    // 1. Buy 0.010 @ 60000: commission 600 × 0.05 % = 0.3. Long 0.010, cost 600.
    book.apply_fill(&fill(1, Side::Buy, "0.010", "60000", "0.3"), LOADED + 1)
        .unwrap();
    // 2. Buy 0.005 @ 60300.1: commission 301.5005 × 0.05 % = 0.15075025. Long 0.015, cost
    //    901.5005, entry 901.5005 / 0.015 = 60100.0333… → 60100.03333333.
    book.apply_fill(
        &fill(2, Side::Buy, "0.005", "60300.1", "0.15075025"),
        LOADED + 2,
    )
    .unwrap();
    // 3. Sell 0.007 @ 60500 (maker, 423.5 × 0.02 % = 0.0847): closes 7/15 of the cost,
    //    420.70023333…, realizing 423.5 − 420.7002333333333333 = 2.7997666… → 2.79976667.
    book.apply_fill(&fill(3, Side::Sell, "0.007", "60500", "0.0847"), LOADED + 3)
        .unwrap();
    // 4. Sell 0.010 @ 59000 (590 × 0.05 % = 0.295): closes the remaining 0.008 (cost
    //    480.8002666666666667) for 472, realizing −8.80026667, and opens a 0.002 short.
    book.apply_fill(&fill(4, Side::Sell, "0.010", "59000", "0.295"), LOADED + 4)
        .unwrap();
    // 5. Buy 0.002 @ 58000 (116 × 0.02 % = 0.0232): closes the short (cost −118) for −116,
    //    realizing 2.
    book.apply_fill(&fill(5, Side::Buy, "0.002", "58000", "0.0232"), LOADED + 5)
        .unwrap();
}

#[test]
fn fills_move_position_wallet_and_realized_pnl_exactly() {
    let mut book = funded();
    trade_round_trip(&mut book);
    let pnl = book.pnl(LOADED + 6);
    // 2.79976667 − 8.80026667 + 2
    assert_eq!(pnl.realized_pnl, usdt("-4.0005"));
    // 0.3 + 0.15075025 + 0.0847 + 0.295 + 0.0232
    assert_eq!(pnl.fees_paid, usdt("0.85365025"));
    // 10000 − 4.0005 − 0.85365025
    assert_eq!(wallet(&book), usdt("9995.14584975"));
    assert!(book.positions().is_empty());
    // Position 1 (fills 1–4): −6.0005 realized − 0.83045025 fees, a loss; position 2 (the
    // short, fill 5): 2 − 0.0232, a win.
    assert_eq!(pnl.closed_positions, 2);
    assert_eq!(pnl.win_rate, rate("50"));
    assert_eq!(pnl.total_pnl, usdt("-4.0005"));
    assert_eq!(pnl.net_pnl, usdt("-4.85415025"));
}

#[test]
fn an_open_position_shows_entry_mark_and_unrealized_pnl() {
    let mut book = funded();
    book.apply_fill(&fill(1, Side::Buy, "0.010", "60000", "0.3"), LOADED + 1)
        .unwrap();
    book.apply_fill(
        &fill(2, Side::Buy, "0.005", "60300.1", "0.15075025"),
        LOADED + 2,
    )
    .unwrap();
    book.apply_mark(SYMBOL, price("61000"), LOADED + 3);
    let position = &book.positions()[0];
    assert_eq!(position.side, Direction::Long);
    assert_eq!(position.size, qty("0.015"));
    assert_eq!(position.entry_price, price("60100.03333333"));
    // 61000 × 0.015 − 901.5005 = 13.4995, which is 1.4974478… % of 901.5005.
    assert_eq!(position.unrealized_pnl, usdt("13.4995"));
    assert_eq!(position.unrealized_pnl_percent, Some(rate("1.49744787")));
    assert_eq!(position.notional, usdt("915"));
    let balance = &book.balances()[0];
    // 10000 − 0.3 − 0.15075025
    assert_eq!(balance.total_balance, usdt("9999.54924975"));
    assert_eq!(balance.margin_balance, usdt("10013.04874975"));
    assert_eq!(book.pnl(LOADED + 3).total_pnl, usdt("13.4995"));
}

#[test]
fn a_fill_reported_twice_is_booked_once() {
    let mut book = funded();
    let first = fill(1, Side::Buy, "0.010", "60000", "0.3");
    assert_eq!(
        book.apply_fill(&first, LOADED + 1),
        Ok(FillOutcome::Applied)
    );
    // The user stream reports what the execution driver already did, with the venue's `rp`.
    let mut again = first.clone();
    again.realized_pnl = Some(Money::ZERO);
    assert_eq!(
        book.apply_fill(&again, LOADED + 2),
        Ok(FillOutcome::Duplicate)
    );
    assert_eq!(book.positions()[0].qty, qty("0.01"));
    assert_eq!(wallet(&book), usdt("9999.7"));
}

#[test]
fn order_trade_and_account_updates_from_the_stream_agree_with_the_book() {
    let mut book = funded();
    let events = [
        otu(1, "BUY", "0.010", "60000", "0.3", "0", LOADED + 1),
        r#"{"e":"ACCOUNT_UPDATE","E":1760000000001,"T":1760000000001,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"9999.70000000","cw":"9999.70000000","bc":"0"}],"P":[{"s":"BTCUSDT","pa":"0.010","ep":"60000.0","cr":"0","up":"0","mt":"cross","iw":"0","ps":"BOTH"}]}}"#.to_owned(),
        otu(2, "SELL", "0.004", "60250", "0.1205", "1.00000000", LOADED + 2),
        r#"{"e":"ACCOUNT_UPDATE","E":1760000000002,"T":1760000000002,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"10000.57950000","cw":"10000.57950000","bc":"0"}],"P":[{"s":"BTCUSDT","pa":"0.006","ep":"60000.0","cr":"1","up":"0","mt":"cross","iw":"0","ps":"BOTH"}]}}"#.to_owned(),
        r#"{"e":"ACCOUNT_UPDATE","E":1760000000003,"T":1760000000003,"a":{"m":"FUNDING_FEE","B":[{"a":"USDT","wb":"10000.21950000","cw":"10000.21950000","bc":"-0.36"}],"P":[]}}"#.to_owned(),
    ];
    for (i, text) in events.iter().enumerate() {
        let event: UserEvent = parse_user_event(text).unwrap();
        book.apply_user_event(&event, LOADED + 10 + i as u64)
            .unwrap();
    }
    // Sell 0.004 @ 60250 against an entry of 60000 realizes 1 (the venue's `rp` agrees), pays
    // 0.1205; funding takes 0.36: 10000 − 0.3 + 1 − 0.1205 − 0.36.
    assert_eq!(wallet(&book), usdt("10000.2195"));
    let pnl = book.pnl(LOADED + 20);
    assert_eq!(pnl.realized_pnl, usdt("1"));
    assert_eq!(pnl.funding_fees, usdt("-0.36"));
    assert_eq!(book.stream_health(), crate::view::StreamHealth::default());
}

fn otu(
    id: u64,
    side: &str,
    amount: &str,
    at: &str,
    commission: &str,
    rp: &str,
    time: u64,
) -> String {
    format!(
        r#"{{"e":"ORDER_TRADE_UPDATE","E":{time},"T":{time},"o":{{"s":"BTCUSDT","c":"c{id}","S":"{side}","o":"MARKET","f":"GTC","q":"{amount}","p":"0","ap":"{at}","sp":"0","x":"TRADE","X":"FILLED","i":{id},"l":"{amount}","z":"{amount}","L":"{at}","N":"USDT","n":"{commission}","T":{time},"t":{id},"b":"0","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"MARKET","ps":"BOTH","cp":false,"rp":"{rp}","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}}}}"#
    )
}

#[test]
fn a_deposit_is_not_profit() {
    let mut book = funded();
    let deposit = r#"{"e":"ACCOUNT_UPDATE","E":1760000000005,"T":1760000000005,"a":{"m":"DEPOSIT","B":[{"a":"USDT","wb":"10500","cw":"10500","bc":"500"}],"P":[]}}"#;
    book.apply_user_event(&parse_user_event(deposit).unwrap(), LOADED + 5)
        .unwrap();
    assert_eq!(wallet(&book), usdt("10500"));
    let pnl = book.pnl(LOADED + 5);
    assert_eq!(pnl.daily_pnl, Money::ZERO);
    assert_eq!(pnl.max_drawdown, Money::ZERO);
}

#[test]
fn daily_pnl_restarts_at_midnight_utc() {
    let mut book = funded();
    book.apply_fill(&fill(1, Side::Buy, "0.010", "60000", "0.3"), LOADED + 1)
        .unwrap();
    book.apply_mark(SYMBOL, price("60100"), LOADED + 2);
    // Unrealized 1, fee 0.3.
    assert_eq!(book.pnl(LOADED + 2).daily_pnl, usdt("0.7"));
    let midnight = (LOADED / 86_400_000 + 1) * 86_400_000;
    book.tick(midnight);
    assert_eq!(book.pnl(midnight).daily_pnl, Money::ZERO);
    book.apply_mark(SYMBOL, price("60050"), midnight + 1);
    assert_eq!(book.pnl(midnight + 1).daily_pnl, usdt("-0.5"));
    // Peak 10000.7 (fee and +1 unrealized), now 10000.2: drawdown 0.5.
    assert_eq!(book.pnl(midnight + 1).max_drawdown, usdt("0.5"));
}

#[test]
fn reconciliation_adopts_the_venue_and_halts_above_the_threshold() {
    let mut book = funded();
    book.apply_fill(&fill(1, Side::Buy, "0.015", "60000", "0.45"), LOADED + 1)
        .unwrap();
    // The venue holds 0.012 (a fill we never saw), changed long ago.
    let now = LOADED + 60_000;
    let venue = VenueSnapshot {
        balances: vec![balance("9999.55", LOADED + 1)],
        positions: vec![venue_leg("0.012", "60000", "60000", LOADED + 1)],
        ..VenueSnapshot::default()
    };
    let report = book.reconcile(&venue, now);
    assert_eq!(report.positions_checked, 1);
    assert_eq!(report.mismatches_found, 1);
    let d = &report.discrepancies[0];
    assert_eq!(d.kind, DiscrepancyKind::Position);
    assert_eq!(
        (d.local_size, d.exchange_size),
        (usdt("0.015"), usdt("0.012"))
    );
    assert_eq!(d.difference, usdt("0.003"));
    assert_eq!(d.difference_percent, rate("25"));
    assert!(report.halt_trading);
    assert_eq!(book.positions()[0].qty, qty("0.012"));
    assert!(book.halt().is_some());
    let kinds: Vec<_> = book.alerts().active().map(|a| a.kind).collect();
    assert!(kinds.contains(&AlertKind::ReconciliationMismatch));
    assert!(kinds.contains(&AlertKind::TradingHalted));

    // Clean next time: the mismatch alert clears, the halt stays until an operator lifts it.
    let report = book.reconcile(&venue, now + 5_000);
    assert!(!report.mismatch);
    assert!(book.halt().is_some());
    book.clear_halt(now + 6_000);
    assert!(book.halt().is_none());
    assert_eq!(book.alerts().active().count(), 0);
}

#[test]
fn a_venue_change_newer_than_the_last_fill_is_pending_within_the_grace() {
    let mut book = funded();
    book.apply_fill(&fill(1, Side::Buy, "0.010", "60000", "0.3"), LOADED + 1)
        .unwrap();
    // The venue already booked fill 2 (at LOADED + 2), whose report is still on its way.
    let venue = VenueSnapshot {
        balances: vec![balance("9999.55", LOADED + 2)],
        positions: vec![venue_leg("0.015", "60000", "60000", LOADED + 2)],
        ..VenueSnapshot::default()
    };
    let report = book.reconcile(&venue, LOADED + 1_000);
    assert_eq!((report.mismatches_found, report.pending), (0, 2));
    // It arrives: nothing left to reconcile.
    book.apply_fill(
        &fill(2, Side::Buy, "0.005", "60000", "0.15"),
        LOADED + 1_001,
    )
    .unwrap();
    let report = book.reconcile(&venue, LOADED + 2_000);
    assert_eq!((report.mismatches_found, report.pending), (0, 0));
}

#[test]
fn a_fill_the_venue_state_already_holds_counts_in_pnl_only() {
    let mut book = funded();
    let venue = VenueSnapshot {
        balances: vec![balance("9999.7", LOADED + 1)],
        positions: vec![venue_leg("0.010", "60000", "60000", LOADED + 1)],
        ..VenueSnapshot::default()
    };
    // Past the grace: the missing fill is a mismatch, adopted.
    let report = book.reconcile(&venue, LOADED + 10_000);
    assert_eq!(report.mismatches_found, 2);
    // The fill shows up late (e.g. from the execution driver's recovery).
    let late = fill(1, Side::Buy, "0.010", "60000", "0.3");
    assert_eq!(
        book.apply_fill(&late, LOADED + 10_001),
        Ok(FillOutcome::AlreadySettled)
    );
    assert_eq!(book.positions()[0].qty, qty("0.01"));
    assert_eq!(wallet(&book), usdt("9999.7"));
    assert_eq!(book.pnl(LOADED + 10_001).fees_paid, usdt("0.3"));
}

#[test]
fn fills_from_before_the_load_are_history() {
    let mut book = funded();
    let mut old = fill(1, Side::Buy, "0.010", "60000", "0.3");
    old.fill.timestamp_ms = LOADED;
    assert_eq!(
        book.apply_fill(&old, LOADED + 1),
        Ok(FillOutcome::BeforeStart)
    );
    assert!(book.positions().is_empty());
}

#[test]
fn a_hedge_leg_cannot_cross_zero_and_the_book_is_unchanged() {
    let mut book = funded();
    let mut open = fill(1, Side::Buy, "0.010", "60000", "0.3");
    open.position_side = PositionSide::Long;
    book.apply_fill(&open, LOADED + 1).unwrap();
    let mut cross = fill(2, Side::Sell, "0.011", "60000", "0.33");
    cross.position_side = PositionSide::Long;
    assert!(matches!(
        book.apply_fill(&cross, LOADED + 2),
        Err(AccountError::Fill { trade_id: 2, .. })
    ));
    assert_eq!(book.positions()[0].qty, qty("0.01"));
    assert_eq!(wallet(&book), usdt("9999.7"));
    assert_eq!(book.stream_health().rejected_fills, 1);
}

#[test]
fn risk_alerts_are_raised_once_and_cleared() {
    let mut book = funded();
    book.apply_fill(&fill(1, Side::Buy, "1", "49000", "24.5"), LOADED + 1)
        .unwrap();
    book.apply_mark(SYMBOL, price("50000"), LOADED + 2);
    assert_eq!(book.take_raised_alerts().len(), 0);
    // 1 BTC at 50000.01 is worth more than max_position_size_usdt (50000).
    book.apply_mark(SYMBOL, price("50000.01"), LOADED + 3);
    book.apply_mark(SYMBOL, price("50100"), LOADED + 4);
    let raised = book.take_raised_alerts();
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].kind, AlertKind::PositionSize);
    assert_eq!(raised[0].subject.as_deref(), Some(SYMBOL));
    book.apply_mark(SYMBOL, price("49999"), LOADED + 5);
    assert_eq!(book.alerts().active().count(), 0);
    assert_eq!(book.alerts().history().count(), 1);
}

#[test]
fn liquidation_proximity_and_margin_level_are_watched() {
    let mut book = funded();
    let mut leg = venue_leg("2", "50000", "50000", LOADED);
    leg.liquidation_price = price("46000");
    let snapshot = VenueSnapshot {
        balances: vec![balance("10000", LOADED)],
        positions: vec![leg],
        ..VenueSnapshot::default()
    };
    book.load(&snapshot, LOADED);
    // Margin level 10000 / 100000 = 10 % < 20 %; liquidation 8 % away; 100000 > 50000.
    let mut kinds: Vec<_> = book.take_raised_alerts().iter().map(|a| a.kind).collect();
    kinds.sort();
    assert_eq!(kinds, [AlertKind::MarginRatio, AlertKind::PositionSize]);
    // Mark 48000: 2000 / 48000 = 4.17 % from liquidation.
    book.apply_mark(SYMBOL, price("48000"), LOADED + 1);
    let raised = book.take_raised_alerts();
    assert_eq!(raised.len(), 2);
    assert_eq!(raised[0].kind, AlertKind::DailyDrawdown);
    assert_eq!(raised[1].kind, AlertKind::LiquidationProximity);
    assert_eq!(book.margin().margin_level, Some(rate("6.25")));
}
