//! Leverage brackets: Binance's tiered limits on leverage and maintenance margin by position
//! notional, as `GET /fapi/v1/leverageBracket` lists them (`../shared/binance-futures.md` §3.5).
//!
//! A symbol's brackets are written as tiers (notional cap, highest leverage, maintenance margin
//! ratio); each tier's floor is the previous cap and its maintenance amount `cum` is derived as
//! Binance defines it, `cum_i = cum_(i-1) + floor_i × (MMR_i − MMR_(i-1))`, which makes the
//! maintenance margin `notional × MMR − cum` continuous across tiers. A notional belongs to the
//! first bracket whose cap it does not exceed (`floor < notional ≤ cap`); beyond the last cap
//! the last bracket applies.

use std::collections::BTreeMap;

use kestrel_model::money::{MONEY_ONE, Money, Rate, RoundingMode};

use super::error::AccountError;
use super::rounding;

/// The highest leverage Binance accepts on any symbol.
pub const MAX_LEVERAGE: u32 = 125;

/// One bracket of a symbol, as `/fapi/v1/leverageBracket` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeverageBracket {
    /// The bracket number, from 1 (`bracket`).
    pub bracket: u32,
    /// The highest leverage a position in this bracket may use (`initialLeverage`).
    pub initial_leverage: u32,
    /// The notional this bracket starts above, in USDT (`notionalFloor`).
    pub notional_floor: Money,
    /// The largest notional in this bracket, in USDT (`notionalCap`).
    pub notional_cap: Money,
    /// The maintenance margin ratio (`maintMarginRatio`).
    pub maint_margin_ratio: Rate,
    /// The maintenance amount subtracted from `notional × MMR` (`cum`).
    pub cum: Money,
}

impl LeverageBracket {
    /// Maintenance margin of a position of absolute notional `notional` in this bracket:
    /// `notional × MMR`, rounded up to 10⁻⁸, minus `cum`.
    ///
    /// # Errors
    /// [`AccountError::Arithmetic`] for absurd magnitudes.
    pub fn maint_margin(&self, notional: Money) -> Result<Money, AccountError> {
        let gross =
            rounding::mul_rate(notional.abs(), self.maint_margin_ratio, RoundingMode::Ceil)?;
        Ok(gross.try_sub(self.cum)?)
    }
}

/// A bracket as written in a table; the floor and `cum` are derived (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BracketTier {
    /// The largest notional of the tier, in whole USDT.
    pub notional_cap: u64,
    /// The highest leverage a position in the tier may use.
    pub max_leverage: u32,
    /// The maintenance margin ratio.
    pub maint_margin_ratio: Rate,
}

/// The brackets of every symbol, with a generic schedule for symbols without their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brackets {
    by_symbol: BTreeMap<String, Vec<LeverageBracket>>,
    fallback: Vec<LeverageBracket>,
}

impl Default for Brackets {
    fn default() -> Self {
        Self::binance_defaults()
    }
}

impl Brackets {
    /// Binance-like defaults for BTCUSDT, ETHUSDT and SOLUSDT, and a generic schedule for
    /// every other symbol (the tables are in the source, `DEFAULT_*`).
    #[must_use]
    pub fn binance_defaults() -> Self {
        let build = |table: &[(u64, u32, i64)]| schedule_unchecked(&tiers_from_table(table));
        let by_symbol = [
            ("BTCUSDT", build(&BTCUSDT)),
            ("ETHUSDT", build(&ETHUSDT)),
            ("SOLUSDT", build(&SOLUSDT)),
        ]
        .into_iter()
        .map(|(symbol, brackets)| (symbol.to_owned(), brackets))
        .collect();
        Self {
            by_symbol,
            fallback: build(&GENERIC),
        }
    }

    /// Brackets built from a generic schedule only (no per-symbol tables).
    ///
    /// # Errors
    /// As [`schedule`].
    pub fn with_fallback(tiers: &[BracketTier]) -> Result<Self, AccountError> {
        Ok(Self {
            by_symbol: BTreeMap::new(),
            fallback: schedule(tiers)?,
        })
    }

    /// Sets `symbol`'s schedule, replacing any it had.
    ///
    /// # Errors
    /// As [`schedule`].
    pub fn insert(&mut self, symbol: &str, tiers: &[BracketTier]) -> Result<(), AccountError> {
        self.by_symbol.insert(symbol.to_owned(), schedule(tiers)?);
        Ok(())
    }

