//! The config's sections, their keys and their defaults.
//!
//! Key names and defaults follow the seed's "Configuration Parameters" blocks (000: market data
//! pipeline, order execution engine, strategy engine, account monitor, dashboard server; 001:
//! REQ-RISK-001/003). Per-component `metrics_port` and `log_level` keys are gone: one HTTP
//! address serves `/metrics`, and `[log]` configures logging once.
//!
//! Units: `_ms` and `_seconds` are in their unit; `_usdt` amounts are [`Money`]; `_pct` values
//! are [`Rate`]s holding a number of percent (`"5"` is 5 %, not 500 %); `_rate` values are
//! [`Rate`]s holding a plain fraction (`"0.0005"` is 0.05 %); order sizes are [`Qty`].
//! Decimals are written as strings (`"0.001"`) or whole numbers, never floats.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use super::secret::Secret;
use crate::money::{FIXED_ONE, MONEY_ONE};
use crate::{Money, Qty, Rate};

/// A whole number as a [`Rate`] (a percentage or a leverage).
const fn rate(units: i64) -> Rate {
    Rate::from_raw(units * FIXED_ONE)
}

/// A fraction `units / 10⁸` as a [`Rate`] (`fraction(20_000)` is 0.0002).
const fn fraction(raw: i64) -> Rate {
    Rate::from_raw(raw)
}

/// A whole number of USDT as [`Money`].
const fn usdt(units: i128) -> Money {
    Money::from_raw(units * MONEY_ONE)
}

/// Market data ingestion: which symbols, how deep, how to reconnect (seed 000, Market Data
/// Pipeline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MarketDataConfig {
    /// Trading pairs to subscribe to, upper case (`BTCUSDT`).
    pub symbols: Vec<String>,
    /// Price levels kept per book side.
    pub order_book_depth: u32,
    /// Slots in the shared-memory ring; a power of two.
    pub ring_buffer_size: u32,
    /// Whether market data is written to the time-series store.
    pub enable_database_writes: bool,
    /// Batch interval for those writes.
    pub database_write_interval_ms: u64,
    /// Reconnection attempts before the feed is declared down.
    pub reconnect_max_attempts: u32,
    /// First reconnection delay; doubles per attempt.
    pub reconnect_base_delay_ms: u64,
    /// Ceiling of the reconnection delay.
    pub reconnect_max_delay_ms: u64,
    /// How often connection liveness is checked.
    pub heartbeat_interval_ms: u64,
    /// Silence after which a connection is considered dead.
    pub heartbeat_timeout_ms: u64,
    /// NATS server for distributed mode; absent means the in-process bus.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats_url: Option<String>,
}

impl Default for MarketDataConfig {
    fn default() -> Self {
        Self {
            symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"].map(String::from).to_vec(),
            order_book_depth: 20,
            ring_buffer_size: 8192,
            enable_database_writes: true,
            database_write_interval_ms: 100,
            reconnect_max_attempts: 10,
            reconnect_base_delay_ms: 1_000,
            reconnect_max_delay_ms: 60_000,
            heartbeat_interval_ms: 5_000,
            heartbeat_timeout_ms: 30_000,
            nats_url: None,
        }
    }
}

/// Where orders go (seed FR-OE-007): the same type an [`crate::order::OrderRequest`] carries.
pub use crate::order::ExecutionMode;

/// How orders are sent to the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// The venue's WebSocket trading API.
    #[default]
    Websocket,
    /// Signed REST requests.
    Rest,
}

