//! Shared setup for the venue's unit tests: a small test venue, synthetic-market liquidity and
//! order builders.

use kestrel_model::instrument::binance_usdm;
use kestrel_model::order::{OrderType, Side, WorkingType};
use kestrel_model::{Money, Price, Qty, Rate};

use super::{Exchange, ExchangeConfig, PlaceRequest};
use crate::api::LimitConfig;
use crate::engine::Stp;
use crate::market::generator::MarketAction;

/// The clock the venue tests start at (2023-11-14 22:13:20 UTC).
pub(crate) const NOW: u64 = 1_700_000_000_000;

/// Parses a price, panicking on malformed text.
pub(crate) fn p(text: &str) -> Price {
    Price::parse(text).unwrap()
}

/// Parses a quantity, panicking on malformed text.
pub(crate) fn q(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

/// Test config: each `(symbol, mark)` listed, fees 0.02/0.05 %, 20x, 8 h funding, non-legacy.
pub(crate) fn config(instruments: &[(&str, &str)]) -> ExchangeConfig {
    ExchangeConfig {
        instruments: instruments
            .iter()
            .map(|&(symbol, mark)| (binance_usdm(symbol).unwrap(), p(mark)))
            .collect(),
        maker_fee_rate: Rate::parse("0.0002").unwrap(),
        taker_fee_rate: Rate::parse("0.0005").unwrap(),
        default_leverage: 20,
        funding_interval_ms: 8 * 3_600_000,
        listen_key_validity_ms: 3_600_000,
        legacy_conditional_orders: false,
        seed: 7,
        limits: LimitConfig::default(),
    }
}

/// A venue built from `config` at `now` with account `key-1`/`secret-1` holding `balance` USDT.
pub(crate) fn venue(config: ExchangeConfig, balance: &str, now: u64) -> (Exchange, u32) {
    let mut exchange = Exchange::new(config, now);
    let account = exchange
        .open_account("key-1", "secret-1", Money::parse(balance).unwrap(), now)
        .unwrap();
    (exchange, account)
}

/// A post-only synthetic-market quote of `qty` at `price` from `agent`, tagged `tag`.
pub(crate) fn quote(agent: u32, tag: u64, side: Side, price: Price, qty: Qty) -> MarketAction {
    MarketAction::Place {
        agent,
        client_tag: tag,
        side,
        price,
        qty,
        post_only: true,
    }
}

/// Which sides of the book [`seed_book`] fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sides {
    /// Asks and bids.
    Both,
    /// Asks only.
    Asks,
}

/// Rests `qty` at `mid ± 0.1·level` for levels 1..=`levels`: asks by agent 0, bids by agent 1.
pub(crate) fn seed_book(
    exchange: &mut Exchange,
    symbol: &str,
    mid: Price,
    levels: u64,
    qty: Qty,
    sides: Sides,
    now: u64,
) {
    for level in 1..=levels {
        let offset = Price::from_raw(i64::try_from(level).unwrap() * 10_000_000);
        let ask = mid.try_add(offset).unwrap();
        exchange.apply_market_action(symbol, &quote(0, level, Side::Sell, ask, qty), now);
        if sides == Sides::Both {
            let bid = mid.try_sub(offset).unwrap();
            exchange.apply_market_action(symbol, &quote(1, 100 + level, Side::Buy, bid, qty), now);
        }
    }
}

/// A BTCUSDT order request of `kind` for `qty`, every optional field unset.
pub(crate) fn order(side: Side, kind: OrderType, qty: &str) -> PlaceRequest {
    PlaceRequest {
        symbol: "BTCUSDT".into(),
        side,
        order_type: kind,
        position_side: None,
        time_in_force: None,
        quantity: Some(q(qty)),
        price: None,
        stop_price: None,
        reduce_only: false,
        close_position: false,
        client_order_id: None,
        working_type: WorkingType::ContractPrice,
        price_protect: false,
        stp: Stp::None,
        activation_price: None,
        callback_rate: None,
        price_match: None,
    }
}
