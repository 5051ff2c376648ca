//! The engine's tests, driven by a scripted strategy whose behaviour comes from its parameters
//! and which logs every call it receives.

mod fills;
mod isolation;
mod recovery;
mod reload;
mod routing;

use std::sync::{Arc, Mutex};

use kestrel_model::book::Level;
use kestrel_model::config::{Aggregation, StrategiesConfig, StrategyInstance};
use kestrel_model::instrument::binance_usdm;
use kestrel_model::money::{Money, Price, Qty, Rate};
use kestrel_model::order::{Fill, Liquidity, OrderRequest, Side};
use kestrel_model::position::Position;

use super::*;
use crate::action::{Quote, StrategyFill};
use crate::error::StrategyError;
use crate::signal::{SignalIntent, Strength, Urgency};
use crate::strategy::{Strategy, StrategyContext};

/// Every call the scripted strategies received, as `instance:what`.
type Log = Arc<Mutex<Vec<String>>>;

/// What a scripted instance does on each market event, read from its parameters:
/// `signal` (`buy`, `sell`, `none`), `strength`, `urgency`, `exit`, `votes`, `fail` (`panic`,
/// `error`, `none`, on every `fail_every`-th event), and a quote in slot 0 (`quote_side`,
/// `quote_price`, moving by `quote_step` each event).
struct Scripted {
    log: Log,
    name: String,
    signal: Option<Side>,
    strength: Strength,
    urgency: Urgency,
    exit: bool,
    votes: bool,
    fail: &'static str,
    fail_every: u64,
    quote: Option<(Side, Price)>,
    quote_step: Price,
    order_size: Qty,
    seen: u64,
}

impl Scripted {
    fn new(log: Log) -> Self {
        Self {
            log,
            name: String::new(),
            signal: None,
            strength: Strength::FULL,
            urgency: Urgency::Normal,
            exit: false,
            votes: true,
            fail: "none",
            fail_every: 1,
            quote: None,
            quote_step: Price::ZERO,
            order_size: Qty::ZERO,
            seen: 0,
        }
    }

    fn note(&self, what: String) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:{what}", self.name));
    }
}

impl Strategy for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }

    fn initialize(&mut self, ctx: &StrategyContext<'_>) -> Result<(), StrategyError> {
        let mut p = ctx.params();
        self.name = ctx.instance.to_owned();
        self.signal = match p.choice("signal", "none", &["buy", "sell", "none"])? {
            "buy" => Some(Side::Buy),
            "sell" => Some(Side::Sell),
            _ => None,
        };
        let strength = p.rate("strength", Rate::ONE, Rate::ZERO)?;
        self.strength = Strength::new(strength)
            .ok_or_else(|| StrategyError::parameter("strength", "must be at most 1"))?;
        self.urgency = p.urgency("urgency", Urgency::Normal)?;
        self.exit = p.flag("exit", false)?;
        self.votes = p.flag("votes", true)?;
        self.fail = p.choice("fail", "none", &["panic", "error", "none"])?;
        self.fail_every = u64::from(p.count("fail_every", 1, 1..=100)?);
        let side = p.choice("quote_side", "buy", &["buy", "sell"])?;
        let side = if side == "buy" { Side::Buy } else { Side::Sell };
        self.quote = p.price("quote_price")?.map(|price| (side, price));
        self.quote_step = p.price("quote_step")?.unwrap_or(Price::ZERO);
        p.count("label", 0, 0..=1_000)?;
        p.finish()?;
        self.order_size = ctx.order_size;
        Ok(())
    }

    fn reconfigure(&mut self, ctx: &StrategyContext<'_>) -> Result<(), StrategyError> {
        let seen = self.seen;
        self.initialize(ctx)?;
        self.seen = seen;
        self.note(format!("reconfigure:{seen}"));
        Ok(())
    }

    fn on_market_data(
        &mut self,
        view: &MarketView<'_>,
        out: &mut Actions,
    ) -> Result<(), StrategyError> {
        self.seen += 1;
        self.note(format!("market:{}", view.symbol));
        if let Some(side) = self.signal {
            let mut intent = SignalIntent::new(side, self.strength, self.urgency, "scripted");
            intent.exit = self.exit;
            out.signal(intent);
        }
        if let Some((side, price)) = self.quote {
            let steps = i64::try_from(self.seen - 1).unwrap_or(0);
            let price = price.try_add(self.quote_step.try_mul_int(steps)?)?;
            out.place_quote(Quote {
                id: QuoteId(0),
                side,
                price,
                qty: self.order_size,
            });
        }
        match self.fail {
            _ if !self.seen.is_multiple_of(self.fail_every) => Ok(()),
            "panic" => panic!("scripted panic"),
            "error" => Err(StrategyError::Failed("scripted error".to_owned())),
            _ => Ok(()),
        }
    }

    fn on_order_fill(
        &mut self,
        fill: &StrategyFill<'_>,
        _: &mut Actions,
    ) -> Result<(), StrategyError> {
        self.note(format!(
            "fill:{}:{:?}:{}",
            fill.qty, fill.quote, fill.quote_done
        ));
        Ok(())
    }

    fn on_quote_closed(&mut self, quote: QuoteId, _: &mut Actions) -> Result<(), StrategyError> {
        self.note(format!("closed:{}", quote.0));
        Ok(())
    }

    fn on_position_update(&mut self, position: &Position) {
        self.note(format!("position:{}", position.qty));
    }

    fn votes(&self) -> bool {
        self.votes
    }

    fn state(&self) -> serde_json::Value {
        serde_json::json!({ "seen": self.seen })
    }
}