/// Order execution: mode, rate limits, retries, circuit breaker (seed 000, Order Execution
/// Engine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecutionConfig {
    /// Live, simulation (paper) or observation.
    pub mode: ExecutionMode,
    /// WebSocket or REST order entry.
    pub transport: Transport,
    /// Orders sent to the venue per second, at most.
    pub max_orders_per_second: u32,
    /// Timeout of one venue request.
    pub request_timeout_ms: u64,
    /// Retries of a failed request (0 = none); an order POST is queried before it is resent.
    pub max_retry_attempts: u32,
    /// Consecutive failures that open the circuit breaker.
    pub circuit_breaker_threshold: u32,
    /// How long the breaker stays open before a trial request.
    pub circuit_breaker_timeout_ms: u64,
    /// Pooled HTTP connections to the venue.
    pub connection_pool_size: u32,
    /// Binance `recvWindow` sent with signed requests (at most 60000).
    pub recv_window_ms: u64,
    /// Whether open orders are cancelled on a clean shutdown.
    pub cancel_open_orders_on_shutdown: bool,
}

impl Default for ExecutionConfig {
    fn default() -> Self {
        Self {
            mode: ExecutionMode::Live,
            transport: Transport::Websocket,
            max_orders_per_second: 10,
            request_timeout_ms: 5_000,
            max_retry_attempts: 3,
            circuit_breaker_threshold: 5,
            circuit_breaker_timeout_ms: 30_000,
            connection_pool_size: 20,
            recv_window_ms: 5_000,
            cancel_open_orders_on_shutdown: true,
        }
    }
}

/// How the signals of several strategies on one symbol are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Aggregation {
    /// A side wins when more than the threshold share of enabled strategies vote for it.
    #[default]
    Majority,
    /// A side wins when its share of the total strategy weight exceeds the threshold.
    Weighted,
    /// The first signal received wins.
    First,
}

/// The strategy engine and its strategy instances (seed 000, Strategy Engine).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StrategiesConfig {
    /// How signals on one symbol are combined.
    pub aggregation: Aggregation,
    /// Share (in percent) of votes or weight a side needs; unused by `first`.
    pub aggregation_threshold_pct: Rate,
    /// Whether strategies are reloaded when their definition changes.
    pub enable_hot_reload: bool,
    /// The configured strategy instances (`[[strategies.instances]]`).
    pub instances: Vec<StrategyInstance>,
}

impl Default for StrategiesConfig {
    fn default() -> Self {
        Self {
            aggregation: Aggregation::Majority,
            aggregation_threshold_pct: rate(50),
            enable_hot_reload: false,
            instances: Vec::new(),
        }
    }
}

/// One strategy instance (seed `StrategyConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StrategyInstance {
    /// Unique name, used in logs, metrics and the dashboard.
    pub name: String,
    /// Registered strategy type (`momentum`, `grid`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether the instance runs.
    pub enabled: bool,
    /// The symbol it trades; must be one of `market_data.symbols`.
    pub symbol: String,
    /// Quantity of each order, in the base asset.
    pub order_size: Qty,
    /// Weight in `weighted` aggregation.
    pub weight: Rate,
    /// Strategy-specific parameters, passed through unchecked to the strategy.
    pub parameters: toml::Table,
}

impl Default for StrategyInstance {
    fn default() -> Self {
        Self {
            name: String::new(),
            kind: String::new(),
            enabled: true,
            symbol: String::new(),
            order_size: Qty::ZERO,
            weight: Rate::ONE,
            parameters: toml::Table::new(),
        }
    }
}

