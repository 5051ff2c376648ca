//! The mirror's queue model, batch by batch, on a venue with one user: where a user's order
//! stands among the mirrored volume and when the venue's trades reach it.

use std::collections::BTreeMap;

use kestrel_model::book::BookSide;
use kestrel_model::order::{OrderType, Side, TimeInForce};
use kestrel_model::{Price, Qty};

use super::*;
use crate::exchange::fixtures::{self, NOW, order, p, q};
use crate::exchange::{OrderKey, PlaceRequest, VenueStatus};

const SYMBOL: &str = "BTCUSDT";

/// A venue mirroring a fake live venue whose book the test sets level by level.
struct Mirrored {
    exchange: Exchange,
    account: u32,
    venue: BTreeMap<(bool, Price), Qty>,
}

impl Mirrored {
    fn new() -> Self {
        let config = fixtures::config(&[(SYMBOL, "60000")]);
        let (exchange, account) = fixtures::venue(config, "100000", NOW);
        Self {
            exchange,
            account,
            venue: BTreeMap::new(),
        }
    }

    /// One batch: the venue's `trades`, and its book's `levels` set to new quantities
    /// (`(side, price, qty)`, qty `"0"` for gone).
    fn batch(&mut self, trades: &[(Side, &str, &str)], levels: &[(BookSide, &str, &str)]) {
        let mut changed = Vec::new();
        for &(side, price, qty) in levels {
            self.venue.insert((side == BookSide::Ask, p(price)), q(qty));
            changed.push((side, p(price)));
        }
        let trades: Vec<MirrorTrade> = trades
            .iter()
            .map(|&(taker_side, price, qty)| MirrorTrade {
                taker_side,
                price: p(price),
                qty: q(qty),
            })
            .collect();
        let venue = &self.venue;
        let target = |side: BookSide, price| {
            venue
                .get(&(side == BookSide::Ask, price))
                .copied()
                .unwrap_or(Qty::ZERO)
        };
        self.exchange.mirror(SYMBOL, &trades, &changed, target, NOW);
    }

    fn place(&mut self, request: &PlaceRequest) -> u64 {
        let placed = self.exchange.place_order(self.account, request, NOW);
        placed.unwrap().ack.order_id
    }

    /// (status, executed quantity) of the user's order `id`.
    fn state(&self, id: u64) -> (VenueStatus, Qty) {
        let record = self
            .exchange
            .find_order(self.account, SYMBOL, &OrderKey::Id(id))
            .unwrap();
        (record.status, record.executed_qty)
    }

    /// The queue at a bid price: `("venue", qty)` for mirrored volume, `("user", qty)`.
    fn queue(&self, price: &str) -> Vec<(&'static str, Qty)> {
        let market = self.exchange.market(SYMBOL).unwrap();
        market
            .engine
            .orders_at(BookSide::Bid, p(price))
            .map(|o| {
                let who = if o.account == MIRROR_MAKER {
                    "venue"
                } else {
                    "user"
                };
                (who, o.remaining_qty)
            })
            .collect()
    }
}

fn limit(side: Side, price: &str, qty: &str) -> PlaceRequest {
    PlaceRequest {
        price: Some(p(price)),
        time_in_force: Some(TimeInForce::Gtc),
        ..order(side, OrderType::Limit, qty)
    }
}

#[test]
fn a_passive_buy_at_the_touch_fills_only_after_the_volume_ahead_has_traded() {
    let mut m = Mirrored::new();
    m.batch(
        &[],
        &[
            (BookSide::Bid, "60000", "2"),
            (BookSide::Ask, "60000.1", "1"),
        ],
    );
    let id = m.place(&limit(Side::Buy, "60000", "0.5"));
    // The venue adds 1 after us: it queues behind.
    m.batch(&[], &[(BookSide::Bid, "60000", "3")]);
    assert_eq!(
        m.queue("60000"),
        [("venue", q("2")), ("user", q("0.5")), ("venue", q("1"))]
    );
    // 1.5 of the 2 ahead trades: still 0.5 ahead.
    m.batch(
        &[(Side::Sell, "60000", "1.5")],
        &[(BookSide::Bid, "60000", "1.5")],
    );
    assert_eq!(m.state(id), (VenueStatus::New, Qty::ZERO));
    // 0.8 trades: the last 0.5 ahead, then 0.3 of ours.
    m.batch(
        &[(Side::Sell, "60000", "0.8")],
        &[(BookSide::Bid, "60000", "0.7")],
    );
    assert_eq!(m.state(id), (VenueStatus::PartiallyFilled, q("0.3")));
    assert_eq!(m.queue("60000"), [("user", q("0.2")), ("venue", q("0.7"))]);
}

