//! The venue: a deterministic, single-threaded exchange that owns every market, account and
//! order, and turns commands (place, cancel, modify, settings, time passing) into answers and
//! events.
//!
//! It validates orders with the model's instrument rules and Binance's codes, submits plain
//! LIMIT/MARKET orders to each symbol's [`crate::engine::MatchingEngine`], books every fill
//! into the [`crate::account`] of both sides, keeps Binance's order records and trade history,
//! holds conditional orders until their trigger (legacy `STOP*`/`TAKE_PROFIT*`/trailing orders
//! on `/fapi/v1/order` and algo orders), and emits [`VenueEvent`]s for the streams. It never
//! reads a clock or does I/O: `now_ms` comes with every command, so a script of commands gives
//! the same trades, byte for byte.
//!
//! Accounts `1..` are API users. The synthetic market trades under engine accounts at and
//! above [`PARTICIPANT_BASE`], as does the [`mirror`] of another venue's live market: they
//! have no margin, no fees and no records, and stand for the rest of the market.

mod conditional;
pub mod feed;
mod fills;
pub mod market;
pub mod mirror;
pub mod order;
mod participants;
mod place;
mod queries;
mod settle;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kestrel_model::config::Secret;
use kestrel_model::{Instrument, Money, Price, Rate};
use serde_json::Value;

use crate::account::{Accounts, Brackets};
use crate::api::ApiError;
use crate::engine::EngineEvent;
pub use conditional::{AlgoRecord, Conditional};
pub use feed::{Cadence, MarkInfo, PublicTrade};
pub use fills::ParticipantFill;
pub use market::Market;
pub use mirror::{MIRROR_MAKER, MIRROR_TAKER};
pub use order::{FillReport, OrderRecord, Precision, VenueStatus};
pub use place::PlaceRequest;
pub use queries::{Amendment, DepthSnapshot, OrderKey, UserTrade};

/// Engine account ids at and above this belong to the synthetic market's agents.
pub const PARTICIPANT_BASE: u32 = 1_000_000;

/// Static settings of the venue.
#[derive(Debug, Clone)]
pub struct ExchangeConfig {
    /// Listed instruments with the price their mark starts at.
    pub instruments: Vec<(Instrument, Price)>,
    /// Maker fee rate (a fraction).
    pub maker_fee_rate: Rate,
    /// Taker fee rate (a fraction).
    pub taker_fee_rate: Rate,
    /// Leverage of a symbol until the account changes it.
    pub default_leverage: u32,
    /// Funding period.
    pub funding_interval_ms: u64,
    /// How long a listen key lives without a keepalive.
    pub listen_key_validity_ms: u64,
    /// Whether conditional types are accepted on `/fapi/v1/order` (else `-4120`).
    pub legacy_conditional_orders: bool,
    /// Seed for generated identifiers (listen keys).
    pub seed: u64,
    /// Request-weight and order-rate limits (advertised in `exchangeInfo`, enforced by the
    /// server).
    pub limits: crate::api::LimitConfig,
}

/// Something the streams publish.
#[derive(Debug, Clone, PartialEq)]
pub enum VenueEvent {
    /// A public trade on `symbol`.
    Trade {
        /// The symbol.
        symbol: String,
        /// The trade.
        trade: PublicTrade,
    },
    /// A diff-depth event of one cadence (the rendered `depthUpdate` payload).
    Depth {
        /// The symbol.
        symbol: String,
        /// The cadence.
        cadence: Cadence,
        /// The payload.
        payload: Value,
    },
    /// The best bid or ask changed (rendered `bookTicker` payload).
    BookTicker {
        /// The symbol.
        symbol: String,
        /// The payload.
        payload: Value,
    },
    /// A new mark price (rendered `markPriceUpdate` payload).
    MarkPrice {
        /// The symbol.
        symbol: String,
        /// The payload.
        payload: Value,
    },
    /// A liquidation order (rendered `forceOrder` payload).
    ForceOrder {
        /// The symbol.
        symbol: String,
        /// The payload.
        payload: Value,
    },
    /// A user-data event for one account (rendered payload).
    User {
        /// The account number.
        account: u32,
        /// The payload (`ORDER_TRADE_UPDATE`, `ACCOUNT_UPDATE`, `TRADE_LITE`, ...).
        payload: Value,
    },
    /// A listen key lapsed: its sockets get `listenKeyExpired` and nothing more.
    ListenKeyExpired {
        /// The key.
        listen_key: String,
        /// The rendered event.
        payload: Value,
    },
}

