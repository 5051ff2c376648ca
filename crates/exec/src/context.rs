//! [`VenueContext`]: what pre-trade validation reads about the market and the account, kept
//! current from the venue's REST API, for an execution service that runs without the market
//! data pipeline and the account monitor beside it (`kestrel exec`).
//!
//! - Instruments (tick, step, filters) are read once at start from `exchangeInfo`.
//! - Mark prices are read every [`RefreshConfig::marks`] from `premiumIndex` (weight 1 per
//!   symbol), stamped with our clock when they arrive, so the validator's staleness rule
//!   (`risk.max_market_data_staleness_ms`) sees how old our copy is.
//! - Positions, leverage and the available balance are read every
//!   [`RefreshConfig::account`] from `positionRisk` (v2: it still carries leverage) and
//!   `account`, and again soon after a fill ([`VenueContext::touch`]), so a position the
//!   service just built counts against the limits.
//!
//! A symbol whose leverage the venue has not reported (no row yet) is taken at
//! [`DEFAULT_LEVERAGE`], Binance's default for a new symbol; the fee estimate uses
//! [`DEFAULT_FEE_RATE`], Binance's base taker rate.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kestrel_model::money::FIXED_ONE;
use kestrel_model::order::PositionSide;
use kestrel_model::{Instrument, Money, OrderRequest, Price, Qty, Rate};
use kestrel_venue::binance::RequestError;
use kestrel_venue::binance::rest::RestClient;
use tokio::sync::watch;

use crate::clock::{Clock, Nanos};
use crate::driver::SystemClock;
use crate::validate::{AccountView, MarketView, OrderContext};

/// Leverage assumed for a symbol the venue has reported none for (Binance's default).
pub const DEFAULT_LEVERAGE: u32 = 20;

/// Fee rate for the margin rule's fee estimate: Binance's base taker rate, 0.05 %.
pub const DEFAULT_FEE_RATE: Rate = Rate::from_raw(FIXED_ONE / 2_000);

/// The asset balances are margined in.
const MARGIN_ASSET: &str = "USDT";

/// How often the context is refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshConfig {
    /// Mark prices.
    pub marks: Duration,
    /// Positions, leverage and balance.
    pub account: Duration,
}

impl Default for RefreshConfig {
    /// Marks every second, the account every five seconds.
    fn default() -> Self {
        Self {
            marks: Duration::from_secs(1),
            account: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Default)]
struct Live {
    marks: HashMap<String, (Price, Nanos)>,
    positions: HashMap<(String, PositionSide), Qty>,
    leverage: HashMap<String, u32>,
    available: Money,
}

/// The market and account view validation reads (module docs).
#[derive(Debug)]
pub struct VenueContext {
    instruments: HashMap<String, Instrument>,
    live: Mutex<Live>,
    clock: SystemClock,
    stale_account: AtomicBool,
}

impl VenueContext {
    /// Reads the instruments of `symbols`, then the marks and the account once.
    ///
    /// # Errors
    /// The venue's failure, or [`ContextError::UnknownSymbol`] for a symbol it does not list.
    pub async fn load(rest: &RestClient, symbols: &[String]) -> Result<Self, ContextError> {
        let info = rest.exchange_info().await?;
        let mut instruments = HashMap::new();
        for symbol in symbols {
            let instrument = info
                .instruments()
                .find(|i| &i.symbol == symbol)
                .ok_or_else(|| ContextError::UnknownSymbol(symbol.clone()))?;
            instruments.insert(symbol.clone(), instrument.clone());
        }
        let context = Self {
            instruments,
            live: Mutex::new(Live::default()),
            clock: SystemClock::new(),
            stale_account: AtomicBool::new(false),
        };
        context.refresh_marks(rest).await?;
        context.refresh_account(rest).await?;
        Ok(context)
    }

    /// The symbols it serves.
    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.instruments.keys().map(String::as_str)
    }

    /// The instruments it serves, as the venue lists them.
    pub fn instruments(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.values()
    }