fn registry(log: &Log) -> Registry {
    let mut registry = Registry::with_builtins();
    let log = Arc::clone(log);
    registry
        .register("scripted", move || {
            Box::new(Scripted::new(Arc::clone(&log)))
        })
        .unwrap();
    registry
}

fn px(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn qty(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

/// A `scripted` instance on `symbol` with order size 0.01 and `parameters` (TOML).
fn scripted(name: &str, symbol: &str, parameters: &str) -> StrategyInstance {
    StrategyInstance {
        name: name.to_owned(),
        kind: "scripted".to_owned(),
        enabled: true,
        symbol: symbol.to_owned(),
        order_size: qty("0.01"),
        weight: Rate::ONE,
        parameters: parameters.parse().unwrap(),
    }
}

fn config(
    aggregation: Aggregation,
    threshold_pct: i64,
    instances: Vec<StrategyInstance>,
) -> StrategiesConfig {
    StrategiesConfig {
        aggregation,
        aggregation_threshold_pct: Rate::from_int(threshold_pct).unwrap(),
        enable_hot_reload: true,
        instances,
    }
}

/// A majority config (threshold 50%) of `instances`.
fn majority(instances: Vec<StrategyInstance>) -> StrategiesConfig {
    config(Aggregation::Majority, 50, instances)
}

/// A majority config of one BTCUSDT `scripted` instance.
fn solo(name: &str, parameters: &str) -> StrategiesConfig {
    majority(vec![scripted(name, "BTCUSDT", parameters)])
}

/// A non-voting instance `mm` quoting a buy at `price` in slot 0, with `extra` parameters.
fn maker(price: &str, extra: &str) -> StrategiesConfig {
    solo(
        "mm",
        &format!("votes = false\nquote_price = \"{price}\"\n{extra}"),
    )
}

fn engine_with(config: &StrategiesConfig, log: &Log, settings: EngineSettings) -> StrategyEngine {
    let instruments = ["BTCUSDT", "ETHUSDT"].map(|s| binance_usdm(s).unwrap());
    StrategyEngine::new(config, registry(log), instruments, settings).unwrap()
}

/// Settings that disable an instance after `failures` consecutive failures.
fn disabled_after(failures: u32) -> EngineSettings {
    EngineSettings {
        max_consecutive_failures: failures,
        ..EngineSettings::default()
    }
}

fn engine(config: &StrategiesConfig, log: &Log) -> StrategyEngine {
    engine_with(config, log, EngineSettings::default())
}

/// Runs a book event on `symbol` with the given touch at `time_ms`.
fn tick(engine: &mut StrategyEngine, symbol: &str, bid: &str, ask: &str, time_ms: u64) -> Outbox {
    let (bid, ask) = (Level::new(px(bid), Qty::ONE), Level::new(px(ask), Qty::ONE));
    let view = MarketView::top_of_book(symbol, bid, ask, time_ms);
    let mut out = Outbox::default();
    engine.on_market(&view, &mut out);
    out
}

fn btc_tick(engine: &mut StrategyEngine, time_ms: u64) -> Outbox {
    tick(engine, "BTCUSDT", "30000.0", "30001.0", time_ms)
}

fn places(out: &Outbox) -> Vec<&PlaceOrder> {
    out.commands
        .iter()
        .filter_map(|c| match c {
            OrderCommand::Place(p) => Some(p),
            OrderCommand::Cancel(_) => None,
        })
        .collect()
}

fn requests(out: &Outbox) -> Vec<&OrderRequest> {
    places(out).into_iter().map(|p| &p.request).collect()
}

fn cancels(out: &Outbox) -> Vec<&CancelOrder> {
    out.commands
        .iter()
        .filter_map(|c| match c {
            OrderCommand::Cancel(c) => Some(c),
            OrderCommand::Place(_) => None,
        })
        .collect()
}

/// A fill of `qty` of `request` at its price.
fn fill_of(request: &OrderRequest, qty: Qty, trade_id: u64) -> Fill {
    Fill {
        order_id: 1,
        client_order_id: request.client_order_id.clone().unwrap(),
        symbol: request.symbol.clone(),
        side: request.side,
        price: request.price.unwrap(),
        quantity: qty,
        commission: Money::ZERO,
        commission_asset: "USDT".to_owned(),
        liquidity: Liquidity::Maker,
        trade_id,
        timestamp_ms: 10,
    }
}

/// The log lines of `instance`, without the prefix, emptying the log.
fn calls(log: &Log, instance: &str) -> Vec<String> {
    let prefix = format!("{instance}:");
    let mut all = log.lock().unwrap();
    let mine = all
        .iter()
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
        .collect();
    all.retain(|l| !l.starts_with(&prefix));
    mine
}

fn new_log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}
