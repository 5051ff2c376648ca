//! [`Money`]: a sixteen-decimal `i128` amount in a quote or margin asset, and [`RoundingMode`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::decimal::{POW10, parse_scaled, round_half_even, write_scaled};
use super::fixed::{Price, Qty, Rate};
use super::{FIXED_ONE, MONEY_DECIMALS, MoneyError};

/// How a division or a coarser scale rounds the part it cannot keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Toward negative infinity (a buy's price rounded to tick).
    Floor,
    /// Toward positive infinity (a sell's price rounded to tick).
    Ceil,
    /// Toward zero (truncation; a quantity rounded to step never grows).
    TowardZero,
    /// To the nearest, ties to the even neighbour (banker's rounding).
    HalfEven,
}

impl RoundingMode {
    /// Divides `numerator` by a positive `denominator` with this rounding.
    pub(crate) fn divide(self, numerator: i128, denominator: i128) -> i128 {
        debug_assert!(denominator > 0, "rounding divisor must be positive");
        match self {
            Self::Floor => numerator.div_euclid(denominator),
            Self::Ceil => -(-numerator).div_euclid(denominator),
            Self::TowardZero => numerator / denominator,
            Self::HalfEven => round_half_even(numerator, denominator),
        }
    }
}

/// An amount of an asset (balance, notional, P&L, fee), exact to 10⁻¹⁶.
///
/// `Price × Qty` lands here without rounding. Division (average prices, proportional cost)
/// takes an explicit [`RoundingMode`].
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i128);

impl Money {
    /// Zero.
    pub const ZERO: Self = Self(0);
    /// The largest representable amount.
    pub const MAX: Self = Self(i128::MAX);
    /// The smallest representable amount (the negation of [`Self::MAX`]).
    pub const MIN: Self = Self(-i128::MAX);

    /// Builds an amount from its raw integer (`value × 10¹⁶`).
    #[must_use]
    pub const fn from_raw(raw: i128) -> Self {
        Self(raw)
    }

    /// The raw integer (`value × 10¹⁶`).
    #[must_use]
    pub const fn raw(self) -> i128 {
        self.0
    }

    /// Parses exact decimal text such as `"1000.12345678"`.
    ///
    /// # Errors
    /// [`MoneyError::Parse`] for malformed text or more than sixteen significant decimals;
    /// [`MoneyError::OutOfRange`] when the magnitude is too large.
    pub fn parse(text: &str) -> Result<Self, MoneyError> {
        parse_scaled(text, MONEY_DECIMALS, i128::MAX as u128, "money").map(Self)
    }

    /// Whether the amount is exactly zero.
    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether the amount is greater than zero.
    #[must_use]
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Whether the amount is less than zero.
    #[must_use]
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The absolute value.
    #[must_use]
    pub const fn abs(self) -> Self {
        Self(self.0.saturating_abs())
    }

    /// Negates (always representable).
    #[must_use]
    pub const fn neg(self) -> Self {
        Self(-self.0)
    }

