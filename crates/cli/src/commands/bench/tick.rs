//! `kestrel bench tick`: market event → strategy → risk → signed order bytes (ARCHITECTURE.md
//! budget: p99 < 50 µs), through the real [`TradingCore`] and the real ws-fapi frame builder.
//!
//! A momentum strategy with a hair trigger sees book tickers whose mid alternates by 0.2 %, so
//! every sampled event starts a new move and becomes an aggressive order; the clock runs from
//! handing the event to the core to holding the signed `order.place` frame. Each order is then
//! closed back to the strategy outside the timed section, so the ledger stays small. The risk
//! manager runs every check with limits wide enough to approve.

use std::hint::black_box;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use hdrhistogram::Histogram;
use kestrel_engine::{CoreAction, TradingCore};
use kestrel_model::book::Level;
use kestrel_model::config::{RiskConfig, StrategiesConfig, StrategyInstance};
use kestrel_model::event::{BookTicker, MarketEvent, ReceiveTime};
use kestrel_model::{Money, Price, Qty};
use kestrel_risk::RiskEngine;
use kestrel_strategy::{CloseReason, EngineSettings, Registry, StrategyEngine};
use kestrel_venue::binance::orders::NewOrder;
use kestrel_venue::binance::signing::Credentials;
use kestrel_venue::binance::ws_api::signed_request;
use serde::Serialize;

/// Options of `kestrel bench tick`.
#[derive(Debug, Args)]
pub struct TickBenchArgs {
    /// Events to time (after 10,000 untimed warm-up events).
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    events: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// The figures, ns, over the events that produced an order.
#[derive(Debug, Serialize)]
struct TickReport {
    events: u64,
    orders: u64,
    p50_ns: u64,
    p99_ns: u64,
    p999_ns: u64,
    max_ns: u64,
}

const SYMBOL: &str = "BTCUSDT";
const WARM_UP: u64 = 10_000;

/// Runs the bench and prints its report.
///
/// # Errors
/// When the core cannot be built or an order cannot be encoded.
pub fn run(args: &TickBenchArgs) -> Result<()> {
    let mut core = core()?;
    let credentials = Credentials::new(
        kestrel_sim::server::DEFAULT_API_KEY,
        kestrel_sim::server::DEFAULT_API_SECRET,
    );
    let mut histogram = Histogram::<u64>::new(3)?;
    for n in 0..WARM_UP + args.events {
        let (low, high) = (
            Price::from_raw(60_000 * Price::ONE.raw()),
            Price::from_raw(60_120 * Price::ONE.raw()),
        );
        let mid = if n % 2 == 0 { low } else { high };
        // 200 ms apart: five orders a second, inside the default `max_orders_per_second`.
        let time_ms = 1_790_000_000_000 + n * 200;
        let start = Instant::now();
        let placed = one_event(&mut core, mid, time_ms, n, &credentials)?;
        let elapsed = start.elapsed();
        if let Some(id) = placed {
            if n >= WARM_UP {
                histogram.record(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))?;
            }
            let _ = core.on_order_closed(&id, CloseReason::Expired, time_ms);
        }
    }
    if histogram.is_empty() {
        let status = serde_json::to_string(&core.status(1_790_000_000_000))?;
        bail!("no event produced an order; the core's state: {status}");
    }
    let report = TickReport {
        events: args.events,
        orders: histogram.len(),
        p50_ns: histogram.value_at_quantile(0.50),
        p99_ns: histogram.value_at_quantile(0.99),
        p999_ns: histogram.value_at_quantile(0.999),
        max_ns: histogram.max(),
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "market event → strategy → risk → signed order.place frame ({} events, {} orders)",
            report.events, report.orders
        );
        let (p50, p99, p999, max) = (report.p50_ns, report.p99_ns, report.p999_ns, report.max_ns);
        println!("{}", super::percentile_line(p50, p99, p999, max));
    }
    Ok(())
}

/// One book ticker through the core; the client order id of the order it produced, signed.
fn one_event(
    core: &mut TradingCore,
    mid: Price,
    time_ms: u64,
    n: u64,
    credentials: &Credentials,
) -> Result<Option<String>> {
    let half = Price::from_raw(Price::ONE.raw() / 10);
    let qty = Qty::from_raw(Qty::ONE.raw());
    let event = MarketEvent::BookTicker(BookTicker {
        symbol: SYMBOL,
        update_id: n,
        event_time_ms: time_ms,
        transaction_time_ms: time_ms,
        received: ReceiveTime::new(n, time_ms * 1_000_000),
        bid: Level {
            price: Price::from_raw(mid.raw() - half.raw()),
            qty,
        },
        ask: Level {
            price: Price::from_raw(mid.raw() + half.raw()),
            qty,
        },
    });
    let mut placed = None;
    for action in core.on_market(&event, None, time_ms) {
        if let CoreAction::Place(request) = action {
            let order = NewOrder::from_request(request).context("encode the order")?;
            let params = order.order_params().context("order parameters")?;
            let frame = signed_request(n, "order.place", params, credentials, time_ms, 5_000);
            black_box(frame);
            placed = Some(request.request_id.clone());
        }
    }
    Ok(placed)
}

/// A core with one hair-trigger momentum instance and wide risk limits.
fn core() -> Result<TradingCore> {
    let instrument = kestrel_model::instrument::binance_usdm(SYMBOL).context("BTCUSDT preset")?;
    let parameters = "lookback = 3\nthreshold = \"0.1\"\nurgency = \"aggressive\"\ninterval_ms = 1\nmax_units = 1000"
        .parse()
        .context("bench parameters")?;
    let strategies = StrategiesConfig {
        instances: vec![StrategyInstance {
            name: "bench-momentum".to_owned(),
            kind: "momentum".to_owned(),
            symbol: SYMBOL.to_owned(),
            order_size: Qty::from_raw(Qty::ONE.raw() / 1_000),
            parameters,
            ..StrategyInstance::default()
        }],
        ..StrategiesConfig::default()
    };
    let engine = StrategyEngine::new(
        &strategies,
        Registry::with_builtins(),
        [instrument],
        EngineSettings::default(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let risk_config = RiskConfig {
        max_position_size_usdt: Money::parse("1000000000")?,
        max_total_exposure_usdt: Money::parse("1000000000")?,
        max_order_notional_usdt: Money::parse("1000000000")?,
        max_leverage: kestrel_model::Rate::parse("100")?,
        ..RiskConfig::default()
    };
    let mut risk = RiskEngine::new(risk_config);
    risk.on_wallet_balance(Money::parse("1000000")?, 1_790_000_000_000);
    risk.start(1_790_000_000_000);
    Ok(TradingCore::new(engine, risk, &[SYMBOL.to_owned()]))
}
