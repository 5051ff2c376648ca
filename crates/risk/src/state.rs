//! [`Portfolio`]: the positions, marks, market-data times and wallet the checks read, with
//! the totals (exposure, unrealised P&L) kept current as events arrive so a check reads them
//! in O(1).
//!
//! Each symbol holds three legs indexed by [`PositionSide`]: `Both` (one-way mode) and `Long`
//! / `Short` (hedge mode). A symbol's exposure is the sum of its legs' absolute notionals at
//! the mark (at the entry price while no mark is known); its unrealised P&L is
//! `mark × qty − cost basis` summed over the legs (zero without a mark). The portfolio's
//! totals are kept by subtracting a symbol's old figures and adding its new ones: integer
//! arithmetic, so they never drift. Every update computes first and commits last, so an
//! update that fails (an absurd amount overflowing) leaves the state as it was.

use std::collections::BTreeMap;

use kestrel_model::order::PositionSide;
use kestrel_model::{Fill, Money, MoneyError, Position, Price, Qty, RoundingMode};

use crate::error::RiskError;

/// The asset the limits are counted in (every money key of `[risk]` ends in `_usdt`); fees
/// charged in another asset (BNB) are left to the next wallet balance update.
pub const MARGIN_ASSET: &str = "USDT";

/// The index of a leg in [`SymbolState::legs`].
pub(crate) const fn leg_index(side: PositionSide) -> usize {
    match side {
        PositionSide::Both => 0,
        PositionSide::Long => 1,
        PositionSide::Short => 2,
    }
}

/// The legs in index order.
pub(crate) const LEG_SIDES: [PositionSide; 3] =
    [PositionSide::Both, PositionSide::Long, PositionSide::Short];

/// One symbol: its legs, its mark and how fresh its market data is.
#[derive(Debug, Clone)]
pub(crate) struct SymbolState {
    /// `Both`, `Long`, `Short` (see [`leg_index`]).
    pub legs: [Position; 3],
    /// The latest mark price.
    pub mark: Option<Price>,
    /// When market data for the symbol last arrived (ms since the epoch).
    pub data_at_ms: Option<u64>,
    /// When the staleness breaker last saw the data go stale (cleared by fresh data).
    pub stale_since_ms: Option<u64>,
    /// Cached: absolute notional of the legs at the mark (entry while no mark).
    pub exposure: Money,
    /// Cached: unrealised P&L of the legs at the mark.
    pub unrealised: Money,
}

impl SymbolState {
    fn new(symbol: &str) -> Self {
        Self {
            legs: LEG_SIDES.map(|side| Position::flat(symbol, side)),
            mark: None,
            data_at_ms: None,
            stale_since_ms: None,
            exposure: Money::ZERO,
            unrealised: Money::ZERO,
        }
    }

    /// The signed quantity of one leg.
    pub fn leg_qty(&self, side: PositionSide) -> Qty {
        self.legs[leg_index(side)].qty
    }

    /// Legs holding a position.
    pub fn open_legs(&self) -> u32 {
        self.legs
            .iter()
            .map(|leg| u32::from(!leg.qty.is_zero()))
            .sum()
    }

    /// How old the market data is at `now_ms`; `None` if none ever arrived.
    pub fn data_age_ms(&self, now_ms: u64) -> Option<u64> {
        self.data_at_ms.map(|at| now_ms.saturating_sub(at))
    }
}

/// (exposure, unrealised P&L) of `legs` at `mark`.
fn valuation(legs: &[Position; 3], mark: Option<Price>) -> Result<(Money, Money), MoneyError> {
    let mut exposure = Money::ZERO;
    let mut unrealised = Money::ZERO;
    for leg in legs {
        match mark {
            Some(mark) => {
                exposure = exposure.try_add(leg.notional_at(mark))?;
                unrealised = unrealised.try_add(leg.unrealized_pnl(mark)?)?;
            }
            None => exposure = exposure.try_add(leg.cost_basis.abs())?,
        }
    }
    Ok((exposure, unrealised))
}

/// What a fill did, for the loss streak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FillOutcome {
    /// Quantity that closed existing exposure.
    pub closed: Qty,
    /// P&L of the closing part net of its share of the fee (zero when nothing closed).
    pub trade_pnl: Money,
}

/// Positions, marks and wallet across all symbols.
#[derive(Debug, Clone, Default)]
pub(crate) struct Portfolio {
    symbols: BTreeMap<String, SymbolState>,
    wallet: Money,
    wallet_known: bool,
    unrealised: Money,
    exposure: Money,
}

impl Portfolio {
    /// The symbol's state, if anything about it has been seen.
    pub fn symbol(&self, symbol: &str) -> Option<&SymbolState> {
        self.symbols.get(symbol)
    }

    /// Every symbol, in name order.
    pub fn symbols(&self) -> impl Iterator<Item = (&str, &SymbolState)> {
        self.symbols
            .iter()
            .map(|(name, state)| (name.as_str(), state))
    }

    /// Mutable access to every symbol (breaker bookkeeping).
    pub fn symbols_mut(&mut self) -> impl Iterator<Item = (&str, &mut SymbolState)> {
        self.symbols
            .iter_mut()
            .map(|(name, state)| (name.as_str(), state))
    }