/// Pre-trade limits and circuit breakers (seed `RiskLimits`, REQ-RISK-001 and REQ-RISK-003).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskConfig {
    /// Largest position value in one symbol.
    pub max_position_size_usdt: Money,
    /// Open positions allowed per symbol (2 allows hedge mode's long and short).
    pub max_positions_per_symbol: u32,
    /// Loss over the trading day, as a percentage of the day's opening equity, that halts
    /// trading.
    pub max_daily_drawdown_pct: Rate,
    /// Largest leverage an order may use.
    pub max_leverage: Rate,
    /// Orders the strategies may generate per second, at most.
    pub max_orders_per_second: u32,
    /// Largest notional of a single order (fat-finger guard).
    pub max_order_notional_usdt: Money,
    /// Largest aggregate exposure across all symbols (REQ-RISK-003).
    pub max_total_exposure_usdt: Money,
    /// Realised plus unrealised loss over the trading day that halts trading.
    pub max_daily_loss_usdt: Money,
    /// Consecutive losing trades that trip the breaker (REQ-RISK-001).
    pub max_consecutive_losses: u32,
    /// Length of the rolling window for `max_window_drawdown_pct` (REQ-RISK-001).
    pub drawdown_window_seconds: u64,
    /// Drawdown within the window that trips the breaker (REQ-RISK-001).
    pub max_window_drawdown_pct: Rate,
    /// Venue round-trip latency that trips the breaker (REQ-RISK-001).
    pub max_venue_latency_ms: u64,
    /// Age of the newest market data beyond which no order is sent.
    pub max_market_data_staleness_ms: u64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            max_position_size_usdt: usdt(10_000),
            max_positions_per_symbol: 1,
            max_daily_drawdown_pct: rate(5),
            max_leverage: rate(3),
            max_orders_per_second: 10,
            max_order_notional_usdt: usdt(5_000),
            max_total_exposure_usdt: usdt(50_000),
            max_daily_loss_usdt: usdt(1_000),
            max_consecutive_losses: 5,
            drawdown_window_seconds: 3_600,
            max_window_drawdown_pct: rate(2),
            max_venue_latency_ms: 1_000,
            max_market_data_staleness_ms: 5_000,
        }
    }
}

/// Account monitoring and reconciliation (seed 000, Account Monitor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountConfig {
    /// How often local state is reconciled with the venue.
    pub reconciliation_interval_seconds: u64,
    /// Mismatch between local and venue balances or positions, in percent, that halts trading.
    pub reconciliation_halt_threshold_pct: Rate,
    /// When alerts are raised.
    pub alert_thresholds: AlertThresholds,
}

impl Default for AccountConfig {
    fn default() -> Self {
        Self {
            reconciliation_interval_seconds: 5,
            reconciliation_halt_threshold_pct: rate(5),
            alert_thresholds: AlertThresholds::default(),
        }
    }
}

/// Alert thresholds (seed `AlertThresholds`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertThresholds {
    /// Daily drawdown that raises an alert.
    pub max_daily_drawdown_pct: Rate,
    /// Margin ratio below which an alert is raised.
    pub min_margin_ratio_pct: Rate,
    /// Position value that raises an alert.
    pub max_position_size_usdt: Money,
    /// Alert when the liquidation price is within this distance of the mark price.
    pub liquidation_proximity_pct: Rate,
}

impl Default for AlertThresholds {
    fn default() -> Self {
        Self {
            max_daily_drawdown_pct: rate(5),
            min_margin_ratio_pct: rate(20),
            max_position_size_usdt: usdt(50_000),
            liquidation_proximity_pct: rate(5),
        }
    }
}

/// The HTTP server (`/health`, `/status`, `/metrics`, `/api/v1`, `/ws`, web UI) and dashboard
/// broadcast (seed 000, Dashboard Server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DashboardConfig {
    /// Address the HTTP server listens on.
    #[serde(deserialize_with = "socket_addr")]
    pub http_address: SocketAddr,
    /// Update period for terminal clients.
    pub tui_update_rate_ms: u64,
    /// Update period for web clients.
    pub web_update_rate_ms: u64,
    /// Concurrent WebSocket clients, at most.
    pub max_clients: u32,
    /// WebSocket ping period.
    pub heartbeat_interval_ms: u64,
    /// Whether clients must present `auth_token`.
    pub enable_authentication: bool,
    /// Bearer token clients present when authentication is on. Secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<Secret>,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            http_address: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
            tui_update_rate_ms: 100,
            web_update_rate_ms: 250,
            max_clients: 100,
            heartbeat_interval_ms: 5_000,
            enable_authentication: false,
            auth_token: None,
        }
    }
}

/// Which database holds orders, fills, the journal and snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoreBackend {
    /// An embedded SQLite file.
    #[default]
    Sqlite,
    /// A PostgreSQL server (distributed mode).
    Postgres,
}

