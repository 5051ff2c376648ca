//! USDT-margined futures accounts with cross margin: wallet, leverage and brackets, positions,
//! fees, funding, margin checks, liquidation, and the figures the REST and user-stream shapes
//! report (`../shared/binance-futures.md` §3.5, §5.3, §8.3).
//!
//! It owns account state and its arithmetic; it does not match orders, keep the order book or
//! the open orders (the caller passes them in as [`OpenOrder`]s), read a clock (times come in
//! as `now_ms`), or serialize anything. P&L arithmetic is [`kestrel_model::position`]'s.
//!
//! # Rounding: one rule per figure, everything on the 10⁻⁸ grid
//!
//! Binance reports balances, commissions and P&L with 8 decimals, so every amount the account
//! books or reports is on that grid and is computed from exact inputs with a single rounding
//! (no double rounding, see `rounding`). What is reported is what is booked, so a monitor
//! summing the reported `rp`, `n` and funding amounts finds the wallet to the last unit.
//!
//! | figure | rule | mode |
//! |---|---|---|
//! | commission | `|price × qty| × fee rate` | half to even |
//! | realized P&L booked to the wallet | the position's exact realized P&L of the fill | half to even |
//! | funding payment | `mark × qty × rate` per leg | half to even |
//! | unrealized P&L, `notional`, `bid/askNotional` | `mark × qty − cost basis`, `mark × qty`, Σ orders | half to even |
//! | position initial margin | `|mark × qty| / leverage` | up (ceil) |
//! | open-order initial margin | see below, `/ leverage` | up (ceil) |
//! | maintenance margin | `|mark × qty| × MMR` (then `− cum`) | up (ceil) |
//! | `entryPrice` / `breakEvenPrice` | model's `entry_price` / `entry × (1 ± 2·taker)` | half to even |
//!
//! Half to even is symmetric, so a rebate (negative maker rate) and a received funding payment
//! round like their positive twins, and a long and a short of the same size pay and receive
//! exactly the same funding. Requirements round up, so they are never understated. Totals are
//! the exact sums of the per-leg figures. Deposits must already sit on the grid.
//!
//! # Cross margin
//!
//! Per leg (a symbol's `BOTH`, or its `LONG` and `SHORT` in hedge mode), at the mark: initial
//! margin `|notional| / leverage`; maintenance margin `|notional| × MMR − cum` of the
//! notional's bracket ([`brackets`]). Open orders need margin by Binance's rule
//! `max(|P + bids|, |P − asks|) − |P|` (divided by the leverage; `P` the signed position
//! notional, `bids`/`asks` the orders' notionals at their prices): the part of an order that
//! reduces the position needs none. In hedge mode a leg's closing orders need none.
//! Margin balance = wallet + unrealized P&L; available = margin balance − position initial
//! margin − open-order initial margin, reported unclamped (negative when short of margin;
//! `maxWithdrawAmount` is clamped at zero). `ISOLATED` is stored and reported, but every
//! position is margined cross. A missing mark falls back to the leg's entry price.
//!
//! # Market participants
//!
//! Accounts flagged as the synthetic market's agents pay no commission, are never refused by
//! [`Account::check_new_order`], are never liquidatable, and have no liquidation price. They
//! pay and receive funding like everyone else, so funding stays zero-sum.
//!
//! # Refusals
//!
//! | code | variant | when |
//! |---|---|---|
//! | -2019 | [`AccountError::MarginInsufficient`] | a new order's margin exceeds the available balance |
//! | -2022 | [`AccountError::LegWouldCross`] | a fill would take a hedge leg past zero |
//! | -2027 | [`AccountError::AboveLeverageCap`] | position + orders above the leverage's notional cap |
//! | -4028 | [`AccountError::InvalidLeverage`] | leverage outside 1..=the symbol's maximum |
//! | -4046 / -4047 / -4048 | `MarginType*` | margin type unchanged / open orders / open position |
//! | -4059 / -4067 / -4068 | `PositionMode*` | position mode unchanged / open orders / open position |
//! | -4061 | [`AccountError::PositionSideMismatch`] | position side does not fit the mode |
//! | -1130 | [`AccountError::InvalidParameter`] | bad deposit, brackets, account number or key |
//! | -1000 | [`AccountError::Arithmetic`] | overflow at magnitudes no real account reaches |

mod booking;
pub mod brackets;
mod error;
mod liquidation;
mod margin;
mod registry;
mod report;
pub mod rounding;
mod settings;
mod state;

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use kestrel_model::money::Price;

pub use booking::{Execution, FillBooking, MARGIN_ASSET};
pub use brackets::{BracketTier, Brackets, LeverageBracket};
pub use error::AccountError;
pub use liquidation::ClosingOrder;
pub use margin::{LegMargin, MarginSheet, OpenOrder};
pub use registry::Accounts;
pub use report::{AccountTotals, PositionRisk};
pub use settings::LeverageChange;
pub use state::{Account, DEFAULT_LEVERAGE, DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE, MarginType};

/// Where the account reads mark prices: any map from symbol to mark.
pub trait MarkPrices {
    /// The mark price of `symbol`, if known.
    fn mark(&self, symbol: &str) -> Option<Price>;
}

impl MarkPrices for BTreeMap<String, Price> {
    fn mark(&self, symbol: &str) -> Option<Price> {
        self.get(symbol).copied()
    }
}

impl<S: BuildHasher> MarkPrices for HashMap<String, Price, S> {
    fn mark(&self, symbol: &str) -> Option<Price> {
        self.get(symbol).copied()
    }
}

#[cfg(test)]
mod tests;