/// A listen key and its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListenKey {
    account: u32,
    expires_ms: u64,
}

/// The venue.
#[derive(Debug)]
pub struct Exchange {
    config: ExchangeConfig,
    markets: BTreeMap<String, Market>,
    accounts: Accounts,
    /// Every order placed by an API user, by id.
    orders: HashMap<u64, OrderRecord>,
    /// Each account's order ids, oldest first.
    account_orders: BTreeMap<u32, Vec<u64>>,
    /// Open order ids per account (resting or conditional), ordered.
    open: BTreeMap<u32, BTreeSet<u64>>,
    /// Client order ids of open orders, per account.
    client_ids: HashMap<(u32, String), u64>,
    /// Fills per account, oldest first.
    trades: BTreeMap<u32, Vec<UserTrade>>,
    /// Untriggered conditional orders by order id (legacy) — ordered for deterministic firing.
    conditionals: BTreeMap<u64, Conditional>,
    /// Algo orders by algo id.
    algos: BTreeMap<u64, conditional::AlgoRecord>,
    /// Child order id → algo id, while the child is open.
    algo_children: BTreeMap<u64, u64>,
    /// Fills and removals of the synthetic market's orders, for its generator.
    participant_fills: Vec<fills::ParticipantFill>,
    participants: participants::ParticipantOrders,
    /// The last mirror order id handed out, above [`mirror::MIRROR_ORDER_BASE`].
    next_mirror_id: u64,
    next_order_id: u64,
    next_algo_id: u64,
    listen_keys: BTreeMap<String, ListenKey>,
    listen_key_counter: u64,
    events: Vec<VenueEvent>,
    scratch: Vec<EngineEvent>,
}

impl Exchange {
    /// A venue listing `config.instruments`, with no accounts yet.
    #[must_use]
    pub fn new(config: ExchangeConfig, now_ms: u64) -> Self {
        let next_funding = next_boundary(now_ms, config.funding_interval_ms);
        let markets = config
            .instruments
            .iter()
            .map(|(instrument, price)| {
                let market = Market::new(instrument.clone(), *price, next_funding, now_ms);
                (instrument.symbol.clone(), market)
            })
            .collect();
        Self {
            markets,
            accounts: Accounts::new(Brackets::binance_defaults()),
            orders: HashMap::new(),
            account_orders: BTreeMap::new(),
            open: BTreeMap::new(),
            client_ids: HashMap::new(),
            trades: BTreeMap::new(),
            conditionals: BTreeMap::new(),
            algos: BTreeMap::new(),
            algo_children: BTreeMap::new(),
            participant_fills: Vec::new(),
            participants: participants::ParticipantOrders::default(),
            next_mirror_id: 0,
            next_order_id: 1,
            next_algo_id: 1,
            listen_keys: BTreeMap::new(),
            listen_key_counter: 0,
            events: Vec::new(),
            scratch: Vec::with_capacity(64),
            config,
        }
    }

    /// Opens an API account with `balance` USDT and returns its number.
    ///
    /// # Errors
    /// `-1130` when the key is empty or already used.
    pub fn open_account(
        &mut self,
        api_key: &str,
        api_secret: &str,
        balance: Money,
        now_ms: u64,
    ) -> Result<u32, ApiError> {
        let number = u32::try_from(self.accounts.len() + 1)
            .map_err(|_| ApiError::bad_request(-1130, "too many accounts"))?;
        let (maker, taker, leverage) = (
            self.config.maker_fee_rate,
            self.config.taker_fee_rate,
            self.config.default_leverage,
        );
        let symbols: Vec<String> = self.markets.keys().cloned().collect();
        let account = self
            .accounts
            .open(number, api_key, Secret::new(api_secret))
            .map_err(account_error)?;
        account.set_fee_rates(maker, taker);
        for symbol in &symbols {
            if leverage != crate::account::DEFAULT_LEVERAGE {
                account
                    .set_leverage(symbol, leverage, &[], &BTreeMap::new(), now_ms)
                    .map_err(account_error)?;
            }
        }
        account.deposit(balance, now_ms).map_err(account_error)?;
        Ok(number)
    }

