//! [`Account`]: what one simulated account holds, its constructor and its read accessors.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use kestrel_model::config::Secret;
use kestrel_model::money::{Money, Price, Rate};
use kestrel_model::order::PositionSide;
use kestrel_model::position::{Position, PositionMode};

use super::MarkPrices;
use super::brackets::Brackets;
use super::error::AccountError;

/// Leverage of a symbol nobody has set (Binance's default), capped by the symbol's maximum.
pub const DEFAULT_LEVERAGE: u32 = 20;
/// Default maker fee rate, 0.02 %.
pub const DEFAULT_MAKER_FEE: Rate = Rate::from_raw(20_000);
/// Default taker fee rate, 0.05 %.
pub const DEFAULT_TAKER_FEE: Rate = Rate::from_raw(50_000);

/// How a symbol's positions are margined. Only cross margin is computed: `Isolated` is stored
/// and reported (`marginType`, `mt`), but the position's margin still comes from the shared
/// wallet, as with `Crossed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MarginType {
    /// Cross margin (Binance's default).
    #[default]
    Crossed,
    /// Isolated margin (stored and reported only).
    Isolated,
}

impl MarginType {
    /// The request spelling (`CROSSED` / `ISOLATED`), as `POST /fapi/v1/marginType` takes it.
    #[must_use]
    pub const fn binance_name(self) -> &'static str {
        match self {
            Self::Crossed => "CROSSED",
            Self::Isolated => "ISOLATED",
        }
    }

    /// The report spelling (`cross` / `isolated`), as positionRisk and `ACCOUNT_UPDATE` use it.
    #[must_use]
    pub const fn report_name(self) -> &'static str {
        match self {
            Self::Crossed => "cross",
            Self::Isolated => "isolated",
        }
    }
}

/// One leg (a symbol's `BOTH`, `LONG` or `SHORT` position) with what the account adds to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Leg {
    /// The position (qty, cost basis, exact realized P&L, fees).
    pub(super) position: Position,
    /// Σ realized P&L as booked to the wallet (each fill's rounded to 10⁻⁸): `cr` in
    /// `ACCOUNT_UPDATE`.
    pub(super) booked_realized: Money,
    /// When a fill last changed the leg.
    pub(super) update_time_ms: u64,
}

/// Per-symbol settings and legs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SymbolState {
    pub(super) leverage: u32,
    pub(super) margin_type: MarginType,
    pub(super) legs: BTreeMap<PositionSide, Leg>,
}

/// A USDT-margined futures account with cross margin (see the module docs for its rules).
#[derive(Clone)]
pub struct Account {
    pub(super) api_key: String,
    pub(super) api_secret: Secret,
    pub(super) wallet: Money,
    pub(super) position_mode: PositionMode,
    pub(super) maker_fee: Rate,
    pub(super) taker_fee: Rate,
    pub(super) symbols: BTreeMap<String, SymbolState>,
    pub(super) update_time_ms: u64,
    pub(super) market_participant: bool,
    pub(super) brackets: Arc<Brackets>,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("api_key", &self.api_key)
            .field("api_secret", &self.api_secret)
            .field("wallet", &self.wallet)
            .field("position_mode", &self.position_mode)
            .field("maker_fee", &self.maker_fee)
            .field("taker_fee", &self.taker_fee)
            .field("symbols", &self.symbols)
            .field("update_time_ms", &self.update_time_ms)
            .field("market_participant", &self.market_participant)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// An empty one-way account with default fees, margined against `brackets`.
    pub fn new(api_key: impl Into<String>, api_secret: Secret, brackets: Arc<Brackets>) -> Self {
        Self {
            api_key: api_key.into(),
            api_secret,
            wallet: Money::ZERO,
            position_mode: PositionMode::OneWay,
            maker_fee: DEFAULT_MAKER_FEE,
            taker_fee: DEFAULT_TAKER_FEE,
            symbols: BTreeMap::new(),
            update_time_ms: 0,
            market_participant: false,
            brackets,
        }
    }

    /// The API key (`X-MBX-APIKEY`).
    #[must_use]
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The API secret, for verifying request signatures.
    #[must_use]
    pub const fn api_secret(&self) -> &Secret {
        &self.api_secret
    }

    /// The USDT wallet balance: deposits + booked realized P&L − commissions + funding.
    #[must_use]
    pub const fn wallet_balance(&self) -> Money {
        self.wallet
    }

    /// One-way or hedge.
    #[must_use]
    pub const fn position_mode(&self) -> PositionMode {
        self.position_mode
    }

    /// The maker fee rate as configured (a market participant pays none whatever it says).
    #[must_use]
    pub const fn maker_fee_rate(&self) -> Rate {
        self.maker_fee
    }