    /// The number of orders open on `symbol` in `driver`'s engine (validation's open-order
    /// count).
    pub fn open_orders<J: crate::journal::Journal + 'static>(
        driver: &crate::driver::ExecDriver<J>,
        symbol: &str,
    ) -> u32 {
        driver.with_engine(|engine| {
            let open = engine
                .orders()
                .filter(|o| o.request.symbol == symbol && o.status.is_open())
                .count();
            u32::try_from(open).unwrap_or(u32::MAX)
        })
    }

    /// Calls `f` with the validation context of `request` given `open_orders` open on its
    /// symbol, or with `None` when the symbol is not served.
    pub fn with_context<R>(
        &self,
        request: &OrderRequest,
        open_orders: u32,
        f: impl FnOnce(Option<&OrderContext<'_>>) -> R,
    ) -> R {
        let Some(instrument) = self.instruments.get(&request.symbol) else {
            return f(None);
        };
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let (mark_price, mark_at) = live
            .marks
            .get(&request.symbol)
            .map_or((None, Nanos::ZERO), |&(price, at)| (Some(price), at));
        let key = (request.symbol.clone(), request.position_side);
        let ctx = OrderContext {
            instrument,
            market: MarketView {
                mark_price,
                mark_at,
            },
            account: AccountView {
                position_qty: live.positions.get(&key).copied().unwrap_or(Qty::ZERO),
                open_orders,
                available_balance: live.available,
                leverage: live
                    .leverage
                    .get(&request.symbol)
                    .copied()
                    .unwrap_or(DEFAULT_LEVERAGE),
                fee_rate: DEFAULT_FEE_RATE,
            },
        };
        drop(live);
        f(Some(&ctx))
    }

    /// Asks for an early account refresh (after a fill).
    pub fn touch(&self) {
        self.stale_account.store(true, Ordering::Relaxed);
    }

    /// Reads every served symbol's mark price.
    ///
    /// # Errors
    /// The first failure; marks read before it are kept.
    pub async fn refresh_marks(&self, rest: &RestClient) -> Result<(), RequestError> {
        for symbol in self.instruments.keys() {
            let index = rest.premium_index(symbol).await?;
            let now = self.clock.now();
            self.lock()
                .marks
                .insert(symbol.clone(), (index.mark_price, now));
        }
        Ok(())
    }

    /// Reads positions, leverage and the available balance.
    ///
    /// # Errors
    /// The venue's failure; the previous view is kept.
    pub async fn refresh_account(&self, rest: &RestClient) -> Result<(), RequestError> {
        self.stale_account.store(false, Ordering::Relaxed);
        let rows = rest.position_risk_v2(None).await?;
        let account = rest.account().await?;
        let available = account
            .assets
            .iter()
            .find(|a| a.asset == MARGIN_ASSET)
            .map_or(account.available_balance, |a| a.available_balance);
        let mut live = self.lock();
        live.available = available;
        live.positions.clear();
        for row in rows {
            if let Some(leverage) = row.leverage {
                live.leverage.insert(row.symbol.clone(), leverage);
            }
            live.positions
                .insert((row.symbol, row.position_side), row.position_amt);
        }
        Ok(())
    }

    /// Refreshes marks and the account on their periods until `stop` says stop. Failures are
    /// logged and retried on the next period; the last good view stays in use meanwhile (the
    /// validator refuses on a mark grown stale, so a venue that stops answering stops orders).
    pub async fn run_refresh(
        self: Arc<Self>,
        rest: RestClient,
        every: RefreshConfig,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut marks = tokio::time::interval(every.marks);
        let mut account = tokio::time::interval(every.account);
        let mut early = tokio::time::interval(every.marks);
        let stopping = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        tokio::pin!(stopping);
        loop {
            tokio::select! {
                () = &mut stopping => return,
                _ = marks.tick() => log_failure("mark prices", self.refresh_marks(&rest).await),
                _ = account.tick() => log_failure("account", self.refresh_account(&rest).await),
                _ = early.tick(), if self.stale_account.load(Ordering::Relaxed) => {
                    log_failure("account", self.refresh_account(&rest).await);
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn log_failure(what: &str, result: Result<(), RequestError>) {
    if let Err(error) = result {
        tracing::warn!(target: "kestrel::exec", %error, "cannot refresh the {what} from the venue");
    }
}

/// Why the context could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The venue failed.
    #[error("execution context: {0}")]
    Venue(#[from] RequestError),
    /// The venue does not list the symbol.
    #[error("execution context: the venue does not list {0}")]
    UnknownSymbol(String),
}
