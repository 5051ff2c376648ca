//! Unit tests of exchangeInfo parsing: every filter, the defaults for missing ones, unknown
//! filter and contract types, and the symbols that are skipped.

use super::*;

fn px(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn qty(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

const FILTERS: &str = r#"[
    {"minPrice":"556.72","maxPrice":"1000000","filterType":"PRICE_FILTER","tickSize":"0.01"},
    {"stepSize":"0.001","filterType":"LOT_SIZE","maxQty":"1000","minQty":"0.001"},
    {"stepSize":"0.001","filterType":"MARKET_LOT_SIZE","maxQty":"120","minQty":"0.001"},
    {"limit":200,"filterType":"MAX_NUM_ORDERS"},
    {"limit":10,"filterType":"MAX_NUM_ALGO_ORDERS"},
    {"notional":"5","filterType":"MIN_NOTIONAL"},
    {"multiplierDown":"0.8500","multiplierUp":"1.1500","multiplierDecimal":"4","filterType":"PERCENT_PRICE"},
    {"filterType":"POSITION_RISK_CONTROL","positionControlSide":"NONE"}
]"#;

/// A one-symbol body; `symbol_fields` is spliced into the symbol object.
fn body(symbol_fields: &str, filters: &str) -> String {
    format!(
        r#"{{"timezone":"UTC","serverTime":1626858243909,"assets":[{{"asset":"USDT","marginAvailable":true,"autoAssetExchange":"-10000"}}],
        "symbols":[{{"symbol":"BTCUSDT","pair":"BTCUSDT","contractType":"PERPETUAL","deliveryDate":4133404800000,
        "status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","marginAsset":"USDT","pricePrecision":2,
        "quantityPrecision":3,"orderTypes":["LIMIT","MARKET"],"timeInForce":["GTC","IOC"],{symbol_fields}"filters":{filters}}}]}}"#
    )
}

fn only_symbol(info: &ExchangeInfo) -> &SymbolInfo {
    assert!(info.skipped.is_empty(), "{:?}", info.skipped);
    assert_eq!(info.symbols.len(), 1);
    &info.symbols[0]
}

#[test]
fn every_filter_maps_onto_the_instrument_exactly() {
    let info = parse_exchange_info(&body("", FILTERS)).unwrap();
    let symbol = only_symbol(&info);
    let i = &symbol.instrument;
    assert_eq!(i.symbol, "BTCUSDT");
    assert_eq!(
        (i.base_asset.as_str(), i.quote_asset.as_str()),
        ("BTC", "USDT")
    );
    assert_eq!(i.margin_asset, "USDT");
    assert_eq!(i.contract_type, ContractType::Perpetual);
    assert_eq!((i.price_precision, i.quantity_precision), (2, 3));
    assert_eq!(i.price_filter.min_price, px("556.72"));
    assert_eq!(i.price_filter.max_price, px("1000000"));
    assert_eq!(i.price_filter.tick_size, px("0.01"));
    assert_eq!(i.lot_size.min_qty, qty("0.001"));
    assert_eq!(i.lot_size.max_qty, qty("1000"));
    assert_eq!(i.lot_size.step_size, qty("0.001"));
    assert_eq!(i.market_lot_size.max_qty, qty("120"));
    assert_eq!(i.min_notional, Money::parse("5").unwrap());
    let band = i.percent_price.unwrap();
    assert_eq!(band.multiplier_up, Rate::parse("1.15").unwrap());
    assert_eq!(band.multiplier_down, Rate::parse("0.85").unwrap());
    assert_eq!(i.max_open_orders, 200);
    assert_eq!(symbol.unknown_filters, ["POSITION_RISK_CONTROL"]);
    assert_eq!(symbol.order_types, ["LIMIT", "MARKET"]);
    assert!(symbol.is_trading());
    assert_eq!(info.server_time_ms, Some(1_626_858_243_909));
    let usdt = MarginAsset {
        asset: "USDT".to_owned(),
        margin_available: true,
    };
    assert_eq!(info.assets, [usdt]);
}

#[test]
fn missing_optional_filters_take_documented_defaults() {
    let filters = r#"[
        {"minPrice":"0.1","maxPrice":"0","filterType":"PRICE_FILTER","tickSize":"0.1"},
        {"stepSize":"1","filterType":"LOT_SIZE","maxQty":"100","minQty":"1"}
    ]"#;
    let info = parse_exchange_info(&body("", filters)).unwrap();
    let i = &only_symbol(&info).instrument;
    assert_eq!(
        i.market_lot_size, i.lot_size,
        "MARKET_LOT_SIZE falls back to LOT_SIZE"
    );
    assert_eq!(i.min_notional, Money::ZERO);
    assert_eq!(i.percent_price, None);
    assert_eq!(i.max_open_orders, 0);
    assert_eq!(
        i.price_filter.max_price,
        Price::ZERO,
        "0 disables the bound"
    );
}

