//! Depth levels: a JSON array of `[price, qty]` string pairs parsed straight into a reused
//! `Vec<Level>` (`binance-futures.md` §6.2 for streams, §3.2 for the REST snapshot).
//!
//! Two ways in, one result:
//! - [`scan_levels`]: with sonic-rs, the walk takes the array's raw text (sonic-rs has already
//!   skipped and validated it) and this reads it in one pass, parsing each decimal as it goes.
//!   It only accepts the exact shape Binance sends (`[["p","q"],...]`, no whitespace, plain
//!   positive decimals); on anything else it gives up and the general path below re-reads the
//!   same text, so the outcome never depends on which path ran.
//! - [`LevelsSeed`]: the general serde path (serde_json, and the fallback), element by element.
//!   A malformed level does not stop the walk (see `walk.rs`): it is skipped and the first one
//!   is recorded as a [`LevelFault`], which the normaliser reports when the event uses the list.

use std::fmt;
use std::marker::PhantomData;

use kestrel_model::book::Level;
use kestrel_model::{MoneyError, Price, Qty};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::keys::Key;
use super::walk::{drain_map, drain_seq};
use crate::binance::decimal;
use crate::binance::error::{ParseError, decimal_reason, truncate};

/// The first malformed level of a frame: which list, which element, what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LevelFault {
    /// The key of the list (`b`, `a`, `bids`, `asks`).
    pub(super) key: Key,
    /// The element's index in the list.
    pub(super) index: usize,
    /// What was wrong with it.
    pub(super) problem: LevelProblem,
}

/// What was wrong with a level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LevelProblem {
    /// Not a `[price, qty]` pair of strings.
    Shape(&'static str),
    /// A well-formed pair whose price or quantity is not an acceptable decimal.
    Decimal {
        /// `price` or `qty`.
        field: &'static str,
        /// The text found.
        text: String,
        /// Why it was refused.
        reason: String,
    },
}

impl LevelFault {
    /// The error to report, for an event named `event`.
    pub(super) fn to_error(&self, event: &str) -> ParseError {
        let place = format!("{event}.{}[{}]", self.key.name(), self.index);
        match &self.problem {
            LevelProblem::Shape(reason) => ParseError::BadLevel { place, reason },
            LevelProblem::Decimal {
                field,
                text,
                reason,
            } => ParseError::BadDecimal {
                place: format!("{place}.{field}"),
                text: text.clone(),
                reason: reason.clone(),
            },
        }
    }
}

/// Fills `out` with the levels of one array, recording the first malformed one in `fault`.
pub(super) struct LevelsSeed<'b> {
    pub(super) out: &'b mut Vec<Level>,
    pub(super) fault: &'b mut Option<LevelFault>,
    pub(super) key: Key,
}

impl LevelsSeed<'_> {
    /// Reads the array's elements (the `[` has been consumed by the caller's visitor).
    #[inline]
    pub(super) fn fill<'de, S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        self.out.clear();
        let mut index = 0;
        while let Some(level) = seq.next_element_seed(PairSeed)? {
            match level {
                Ok(level) => self.out.push(level),
                Err(problem) => {
                    if self.fault.is_none() {
                        *self.fault = Some(LevelFault {
                            key: self.key,
                            index,
                            problem,
                        });
                    }
                }
            }
            index += 1;
        }
        Ok(())
    }
}

/// Reads the raw text of a level array in Binance's exact shape, `[["p","q"],...]` with no
/// whitespace and plain positive decimals, into `out`; `None` (with `out` in an unspecified
/// state) for any other text, which the general path then decides.
#[inline]
pub(super) fn scan_levels(raw: &[u8], out: &mut Vec<Level>) -> Option<()> {
    scan_levels_prefix(raw, out)?.is_empty().then_some(())
}

/// As [`scan_levels`] for a list at the start of `bytes` (the byte scanner's case, where the
/// frame goes on after it): the bytes after its closing `]`.
#[inline]
pub(super) fn scan_levels_prefix<'b>(bytes: &'b [u8], out: &mut Vec<Level>) -> Option<&'b [u8]> {
    out.clear();
    let mut rest = match bytes {
        [b'[', b']', rest @ ..] => return Some(rest),
        [b'[', rest @ ..] => rest,
        _ => return None,
    };
    loop {
        let [b'[', b'"', tail @ ..] = rest else {
            return None;
        };
        let (price, tail) = quoted_decimal(tail)?;
        let [b',', b'"', tail @ ..] = tail else {
            return None;
        };
        let (qty, tail) = quoted_decimal(tail)?;
        let [b']', separator, tail @ ..] = tail else {
            return None;
        };
        if price <= 0 {
            return None;
        }
        out.push(Level::new(Price::from_raw(price), Qty::from_raw(qty)));
        match separator {
            b',' => rest = tail,
            b']' => return Some(tail),
            _ => return None,
        }
    }
}