/// Persistence (ARCHITECTURE.md, Persistence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreConfig {
    /// SQLite or PostgreSQL.
    pub backend: StoreBackend,
    /// Directory for the SQLite file, market-data captures and other local state.
    pub data_dir: PathBuf,
    /// The SQLite file; a relative path is taken relative to `data_dir`.
    pub sqlite_path: PathBuf,
    /// PostgreSQL connection URL (it may hold a password). Secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres_url: Option<Secret>,
}

impl StoreConfig {
    /// The SQLite file's path: `sqlite_path`, under `data_dir` when relative.
    #[must_use]
    pub fn sqlite_file(&self) -> PathBuf {
        self.data_dir.join(&self.sqlite_path)
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            backend: StoreBackend::Sqlite,
            data_dir: PathBuf::from("data"),
            sqlite_path: PathBuf::from("kestrel.sqlite"),
            postgres_url: None,
        }
    }
}

/// Which exchange Kestrel talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VenueKind {
    /// Kestrel's simulator: embedded when no URL is set, else a `kestrel sim` at the URLs.
    #[default]
    Sim,
    /// Binance USD-M futures, real money.
    Binance,
    /// Binance USD-M futures demo trading (formerly testnet).
    BinanceTestnet,
    /// A Binance-compatible venue at the configured URLs.
    Custom,
}

/// The venue: kind, endpoints and credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VenueConfig {
    /// Which venue.
    pub kind: VenueKind,
    /// REST base URL; when absent, derived from `kind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rest_url: Option<String>,
    /// WebSocket base URL; when absent, derived from `kind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ws_url: Option<String>,
    /// API key. Secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// API secret used to sign requests. Secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_secret: Option<Secret>,
}

impl VenueConfig {
    /// The REST base URL in effect: the configured one, else the kind's; `None` for the
    /// embedded simulator.
    #[must_use]
    pub fn effective_rest_url(&self) -> Option<&str> {
        self.rest_url.as_deref().or(match self.kind {
            VenueKind::Binance => Some("https://fapi.binance.com"),
            VenueKind::BinanceTestnet => Some("https://demo-fapi.binance.com"),
            VenueKind::Sim | VenueKind::Custom => None,
        })
    }

    /// The WebSocket base URL in effect: the configured one, else the kind's; `None` for the
    /// embedded simulator.
    #[must_use]
    pub fn effective_ws_url(&self) -> Option<&str> {
        self.ws_url.as_deref().or(match self.kind {
            VenueKind::Binance => Some("wss://fstream.binance.com"),
            VenueKind::BinanceTestnet => Some("wss://fstream.binancefuture.com"),
            VenueKind::Sim | VenueKind::Custom => None,
        })
    }
}

impl Default for VenueConfig {
    fn default() -> Self {
        Self {
            kind: VenueKind::Sim,
            rest_url: None,
            ws_url: None,
            api_key: None,
            api_secret: None,
        }
    }
}