    /// The wallet balance in USDT.
    pub const fn wallet(&self) -> Money {
        self.wallet
    }

    /// Whether a wallet balance has been received.
    pub const fn wallet_known(&self) -> bool {
        self.wallet_known
    }

    /// Unrealised P&L over all positions.
    pub const fn unrealised(&self) -> Money {
        self.unrealised
    }

    /// Absolute notional over all positions.
    pub const fn exposure(&self) -> Money {
        self.exposure
    }

    /// Wallet plus unrealised P&L (saturating; only absurd inputs reach the bounds).
    pub fn equity(&self) -> Money {
        self.wallet
            .try_add(self.unrealised)
            .unwrap_or(if self.unrealised.is_negative() {
                Money::MIN
            } else {
                Money::MAX
            })
    }

    /// Replaces the wallet balance with the venue's figure.
    pub fn set_wallet(&mut self, total: Money) {
        self.wallet = total;
        self.wallet_known = true;
    }

    /// Adds `symbol` on first sight (the only allocation a mark update can make).
    fn ensure(&mut self, symbol: &str) {
        if !self.symbols.contains_key(symbol) {
            self.symbols
                .insert(symbol.to_owned(), SymbolState::new(symbol));
        }
    }

    /// A copy of the symbol's legs to update (flat legs for a new symbol).
    fn legs(&self, symbol: &str) -> [Position; 3] {
        self.symbols.get(symbol).map_or_else(
            || LEG_SIDES.map(|side| Position::flat(symbol, side)),
            |state| state.legs.clone(),
        )
    }

    /// Commits new legs or a new mark for `symbol` with totals recomputed; nothing changes on
    /// error.
    fn commit(
        &mut self,
        symbol: &str,
        legs: Option<[Position; 3]>,
        mark: Option<Price>,
    ) -> Result<(), MoneyError> {
        self.ensure(symbol);
        let Some(state) = self.symbols.get_mut(symbol) else {
            return Ok(());
        };
        let new_mark = mark.or(state.mark);
        let (exposure, unrealised) = valuation(legs.as_ref().unwrap_or(&state.legs), new_mark)?;
        let total_exposure = self.exposure.try_sub(state.exposure)?.try_add(exposure)?;
        let total_unrealised = self
            .unrealised
            .try_sub(state.unrealised)?
            .try_add(unrealised)?;
        if let Some(legs) = legs {
            state.legs = legs;
        }
        state.mark = new_mark;
        state.exposure = exposure;
        state.unrealised = unrealised;
        self.exposure = total_exposure;
        self.unrealised = total_unrealised;
        Ok(())
    }

    /// A new mark price for `symbol`, which is also fresh market data (returns as
    /// [`Self::touch`] does).
    pub fn set_mark(
        &mut self,
        symbol: &str,
        mark: Price,
        now_ms: u64,
    ) -> Result<Option<u64>, MoneyError> {
        self.commit(symbol, None, Some(mark))?;
        Ok(self.touch(symbol, now_ms))
    }

    /// Market data (of any kind) for `symbol` arrived at `now_ms`. Returns when the symbol's
    /// staleness breaker had tripped, if it had (fresh data clears it).
    pub fn touch(&mut self, symbol: &str, now_ms: u64) -> Option<u64> {
        self.ensure(symbol);
        let state = self.symbols.get_mut(symbol)?;
        state.data_at_ms = Some(state.data_at_ms.map_or(now_ms, |at| at.max(now_ms)));
        state.stale_since_ms.take()
    }

    /// Replaces one leg with the venue's figures (start-up, reconciliation).
    pub fn set_position(
        &mut self,
        symbol: &str,
        side: PositionSide,
        qty: Qty,
        entry_price: Price,
    ) -> Result<(), MoneyError> {
        let mut legs = self.legs(symbol);
        let leg = &mut legs[leg_index(side)];
        leg.qty = qty;
        leg.cost_basis = entry_price.notional(qty);
        self.commit(symbol, Some(legs), None)
    }

    /// Applies one of our fills to the leg it belongs to and moves the wallet by its realised
    /// P&L minus its fee.
    pub fn apply_fill(
        &mut self,
        fill: &Fill,
        side: PositionSide,
    ) -> Result<FillOutcome, RiskError> {
        let fee = if fill.commission_asset == MARGIN_ASSET {
            fill.commission
        } else {
            Money::ZERO
        };
        let mut legs = self.legs(&fill.symbol);
        let effect = legs[leg_index(side)].apply_fill(fill.side, fill.quantity, fill.price, fee)?;
        let wallet = self.wallet.try_add(effect.realized_pnl)?.try_sub(fee)?;
        let fee_share = if effect.closed.is_zero() {
            Money::ZERO
        } else {
            fee.try_mul_div(effect.closed, fill.quantity, RoundingMode::HalfEven)?
        };
        let trade_pnl = effect.realized_pnl.try_sub(fee_share)?;
        self.commit(&fill.symbol, Some(legs), None)?;
        self.wallet = wallet;
        Ok(FillOutcome {
            closed: effect.closed,
            trade_pnl,
        })
    }
}
