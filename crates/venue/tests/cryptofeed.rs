//! Parses the cryptofeed captures of Binance USD-M (2021, `shared/vectors/binance-usdm/
//! cryptofeed/`): a real exchangeInfo (122 symbols), four REST depth snapshots, and 1,535
//! combined-stream messages (aggTrade, depth@100ms, kline_1m, bookTicker).

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::HashMap;

use kestrel_model::book::Level;
use kestrel_model::instrument::ContractType;
use kestrel_model::{Money, Price, Qty, Rate};
use kestrel_venue::binance::market::{DepthKind, MarketEvent, ReceiveTime};
use kestrel_venue::binance::{ExchangeInfo, JsonLib, MarketParser, parse_exchange_info};
use serde_json::Value;
use support::{CRYPTOFEED_HTTP, CRYPTOFEED_INFO, CRYPTOFEED_WS, cryptofeed_json, read_vector};

fn px(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn qty(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

fn rate(text: &str) -> Rate {
    Rate::parse(text).unwrap()
}

fn exchange_info() -> ExchangeInfo {
    let text = read_vector(CRYPTOFEED_INFO);
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("https://fapi.binance.com/fapi/v1/exchangeInfo -> "));
    parse_exchange_info(cryptofeed_json(first)).unwrap()
}

#[test]
fn the_real_exchange_info_yields_all_122_instruments() {
    let info = exchange_info();
    assert!(info.skipped.is_empty(), "{:?}", info.skipped);
    assert_eq!(info.symbols.len(), 122);
    assert!(info.symbols.iter().all(|s| s.unknown_filters.is_empty()));
    assert_eq!(info.assets.len(), 5);
    assert_eq!(info.server_time_ms, Some(1_626_858_243_909));
    assert_eq!(info.clone().into_instruments().len(), 122);
}

#[test]
fn btcusdt_has_its_exact_filters() {
    let info = exchange_info();
    let btc = info.symbol("BTCUSDT").unwrap();
    let i = &btc.instrument;
    assert_eq!(i.contract_type, ContractType::Perpetual);
    assert_eq!(
        (i.base_asset.as_str(), i.quote_asset.as_str()),
        ("BTC", "USDT")
    );
    assert_eq!(i.margin_asset, "USDT");
    assert_eq!(i.price_filter.tick_size, px("0.01"));
    assert_eq!(i.price_filter.min_price, px("556.72"));
    assert_eq!(i.price_filter.max_price, px("1000000"));
    assert_eq!(i.lot_size.step_size, qty("0.001"));
    assert_eq!(i.lot_size.min_qty, qty("0.001"));
    assert_eq!(i.lot_size.max_qty, qty("1000"));
    assert_eq!(i.market_lot_size.max_qty, qty("1000"));
    assert_eq!(i.min_notional, Money::parse("5").unwrap());
    let band = i.percent_price.unwrap();
    assert_eq!(
        (band.multiplier_up, band.multiplier_down),
        (rate("1.15"), rate("0.85"))
    );
    assert_eq!(i.max_open_orders, 200);
    assert_eq!((i.price_precision, i.quantity_precision), (2, 3));
    assert!(btc.is_trading());
    assert_eq!(btc.order_types.len(), 7);
    assert_eq!(btc.time_in_force, ["GTC", "IOC", "FOK", "GTX"]);
}

#[test]
fn other_listings_keep_their_own_rules() {
    let info = exchange_info();
    let shib = &info.symbol("1000SHIBUSDT").unwrap().instrument;
    assert_eq!(shib.price_filter.tick_size, px("0.000001"));
    assert_eq!(shib.price_filter.min_price, px("0.000157"));
    assert_eq!(
        (shib.lot_size.step_size, shib.market_lot_size.max_qty),
        (qty("1"), qty("5000000"))
    );
    assert_eq!((shib.price_precision, shib.quantity_precision), (6, 0));

    let btc_busd = &info.symbol("BTCBUSD").unwrap().instrument;
    assert_eq!(
        (
            btc_busd.quote_asset.as_str(),
            btc_busd.margin_asset.as_str()
        ),
        ("BUSD", "BUSD")
    );
    let band = btc_busd.percent_price.unwrap();
    assert_eq!(
        (band.multiplier_up, band.multiplier_down),
        (rate("1.05"), rate("0.95"))
    );
    assert_eq!(btc_busd.market_lot_size.max_qty, qty("20"));

    let quarterly = info.symbol("BTCUSDT_210924").unwrap();
    assert_eq!(
        quarterly.instrument.contract_type,
        ContractType::CurrentQuarter
    );
    assert_eq!(quarterly.pair, "BTCUSDT");
    assert_eq!(quarterly.delivery_date_ms, Some(1_632_470_400_000));
    assert_eq!(quarterly.instrument.price_filter.tick_size, px("0.1"));

    // Listed with `contractType:""` but delivering on the perpetual date: a perpetual.
    let btcst = info.symbol("BTCSTUSDT").unwrap();
    assert_eq!(btcst.contract_type_text, "");
    assert_eq!(btcst.instrument.contract_type, ContractType::Perpetual);
    assert_eq!(btcst.status, "PENDING_TRADING");
    assert!(!btcst.is_trading());
}

#[test]
fn every_websocket_message_parses_with_both_libraries() {
    let text = read_vector(CRYPTOFEED_WS);
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("wss://fstream.binance.com/stream?streams=")
    );
    let messages: Vec<&str> = lines.map(cryptofeed_json).collect();
    assert_eq!(messages.len(), 1_535);
    for json in JsonLib::ALL {
        let mut parser = MarketParser::new().with_json_lib(json);
        let mut counts: HashMap<String, usize> = HashMap::new();
        for message in &messages {
            let frame = parser.parse(message, ReceiveTime::default()).unwrap();
            let kind = match frame.event {
                MarketEvent::Other(other) => format!("other:{}", other.event_type.unwrap()),
                MarketEvent::Depth(depth) => {
                    assert_eq!(depth.kind, DepthKind::Diff);
                    "depth".to_owned()
                }
                event => event.kind().to_owned(),
            };
            *counts.entry(kind).or_default() += 1;
        }
        let expected = [
            ("agg_trade", 91),
            ("book_ticker", 613),
            ("depth", 764),
            ("other:kline", 67),
        ];
        let expected = expected.map(|(kind, n)| (kind.to_owned(), n));
        assert_eq!(counts, HashMap::from(expected), "{}", json.as_str());
    }
}