    /// The brackets of `symbol` (its own, or the generic schedule), lowest notional first.
    #[must_use]
    pub fn for_symbol(&self, symbol: &str) -> &[LeverageBracket] {
        self.by_symbol.get(symbol).unwrap_or(&self.fallback)
    }

    /// The symbols with a schedule of their own, in order.
    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.by_symbol.keys().map(String::as_str)
    }

    /// The bracket an absolute notional falls in (the last one beyond the last cap).
    #[must_use]
    pub fn bracket_for(&self, symbol: &str, notional: Money) -> &LeverageBracket {
        let brackets = self.for_symbol(symbol);
        let notional = notional.abs();
        // Schedules are never empty (`schedule` refuses that), so `last` always exists.
        brackets
            .iter()
            .find(|b| notional <= b.notional_cap)
            .or_else(|| brackets.last())
            .unwrap_or(&GUARD_BRACKET)
    }

    /// The highest leverage `symbol` allows (its first bracket's).
    #[must_use]
    pub fn max_leverage(&self, symbol: &str) -> u32 {
        self.for_symbol(symbol)
            .first()
            .map_or(1, |b| b.initial_leverage)
    }

    /// The largest notional a position may reach at `leverage` (`maxNotionalValue`): the cap
    /// of the last bracket that still allows that leverage; `None` above the symbol's maximum.
    #[must_use]
    pub fn max_notional(&self, symbol: &str, leverage: u32) -> Option<Money> {
        self.for_symbol(symbol)
            .iter()
            .take_while(|b| b.initial_leverage >= leverage)
            .last()
            .map(|b| b.notional_cap)
    }
}

/// Builds a symbol's brackets from its tiers, deriving floors and `cum`.
///
/// # Errors
/// [`AccountError::InvalidParameter`] (`brackets`) unless: there is at least one tier; caps
/// rise strictly; leverages lie in 1–125 and never rise; ratios lie in (0, 1), never fall, and
/// `MMR × leverage < 1` (a position opened at the bracket's leverage is not born liquidatable).
pub fn schedule(tiers: &[BracketTier]) -> Result<Vec<LeverageBracket>, AccountError> {
    if tiers.is_empty() {
        return Err(AccountError::invalid("brackets", "no tiers"));
    }
    for (i, tier) in tiers.iter().enumerate() {
        check_tier(tier).map_err(|reason| AccountError::invalid("brackets", reason))?;
        if let Some(prev) = i.checked_sub(1).and_then(|p| tiers.get(p)) {
            check_order(prev, tier).map_err(|reason| AccountError::invalid("brackets", reason))?;
        }
    }
    Ok(schedule_unchecked(tiers))
}

fn check_tier(tier: &BracketTier) -> Result<(), String> {
    let ratio = tier.maint_margin_ratio.raw();
    let leverage = tier.max_leverage;
    if !(1..=MAX_LEVERAGE).contains(&leverage) {
        return Err(format!("leverage {leverage} is outside 1-{MAX_LEVERAGE}"));
    }
    if ratio <= 0 || ratio.saturating_mul(i64::from(leverage)) >= Rate::ONE.raw() {
        let mmr = tier.maint_margin_ratio;
        return Err(format!("ratio {mmr} must be > 0 and < 1/{leverage}"));
    }
    Ok(())
}

fn check_order(prev: &BracketTier, tier: &BracketTier) -> Result<(), String> {
    if tier.notional_cap <= prev.notional_cap {
        return Err(format!("cap {} does not rise", tier.notional_cap));
    }
    if tier.max_leverage > prev.max_leverage {
        return Err(format!("leverage {} rises", tier.max_leverage));
    }
    if tier.maint_margin_ratio < prev.maint_margin_ratio {
        return Err(format!("ratio {} falls", tier.maint_margin_ratio));
    }
    Ok(())
}

