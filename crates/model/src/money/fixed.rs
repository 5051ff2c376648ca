//! The eight-decimal `i64` fixed-point types: [`Price`], [`Qty`] and [`Rate`].

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::decimal::{POW10, parse_fixed8, write_scaled};
use super::money_value::{Money, RoundingMode};
use super::{FIXED_DECIMALS, FIXED_ONE, MoneyError};

macro_rules! fixed_i64 {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(i64);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self(0);
            /// One whole unit (1.0).
            pub const ONE: Self = Self(FIXED_ONE);
            /// The largest representable value.
            pub const MAX: Self = Self(i64::MAX);
            /// The smallest representable value (the negation of [`Self::MAX`]).
            pub const MIN: Self = Self(-i64::MAX);
            /// The smallest positive step, 10⁻⁸.
            pub const EPSILON: Self = Self(1);

            /// Builds a value from its raw integer (`value × 10⁸`).
            #[must_use]
            pub const fn from_raw(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw integer (`value × 10⁸`).
            #[must_use]
            pub const fn raw(self) -> i64 {
                self.0
            }

            /// Builds a value from a whole number of units.
            ///
            /// # Errors
            /// [`MoneyError::Overflow`] when `units × 10⁸` does not fit.
            pub const fn from_int(units: i64) -> Result<Self, MoneyError> {
                match units.checked_mul(FIXED_ONE) {
                    Some(raw) => Ok(Self(raw)),
                    None => Err(MoneyError::overflow($label, "from_int")),
                }
            }

            /// Parses exact decimal text such as `"67250.10"` or `"-0.001"`.
            ///
            /// # Errors
            /// [`MoneyError::Parse`] for malformed text or more than eight significant
            /// decimals; [`MoneyError::OutOfRange`] when the magnitude is too large.
            pub fn parse(text: &str) -> Result<Self, MoneyError> {
                parse_fixed8(text, $label).map(Self)
            }

            /// Whether the value is exactly zero.
            #[must_use]
            pub const fn is_zero(self) -> bool {
                self.0 == 0
            }

            /// Whether the value is greater than zero.
            #[must_use]
            pub const fn is_positive(self) -> bool {
                self.0 > 0
            }

            /// Whether the value is less than zero.
            #[must_use]
            pub const fn is_negative(self) -> bool {
                self.0 < 0
            }

            /// The absolute value (always representable: [`Self::MIN`] is `-MAX`).
            #[must_use]
            pub const fn abs(self) -> Self {
                Self(self.0.saturating_abs())
            }

            /// Adds, failing on overflow.
            ///
            /// # Errors
            /// [`MoneyError::Overflow`].
            pub const fn try_add(self, rhs: Self) -> Result<Self, MoneyError> {
                match self.0.checked_add(rhs.0) {
                    Some(raw) if raw != i64::MIN => Ok(Self(raw)),
                    _ => Err(MoneyError::overflow($label, "add")),
                }
            }

            /// Subtracts, failing on overflow.
            ///
            /// # Errors
            /// [`MoneyError::Overflow`].
            pub const fn try_sub(self, rhs: Self) -> Result<Self, MoneyError> {
                match self.0.checked_sub(rhs.0) {
                    Some(raw) if raw != i64::MIN => Ok(Self(raw)),
                    _ => Err(MoneyError::overflow($label, "sub")),
                }
            }

            /// Negates (always representable).
            #[must_use]
            pub const fn neg(self) -> Self {
                Self(-self.0)
            }

            /// Multiplies by a whole number, failing on overflow.
            ///
            /// # Errors
            /// [`MoneyError::Overflow`].
            pub const fn try_mul_int(self, factor: i64) -> Result<Self, MoneyError> {
                match self.0.checked_mul(factor) {
                    Some(raw) if raw != i64::MIN => Ok(Self(raw)),
                    _ => Err(MoneyError::overflow($label, "mul")),
                }
            }

            /// Multiplies by a [`Rate`], rounding the 16-decimal product back to 8 decimals.
            ///
            /// # Errors
            /// [`MoneyError::Overflow`] when the result does not fit.
            pub fn try_mul_rate(self, rate: Rate, mode: RoundingMode) -> Result<Self, MoneyError> {
                let product = i128::from(self.0) * i128::from(rate.raw());
                let raw = mode.divide(product, i128::from(FIXED_ONE));
                i64::try_from(raw)
                    .ok()
                    .filter(|r| *r != i64::MIN)
                    .map(Self)
                    .ok_or(MoneyError::overflow($label, "mul_rate"))
            }

            /// Rounds to the nearest multiple of `step` counted from `origin`
            /// (`origin + k × step`), in the direction `mode` gives.
            ///
            /// A zero or negative `step` leaves the value unchanged, as an exchange filter
            /// whose step is 0 imposes no grid.
            ///
            /// # Errors
            /// [`MoneyError::Overflow`] when the rounded value does not fit.
            pub fn round_to_step(
                self,
                step: Self,
                origin: Self,
                mode: RoundingMode,
            ) -> Result<Self, MoneyError> {
                if step.0 <= 0 {
                    return Ok(self);
                }
                let offset = i128::from(self.0) - i128::from(origin.0);
                let steps = mode.divide(offset, i128::from(step.0));
                let raw = i128::from(origin.0) + steps * i128::from(step.0);
                i64::try_from(raw)
                    .ok()
                    .filter(|r| *r != i64::MIN)
                    .map(Self)
                    .ok_or(MoneyError::overflow($label, "round_to_step"))
            }

            /// Whether the value lies on the grid `origin + k × step` (any value does when
            /// `step` is zero).
            #[must_use]
            pub const fn is_on_step(self, step: Self, origin: Self) -> bool {
                step.0 <= 0 || (self.0 as i128 - origin.0 as i128) % step.0 as i128 == 0
            }

            /// The number of significant decimal places (`"0.0010"` → 3, `"5"` → 0).
            #[must_use]
            pub const fn decimal_places(self) -> u32 {
                let mut raw = self.0;
                let mut places = FIXED_DECIMALS;
                while places > 0 && raw % 10 == 0 {
                    raw /= 10;
                    places -= 1;
                }
                places
            }

            /// The same value as [`Money`] (exact: 8 decimals widen to 16).
            #[must_use]
            pub const fn to_money(self) -> Money {
                Money::from_raw(self.0 as i128 * POW10[8] as i128)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_scaled(f, i128::from(self.0), FIXED_DECIMALS)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = MoneyError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct FixedVisitor;

                impl Visitor<'_> for FixedVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!(
                            "a ",
                            $label,
                            " as a decimal string such as \"0.001\" or a whole number"
                        ))
                    }

                    fn visit_str<E: de::Error>(self, text: &str) -> Result<$name, E> {
                        $name::parse(text).map_err(E::custom)
                    }

                    fn visit_i64<E: de::Error>(self, units: i64) -> Result<$name, E> {
                        $name::from_int(units).map_err(E::custom)
                    }

                    fn visit_u64<E: de::Error>(self, units: u64) -> Result<$name, E> {
                        i64::try_from(units)
                            .map_err(|_| E::custom(MoneyError::overflow($label, "from_int")))
                            .and_then(|units| self.visit_i64(units))
                    }

                    fn visit_f64<E: de::Error>(self, _: f64) -> Result<$name, E> {
                        Err(E::custom(concat!(
                            "a ",
                            $label,
                            " must be written as a string (e.g. \"0.001\"): ",
                            "floating-point numbers are inexact"
                        )))
                    }
                }

                deserializer.deserialize_any(FixedVisitor)
            }
        }
    };
}

fixed_i64!(
    /// A price in quote currency per unit of base, exact to 10⁻⁸.
    Price,
    "price"
);
fixed_i64!(
    /// A quantity of the base asset (contracts), exact to 10⁻⁸. Signed so that a position
    /// can be expressed as one value (long > 0, short < 0); order quantities are positive.
    Qty,
    "qty"
);
fixed_i64!(
    /// A dimensionless ratio such as a fee rate (`0.0002`) or a price-band multiplier
    /// (`1.0500`), exact to 10⁻⁸.
    Rate,
    "rate"
);

impl Price {
    /// The exact notional `price × qty` in quote currency. Never rounds and never overflows:
    /// the product of two 8-decimal `i64`s always fits the 16-decimal `i128` of [`Money`].
    #[must_use]
    pub const fn notional(self, qty: Qty) -> Money {
        Money::from_raw(self.0 as i128 * qty.0 as i128)
    }

    /// The midpoint of two prices, rounded half to even at 10⁻⁸.
    #[must_use]
    pub fn midpoint(self, other: Self) -> Self {
        let sum = i128::from(self.0) + i128::from(other.0);
        // The mean of two i64 values always fits in an i64.
        Self(RoundingMode::HalfEven.divide(sum, 2) as i64)
    }
}
