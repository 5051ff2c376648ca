//! Scripted market data for the built-in strategies' tests.

use kestrel_model::book::Level;
use kestrel_model::instrument::{Instrument, binance_usdm};
use kestrel_model::money::{Money, Price, Qty};
use kestrel_model::order::{Fill, Liquidity, PositionSide, Side};
use kestrel_model::position::Position;

use crate::action::{Actions, QuoteId, StrategyAction, StrategyFill};
use crate::error::StrategyError;
use crate::market::MarketView;
use crate::signal::SignalIntent;
use crate::strategy::{Strategy, StrategyContext};

pub fn px(text: &str) -> Price {
    Price::parse(text).unwrap()
}

pub fn qty(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

pub fn btc() -> Instrument {
    binance_usdm("BTCUSDT").unwrap()
}

/// Initialises `strategy` on BTCUSDT with `parameters` (TOML) and `order_size`.
pub fn init(
    strategy: &mut dyn Strategy,
    parameters: &str,
    order_size: &str,
) -> Result<(), StrategyError> {
    let table: toml::Table = parameters.parse().unwrap();
    let instrument = btc();
    let ctx = StrategyContext {
        instance: "test",
        symbol: "BTCUSDT",
        order_size: qty(order_size),
        instrument: &instrument,
        parameters: &table,
    };
    strategy.initialize(&ctx)
}

/// A book-ticker view with the given touch at `time_ms`.
pub fn book(bid: Price, ask: Price, time_ms: u64) -> MarketView<'static> {
    let (bid, ask) = (Level::new(bid, Qty::ONE), Level::new(ask, Qty::ONE));
    MarketView::top_of_book("BTCUSDT", bid, ask, time_ms)
}

/// A view whose mid is `mid`, one BTCUSDT tick (0.10) wide on each side.
pub fn around(mid: Price, time_ms: u64) -> MarketView<'static> {
    let tick = Price::parse("0.1").unwrap();
    book(
        mid.try_sub(tick).unwrap(),
        mid.try_add(tick).unwrap(),
        time_ms,
    )
}

/// Feeds one view, returning the actions.
pub fn feed(strategy: &mut dyn Strategy, view: &MarketView<'_>) -> Vec<StrategyAction> {
    let mut out = Actions::default();
    strategy.on_market_data(view, &mut out).unwrap();
    out.drain().collect()
}

/// The signals among `actions`.
pub fn signals(actions: &[StrategyAction]) -> Vec<&SignalIntent> {
    actions
        .iter()
        .filter_map(|a| match a {
            StrategyAction::Signal(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// A position of `qty` (signed) opened at `entry`.
pub fn position(qty_text: &str, entry: &str) -> Position {
    let mut p = Position::flat("BTCUSDT", PositionSide::Both);
    let q = qty(qty_text);
    if !q.is_zero() {
        let side = if q.is_positive() {
            Side::Buy
        } else {
            Side::Sell
        };
        p.apply_fill(side, q.abs(), px(entry), Money::ZERO).unwrap();
    }
    p
}

/// A fill of `side`, `qty` at `price`.
pub fn fill(side: Side, price: Price, qty: Qty) -> Fill {
    Fill {
        order_id: 1,
        client_order_id: "k00000000-1-1".to_owned(),
        symbol: "BTCUSDT".to_owned(),
        side,
        price,
        quantity: qty,
        commission: Money::ZERO,
        commission_asset: "USDT".to_owned(),
        liquidity: Liquidity::Maker,
        trade_id: 1,
        timestamp_ms: 0,
    }
}

/// Tells `strategy` its slot `quote` filled completely.
pub fn fill_quote(strategy: &mut dyn Strategy, f: &Fill, quote: QuoteId) -> Vec<StrategyAction> {
    let part = StrategyFill {
        fill: f,
        qty: f.quantity,
        quote: Some(quote),
        quote_done: true,
    };
    let mut out = Actions::default();
    strategy.on_order_fill(&part, &mut out).unwrap();
    out.drain().collect()
}
