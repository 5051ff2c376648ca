//! Cross-margin liquidation: the trigger, the `liquidationPrice` of positionRisk, and the
//! closing orders the exchange layer sends (as `autoclose-…` orders) when it fires.

use kestrel_model::money::{Money, Price, Qty};
use kestrel_model::order::{PositionSide, Side};

use super::MarkPrices;
use super::error::AccountError;
use super::state::Account;

/// An order that closes one leg: what the exchange layer sends on liquidation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosingOrder {
    /// The symbol.
    pub symbol: String,
    /// The leg being closed.
    pub position_side: PositionSide,
    /// The side that closes it (sell for a long, buy for a short).
    pub side: Side,
    /// The quantity to close (positive).
    pub qty: Qty,
}

impl Account {
    /// Whether cross margin has run out: some position is open and the margin balance
    /// (wallet + unrealized P&L) is at or below the total maintenance margin — Binance's
    /// margin ratio reaching 100 %. Never true for a market participant. Open orders play no
    /// part (they are cancelled before a liquidation).
    ///
    /// # Errors
    /// [`AccountError::Arithmetic`] for absurd magnitudes.
    pub fn is_liquidatable(&self, marks: &impl MarkPrices) -> Result<bool, AccountError> {
        if self.market_participant || !self.has_open_position() {
            return Ok(false);
        }
        Ok(!self.margin_surplus(marks, None)?.is_positive())
    }

    /// Margin balance minus total maintenance margin, with `symbol`'s mark replaced by the
    /// given price when `moved` is `Some((symbol, price))`.
    fn margin_surplus(
        &self,
        marks: &impl MarkPrices,
        moved: Option<(&str, Price)>,
    ) -> Result<Money, AccountError> {
        let mut surplus = self.wallet;
        for (symbol, state) in &self.symbols {
            for leg in state.legs.values() {
                let mark = match moved {
                    Some((moved_symbol, price)) if moved_symbol == symbol => price,
                    _ => self.mark_for(symbol, Some(&leg.position), marks),
                };
                let risk = self.leg_risk(symbol, Some(&leg.position), mark)?;
                surplus = surplus
                    .try_add(risk.unrealized_pnl)?
                    .try_sub(risk.maint_margin)?;
            }
        }
        Ok(surplus)
    }

    /// The `liquidationPrice` of `symbol`'s positions: the mark of `symbol` at which
    /// [`Self::is_liquidatable`] turns true, every other symbol staying at its mark (cross
    /// margin; both hedge legs move with the one mark).
    ///
    /// Found by bisection on the 10⁻⁸ price grid with the very figures `is_liquidatable`
    /// uses, so for a net long the account is liquidatable at the returned price and not one
    /// step above it; for a net short, liquidatable at it and not one step below. Returns zero
    /// when the symbol's net position is flat, when a long is safe at every positive price, for
    /// a short no price can reach, and for market participants.
    ///
    /// # Errors
    /// [`AccountError::Arithmetic`] for absurd magnitudes at the current marks.
    pub fn liquidation_price(
        &self,
        symbol: &str,
        marks: &impl MarkPrices,
    ) -> Result<Price, AccountError> {
        let Some(state) = self.symbols.get(symbol) else {
            return Ok(Price::ZERO);
        };
        let mut net = Qty::ZERO;
        for leg in state.legs.values() {
            net = net.try_add(leg.position.qty)?;
        }
        if self.market_participant || net.is_zero() {
            return Ok(Price::ZERO);
        }
        let open = state.legs.values().find(|l| !l.position.qty.is_zero());
        let mark = self.mark_for(symbol, open.map(|l| &l.position), marks);
        let start = mark.raw().max(1);
        let now_liquidatable = !self.margin_surplus(marks, None)?.is_positive();
        // Probes far from the mark can overflow only at absurd prices, where the position is
        // certainly liquidatable: count an error as liquidatable.
        let liquidatable = |raw: i64| {
            self.margin_surplus(marks, Some((symbol, Price::from_raw(raw))))
                .map_or(true, |surplus| !surplus.is_positive())
        };
        let raw = if net.is_positive() {
            long_boundary(start, now_liquidatable, liquidatable)
        } else {
            short_boundary(start, now_liquidatable, liquidatable)
        };
        Ok(Price::from_raw(raw))
    }

    /// Orders that close every open leg, by symbol then position side.
    #[must_use]
    pub fn closing_orders(&self) -> Vec<ClosingOrder> {
        self.symbols
            .iter()
            .flat_map(|(symbol, state)| {
                state.legs.iter().filter_map(move |(&position_side, leg)| {
                    let qty = leg.position.qty;
                    (!qty.is_zero()).then(|| ClosingOrder {
                        symbol: symbol.clone(),
                        position_side,
                        side: if qty.is_positive() {
                            Side::Sell
                        } else {
                            Side::Buy
                        },
                        qty: qty.abs(),
                    })
                })
            })
            .collect()
    }
}

/// A net long is liquidatable below its boundary: the highest raw price where it is.
fn long_boundary(mark: i64, at_mark: bool, liquidatable: impl Fn(i64) -> bool) -> i64 {
    if at_mark {
        return match double_until(mark, |raw| !liquidatable(raw)) {
            Some(safe) => bisect(mark, safe, &liquidatable).0,
            None => i64::MAX,
        };
    }
    if !liquidatable(1) {
        return 0;
    }
    bisect(1, mark, &liquidatable).0
}

/// A net short is liquidatable above its boundary: the lowest raw price where it is.
fn short_boundary(mark: i64, at_mark: bool, liquidatable: impl Fn(i64) -> bool) -> i64 {
    if at_mark {
        if liquidatable(1) {
            return 1;
        }
        return bisect(1, mark, &liquidatable).1;
    }
    match double_until(mark, &liquidatable) {
        Some(hit) => bisect(mark, hit, &liquidatable).1,
        None => 0,
    }
}

/// The first of `start × 2, × 4, …` (capped at the largest price) where `found` holds.
fn double_until(start: i64, found: impl Fn(i64) -> bool) -> Option<i64> {
    let mut raw = start;
    while raw < i64::MAX {
        raw = raw.saturating_mul(2);
        if found(raw) {
            return Some(raw);
        }
    }
    None
}

/// Narrows `lo < hi`, where `test` differs between the two ends, to adjacent prices
/// `(lo, lo + 1)` that still differ.
fn bisect(mut lo: i64, mut hi: i64, test: &impl Fn(i64) -> bool) -> (i64, i64) {
    let at_lo = test(lo);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if test(mid) == at_lo {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo, hi)
}
