//! Binance USD-M perpetuals with their real trading rules, for the simulator's defaults, tests
//! and benchmarks. Values as Binance listed them in 2024–2025 (`exchangeInfo`); a live
//! deployment loads the venue's own `exchangeInfo` instead.

use super::{ContractType, Instrument, LotSize, PercentPrice, PriceFilter};
use crate::money::{Money, Price, Qty, Rate};

/// The symbols with a preset.
pub const PRESET_SYMBOLS: [&str; 3] = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];

/// The preset for `symbol`, if there is one.
#[must_use]
pub fn binance_usdm(symbol: &str) -> Option<Instrument> {
    match symbol {
        "BTCUSDT" => Some(perpetual(
            symbol,
            "BTC",
            (2, 3),
            ("261.10", "809484", "0.10"),
            ("0.001", "1000", "120", "0.001"),
            "100",
        )),
        "ETHUSDT" => Some(perpetual(
            symbol,
            "ETH",
            (2, 3),
            ("39.86", "306177", "0.01"),
            ("0.001", "10000", "2000", "0.001"),
            "20",
        )),
        "SOLUSDT" => Some(perpetual(
            symbol,
            "SOL",
            (4, 0),
            ("0.4200", "6857", "0.0100"),
            ("1", "1000000", "5000", "1"),
            "5",
        )),
        _ => None,
    }
}

/// A USDT-margined perpetual from its filter values, written as Binance writes them.
fn perpetual(
    symbol: &str,
    base: &str,
    (price_precision, quantity_precision): (u32, u32),
    (min_price, max_price, tick): (&str, &str, &str),
    (min_qty, max_qty, max_market_qty, step): (&str, &str, &str, &str),
    min_notional: &str,
) -> Instrument {
    let price = |text: &str| Price::parse(text).unwrap_or(Price::ZERO);
    let qty = |text: &str| Qty::parse(text).unwrap_or(Qty::ZERO);
    Instrument {
        symbol: symbol.to_owned(),
        base_asset: base.to_owned(),
        quote_asset: "USDT".to_owned(),
        margin_asset: "USDT".to_owned(),
        contract_type: ContractType::Perpetual,
        price_precision,
        quantity_precision,
        price_filter: PriceFilter {
            min_price: price(min_price),
            max_price: price(max_price),
            tick_size: price(tick),
        },
        lot_size: LotSize {
            min_qty: qty(min_qty),
            max_qty: qty(max_qty),
            step_size: qty(step),
        },
        market_lot_size: LotSize {
            min_qty: qty(min_qty),
            max_qty: qty(max_market_qty),
            step_size: qty(step),
        },
        min_notional: Money::parse(min_notional).unwrap_or(Money::ZERO),
        percent_price: Some(PercentPrice {
            multiplier_up: Rate::from_raw(105_000_000),
            multiplier_down: Rate::from_raw(95_000_000),
        }),
        max_open_orders: 200,
    }
}