/// Kestrel's built-in exchange simulator: a Binance USD-M futures venue on loopback, run
/// standalone by `kestrel sim` and embedded by `kestrel run` when `venue.kind` is `sim`.
///
/// The simulator's API key pairs are not config keys: the binary reads them from
/// `KESTREL_SIM_API_KEY` and `KESTREL_SIM_API_SECRET`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// Address `kestrel sim` listens on, REST and WebSocket on the same address.
    #[serde(deserialize_with = "socket_addr")]
    pub listen: SocketAddr,
    /// Seed of the synthetic market: the same seed and the same inputs give the same trades.
    pub seed: u64,
    /// Symbols the simulator lists, upper case (`BTCUSDT`).
    pub symbols: Vec<String>,
    /// USDT wallet balance each API account starts with.
    pub initial_balance_usdt: Money,
    /// Maker fee as a plain fraction of the notional, not a percentage (`"0.0002"` is
    /// 0.02 %); negative is a rebate. Between -0.001 and 0.01.
    pub maker_fee_rate: Rate,
    /// Taker fee as a plain fraction of the notional, not a percentage (`"0.0005"` is
    /// 0.05 %). Between -0.001 and 0.01.
    pub taker_fee_rate: Rate,
    /// Leverage of a symbol until the account changes it (1 to 125).
    pub default_leverage: u32,
    /// Time between funding settlements.
    pub funding_interval_seconds: u64,
    /// Period of mark price updates (`markPriceUpdate`), at least 100.
    pub mark_price_interval_ms: u64,
    /// How often the synthetic market advances (1 to 1000).
    pub market_step_ms: u64,
    /// Annualised volatility of the synthetic price path, in percent (above 0, at most 1000).
    pub volatility_annual_pct: Rate,
    /// Limit orders the synthetic market makers place per second (at least 1).
    pub maker_orders_per_second: u32,
    /// Orders the synthetic market makers cancel per second.
    pub cancels_per_second: u32,
    /// Market orders the synthetic takers send per second.
    pub takers_per_second: u32,
    /// Whether conditional orders (`STOP`, `STOP_MARKET`, `TAKE_PROFIT`,
    /// `TAKE_PROFIT_MARKET`, `TRAILING_STOP_MARKET`) are also accepted on
    /// `POST /fapi/v1/order`, as Binance did before December 2025 and as the
    /// binance-futures-connector still sends them. When false they are rejected with Binance's
    /// `-4120` and must be placed on `/fapi/v1/algoOrder`.
    pub legacy_conditional_orders: bool,
    /// Request weight allowed per minute (`REQUEST_WEIGHT` in `exchangeInfo`), enforced.
    pub request_weight_limit_per_minute: u32,
    /// Orders allowed per 10 seconds (`ORDERS` in `exchangeInfo`), enforced.
    pub orders_per_10s: u32,
    /// Orders allowed per minute (`ORDERS` in `exchangeInfo`), enforced.
    pub orders_per_minute: u32,
    /// Minutes a user-data-stream listen key lives without a keepalive.
    pub listen_key_validity_minutes: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8765),
            seed: 42,
            symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"].map(String::from).to_vec(),
            initial_balance_usdt: usdt(100_000),
            maker_fee_rate: fraction(20_000),
            taker_fee_rate: fraction(50_000),
            default_leverage: 20,
            funding_interval_seconds: 28_800,
            mark_price_interval_ms: 1_000,
            market_step_ms: 20,
            volatility_annual_pct: rate(60),
            maker_orders_per_second: 200,
            cancels_per_second: 150,
            takers_per_second: 20,
            legacy_conditional_orders: true,
            request_weight_limit_per_minute: 2_400,
            orders_per_10s: 300,
            orders_per_minute: 1_200,
            listen_key_validity_minutes: 60,
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// JSON when stdout is not a terminal, pretty otherwise (the binary decides).
    #[default]
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable, coloured on a terminal.
    Pretty,
}

/// Logging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// A level (`info`) or a filter such as `info,kestrel_exec=debug`.
    pub level: String,
    /// Output format.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            format: LogFormat::Auto,
        }
    }
}

/// Deserializes a `SocketAddr`, saying what a valid one looks like when the text is not one.
fn socket_addr<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(|_| {
        D::Error::custom(format!(
            "expected an IP address and port such as \"127.0.0.1:8080\", got {text:?}"
        ))
    })
}

macro_rules! names {
    ($($ty:ty { $($variant:ident => $name:literal),+ $(,)? })+) => {$(
        impl $ty {
            /// The name used in the config file.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )+};
}

names! {
    ExecutionMode { Live => "live", Simulation => "simulation", Observation => "observation" }
    Transport { Websocket => "websocket", Rest => "rest" }
    Aggregation { Majority => "majority", Weighted => "weighted", First => "first" }
    StoreBackend { Sqlite => "sqlite", Postgres => "postgres" }
    VenueKind {
        Sim => "sim",
        Binance => "binance",
        BinanceTestnet => "binance-testnet",
        Custom => "custom",
    }
    LogFormat { Auto => "auto", Json => "json", Pretty => "pretty" }
}