/// A plain decimal followed by its closing quote: the raw value and the bytes after the quote.
#[inline]
fn quoted_decimal(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let (value, len) = decimal::scan_fixed8(bytes)?;
    match bytes.get(len..)? {
        [b'"', rest @ ..] => Some((value, rest)),
        _ => None,
    }
}

/// One `[price, qty]` element.
struct PairSeed;

impl<'de> DeserializeSeed<'de> for PairSeed {
    type Value = Result<Level, LevelProblem>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(PairVisitor)
    }
}

struct PairVisitor;

impl PairVisitor {
    const NOT_A_PAIR: LevelProblem = LevelProblem::Shape("is not a [price, qty] array");
}

impl<'de> Visitor<'de> for PairVisitor {
    type Value = Result<Level, LevelProblem>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a [price, qty] pair")
    }

    #[inline]
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let Some(price) = seq.next_element_seed(DecimalSeed::new("price", decimal::price))? else {
            return Ok(Err(LevelProblem::Shape("is empty, expected [price, qty]")));
        };
        let Some(qty) = seq.next_element_seed(DecimalSeed::new("qty", decimal::qty))? else {
            return Ok(Err(LevelProblem::Shape(
                "has one element, expected [price, qty]",
            )));
        };
        if seq.next_element::<IgnoredAny>()?.is_some() {
            drain_seq(seq)?;
            return Ok(Err(LevelProblem::Shape("has more than two elements")));
        }
        Ok(checked_level(price, qty))
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
        drain_map(map).map(|()| Err(Self::NOT_A_PAIR))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err(Self::NOT_A_PAIR))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err(Self::NOT_A_PAIR))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err(Self::NOT_A_PAIR))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err(Self::NOT_A_PAIR))
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err(Self::NOT_A_PAIR))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err(Self::NOT_A_PAIR))
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Err(Self::NOT_A_PAIR))
    }
}

/// A level's price must be positive and its quantity not negative (zero deletes, §6.2).
#[inline]
fn checked_level(
    price: Result<Price, LevelProblem>,
    qty: Result<Qty, LevelProblem>,
) -> Result<Level, LevelProblem> {
    let (price, qty) = (price?, qty?);
    if !price.is_positive() {
        return Err(out_of_domain(
            "price",
            price.to_string(),
            "must be positive",
        ));
    }
    if qty.is_negative() {
        return Err(out_of_domain(
            "qty",
            qty.to_string(),
            "must not be negative",
        ));
    }
    Ok(Level::new(price, qty))
}

#[cold]
fn out_of_domain(field: &'static str, text: String, reason: &str) -> LevelProblem {
    LevelProblem::Decimal {
        field,
        text,
        reason: reason.to_owned(),
    }
}

/// A decimal string parsed on the spot by `parse` (`Price::parse` or `Qty::parse`); `field`
/// names it in a fault.
struct DecimalSeed<T, F> {
    parse: F,
    field: &'static str,
    marker: PhantomData<fn() -> T>,
}

impl<T, F: Fn(&str) -> Result<T, MoneyError>> DecimalSeed<T, F> {
    const fn new(field: &'static str, parse: F) -> Self {
        Self {
            parse,
            field,
            marker: PhantomData,
        }
    }

    #[cold]
    fn not_a_string(&self) -> LevelProblem {
        if self.field == "price" {
            LevelProblem::Shape("price is not a string")
        } else {
            LevelProblem::Shape("qty is not a string")
        }
    }

    #[cold]
    fn refused(&self, text: &str, error: &MoneyError) -> LevelProblem {
        LevelProblem::Decimal {
            field: self.field,
            text: truncate(text),
            reason: decimal_reason(error),
        }
    }
}

impl<'de, T, F: Fn(&str) -> Result<T, MoneyError>> DeserializeSeed<'de> for DecimalSeed<T, F> {
    type Value = Result<T, LevelProblem>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T, F: Fn(&str) -> Result<T, MoneyError>> Visitor<'de> for DecimalSeed<T, F> {
    type Value = Result<T, LevelProblem>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal string")
    }

    #[inline]
    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok((self.parse)(text).map_err(|error| self.refused(text, &error)))
    }

    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<Self::Value, S::Error> {
        drain_seq(seq).map(|_| Err(self.not_a_string()))
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
        drain_map(map).map(|()| Err(self.not_a_string()))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err(self.not_a_string()))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err(self.not_a_string()))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err(self.not_a_string()))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err(self.not_a_string()))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err(self.not_a_string()))
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Err(self.not_a_string()))
    }
}