#[test]
fn cancels_come_from_behind_and_a_level_smaller_than_the_queue_ahead_cuts_it() {
    let mut m = Mirrored::new();
    m.batch(&[], &[(BookSide::Bid, "60000", "2")]);
    let id = m.place(&limit(Side::Buy, "60000", "0.5"));
    m.batch(&[], &[(BookSide::Bid, "60000", "3")]);
    // 0.5 vanishes without a trade: taken from behind us.
    m.batch(&[], &[(BookSide::Bid, "60000", "2.5")]);
    assert_eq!(
        m.queue("60000"),
        [("venue", q("2")), ("user", q("0.5")), ("venue", q("0.5"))]
    );
    // The level drops to 1: the venue cannot have more than 1 ahead of us.
    m.batch(&[], &[(BookSide::Bid, "60000", "1")]);
    assert_eq!(m.queue("60000"), [("venue", q("1")), ("user", q("0.5"))]);
    m.batch(
        &[(Side::Sell, "60000", "1.2")],
        &[(BookSide::Bid, "60000", "0")],
    );
    assert_eq!(m.state(id), (VenueStatus::PartiallyFilled, q("0.2")));
}

#[test]
fn a_trade_the_depth_already_showed_moves_the_queue_once() {
    let mut m = Mirrored::new();
    m.batch(&[], &[(BookSide::Bid, "60000", "2")]);
    m.place(&limit(Side::Buy, "60000", "0.5"));
    m.batch(&[], &[(BookSide::Bid, "60000", "3")]);
    // The depth update of a 1.0 trade arrives first: read as a cancel, taken from behind.
    m.batch(&[], &[(BookSide::Bid, "60000", "2")]);
    // Then the trade itself: it takes the front, and the level is topped up behind.
    m.batch(&[(Side::Sell, "60000", "1")], &[]);
    assert_eq!(
        m.queue("60000"),
        [("venue", q("1")), ("user", q("0.5")), ("venue", q("1"))]
    );
}

#[test]
fn a_marketable_order_takes_the_venues_depth_at_its_prices_and_it_stays_taken() {
    let mut m = Mirrored::new();
    m.batch(
        &[],
        &[
            (BookSide::Ask, "60000.1", "0.3"),
            (BookSide::Ask, "60000.2", "1"),
        ],
    );
    let id = m.place(&order(Side::Buy, OrderType::Market, "0.5"));
    assert_eq!(m.state(id), (VenueStatus::Filled, q("0.5")));
    let trades = m.exchange.user_trades(m.account, SYMBOL, None, 0, 100);
    let fills: Vec<(Price, Qty)> = trades.iter().map(|t| (t.fill.price, t.fill.qty)).collect();
    assert_eq!(fills, [(p("60000.1"), q("0.3")), (p("60000.2"), q("0.2"))]);
    // An unrelated change elsewhere does not bring the taken liquidity back...
    m.batch(&[], &[(BookSide::Ask, "60000.3", "1")]);
    assert_eq!(
        m.exchange.mirrored_qty(SYMBOL, BookSide::Ask, p("60000.1")),
        Qty::ZERO
    );
    // ...a change of that level does.
    m.batch(&[], &[(BookSide::Ask, "60000.1", "0.4")]);
    assert_eq!(
        m.exchange.mirrored_qty(SYMBOL, BookSide::Ask, p("60000.1")),
        q("0.4")
    );
}

#[test]
fn the_venue_moving_through_a_resting_order_fills_it_at_its_own_price() {
    let mut m = Mirrored::new();
    m.batch(
        &[],
        &[
            (BookSide::Bid, "59999.9", "1"),
            (BookSide::Ask, "60000.1", "1"),
        ],
    );
    let id = m.place(&limit(Side::Buy, "60000", "0.5"));
    // The venue's asks fall to 59999.9 (its bids below): someone there sold through us.
    m.batch(
        &[],
        &[
            (BookSide::Ask, "60000.1", "0"),
            (BookSide::Bid, "59999.9", "0"),
            (BookSide::Ask, "59999.9", "2"),
        ],
    );
    assert_eq!(m.state(id), (VenueStatus::Filled, q("0.5")));
    let trades = m.exchange.user_trades(m.account, SYMBOL, None, 0, 100);
    assert_eq!(trades[0].fill.price, p("60000"));
    assert!(trades[0].fill.is_maker);
}

#[test]
fn a_level_that_keeps_growing_stays_one_mirrored_order_behind_the_user() {
    let mut m = Mirrored::new();
    m.batch(&[], &[(BookSide::Bid, "60000", "1")]);
    m.batch(&[], &[(BookSide::Bid, "60000", "1.5")]);
    assert_eq!(m.queue("60000"), [("venue", q("1.5"))]);
    m.place(&limit(Side::Buy, "60000", "0.5"));
    for total in ["2", "2.5", "3"] {
        m.batch(&[], &[(BookSide::Bid, "60000", total)]);
    }
    assert_eq!(
        m.queue("60000"),
        [("venue", q("1.5")), ("user", q("0.5")), ("venue", q("1.5"))]
    );
}