#[test]
fn an_agg_trade_carries_the_exact_values_of_the_raw_text() {
    // {"e":"aggTrade","E":1626992741575,"a":16599292,"s":"CTKUSDT","p":"1.01100","q":"10",
    //  "f":23961322,"l":23961322,"T":1626992741421,"m":false}
    let text = read_vector(CRYPTOFEED_WS);
    let line = text.lines().find(|l| l.contains("\"aggTrade\"")).unwrap();
    let mut parser = MarketParser::new();
    let frame = parser
        .parse(cryptofeed_json(line), ReceiveTime::default())
        .unwrap();
    assert_eq!(frame.stream, Some("ctkusdt@aggTrade"));
    let MarketEvent::AggTrade(trade) = frame.event else {
        panic!("{:?}", frame.event)
    };
    assert_eq!(trade.symbol, "CTKUSDT");
    assert_eq!(trade.agg_trade_id, 16_599_292);
    assert_eq!(
        (trade.price, trade.qty),
        (Price::from_raw(101_100_000), qty("10"))
    );
    assert_eq!(
        (trade.first_trade_id, trade.last_trade_id),
        (23_961_322, 23_961_322)
    );
    assert_eq!(trade.times.event_ms, 1_626_992_741_575);
    assert_eq!(trade.times.transaction_ms, 1_626_992_741_421);
    assert!(!trade.buyer_is_maker);
    assert_eq!(trade.non_rpi_qty, None, "nq did not exist in 2021");
}

#[test]
fn the_four_rest_snapshots_parse_level_for_level() {
    let text = read_vector(CRYPTOFEED_HTTP);
    let mut parser = MarketParser::new();
    let mut symbols = Vec::new();
    for line in text.lines().filter(|line| !line.is_empty()) {
        let json = cryptofeed_json(line);
        let raw: Value = serde_json::from_str(json).unwrap();
        let snapshot = parser.parse_depth_snapshot(json).unwrap();
        assert_eq!(
            snapshot.last_update_id,
            raw["lastUpdateId"].as_u64().unwrap()
        );
        assert_eq!(snapshot.event_ms, raw["E"].as_u64());
        for (levels, side) in [(snapshot.bids, "bids"), (snapshot.asks, "asks")] {
            let expected: Vec<Level> = raw[side]
                .as_array()
                .unwrap()
                .iter()
                .map(|pair| {
                    Level::new(
                        px(pair[0].as_str().unwrap()),
                        qty(pair[1].as_str().unwrap()),
                    )
                })
                .collect();
            assert_eq!(levels, expected.as_slice(), "{side}");
        }
        let url = line.split(' ').next().unwrap();
        symbols.push(
            url.split("symbol=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(symbols, ["SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"]);
}
