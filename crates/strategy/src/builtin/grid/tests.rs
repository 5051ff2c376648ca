use super::*;
use crate::action::OpenOrder;
use crate::builtin::script::{around, feed, fill, fill_quote, init, px, qty};

const PARAMS: &str = "spacing = \"10\"\nlevels = 3";

fn grid(params: &str) -> Grid {
    let mut g = Grid::default();
    init(&mut g, params, "0.01").unwrap();
    g
}

fn quotes(actions: &[StrategyAction]) -> Vec<Quote> {
    actions
        .iter()
        .filter_map(|a| match a {
            StrategyAction::PlaceQuote(q) => Some(*q),
            _ => None,
        })
        .collect()
}

fn sides_and_prices(quotes: &[Quote]) -> Vec<(Side, Price)> {
    let mut v: Vec<_> = quotes.iter().map(|q| (q.side, q.price)).collect();
    v.sort_by_key(|(_, p)| *p);
    v
}

/// A grid started at mid 30000, with its six opening quotes.
fn started() -> (Grid, Vec<Quote>) {
    let mut g = grid(PARAMS);
    let q = quotes(&feed(&mut g, &around(px("30000"), 0)));
    (g, q)
}

fn quote_at(quotes: &[Quote], price: &str) -> Quote {
    *quotes.iter().find(|q| q.price == px(price)).unwrap()
}

#[test]
fn it_opens_buys_below_and_sells_above_the_first_mid_leaving_the_centre_empty() {
    let (_, q) = started();
    assert_eq!(
        sides_and_prices(&q),
        [
            (Side::Buy, px("29970")),
            (Side::Buy, px("29980")),
            (Side::Buy, px("29990")),
            (Side::Sell, px("30010")),
            (Side::Sell, px("30020")),
            (Side::Sell, px("30030")),
        ]
    );
    assert!(q.iter().all(|q| q.qty == qty("0.01")));
}

#[test]
fn each_slot_holds_at_most_one_order() {
    let (mut g, _) = started();
    assert!(quotes(&feed(&mut g, &around(px("30001"), 1))).is_empty());
}

#[test]
fn a_filled_buy_places_the_sell_one_level_up_and_back_again() {
    let (mut g, q) = started();
    let buy = quote_at(&q, "29990");
    let after_buy = quotes(&fill_quote(
        &mut g,
        &fill(Side::Buy, buy.price, buy.qty),
        buy.id,
    ));
    assert_eq!(sides_and_prices(&after_buy), [(Side::Sell, px("30000"))]);
    let sell = after_buy[0];
    let after_sell = quotes(&fill_quote(
        &mut g,
        &fill(Side::Sell, sell.price, sell.qty),
        sell.id,
    ));
    assert_eq!(
        sides_and_prices(&after_sell),
        [(Side::Buy, px("29990"))],
        "the round trip is complete"
    );
}

#[test]
fn a_filled_sell_places_the_buy_one_level_down() {
    let (mut g, q) = started();
    let sell = quote_at(&q, "30010");
    let after = quotes(&fill_quote(
        &mut g,
        &fill(Side::Sell, sell.price, sell.qty),
        sell.id,
    ));
    assert_eq!(sides_and_prices(&after), [(Side::Buy, px("30000"))]);
}

#[test]
fn a_partial_fill_does_not_flip_the_slot() {
    let (mut g, q) = started();
    let buy = quote_at(&q, "29990");
    let f = fill(Side::Buy, buy.price, qty("0.004"));
    let part = StrategyFill {
        fill: &f,
        qty: f.quantity,
        quote: Some(buy.id),
        quote_done: false,
    };
    let mut out = Actions::default();
    g.on_order_fill(&part, &mut out).unwrap();
    assert!(out.is_empty());
}