/// Derives floors and `cum` from tiers already validated (or from the constant tables).
fn schedule_unchecked(tiers: &[BracketTier]) -> Vec<LeverageBracket> {
    let mut brackets: Vec<LeverageBracket> = Vec::with_capacity(tiers.len());
    for (number, tier) in (1u32..).zip(tiers) {
        let (floor, cum) = match brackets.last() {
            None => (Money::ZERO, Money::ZERO),
            Some(prev) => (prev.notional_cap, next_cum(prev, tier.maint_margin_ratio)),
        };
        brackets.push(LeverageBracket {
            bracket: number,
            initial_leverage: tier.max_leverage,
            notional_floor: floor,
            notional_cap: whole_usdt(tier.notional_cap),
            maint_margin_ratio: tier.maint_margin_ratio,
            cum,
        });
    }
    brackets
}

/// `cum` of the bracket after `prev`: exact, as a whole-USDT floor times an 8-decimal ratio
/// difference has at most 8 decimals (and cannot overflow: a `u64` cap times a ratio below 1
/// is far inside `Money`'s range, so the saturating fallback is never taken).
fn next_cum(prev: &LeverageBracket, ratio: Rate) -> Money {
    let step = Rate::from_raw(ratio.raw().saturating_sub(prev.maint_margin_ratio.raw()));
    prev.notional_cap
        .try_mul_rate(step, RoundingMode::HalfEven)
        .and_then(|extra| prev.cum.try_add(extra))
        .unwrap_or(Money::MAX)
}

fn whole_usdt(units: u64) -> Money {
    Money::from_raw(i128::from(units) * MONEY_ONE)
}

/// Tables of `(notional cap in USDT, max leverage, MMR in millionths)`.
fn tiers_from_table(table: &[(u64, u32, i64)]) -> Vec<BracketTier> {
    table
        .iter()
        .map(|&(cap, leverage, mmr_millionths)| BracketTier {
            notional_cap: cap,
            max_leverage: leverage,
            maint_margin_ratio: Rate::from_raw(mmr_millionths * 100),
        })
        .collect()
}

/// Stands in for a bracket where a schedule is empty, which `schedule` makes impossible.
const GUARD_BRACKET: LeverageBracket = LeverageBracket {
    bracket: 1,
    initial_leverage: 1,
    notional_floor: Money::ZERO,
    notional_cap: Money::MAX,
    maint_margin_ratio: Rate::from_raw(50_000_000),
    cum: Money::ZERO,
};

/// BTCUSDT, after Binance's 2024 schedule: 125x up to 50,000 USDT at 0.4 %.
const BTCUSDT: [(u64, u32, i64); 10] = [
    (50_000, 125, 4_000),
    (500_000, 100, 5_000),
    (8_000_000, 50, 10_000),
    (50_000_000, 20, 25_000),
    (80_000_000, 10, 50_000),
    (100_000_000, 5, 100_000),
    (120_000_000, 4, 125_000),
    (200_000_000, 3, 150_000),
    (300_000_000, 2, 250_000),
    (500_000_000, 1, 500_000),
];

/// ETHUSDT, after Binance's 2024 schedule.
const ETHUSDT: [(u64, u32, i64); 10] = [
    (50_000, 125, 4_000),
    (500_000, 100, 5_000),
    (1_000_000, 75, 6_500),
    (5_000_000, 50, 10_000),
    (50_000_000, 20, 20_000),
    (100_000_000, 10, 50_000),
    (150_000_000, 5, 100_000),
    (300_000_000, 4, 125_000),
    (500_000_000, 2, 250_000),
    (800_000_000, 1, 500_000),
];

/// SOLUSDT: 75x up to 5,000 USDT at 0.5 %.
const SOLUSDT: [(u64, u32, i64); 10] = [
    (5_000, 75, 5_000),
    (50_000, 50, 10_000),
    (250_000, 25, 20_000),
    (1_000_000, 20, 25_000),
    (5_000_000, 10, 50_000),
    (10_000_000, 5, 100_000),
    (15_000_000, 4, 125_000),
    (25_000_000, 3, 150_000),
    (50_000_000, 2, 250_000),
    (100_000_000, 1, 500_000),
];

/// Every other symbol: 50x up to 5,000 USDT at 1 %.
const GENERIC: [(u64, u32, i64); 6] = [
    (5_000, 50, 10_000),
    (25_000, 20, 25_000),
    (100_000, 10, 50_000),
    (250_000, 5, 100_000),
    (1_000_000, 2, 250_000),
    (5_000_000, 1, 500_000),
];
