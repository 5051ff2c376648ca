//! Behaviour tests of the risk engine through its public API, one file per concern. Each
//! test pins down something a trader relies on.

mod breakers;
mod checks;
mod daily;
mod kill;
mod props;
mod publish;

use kestrel_model::config::RiskConfig;
use kestrel_model::order::Liquidity;
use kestrel_model::order::{ExecutionMode, OrderType, PositionSide, TimeInForce, WorkingType};
use kestrel_model::{Fill, Money, OrderRequest, Price, Qty, Rate, Side};

use crate::{DAY_MS, Refusal, RiskEngine, RiskRule, Stage};

/// Noon UTC on some day: far from midnight unless a test goes there.
pub(crate) const T0: u64 = 19_700 * DAY_MS + DAY_MS / 2;

pub(crate) fn usdt(text: &str) -> Money {
    Money::parse(text).unwrap()
}

pub(crate) fn px(text: &str) -> Price {
    Price::parse(text).unwrap()
}

pub(crate) fn qty(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

pub(crate) fn rate(text: &str) -> Rate {
    Rate::parse(text).unwrap()
}

/// The `[risk]` defaults, spelled out so tests read their numbers here:
/// position 10,000 / order 5,000 / total 50,000 USDT, leverage 3, 10 orders/s, daily loss
/// 1,000 USDT or 5 %, 5 losses, 2 % in 3,600 s, latency 1,000 ms, staleness 5,000 ms.
pub(crate) fn config() -> RiskConfig {
    RiskConfig {
        max_position_size_usdt: usdt("10000"),
        max_positions_per_symbol: 1,
        max_daily_drawdown_pct: rate("5"),
        max_leverage: rate("3"),
        max_orders_per_second: 10,
        max_order_notional_usdt: usdt("5000"),
        max_total_exposure_usdt: usdt("50000"),
        max_daily_loss_usdt: usdt("1000"),
        max_consecutive_losses: 5,
        drawdown_window_seconds: 3_600,
        max_window_drawdown_pct: rate("2"),
        max_venue_latency_ms: 1_000,
        max_market_data_staleness_ms: 5_000,
    }
}

/// An engine with 100,000 USDT, BTCUSDT marked at 50,000 and ETHUSDT at 3,000, started at
/// [`T0`].
pub(crate) fn engine_with(config: RiskConfig) -> RiskEngine {
    let mut engine = RiskEngine::new(config);
    engine.on_wallet_balance(usdt("100000"), T0);
    engine.on_mark_price("BTCUSDT", px("50000"), T0).unwrap();
    engine.on_mark_price("ETHUSDT", px("3000"), T0).unwrap();
    engine.start(T0);
    engine
}

pub(crate) fn engine() -> RiskEngine {
    engine_with(config())
}

/// A limit order.
pub(crate) fn limit(
    id: &str,
    symbol: &str,
    side: Side,
    quantity: &str,
    price: &str,
) -> OrderRequest {
    OrderRequest {
        request_id: id.to_owned(),
        symbol: symbol.to_owned(),
        side,
        order_type: OrderType::Limit,
        time_in_force: Some(TimeInForce::Gtc),
        price: Some(px(price)),
        quantity: qty(quantity),
        stop_price: None,
        reduce_only: false,
        close_position: false,
        position_side: PositionSide::Both,
        client_order_id: None,
        execution_mode: ExecutionMode::Live,
        working_type: WorkingType::ContractPrice,
        callback_rate: None,
        activation_price: None,
    }
}

/// A market order.
pub(crate) fn market(id: &str, symbol: &str, side: Side, quantity: &str) -> OrderRequest {
    OrderRequest {
        order_type: OrderType::Market,
        time_in_force: None,
        price: None,
        ..limit(id, symbol, side, quantity, "1")
    }
}

/// A reduce-only market order.
pub(crate) fn reduce_only(id: &str, symbol: &str, side: Side, quantity: &str) -> OrderRequest {
    OrderRequest {
        reduce_only: true,
        ..market(id, symbol, side, quantity)
    }
}

/// A fill of our order `order_id` with a USDT fee.
pub(crate) fn fill(
    order_id: &str,
    symbol: &str,
    side: Side,
    quantity: &str,
    price: &str,
    fee: &str,
) -> Fill {
    Fill {
        order_id: 1,
        client_order_id: order_id.to_owned(),
        symbol: symbol.to_owned(),
        side,
        price: px(price),
        quantity: qty(quantity),
        commission: usdt(fee),
        commission_asset: "USDT".to_owned(),
        liquidity: Liquidity::Taker,
        trade_id: 1,
        timestamp_ms: T0,
    }
}

/// The rule that refuses `order` at `now`, if any.
pub(crate) fn refused_by(engine: &RiskEngine, order: &OrderRequest, now: u64) -> Option<RiskRule> {
    engine.check(order, now).err().map(|r| r.rule)
}

/// Admits `order` at the execution stage, returning the refusal if any.
#[allow(
    clippy::result_large_err,
    reason = "a test helper; the refusal is asserted on"
)]
pub(crate) fn admit(engine: &mut RiskEngine, order: OrderRequest, now: u64) -> Result<(), Refusal> {
    engine
        .admit(order, Stage::Order, now)
        .map(|_| ())
        .map_err(|refused| refused.refusal)
}

/// Opens a long of `quantity` BTCUSDT at `price` by a fill.
pub(crate) fn hold_btc(engine: &mut RiskEngine, quantity: &str, price: &str) {
    engine
        .on_fill(
            &fill("open", "BTCUSDT", Side::Buy, quantity, price, "0"),
            PositionSide::Both,
            T0,
        )
        .unwrap();
}
