//! Exact fixed-point money: [`Price`], [`Qty`], [`Rate`] and [`Money`].
//!
//! # Scale and range
//!
//! | type | storage | decimals | smallest step | range |
//! |---|---|---|---|---|
//! | [`Price`] | `i64` | 8 | 0.00000001 | ±92,233,720,368.54775807 |
//! | [`Qty`] | `i64` | 8 | 0.00000001 | ±92,233,720,368.54775807 |
//! | [`Rate`] | `i64` | 8 | 0.00000001 | ±92,233,720,368.54775807 |
//! | [`Money`] | `i128` | 16 | 0.0000000000000001 | ±17,014,118,346,046,923,173,168.73… |
//!
//! Eight decimals cover every tick and step size Binance lists (the finest are 10⁻⁸), and the
//! integer range covers any price or quantity an exchange quotes. [`Money`] carries sixteen
//! decimals so that a notional `price × qty` of two eight-decimal values is exact: the product
//! of the raw integers *is* the raw `Money`, with no rounding at all.
//!
//! Text is parsed exactly (never through a float) and an input that is out of range or has more
//! significant decimals than the type holds is an error, not a rounding. Arithmetic is checked:
//! overflow returns [`MoneyError::Overflow`] instead of wrapping.

mod decimal;
mod fixed;
mod money_value;

pub use fixed::{Price, Qty, Rate};
pub use money_value::{Money, RoundingMode};

/// Number of decimal places held by [`Price`], [`Qty`] and [`Rate`].
pub const FIXED_DECIMALS: u32 = 8;
/// The raw integer that represents 1.0 in [`Price`], [`Qty`] and [`Rate`].
pub const FIXED_ONE: i64 = 100_000_000;
/// Number of decimal places held by [`Money`].
pub const MONEY_DECIMALS: u32 = 16;
/// The raw integer that represents 1.0 in [`Money`].
pub const MONEY_ONE: i128 = 10_000_000_000_000_000;

/// Why a money value could not be parsed or computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The text is not a plain decimal number the type can hold exactly.
    #[error("invalid {type_name} {input:?}: {reason}")]
    Parse {
        /// Which type was being parsed (`price`, `qty`, ...).
        type_name: &'static str,
        /// The rejected text.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The value is well formed but outside the type's range.
    #[error("{type_name} {input:?} is out of range (the largest magnitude is {max})")]
    OutOfRange {
        /// Which type was being parsed.
        type_name: &'static str,
        /// The rejected text.
        input: String,
        /// The largest magnitude the type can hold.
        max: &'static str,
    },
    /// An arithmetic result does not fit in the type.
    #[error("{type_name} overflow in {operation}")]
    Overflow {
        /// The type whose range was exceeded.
        type_name: &'static str,
        /// The operation that overflowed (`add`, `mul`, ...).
        operation: &'static str,
    },
    /// A division by zero was attempted.
    #[error("{type_name} division by zero in {operation}")]
    DivisionByZero {
        /// The type of the dividend.
        type_name: &'static str,
        /// The operation attempted.
        operation: &'static str,
    },
}

impl MoneyError {
    fn parse(type_name: &'static str, input: &str, reason: &'static str) -> Self {
        Self::Parse {
            type_name,
            input: truncate(input),
            reason,
        }
    }

    fn out_of_range(type_name: &'static str, input: &str) -> Self {
        let max = if type_name == "money" {
            "17014118346046923173168.7303715884105727"
        } else {
            "92233720368.54775807"
        };
        Self::OutOfRange {
            type_name,
            input: truncate(input),
            max,
        }
    }

    const fn overflow(type_name: &'static str, operation: &'static str) -> Self {
        Self::Overflow {
            type_name,
            operation,
        }
    }
}

/// Keeps error messages bounded when the rejected input is huge.
fn truncate(input: &str) -> String {
    const LIMIT: usize = 64;
    match input.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &input[..cut]),
        None => input.to_owned(),
    }
}

#[cfg(test)]
mod tests;
