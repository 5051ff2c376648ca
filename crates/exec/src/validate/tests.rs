use std::time::Duration;

use kestrel_model::instrument::binance_usdm;
use kestrel_model::order::{ExecutionMode, OrderType, TimeInForce, WorkingType};
use proptest::prelude::*;

use super::*;
use crate::breaker::BreakerConfig;
use crate::ratelimit::VenueUsage;

const NOW: Nanos = Nanos::from_secs(1_000);

fn p(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn q(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

fn m(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn btc() -> Instrument {
    binance_usdm("BTCUSDT").unwrap()
}

/// BTCUSDT without the venue's ±5 % `PERCENT_PRICE`, so the local band is what speaks.
fn btc_without_venue_band() -> Instrument {
    Instrument {
        percent_price: None,
        ..btc()
    }
}

fn order(side: Side, order_type: OrderType, price: Option<&str>, qty: &str) -> OrderRequest {
    OrderRequest {
        request_id: "req-1".to_owned(),
        symbol: "BTCUSDT".to_owned(),
        side,
        order_type,
        time_in_force: order_type.has_limit_price().then_some(TimeInForce::Gtc),
        price: price.map(p),
        quantity: q(qty),
        stop_price: None,
        reduce_only: false,
        close_position: false,
        position_side: PositionSide::Both,
        client_order_id: Some("mm1.s1-1".to_owned()),
        execution_mode: ExecutionMode::Live,
        working_type: WorkingType::ContractPrice,
        callback_rate: None,
        activation_price: None,
    }
}

fn limit(side: Side, price: &str, qty: &str) -> OrderRequest {
    order(side, OrderType::Limit, Some(price), qty)
}

fn account() -> AccountView {
    AccountView {
        position_qty: Qty::ZERO,
        open_orders: 0,
        available_balance: m("100000"),
        leverage: 10,
        fee_rate: Rate::parse("0.0005").unwrap(),
    }
}

fn ctx(instrument: &Instrument) -> OrderContext<'_> {
    OrderContext {
        instrument,
        market: MarketView {
            mark_price: Some(p("62750")),
            mark_at: NOW,
        },
        account: account(),
    }
}

fn limits() -> Limits {
    Limits {
        price_band_pct: DEFAULT_PRICE_BAND_PCT,
        max_position_usdt: m("10000"),
        max_mark_age: Duration::from_secs(5),
    }
}

fn validator_with(max_orders_per_second: u32) -> Validator {
    Validator::new(
        limits(),
        CircuitBreaker::new(BreakerConfig {
            threshold: 5,
            timeout: Duration::from_secs(30),
        }),
        OrderRateLimiter::per_second(max_orders_per_second),
        VenueCounters::new(VenueLimits::binance_usdm()),
    )
}

fn validator() -> Validator {
    validator_with(10)
}

/// Validates and expects a refusal, returning it.
fn refused(v: &mut Validator, request: OrderRequest, ctx: &OrderContext<'_>) -> Rejection {
    match v.validate(request, ctx, NOW) {
        Ok(approved) => panic!("expected a refusal, approved {:?}", approved.get()),
        Err(refused) => refused.rejection,
    }
}

#[test]
fn valid_limit_order_is_approved_with_its_client_order_id() {
    let btc = btc();
    let mut v = validator();
    let result = v.validate(limit(Side::Buy, "62740.00", "0.010"), &ctx(&btc), NOW);
    let approved = result.as_ref().unwrap();
    assert_eq!(approved.client_order_id(), "mm1.s1-1");
    assert_eq!(approved.approved_at(), NOW);
    assert!(!approved.is_probe());
    assert_eq!(
        ValidationResult::of(&result),
        ValidationResult::approved("mm1.s1-1")
    );
}

#[test]
fn one_tick_off_the_grid_is_refused_by_price_precision_naming_the_tick() {
    let btc = btc();
    let rejection = refused(
        &mut validator(),
        limit(Side::Buy, "62750.05", "0.010"),
        &ctx(&btc),
    );
    assert_eq!(rejection.rule(), ValidationRule::PricePrecision);
    assert_eq!(rejection.code(), "price_off_tick");
    assert_eq!(
        rejection.to_string(),
        "price 62750.05 is not a multiple of the tick size 0.10 (PRICE_FILTER) (price_precision)"
    );
}

#[test]
fn too_many_price_decimals_names_the_precision() {
    let btc = Instrument {
        price_filter: kestrel_model::instrument::PriceFilter {
            tick_size: Price::ZERO,
            ..btc().price_filter
        },
        ..btc()
    };
    let rejection = refused(
        &mut validator(),
        limit(Side::Buy, "62750.125", "0.010"),
        &ctx(&btc),
    );
    assert_eq!(rejection.code(), "price_precision");
    assert_eq!(
        rejection.to_string(),
        "price 62750.125 has more than 2 decimal places (pricePrecision) (price_precision)"
    );
}

#[test]
fn quantity_off_the_step_is_refused_by_quantity_precision() {
    let btc = btc();
    let rejection = refused(
        &mut validator(),
        limit(Side::Buy, "62750.00", "0.0105"),
        &ctx(&btc),
    );
    assert_eq!(rejection.rule(), ValidationRule::QuantityPrecision);
    assert_eq!(rejection.code(), "qty_off_step");
    assert!(
        rejection
            .to_string()
            .contains("quantity 0.0105 is not a multiple of the step size 0.001"),
        "{rejection}"
    );
}

#[test]
fn small_order_is_refused_by_min_notional_but_reduce_only_is_exempt() {
    let btc = btc();
    let rejection = refused(
        &mut validator(),
        limit(Side::Buy, "62750.00", "0.001"),
        &ctx(&btc),
    );
    assert_eq!(rejection.rule(), ValidationRule::MinNotional);
    assert_eq!(
        rejection.to_string(),
        "notional 62.75 is below the minimum notional 100 (MIN_NOTIONAL) (min_notional)"
    );
    let mut closing = limit(Side::Sell, "62750.00", "0.001");
    closing.reduce_only = true;
    let mut context = ctx(&btc);
    context.account.position_qty = q("0.001");
    assert!(validator().validate(closing, &context, NOW).is_ok());
}

#[test]
fn market_order_notional_is_taken_at_the_mark() {
    let btc = btc();
    let rejection = refused(
        &mut validator(),
        order(Side::Buy, OrderType::Market, None, "0.001"),
        &ctx(&btc),
    );
    assert_eq!(rejection.code(), "notional_below_min");
    assert!(
        validator()
            .validate(
                order(Side::Buy, OrderType::Market, None, "0.002"),
                &ctx(&btc),
                NOW
            )
            .is_ok()
    );
}

#[test]
fn price_far_above_mark_is_refused_by_the_band_with_the_deviation() {
    let btc = btc_without_venue_band();
    let rejection = refused(
        &mut validator(),
        limit(Side::Buy, "70500.00", "0.010"),
        &ctx(&btc),
    );
    assert_eq!(rejection.rule(), ValidationRule::PriceBand);
    assert_eq!(rejection.code(), "price_outside_band");
    assert_eq!(
        rejection.to_string(),
        "price 70500.00 is 12.35% above mark 62750.00; band is ±10% (price_band)"
    );
    let rejection = refused(
        &mut validator(),
        limit(Side::Sell, "50000.00", "0.010"),
        &ctx(&btc),
    );
    assert_eq!(
        rejection.to_string(),
        "price 50000.00 is 20.32% below mark 62750.00; band is ±10% (price_band)"
    );
}

#[test]
fn band_edge_is_exact() {
    let btc = btc_without_venue_band();
    // 62750 × 1.10 = 69025 exactly: on the edge passes, one tick beyond fails.
    assert!(
        validator()
            .validate(limit(Side::Buy, "69025.00", "0.010"), &ctx(&btc), NOW)
            .is_ok()
    );
    assert_eq!(
        refused(
            &mut validator(),
            limit(Side::Buy, "69025.10", "0.010"),
            &ctx(&btc)
        )
        .code(),
        "price_outside_band"
    );
    assert!(
        validator()
            .validate(limit(Side::Sell, "56475.00", "0.010"), &ctx(&btc), NOW)
            .is_ok()
    );
    assert_eq!(
        refused(
            &mut validator(),
            limit(Side::Sell, "56474.90", "0.010"),
            &ctx(&btc)
        )
        .code(),
        "price_outside_band"
    );
}

#[test]
fn venue_percent_price_band_is_checked_before_the_local_band() {
    let btc = btc();
    let rejection = refused(
        &mut validator(),
        limit(Side::Buy, "66000.00", "0.010"),
        &ctx(&btc),
    );
    assert_eq!(rejection.rule(), ValidationRule::PriceBand);
    assert_eq!(rejection.code(), "price_above_band");
    assert!(
        rejection.to_string().contains("PERCENT_PRICE"),
        "{rejection}"
    );
}

#[test]
fn stop_limit_is_banded_around_its_trigger_not_the_mark() {
    let btc = btc_without_venue_band();
    // A stop-loss sell 15 % below the market: far from the mark, close to its trigger.
    let mut stop = order(Side::Sell, OrderType::StopLimit, Some("53300.00"), "0.010");
    stop.stop_price = Some(p("53350.00"));
    assert!(validator().validate(stop.clone(), &ctx(&btc), NOW).is_ok());
    stop.price = Some(p("40000.00"));
    let rejection = refused(&mut validator(), stop, &ctx(&btc));
    assert!(
        rejection
            .to_string()
            .contains("below trigger price 53350.00"),
        "{rejection}"
    );
}

#[test]
fn unknown_or_stale_mark_price_refuses() {
    let btc = btc();
    let mut context = ctx(&btc);
    context.market.mark_price = None;
    let rejection = refused(
        &mut validator(),
        limit(Side::Buy, "62750.00", "0.010"),
        &context,
    );
    assert_eq!(rejection.code(), "mark_price_unknown");
    let mut context = ctx(&btc);
    context.market.mark_at = NOW.saturating_sub(Duration::from_millis(5_001));
    let rejection = refused(
        &mut validator(),
        limit(Side::Buy, "62750.00", "0.010"),
        &context,
    );
    assert_eq!(rejection.code(), "mark_price_stale");
    assert_eq!(
        rejection.to_string(),
        "mark price is 5.001s old, older than max_market_data_staleness_ms 5000 (price_band)"
    );
    context.market.mark_at = NOW.saturating_sub(Duration::from_secs(5));
    assert!(
        validator()
            .validate(limit(Side::Buy, "62750.00", "0.010"), &context, NOW)
            .is_ok()
    );
}

#[test]
fn reduce_only_that_shrinks_passes_where_the_same_size_opening_fails() {
    let btc = btc();
    let mut context = ctx(&btc);
    // Long 0.15 BTC at 62750 is 9412.50 USDT, under the 10000 limit.
    context.account.position_qty = q("0.150");
    let mut reduce = limit(Side::Sell, "62750.00", "0.100");
    reduce.reduce_only = true;
    assert!(validator().validate(reduce, &context, NOW).is_ok());
    let rejection = refused(
        &mut validator(),
        limit(Side::Buy, "62750.00", "0.100"),
        &context,
    );
    assert_eq!(rejection.rule(), ValidationRule::PositionLimit);
    assert_eq!(rejection.code(), "position_limit_exceeded");
    assert_eq!(
        rejection.to_string(),
        "buy 0.100 would take position 0.150 to 0.250, worth 15687.5 at 62750.00, above max_position_size_usdt 10000 (position_limit)"
    );
}

#[test]
fn any_order_that_shrinks_an_oversized_position_passes() {
    let btc = btc();
    let mut context = ctx(&btc);
    // 0.2 BTC is 12550 USDT, already over the limit (the limit was lowered, or price rose).
    context.account.position_qty = q("0.200");
    assert!(
        validator()
            .validate(limit(Side::Sell, "62750.00", "0.050"), &context, NOW)
            .is_ok()
    );
    assert_eq!(
        refused(
            &mut validator(),
            limit(Side::Buy, "62750.00", "0.002"),
            &context
        )
        .code(),
        "position_limit_exceeded"
    );
}

#[test]
fn flipping_a_position_is_limited_by_the_new_side() {
    let btc = btc();
    let mut context = ctx(&btc);
    context.account.position_qty = q("0.100");
    // Sell 0.35: long 0.1 → short 0.25 (15687.50 USDT).
    assert_eq!(
        refused(
            &mut validator(),
            limit(Side::Sell, "62750.00", "0.350"),
            &context
        )
        .code(),
        "position_limit_exceeded"
    );
    // Sell 0.25: long 0.1 → short 0.15 (9412.50 USDT).
    assert!(
        validator()
            .validate(limit(Side::Sell, "62750.00", "0.250"), &context, NOW)
            .is_ok()
    );
}

#[test]
fn reduce_only_without_an_opposite_position_is_refused() {
    let btc = btc();
    let mut reduce = limit(Side::Sell, "62750.00", "0.010");
    reduce.reduce_only = true;
    let rejection = refused(&mut validator(), reduce.clone(), &ctx(&btc));
    assert_eq!(rejection.code(), "reduce_only_would_not_reduce");
    assert_eq!(
        rejection.to_string(),
        "reduce-only sell 0.010 cannot reduce position 0.000: there is no opposite position (position_limit)"
    );
    let mut context = ctx(&btc);
    context.account.position_qty = q("-0.050");
    assert_eq!(
        refused(&mut validator(), reduce, &context).code(),
        "reduce_only_would_not_reduce"
    );
}

#[test]
fn hedge_mode_closing_leg_counts_as_reducing() {
    let btc = btc();
    let mut context = ctx(&btc);
    context.account.position_qty = q("0.150");
    context.account.available_balance = Money::ZERO;
    let mut close_long = limit(Side::Sell, "62750.00", "0.100");
    close_long.position_side = PositionSide::Long;
    assert!(validator().validate(close_long, &context, NOW).is_ok());
    let mut open_long = limit(Side::Buy, "62750.00", "0.100");
    open_long.position_side = PositionSide::Long;
    assert_eq!(
        refused(&mut validator(), open_long, &context).code(),
        "position_limit_exceeded"
    );
}

#[test]
fn too_many_open_orders_is_a_position_limit() {
    let btc = btc();
    let mut context = ctx(&btc);
    context.account.open_orders = 200;
    let rejection = refused(
        &mut validator(),
        limit(Side::Buy, "62750.00", "0.010"),
        &context,
    );
    assert_eq!(rejection.rule(), ValidationRule::PositionLimit);
    assert_eq!(rejection.code(), "too_many_open_orders");
    assert_eq!(
        rejection.to_string(),
        "200 orders already open, the maximum is 200 (MAX_NUM_ORDERS) (position_limit)"
    );
}

#[test]
fn margin_check_is_exact_at_the_boundary() {
    let btc = btc();
    let mut context = ctx(&btc);
    // Buy 0.1 at 62750, leverage 10: 6275 / 10 = 627.5 margin + 6275 × 0.0005 = 3.1375 fee.
    context.account.available_balance = m("630.6375");
    assert!(
        validator()
            .validate(limit(Side::Buy, "62750.00", "0.100"), &context, NOW)
            .is_ok()
    );
    context.account.available_balance = m("630.6374999999999999");
    let rejection = refused(
        &mut validator(),
        limit(Side::Buy, "62750.00", "0.100"),
        &context,
    );
    assert_eq!(rejection.rule(), ValidationRule::Margin);
    assert_eq!(rejection.code(), "insufficient_margin");
    assert_eq!(
        rejection.to_string(),
        "initial margin 630.6375 (notional 6275 / leverage 10 + estimated fee 3.1375) exceeds available balance 630.6374999999999999 (margin)"
    );
}

#[test]
fn margin_counts_only_the_opening_part_of_a_flip() {
    let btc = btc();
    let mut context = ctx(&btc);
    context.account.position_qty = q("0.100");
    // Sell 0.15 closes 0.1 and opens 0.05 short: 3137.5 / 10 = 313.75, plus the fee on the
    // whole 9412.5 notional: 4.70625.
    context.account.available_balance = m("318.45625");
    assert!(
        validator()
            .validate(limit(Side::Sell, "62750.00", "0.150"), &context, NOW)
            .is_ok()
    );
    context.account.available_balance = m("318.45624");
    assert_eq!(
        refused(
            &mut validator(),
            limit(Side::Sell, "62750.00", "0.150"),
            &context
        )
        .code(),
        "insufficient_margin"
    );
}

#[test]
fn reducing_orders_need_no_margin() {
    let btc = btc();
    let mut context = ctx(&btc);
    context.account.position_qty = q("0.100");
    context.account.available_balance = Money::ZERO;
    let mut reduce = limit(Side::Sell, "62750.00", "0.100");
    reduce.reduce_only = true;
    assert!(validator().validate(reduce, &context, NOW).is_ok());
    assert!(
        validator()
            .validate(limit(Side::Sell, "62750.00", "0.050"), &context, NOW)
            .is_ok()
    );
}

#[test]
fn zero_leverage_is_refused() {
    let btc = btc();
    let mut context = ctx(&btc);
    context.account.leverage = 0;
    assert_eq!(
        refused(
            &mut validator(),
            limit(Side::Buy, "62750.00", "0.010"),
            &context
        )
        .code(),
        "leverage_invalid"
    );
}

#[test]
fn the_eleventh_order_in_a_second_is_refused_and_refusals_cost_no_slot() {
    let btc = btc();
    let mut v = validator_with(10);
    // Refused orders (off tick) do not use a slot.
    for _ in 0..5 {
        assert!(
            v.validate(limit(Side::Buy, "62750.05", "0.010"), &ctx(&btc), NOW)
                .is_err()
        );
    }
    for _ in 0..10 {
        assert!(
            v.validate(limit(Side::Buy, "62750.00", "0.010"), &ctx(&btc), NOW)
                .is_ok()
        );
    }
    let rejection = refused(&mut v, limit(Side::Buy, "62750.00", "0.010"), &ctx(&btc));
    assert_eq!(rejection.rule(), ValidationRule::RateLimit);
    assert_eq!(rejection.code(), "order_rate_exceeded");
    assert_eq!(
        rejection.to_string(),
        "local order rate limit of 10 orders per 1s reached; the next slot frees in 1s (rate_limit)"
    );
    let later = NOW.saturating_add(Duration::from_secs(1));
    let mut context = ctx(&btc);
    context.market.mark_at = later;
    assert!(
        v.validate(limit(Side::Buy, "62750.00", "0.010"), &context, later)
            .is_ok()
    );
}

#[test]
fn dry_run_check_commits_nothing() {
    let btc = btc();
    let v = validator_with(1);
    for _ in 0..3 {
        assert_eq!(
            v.check(&limit(Side::Buy, "62750.00", "0.010"), &ctx(&btc), NOW),
            Ok(())
        );
    }
    assert_eq!(v.venue().used(NOW), (0, 0, 0));
}

#[test]
fn venue_order_count_near_its_limit_refuses_locally() {
    let btc = btc();
    let mut v = validator();
    v.venue_mut().observe(
        VenueUsage {
            used_weight_1m: Some(40),
            order_count_10s: Some(285),
            order_count_1m: Some(400),
        },
        NOW,
    );
    let rejection = refused(&mut v, limit(Side::Buy, "62750.00", "0.010"), &ctx(&btc));
    assert_eq!(rejection.code(), "venue_orders_10s_exhausted");
    let text = rejection.to_string();
    assert!(
        text.contains("(X-MBX-ORDER-COUNT-10S) at 285 of 300 (reserve 15)"),
        "{text}"
    );
    assert!(
        text.ends_with("frees in 10s at most (rate_limit)"),
        "{text}"
    );
}

#[test]
fn approval_counts_the_order_in_flight_against_the_venue() {
    let btc = btc();
    let mut v = validator();
    let approved = v.validate(limit(Side::Buy, "62750.00", "0.010"), &ctx(&btc), NOW);
    assert!(approved.is_ok());
    assert_eq!(v.venue().used(NOW), (1, 1, 0));
}

#[test]
fn open_breaker_refuses_first_even_a_malformed_price() {
    let btc = btc();
    let mut v = validator();
    v.breaker_mut().trip(Duration::from_secs(30), NOW);
    let rejection = refused(&mut v, limit(Side::Buy, "62750.05", "0.010"), &ctx(&btc));
    assert_eq!(rejection.rule(), ValidationRule::CircuitBreaker);
    assert_eq!(rejection.code(), "circuit_open");
    assert!(
        rejection.to_string().contains("a probe is allowed in 30s"),
        "{rejection}"
    );
}

#[test]
fn half_open_breaker_approves_one_probe_order_only() {
    let btc = btc();
    let mut v = validator();
    v.breaker_mut().trip(
        Duration::from_secs(30),
        NOW.saturating_sub(Duration::from_secs(30)),
    );
    let probe = v
        .validate(limit(Side::Buy, "62750.00", "0.010"), &ctx(&btc), NOW)
        .unwrap();
    assert!(probe.is_probe());
    assert_eq!(
        refused(&mut v, limit(Side::Buy, "62750.00", "0.010"), &ctx(&btc)).code(),
        "circuit_probe_in_flight"
    );
}

#[test]
fn request_shape_client_id_and_symbol_come_first() {
    let btc = btc();
    let mut no_price = limit(Side::Buy, "62750.00", "0.010");
    no_price.price = None;
    let rejection = refused(&mut validator(), no_price, &ctx(&btc));
    assert_eq!(rejection.code(), "invalid_request");
    assert_eq!(rejection.rule(), ValidationRule::Request);
    assert!(
        rejection
            .to_string()
            .ends_with("requires `price` (request)"),
        "{rejection}"
    );
    let mut no_id = limit(Side::Buy, "62750.00", "0.010");
    no_id.client_order_id = None;
    assert_eq!(
        refused(&mut validator(), no_id, &ctx(&btc)).code(),
        "client_order_id_missing"
    );
    let mut eth = limit(Side::Buy, "62750.00", "0.010");
    eth.symbol = "ETHUSDT".to_owned();
    assert_eq!(
        refused(&mut validator(), eth, &ctx(&btc)).to_string(),
        "order is for ETHUSDT but the trading rules given are for BTCUSDT (request)"
    );
}

#[test]
fn refused_request_is_handed_back_unchanged() {
    let btc = btc();
    let request = limit(Side::Buy, "62750.05", "0.010");
    let refused = validator()
        .validate(request.clone(), &ctx(&btc), NOW)
        .unwrap_err();
    assert_eq!(refused.request, request);
}

#[test]
fn validation_result_has_the_seed_shape() {
    let btc = btc();
    let ok = validator().validate(limit(Side::Buy, "62750.00", "0.010"), &ctx(&btc), NOW);
    assert_eq!(
        serde_json::to_string(&ValidationResult::of(&ok)).unwrap(),
        r#"{"valid":true,"order_id":"mm1.s1-1"}"#
    );
    let bad = validator().validate(limit(Side::Buy, "62750.05", "0.010"), &ctx(&btc), NOW);
    let json = serde_json::to_value(ValidationResult::of(&bad)).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["error_code"], "price_off_tick");
    assert!(
        json["error_message"]
            .as_str()
            .unwrap()
            .ends_with("(price_precision)")
    );
    assert!(json.get("order_id").is_none());
    let back: ValidationResult = serde_json::from_value(json).unwrap();
    assert_eq!(back, ValidationResult::of(&bad));
}

#[test]
fn every_code_is_in_the_documented_table() {
    let docs = include_str!("mod.rs");
    for (code, rule) in codes() {
        let row = format!("//! | `{code}` | ");
        let line = docs.lines().find(|line| line.starts_with(&row));
        assert!(line.is_some(), "code {code} is not documented");
        if code != "amount_overflow" {
            assert!(
                line.is_some_and(|l| l.contains(&format!("| {} |", rule.as_str()))),
                "code {code} is documented under the wrong rule"
            );
        }
    }
    let table_rows = docs.lines().filter(|l| l.starts_with("//! | `")).count();
    assert_eq!(table_rows, codes().len());
}

/// Defects that each break exactly one rule, in the documented order.
const DEFECTS: [ValidationRule; 8] = [
    ValidationRule::CircuitBreaker,
    ValidationRule::PricePrecision,
    ValidationRule::QuantityPrecision,
    ValidationRule::MinNotional,
    ValidationRule::PriceBand,
    ValidationRule::PositionLimit,
    ValidationRule::Margin,
    ValidationRule::RateLimit,
];

#[test]
fn the_first_broken_rule_in_the_documented_order_is_reported() {
    let btc = btc_without_venue_band();
    for mask in 1u32..(1 << DEFECTS.len()) {
        let has = |rule: ValidationRule| {
            DEFECTS
                .iter()
                .position(|r| *r == rule)
                .is_some_and(|i| mask & (1 << i) != 0)
        };
        let mut v = validator_with(if has(ValidationRule::RateLimit) {
            0
        } else {
            10
        });
        if has(ValidationRule::CircuitBreaker) {
            v.breaker_mut().trip(Duration::from_secs(30), NOW);
        }
        let price = match (
            has(ValidationRule::PriceBand),
            has(ValidationRule::PricePrecision),
        ) {
            (false, false) => "62750.00",
            (false, true) => "62750.05",
            (true, false) => "70000.00",
            (true, true) => "70000.05",
        };
        let qty = match (
            has(ValidationRule::QuantityPrecision),
            has(ValidationRule::MinNotional),
        ) {
            (false, false) => "0.100",
            (true, false) => "0.1005",
            (false, true) => "0.001",
            (true, true) => "0.0015",
        };
        let mut context = ctx(&btc);
        if has(ValidationRule::PositionLimit) {
            context.account.position_qty = q("1");
        }
        if has(ValidationRule::Margin) {
            context.account.available_balance = Money::ZERO;
        }
        let rejection = refused(&mut v, limit(Side::Buy, price, qty), &context);
        let expected = DEFECTS.iter().find(|rule| has(**rule)).copied();
        assert_eq!(
            Some(rejection.rule()),
            expected,
            "mask {mask:#010b}: {rejection}"
        );
    }
}

proptest! {
    /// Approval happens exactly when the balance covers initial margin plus fee, computed
    /// here naively in raw integers.
    #[test]
    fn margin_approval_matches_exact_arithmetic(
        steps in 2i64..5_000,
        leverage in 1u32..126,
        delta in -3i128..=3,
    ) {
        let btc = btc();
        let qty = Qty::from_raw(steps * 100_000); // steps × 0.001
        let price = p("62750");
        let notional = i128::from(price.raw()) * i128::from(qty.raw());
        let initial = (notional + i128::from(leverage) - 1) / i128::from(leverage);
        let fee_rate = i128::from(Rate::parse("0.0005").unwrap().raw());
        let fee = (notional * fee_rate + i128::from(FIXED_ONE) - 1) / i128::from(FIXED_ONE);
        let required = initial + fee;
        let mut v = Validator::new(
            Limits { max_position_usdt: Money::MAX, ..limits() },
            CircuitBreaker::new(BreakerConfig { threshold: 1, timeout: Duration::from_secs(1) }),
            OrderRateLimiter::per_second(10),
            VenueCounters::new(VenueLimits::binance_usdm()),
        );
        let mut context = ctx(&btc);
        context.account.leverage = leverage;
        context.account.available_balance = Money::from_raw(required + delta);
        let request = OrderRequest { quantity: qty, ..limit(Side::Buy, "62750.00", "1") };
        let result = v.validate(request, &context, NOW);
        prop_assert_eq!(result.is_ok(), delta >= 0, "{:?}", result.err().map(|r| r.rejection.to_string()));
    }

    /// A reduce-only order facing an opposite position is never refused by the position or
    /// margin rules, however small the limit and the balance.
    #[test]
    fn reduce_only_against_a_position_never_hits_position_or_margin(
        position_steps in 1i64..10_000,
        order_steps in 1i64..10_000,
        long in any::<bool>(),
    ) {
        let btc = btc();
        let sign = if long { 1 } else { -1 };
        let mut context = ctx(&btc);
        context.account.position_qty = Qty::from_raw(sign * position_steps * 100_000);
        context.account.available_balance = Money::ZERO;
        let side = if long { Side::Sell } else { Side::Buy };
        let mut request = limit(side, "62750.00", "1");
        request.quantity = Qty::from_raw(order_steps * 100_000);
        request.reduce_only = true;
        let mut v = Validator::new(
            Limits { max_position_usdt: Money::ZERO, ..limits() },
            CircuitBreaker::new(BreakerConfig { threshold: 1, timeout: Duration::from_secs(1) }),
            OrderRateLimiter::per_second(10),
            VenueCounters::new(VenueLimits::binance_usdm()),
        );
        if let Err(refused) = v.validate(request, &context, NOW) {
            let rule = refused.rejection.rule();
            prop_assert!(
                rule != ValidationRule::PositionLimit && rule != ValidationRule::Margin,
                "{}", refused.rejection
            );
        }
    }
}