#[test]
fn a_closed_quote_is_placed_again_once_it_no_longer_crosses() {
    let (mut g, q) = started();
    let sell = quote_at(&q, "30010");
    g.on_quote_closed(sell.id, &mut Actions::default()).unwrap();
    let crossing = crate::builtin::script::book(px("30015"), px("30016"), 1);
    assert!(
        quotes(&feed(&mut g, &crossing)).is_empty(),
        "a sell at 30010 under a 30015 bid would take"
    );
    assert_eq!(quotes(&feed(&mut g, &around(px("30000"), 2))), [sell]);
}

#[test]
fn no_buys_are_placed_at_the_position_limit() {
    let mut g = grid("spacing = \"10\"\nlevels = 3\nmax_position = \"0.01\"");
    g.on_position_update(&crate::builtin::script::position("0.01", "30000"));
    let q = quotes(&feed(&mut g, &around(px("30000"), 0)));
    assert!(q.iter().all(|q| q.side == Side::Sell), "{q:?}");
}

fn open(quotes: &[Quote], skip: &str) -> Vec<OpenOrder> {
    quotes
        .iter()
        .filter(|q| q.price != px(skip))
        .map(|q| OpenOrder {
            client_order_id: format!("k-{}", q.price),
            side: q.side,
            price: q.price,
            qty: q.qty,
        })
        .collect()
}

fn recover(g: &mut Grid, orders: &[OpenOrder], position: &str) -> Vec<StrategyAction> {
    let state = Recovery {
        open_orders: orders,
        position_qty: qty(position),
        entry_price: None,
    };
    let mut out = Actions::default();
    g.recover(&state, &mut out).unwrap();
    out.drain().collect()
}

#[test]
fn a_restart_adopts_the_venue_grid_instead_of_placing_a_second_one() {
    let (mut before, q) = started();
    let buy = quote_at(&q, "29990");
    let flip = quotes(&fill_quote(
        &mut before,
        &fill(Side::Buy, buy.price, buy.qty),
        buy.id,
    ));
    let mut venue = open(&q, "29990");
    venue.extend(open(&flip, "0"));

    let mut after = grid(PARAMS);
    let actions = recover(&mut after, &venue, "0.01");
    let adopted = actions
        .iter()
        .filter(|a| matches!(a, StrategyAction::AdoptOrder { .. }))
        .count();
    assert_eq!(adopted, venue.len(), "{actions:?}");
    assert_eq!(
        after.anchor,
        Some(px("30000")),
        "the reference is found from the orders"
    );
    assert!(
        quotes(&feed(&mut after, &around(px("29995"), 5))).is_empty(),
        "nothing doubled"
    );
}

#[test]
fn recovery_cancels_duplicates_and_off_grid_orders_and_refills_gaps() {
    let (_, q) = started();
    let mut venue = open(&q, "30030");
    let dup = OpenOrder {
        client_order_id: "k-dup".into(),
        ..venue[0].clone()
    };
    let off = OpenOrder {
        client_order_id: "k-off".into(),
        price: px("29985"),
        ..venue[0].clone()
    };
    venue.extend([dup, off]);
    let mut after = grid(&format!("{PARAMS}\nreference_price = \"30000\""));
    let actions = recover(&mut after, &venue, "0");
    let cancelled: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            StrategyAction::CancelOrder { client_order_id } => Some(client_order_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(cancelled, ["k-dup", "k-off"]);
    let refill = quotes(&feed(&mut after, &around(px("30000"), 5)));
    assert_eq!(
        sides_and_prices(&refill),
        [(Side::Sell, px("30030"))],
        "the missing slot"
    );
}

#[test]
fn spacing_is_required_and_must_sit_on_the_tick() {
    let mut g = Grid::default();
    assert!(
        init(&mut g, "levels = 3", "0.01")
            .unwrap_err()
            .to_string()
            .contains("`spacing`: is required")
    );
    let err = init(&mut g, "spacing = \"0.15\"", "0.01").unwrap_err();
    assert!(err.to_string().contains("multiple of the tick"), "{err}");
}
