//! [`Params`]: typed, checked reading of an instance's `parameters` table.
//!
//! A strategy reads each key it knows with a default and a valid range, then calls
//! [`Params::finish`], which refuses keys it did not read (a misspelt `lokback` is an error,
//! not a silently ignored setting). Decimal parameters are exact: written as strings
//! (`threshold_pct = "0.5"`) or whole numbers, never as TOML floats, as everywhere in Kestrel's
//! config.

use std::ops::RangeInclusive;

use kestrel_model::money::{MoneyError, Price, Qty, Rate};

use crate::error::StrategyError;
use crate::signal::Urgency;

/// A reader over one instance's `parameters`, remembering which keys were read.
#[derive(Debug)]
pub struct Params<'a> {
    table: &'a toml::Table,
    read: Vec<&'static str>,
}

impl<'a> Params<'a> {
    /// Starts reading `table`.
    #[must_use]
    pub const fn new(table: &'a toml::Table) -> Self {
        Self {
            table,
            read: Vec::new(),
        }
    }

    fn take(&mut self, key: &'static str) -> Option<&'a toml::Value> {
        self.read.push(key);
        self.table.get(key)
    }

    /// A whole number in `range`, or `default` when absent.
    ///
    /// # Errors
    /// [`StrategyError::Parameter`] when the value is not a whole number in `range`.
    pub fn int(
        &mut self,
        key: &'static str,
        default: i64,
        range: RangeInclusive<i64>,
    ) -> Result<i64, StrategyError> {
        let Some(value) = self.take(key) else {
            return Ok(default);
        };
        let expected = || {
            format!(
                "expected a whole number from {} to {}, got {value}",
                range.start(),
                range.end()
            )
        };
        match value.as_integer() {
            Some(n) if range.contains(&n) => Ok(n),
            _ => Err(StrategyError::parameter(key, expected())),
        }
    }

    /// A whole number in `range` as a `u32` (counts, periods).
    ///
    /// # Errors
    /// As [`Params::int`].
    pub fn count(
        &mut self,
        key: &'static str,
        default: u32,
        range: RangeInclusive<u32>,
    ) -> Result<u32, StrategyError> {
        let wide = i64::from(*range.start())..=i64::from(*range.end());
        let n = self.int(key, i64::from(default), wide)?;
        u32::try_from(n).map_err(|_| StrategyError::parameter(key, "out of range"))
    }

    /// A duration in milliseconds in `range`.
    ///
    /// # Errors
    /// As [`Params::int`].
    pub fn millis(
        &mut self,
        key: &'static str,
        default: u64,
        range: RangeInclusive<u64>,
    ) -> Result<u64, StrategyError> {
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let wide = clamp(*range.start())..=clamp(*range.end());
        let n = self.int(key, clamp(default), wide)?;
        u64::try_from(n).map_err(|_| StrategyError::parameter(key, "must not be negative"))
    }

    /// An exact ratio (percent, basis points, multiples) at least `min`, or `default`.
    ///
    /// # Errors
    /// [`StrategyError::Parameter`] when the value is not an exact decimal at least `min`.
    pub fn rate(
        &mut self,
        key: &'static str,
        default: Rate,
        min: Rate,
    ) -> Result<Rate, StrategyError> {
        let value = self.decimal(key, Rate::parse, Rate::from_int)?;
        at_least(key, value.unwrap_or(default), min)
    }

    /// An exact price, if present (must be positive).
    ///
    /// # Errors
    /// [`StrategyError::Parameter`] when present but not a positive exact decimal.
    pub fn price(&mut self, key: &'static str) -> Result<Option<Price>, StrategyError> {
        let value = self.decimal(key, Price::parse, Price::from_int)?;
        value.map(|p| at_least(key, p, Price::EPSILON)).transpose()
    }

    /// An exact quantity, if present (must be positive).
    ///
    /// # Errors
    /// [`StrategyError::Parameter`] when present but not a positive exact decimal.
    pub fn qty(&mut self, key: &'static str) -> Result<Option<Qty>, StrategyError> {
        let value = self.decimal(key, Qty::parse, Qty::from_int)?;
        value.map(|q| at_least(key, q, Qty::EPSILON)).transpose()
    }

    /// An urgency (`"passive"`, `"normal"` or `"aggressive"`), or `default`.
    ///
    /// # Errors
    /// [`StrategyError::Parameter`] for any other value.
    pub fn urgency(
        &mut self,
        key: &'static str,
        default: Urgency,
    ) -> Result<Urgency, StrategyError> {
        let Some(value) = self.take(key) else {
            return Ok(default);
        };
        value.as_str().and_then(Urgency::from_name).ok_or_else(|| {
            let problem =
                format!("expected \"passive\", \"normal\" or \"aggressive\", got {value}");
            StrategyError::parameter(key, problem)
        })
    }

    /// One of `allowed` (a string), or `default` when absent.
    ///
    /// # Errors
    /// [`StrategyError::Parameter`] for any other value.
    pub fn choice(
        &mut self,
        key: &'static str,
        default: &'static str,
        allowed: &[&'static str],
    ) -> Result<&'static str, StrategyError> {
        let Some(value) = self.take(key) else {
            return Ok(default);
        };
        let found = value
            .as_str()
            .and_then(|v| allowed.iter().find(|a| **a == v));
        found.copied().ok_or_else(|| {
            let problem = format!("expected one of {}, got {value}", allowed.join(", "));
            StrategyError::parameter(key, problem)
        })
    }

    /// A boolean, or `default` when absent.
    ///
    /// # Errors
    /// [`StrategyError::Parameter`] when the value is not `true` or `false`.
    pub fn flag(&mut self, key: &'static str, default: bool) -> Result<bool, StrategyError> {
        match self.take(key) {
            None => Ok(default),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(other) => Err(StrategyError::parameter(
                key,
                format!("expected true or false, got {other}"),
            )),
        }
    }

    /// Refuses any key that was not read.
    ///
    /// # Errors
    /// [`StrategyError::Parameter`] naming the first unknown key and the known ones.
    pub fn finish(self) -> Result<(), StrategyError> {
        let unknown = self.table.keys().find(|k| !self.read.contains(&k.as_str()));
        match unknown {
            None => Ok(()),
            Some(key) => {
                let mut known = self.read.clone();
                known.sort_unstable();
                known.dedup();
                let problem = format!("unknown parameter (known: {})", known.join(", "));
                Err(StrategyError::parameter(key.as_str(), problem))
            }
        }
    }

    fn decimal<T>(
        &mut self,
        key: &'static str,
        parse: fn(&str) -> Result<T, MoneyError>,
        from_int: fn(i64) -> Result<T, MoneyError>,
    ) -> Result<Option<T>, StrategyError> {
        let Some(value) = self.take(key) else {
            return Ok(None);
        };
        let parsed = match value {
            toml::Value::String(text) => parse(text).map_err(|e| e.to_string()),
            toml::Value::Integer(n) => from_int(*n).map_err(|e| e.to_string()),
            toml::Value::Float(_) => Err(format!(
                "write decimals as strings (e.g. \"0.5\"), got the float {value}: \
                 floats are inexact"
            )),
            other => Err(format!(
                "expected a decimal string such as \"0.5\", got {other}"
            )),
        };
        parsed
            .map(Some)
            .map_err(|problem| StrategyError::parameter(key, problem))
    }
}

fn at_least<T: PartialOrd + std::fmt::Display>(
    key: &'static str,
    value: T,
    min: T,
) -> Result<T, StrategyError> {
    if value >= min {
        Ok(value)
    } else {
        Err(StrategyError::parameter(
            key,
            format!("must be at least {min}, got {value}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn absent_keys_take_their_defaults() {
        let t = table("");
        let mut p = Params::new(&t);
        assert_eq!(p.count("lookback", 20, 2..=100).unwrap(), 20);
        assert_eq!(p.price("reference_price").unwrap(), None);
        p.finish().unwrap();
    }

    #[test]
    fn a_misspelt_key_is_refused_with_the_known_ones() {
        let t = table("lokback = 5");
        let mut p = Params::new(&t);
        p.count("lookback", 20, 2..=100).unwrap();
        let err = p.finish().unwrap_err();
        assert_eq!(
            err,
            StrategyError::parameter("lokback", "unknown parameter (known: lookback)")
        );
    }

    #[test]
    fn an_out_of_range_count_names_the_range_and_the_value() {
        let t = table("lookback = 1");
        let err = Params::new(&t).count("lookback", 20, 2..=100).unwrap_err();
        assert!(err.to_string().contains("from 2 to 100, got 1"), "{err}");
    }

    #[test]
    fn decimals_are_exact_strings_or_integers_never_floats() {
        let t = table("a = \"0.5\"\nb = 2\nc = 0.5");
        let mut p = Params::new(&t);
        assert_eq!(
            p.rate("a", Rate::ONE, Rate::ZERO).unwrap(),
            Rate::from_raw(50_000_000)
        );
        assert_eq!(
            p.rate("b", Rate::ONE, Rate::ZERO).unwrap(),
            Rate::from_int(2).unwrap()
        );
        let err = p.rate("c", Rate::ONE, Rate::ZERO).unwrap_err();
        assert!(err.to_string().contains("floats are inexact"), "{err}");
    }

    #[test]
    fn a_negative_price_is_refused() {
        let t = table("spacing = \"-1\"");
        assert!(Params::new(&t).price("spacing").is_err());
    }

    #[test]
    fn choices_and_flags_are_checked() {
        let t = table("side = \"buy\"\nodd = \"up\"\non = true\noff = 1");
        let mut p = Params::new(&t);
        assert_eq!(p.choice("side", "none", &["buy", "sell"]).unwrap(), "buy");
        assert!(p.choice("odd", "none", &["buy", "sell"]).is_err());
        assert!(p.flag("on", false).unwrap());
        assert!(p.flag("off", false).is_err());
    }

    #[test]
    fn urgency_is_read_by_name() {
        let t = table("u = \"aggressive\"\nv = \"fast\"");
        let mut p = Params::new(&t);
        assert_eq!(
            p.urgency("u", Urgency::Normal).unwrap(),
            Urgency::Aggressive
        );
        assert!(p.urgency("v", Urgency::Normal).is_err());
    }
}
