use super::*;
use crate::action::StrategyAction;
use crate::builtin::script::{around, feed, init, position, px, qty};

const PARAMS: &str = "spread_bps = \"10\"\nskew_bps = \"5\"\nmax_inventory = \"0.1\"";

fn maker(params: &str) -> SpreadMaker {
    let mut m = SpreadMaker::default();
    init(&mut m, params, "0.01").unwrap();
    m
}

fn quote(actions: &[StrategyAction], id: QuoteId) -> Option<Quote> {
    actions.iter().find_map(|a| match a {
        StrategyAction::PlaceQuote(q) if q.id == id => Some(*q),
        _ => None,
    })
}

#[test]
fn flat_it_quotes_half_the_spread_either_side_of_the_mid() {
    let mut m = maker(PARAMS);
    let a = feed(&mut m, &around(px("30000"), 0));
    let (bid, ask) = (quote(&a, BID).unwrap(), quote(&a, ASK).unwrap());
    assert_eq!(
        (bid.side, bid.price, bid.qty),
        (Side::Buy, px("29985"), qty("0.01"))
    );
    assert_eq!(
        (ask.side, ask.price, ask.qty),
        (Side::Sell, px("30015"), qty("0.01"))
    );
}

#[test]
fn a_long_inventory_lowers_both_quotes_and_shrinks_the_bid() {
    let mut m = maker(PARAMS);
    m.on_position_update(&position("0.05", "30000"));
    let a = feed(&mut m, &around(px("30000"), 0));
    let (bid, ask) = (quote(&a, BID).unwrap(), quote(&a, ASK).unwrap());
    assert_eq!(
        (bid.price, bid.qty),
        (px("29977.5"), qty("0.005")),
        "half the skew, half the size"
    );
    assert_eq!((ask.price, ask.qty), (px("30007.5"), qty("0.01")));
}

#[test]
fn a_short_inventory_raises_both_quotes_and_shrinks_the_ask() {
    let mut m = maker(PARAMS);
    m.on_position_update(&position("-0.05", "30000"));
    let a = feed(&mut m, &around(px("30000"), 0));
    let (bid, ask) = (quote(&a, BID).unwrap(), quote(&a, ASK).unwrap());
    assert!(bid.price > px("29985") && ask.price > px("30015"));
    assert_eq!((bid.qty, ask.qty), (qty("0.01"), qty("0.005")));
}

#[test]
fn at_max_inventory_the_bid_is_withdrawn() {
    let mut m = maker(PARAMS);
    feed(&mut m, &around(px("30000"), 0));
    m.on_position_update(&position("0.1", "30000"));
    let a = feed(&mut m, &around(px("30000"), 1));
    assert!(a.contains(&StrategyAction::CancelQuote(BID)), "{a:?}");
    assert_eq!(
        quote(&a, ASK).map(|q| q.price),
        Some(px("30000")),
        "the full skew"
    );
}

#[test]
fn an_unchanged_mid_keeps_the_quotes_and_a_moved_one_moves_them() {
    let mut m = maker(PARAMS);
    feed(&mut m, &around(px("30000"), 0));
    assert!(
        feed(&mut m, &around(px("30000"), 1)).is_empty(),
        "same prices, same orders"
    );
    let a = feed(&mut m, &around(px("30001"), 2));
    assert_eq!(
        quote(&a, BID).map(|q| q.price),
        Some(px("29985.9")),
        "30001 − 15.0005, rounded down to the tick"
    );
}

#[test]
fn requote_ticks_holds_a_quote_through_smaller_moves() {
    let mut m = maker(&format!("{PARAMS}\nrequote_ticks = 20"));
    feed(&mut m, &around(px("30000"), 0));
    assert!(
        feed(&mut m, &around(px("30001"), 1)).is_empty(),
        "10 ticks is less than 20"
    );
    assert!(
        quote(&feed(&mut m, &around(px("30003"), 2)), BID).is_some(),
        "30 ticks"
    );
}

#[test]
fn a_heavily_skewed_quote_never_crosses_the_touch() {
    let mut m = maker("spread_bps = \"10\"\nskew_bps = \"100\"\nmax_inventory = \"0.1\"");
    m.on_position_update(&position("-0.09", "30000"));
    let view = around(px("30000"), 0);
    let bid = quote(&feed(&mut m, &view), BID).unwrap();
    assert!(bid.price < view.best_ask.unwrap().price, "{bid:?}");
}

#[test]
fn a_closed_quote_is_placed_again_on_the_next_event() {
    let mut m = maker(PARAMS);
    feed(&mut m, &around(px("30000"), 0));
    m.on_quote_closed(ASK, &mut Actions::default()).unwrap();
    let a = feed(&mut m, &around(px("30000"), 1));
    assert_eq!(quote(&a, ASK).map(|q| q.price), Some(px("30015")));
    assert!(quote(&a, BID).is_none(), "the bid is still live");
}