    /// The secret of `api_key`, for request signing checks.
    #[must_use]
    pub fn secret_for(&self, api_key: &str) -> Option<String> {
        let number = self.accounts.number_for_api_key(api_key)?;
        self.accounts
            .get(number)
            .map(|a| a.api_secret().expose().to_owned())
    }

    /// The account number of `api_key`.
    #[must_use]
    pub fn account_for(&self, api_key: &str) -> Option<u32> {
        self.accounts.number_for_api_key(api_key)
    }

    /// The listed markets, by symbol.
    #[must_use]
    pub const fn markets(&self) -> &BTreeMap<String, Market> {
        &self.markets
    }

    /// One market, or Binance's `-1121` "Invalid symbol.".
    ///
    /// # Errors
    /// `-1121`.
    pub fn market(&self, symbol: &str) -> Result<&Market, ApiError> {
        self.markets.get(symbol).ok_or_else(ApiError::bad_symbol)
    }

    fn market_mut(&mut self, symbol: &str) -> Result<&mut Market, ApiError> {
        self.markets
            .get_mut(symbol)
            .ok_or_else(ApiError::bad_symbol)
    }

    /// The accounts.
    #[must_use]
    pub const fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The venue settings.
    #[must_use]
    pub const fn config(&self) -> &ExchangeConfig {
        &self.config
    }

    /// Moves the pending events into `out`, oldest first.
    pub fn drain_events(&mut self, out: &mut Vec<VenueEvent>) {
        out.append(&mut self.events);
    }

    /// The mark prices of every market, for margin figures.
    #[must_use]
    pub fn marks(&self) -> BTreeMap<String, Price> {
        self.markets
            .iter()
            .map(|(s, m)| (s.clone(), m.mark.mark))
            .collect()
    }

    fn take_order_id(&mut self) -> u64 {
        let id = self.next_order_id;
        self.next_order_id += 1;
        id
    }

    fn take_algo_id(&mut self) -> u64 {
        let id = self.next_algo_id;
        self.next_algo_id += 1;
        id
    }

    /// Files a new order record as open.
    fn record_open(&mut self, record: OrderRecord) {
        let (id, account) = (record.order_id, record.account);
        self.client_ids
            .insert((account, record.client_order_id.clone()), id);
        self.open.entry(account).or_default().insert(id);
        self.account_orders.entry(account).or_default().push(id);
        self.orders.insert(id, record);
    }

    /// Marks order `id` closed: it leaves the open set and frees its client id.
    fn record_closed(&mut self, id: u64) {
        self.conditionals.remove(&id);
        let Some(record) = self.orders.get(&id) else {
            return;
        };
        let key = (record.account, record.client_order_id.clone());
        if self.client_ids.get(&key) == Some(&id) {
            self.client_ids.remove(&key);
        }
        if let Some(open) = self.open.get_mut(&record.account) {
            open.remove(&id);
        }
    }

    /// Removes a record that never became an order (refused by the engine).
    fn unrecord(&mut self, id: u64) {
        self.record_closed(id);
        if let Some(record) = self.orders.remove(&id)
            && let Some(ids) = self.account_orders.get_mut(&record.account)
            && ids.last() == Some(&id)
        {
            ids.pop();
        }
    }

    fn push_user(&mut self, account: u32, payload: Value) {
        self.events.push(VenueEvent::User { account, payload });
    }
}

/// Maps an account refusal to Binance's error (HTTP 400).
fn account_error(error: crate::account::AccountError) -> ApiError {
    ApiError::bad_request(error.code(), error.msg())
}

/// The first multiple of `interval_ms` after `now_ms`.
fn next_boundary(now_ms: u64, interval_ms: u64) -> u64 {
    let interval = interval_ms.max(1);
    (now_ms / interval + 1) * interval
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