    /// The taker fee rate as configured (a market participant pays none whatever it says).
    #[must_use]
    pub const fn taker_fee_rate(&self) -> Rate {
        self.taker_fee
    }

    /// Whether this is a synthetic-market account, exempt from fees and margin checks.
    #[must_use]
    pub const fn is_market_participant(&self) -> bool {
        self.market_participant
    }

    /// When the account last changed, milliseconds since the epoch (0 before any change).
    #[must_use]
    pub const fn update_time_ms(&self) -> u64 {
        self.update_time_ms
    }

    /// The brackets this account is margined against.
    #[must_use]
    pub fn brackets(&self) -> &Brackets {
        &self.brackets
    }

    /// The leverage of `symbol` (the default if never set).
    #[must_use]
    pub fn leverage(&self, symbol: &str) -> u32 {
        self.symbols
            .get(symbol)
            .map_or_else(|| self.default_leverage(symbol), |s| s.leverage)
    }

    /// The margin type of `symbol` (`Crossed` if never set).
    #[must_use]
    pub fn margin_type(&self, symbol: &str) -> MarginType {
        self.symbols
            .get(symbol)
            .map_or(MarginType::Crossed, |s| s.margin_type)
    }

    /// The position on `symbol`'s `position_side` leg, if the account ever traded it.
    #[must_use]
    pub fn position(&self, symbol: &str, position_side: PositionSide) -> Option<&Position> {
        self.leg(symbol, position_side).map(|leg| &leg.position)
    }

    /// Every leg's position (open or flat), by symbol then position side.
    pub fn positions(&self) -> impl Iterator<Item = &Position> {
        self.symbols
            .values()
            .flat_map(|s| s.legs.values().map(|leg| &leg.position))
    }

    /// Whether any leg of any symbol holds a non-zero quantity.
    #[must_use]
    pub fn has_open_position(&self) -> bool {
        self.positions().any(|p| !p.qty.is_zero())
    }

    /// Whether any leg of `symbol` holds a non-zero quantity.
    #[must_use]
    pub fn has_open_position_in(&self, symbol: &str) -> bool {
        self.symbols
            .get(symbol)
            .is_some_and(|s| s.legs.values().any(|leg| !leg.position.qty.is_zero()))
    }

    /// The legs a symbol has in the current mode: `BOTH`, or `LONG` and `SHORT`.
    #[must_use]
    pub const fn position_sides(&self) -> &'static [PositionSide] {
        match self.position_mode {
            PositionMode::OneWay => &[PositionSide::Both],
            PositionMode::Hedge => &[PositionSide::Long, PositionSide::Short],
        }
    }

    /// Checks that `position_side` fits the mode: `BOTH` in one-way, `LONG`/`SHORT` in hedge.
    pub(super) fn check_position_side(
        &self,
        position_side: PositionSide,
    ) -> Result<(), AccountError> {
        if self.position_sides().contains(&position_side) {
            return Ok(());
        }
        Err(AccountError::PositionSideMismatch {
            position_side,
            mode: self.position_mode,
        })
    }

    pub(super) fn leg(&self, symbol: &str, position_side: PositionSide) -> Option<&Leg> {
        self.symbols.get(symbol)?.legs.get(&position_side)
    }

    /// `symbol`'s state, created with the defaults on first use (allocating only then).
    pub(super) fn symbol_mut(&mut self, symbol: &str) -> Result<&mut SymbolState, AccountError> {
        if !self.symbols.contains_key(symbol) {
            let state = SymbolState {
                leverage: self.default_leverage(symbol),
                margin_type: MarginType::Crossed,
                legs: BTreeMap::new(),
            };
            self.symbols.insert(symbol.to_owned(), state);
        }
        // Just inserted if it was missing, so this cannot fail.
        self.symbols
            .get_mut(symbol)
            .ok_or_else(|| AccountError::invalid("symbol", format!("{symbol} vanished")))
    }

    fn default_leverage(&self, symbol: &str) -> u32 {
        DEFAULT_LEVERAGE.min(self.brackets.max_leverage(symbol))
    }

    /// The mark used for a leg: the caller's, else the position's entry price, else zero.
    pub(super) fn mark_for(
        &self,
        symbol: &str,
        position: Option<&Position>,
        marks: &impl MarkPrices,
    ) -> Price {
        marks
            .mark(symbol)
            .or_else(|| position.and_then(Position::entry_price))
            .unwrap_or(Price::ZERO)
    }

    /// Records a change at `now_ms`.
    pub(super) const fn touch(&mut self, now_ms: u64) {
        self.update_time_ms = now_ms;
    }
}