    /// Adds, failing on overflow.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub const fn try_add(self, rhs: Self) -> Result<Self, MoneyError> {
        match self.0.checked_add(rhs.0) {
            Some(raw) if raw != i128::MIN => Ok(Self(raw)),
            _ => Err(MoneyError::overflow("money", "add")),
        }
    }

    /// Subtracts, failing on overflow.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub const fn try_sub(self, rhs: Self) -> Result<Self, MoneyError> {
        match self.0.checked_sub(rhs.0) {
            Some(raw) if raw != i128::MIN => Ok(Self(raw)),
            _ => Err(MoneyError::overflow("money", "sub")),
        }
    }

    /// Multiplies by a [`Rate`] (a fee rate, a margin ratio), rounding to 10⁻¹⁶.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn try_mul_rate(self, rate: Rate, mode: RoundingMode) -> Result<Self, MoneyError> {
        let product = self
            .0
            .checked_mul(i128::from(rate.raw()))
            .ok_or(MoneyError::overflow("money", "mul_rate"))?;
        Ok(Self(mode.divide(product, i128::from(FIXED_ONE))))
    }

    /// Computes `self × numerator / denominator` (a proportional share, such as the cost basis
    /// of the part of a position being closed), rounding to 10⁻¹⁶.
    ///
    /// # Errors
    /// [`MoneyError::DivisionByZero`] when `denominator` is zero; [`MoneyError::Overflow`]
    /// when the intermediate product does not fit.
    pub fn try_mul_div(
        self,
        numerator: Qty,
        denominator: Qty,
        mode: RoundingMode,
    ) -> Result<Self, MoneyError> {
        if denominator.is_zero() {
            return Err(MoneyError::DivisionByZero {
                type_name: "money",
                operation: "mul_div",
            });
        }
        let sign = i128::from(denominator.raw().signum());
        let product = self
            .0
            .checked_mul(i128::from(numerator.raw()) * sign)
            .ok_or(MoneyError::overflow("money", "mul_div"))?;
        Ok(Self(
            mode.divide(product, i128::from(denominator.raw().abs())),
        ))
    }

    /// The price that, times `qty`, gives this amount (an average price from a cost basis),
    /// rounded to 10⁻⁸.
    ///
    /// # Errors
    /// [`MoneyError::DivisionByZero`] when `qty` is zero; [`MoneyError::Overflow`] when the
    /// price does not fit.
    pub fn try_div_qty(self, qty: Qty, mode: RoundingMode) -> Result<Price, MoneyError> {
        if qty.is_zero() {
            return Err(MoneyError::DivisionByZero {
                type_name: "money",
                operation: "div_qty",
            });
        }
        let sign = i128::from(qty.raw().signum());
        // money raw (10⁻¹⁶) / qty raw (10⁻⁸) is a price raw (10⁻⁸).
        let raw = mode.divide(self.0 * sign, i128::from(qty.raw().abs()));
        i64::try_from(raw)
            .ok()
            .filter(|r| *r != i64::MIN)
            .map(Price::from_raw)
            .ok_or(MoneyError::overflow("price", "div_qty"))
    }

    /// The quantity that, at `price`, is worth this amount (how much a notional buys), rounded
    /// to 10⁻⁸.
    ///
    /// # Errors
    /// [`MoneyError::DivisionByZero`] when `price` is zero; [`MoneyError::Overflow`] when the
    /// quantity does not fit.
    pub fn try_div_price(self, price: Price, mode: RoundingMode) -> Result<Qty, MoneyError> {
        if price.is_zero() {
            return Err(MoneyError::DivisionByZero {
                type_name: "money",
                operation: "div_price",
            });
        }
        let sign = i128::from(price.raw().signum());
        // money raw (10⁻¹⁶) / price raw (10⁻⁸) is a qty raw (10⁻⁸).
        let raw = mode.divide(self.0 * sign, i128::from(price.raw().abs()));
        i64::try_from(raw)
            .ok()
            .filter(|r| *r != i64::MIN)
            .map(Qty::from_raw)
            .ok_or(MoneyError::overflow("qty", "div_price"))
    }

    /// Rounds to `decimals` places (at most 16), as an exchange does when it reports a
    /// balance or a commission to eight decimals.
    #[must_use]
    pub fn round_dp(self, decimals: u32, mode: RoundingMode) -> Self {
        if decimals >= MONEY_DECIMALS {
            return self;
        }
        let unit = POW10[(MONEY_DECIMALS - decimals) as usize] as i128;
        Self(mode.divide(self.0, unit) * unit)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(f, self.0, MONEY_DECIMALS)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MoneyVisitor;

        impl serde::de::Visitor<'_> for MoneyVisitor {
            type Value = Money;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount as a decimal string such as \"1000.5\" or a whole number")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Money, E> {
                Money::parse(text).map_err(E::custom)
            }

            fn visit_i64<E: serde::de::Error>(self, units: i64) -> Result<Money, E> {
                Ok(Money(
                    i128::from(units) * POW10[MONEY_DECIMALS as usize] as i128,
                ))
            }

            fn visit_u64<E: serde::de::Error>(self, units: u64) -> Result<Money, E> {
                Ok(Money(
                    i128::from(units) * POW10[MONEY_DECIMALS as usize] as i128,
                ))
            }

            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Money, E> {
                Err(E::custom(
                    "an amount must be written as a string (e.g. \"1000.5\"): floating-point numbers are inexact",
                ))
            }
        }

        deserializer.deserialize_any(MoneyVisitor)
    }
}