#[test]
fn min_notional_also_accepts_the_spot_field_name() {
    let filters = FILTERS.replace(r#""notional":"5""#, r#""minNotional":"10.0""#);
    let info = parse_exchange_info(&body("", &filters)).unwrap();
    let i = &only_symbol(&info).instrument;
    assert_eq!(i.min_notional, Money::parse("10").unwrap());
}

#[test]
fn a_symbol_without_price_filter_or_lot_size_is_skipped() {
    for name in ["PRICE_FILTER", "LOT_SIZE"] {
        let filter = format!(r#""filterType":"{name}""#);
        let filters = FILTERS.replace(&filter, r#""filterType":"RENAMED""#);
        let info = parse_exchange_info(&body("", &filters)).unwrap();
        assert!(info.symbols.is_empty());
        assert_eq!(info.skipped[0].symbol, "BTCUSDT");
        assert_eq!(info.skipped[0].reason, SkipReason::MissingFilter(name));
    }
}

#[test]
fn contract_types_map_and_unknown_perpetuals_stay_perpetual() {
    let cases = [
        (
            "CURRENT_QUARTER",
            1_632_470_400_000u64,
            ContractType::CurrentQuarter,
        ),
        ("NEXT_MONTH", 1_632_470_400_000, ContractType::NextMonth),
        (
            "PERPETUAL_DELIVERING",
            1_632_470_400_000,
            ContractType::PerpetualDelivering,
        ),
        ("", PERPETUAL_DELIVERY_MS, ContractType::Perpetual),
        (
            "TRADIFI_PERPETUAL",
            PERPETUAL_DELIVERY_MS,
            ContractType::Perpetual,
        ),
    ];
    for (text, delivery, expected) in cases {
        let fields = body("", FILTERS)
            .replace(
                r#""contractType":"PERPETUAL""#,
                &format!(r#""contractType":"{text}""#),
            )
            .replace("4133404800000", &delivery.to_string());
        let info = parse_exchange_info(&fields).unwrap();
        let symbol = only_symbol(&info);
        assert_eq!(symbol.instrument.contract_type, expected, "{text}");
        assert_eq!(symbol.contract_type_text, text);
        assert_eq!(symbol.delivery_date_ms, Some(delivery));
    }
}

#[test]
fn an_unknown_dated_contract_type_is_skipped() {
    let fields = body("", FILTERS)
        .replace(
            r#""contractType":"PERPETUAL""#,
            r#""contractType":"NEXT_YEAR""#,
        )
        .replace("4133404800000", "1700000000000");
    let info = parse_exchange_info(&fields).unwrap();
    let expected = SkipReason::UnknownContractType {
        contract_type: "NEXT_YEAR".to_owned(),
        delivery_date_ms: Some(1_700_000_000_000),
    };
    assert_eq!(info.skipped[0].reason, expected);
    assert!(info.skipped[0].reason.to_string().contains("NEXT_YEAR"));
}

#[test]
fn a_malformed_symbol_is_skipped_with_its_error_and_the_others_kept() {
    let good = body("", FILTERS);
    let bad_symbol = good.replace(r#""tickSize":"0.01""#, r#""tickSize":"0.0x""#);
    let start = bad_symbol.find(r#"{"symbol""#).unwrap();
    let end = bad_symbol.rfind("]}").unwrap();
    let second = bad_symbol[start..end].replace("BTCUSDT", "ETHUSDT");
    let both = good.replacen("]}", &format!("]}},{second}"), 1);
    let both = both.replacen(r#"]}},{"symbol""#, r#"]},{"symbol""#, 1);
    let info = parse_exchange_info(&both).unwrap();
    assert_eq!(info.symbols.len(), 1, "{:?}", info.skipped);
    assert_eq!(info.symbols[0].instrument.symbol, "BTCUSDT");
    let SkipReason::Malformed(error) = &info.skipped[0].reason else {
        panic!("{:?}", info.skipped)
    };
    assert_eq!(error.kind(), "bad_decimal");
    assert!(
        error.to_string().contains("ETHUSDT.filters[0].tickSize"),
        "{error}"
    );
}

#[test]
fn wrong_types_and_missing_fields_in_a_symbol_name_the_field() {
    let cases = [
        (
            r#""pricePrecision":2"#,
            r#""pricePrecision":"2""#,
            "wrong_type",
            "pricePrecision",
        ),
        (
            r#""baseAsset":"BTC","#,
            "",
            "missing_field",
            "BTCUSDT.baseAsset",
        ),
        (
            r#""limit":200"#,
            r#""limit":-1"#,
            "wrong_type",
            "filters[3].limit",
        ),
        (
            r#""minQty":"0.001"}"#,
            r#""minQty":"-1"}"#,
            "bad_decimal",
            "minQty",
        ),
    ];
    for (from, to, kind, place) in cases {
        let text = body("", FILTERS).replacen(from, to, 1);
        let info = parse_exchange_info(&text).unwrap();
        let SkipReason::Malformed(error) = &info.skipped[0].reason else {
            panic!("{from}: {:?}", info.skipped)
        };
        assert_eq!(error.kind(), kind, "{error}");
        assert!(error.to_string().contains(place), "{error}");
    }
}

#[test]
fn a_missing_margin_asset_defaults_to_the_quote_asset() {
    let text = body("", FILTERS).replace(r#""marginAsset":"USDT","#, "");
    let info = parse_exchange_info(&text).unwrap();
    assert_eq!(only_symbol(&info).instrument.margin_asset, "USDT");
}

#[test]
fn a_body_that_is_not_an_exchange_info_is_an_error() {
    let cases = [
        ("{", "invalid_json"),
        ("[]", "unknown_event"),
        (
            r#"{"code":-1003,"msg":"Too many requests."}"#,
            "unknown_event",
        ),
        (r#"{"timezone":"UTC"}"#, "missing_field"),
        (r#"{"symbols":{}}"#, "wrong_type"),
    ];
    for (text, kind) in cases {
        let error = parse_exchange_info(text).unwrap_err();
        assert_eq!(error.kind(), kind, "{text}: {error}");
    }
    let error = parse_exchange_info(r#"{"code":-1003,"msg":"Too many requests."}"#);
    assert!(error.unwrap_err().to_string().contains("-1003"));
}
