//! How model values map to column values and back, shared by every feature module.
//!
//! Writing turns a value into a database primitive (decimal text for money, `i64` for ids and
//! times, the serde name for an enum, JSON text for a document) and refuses one the columns
//! cannot hold, before anything is sent. Reading rebuilds the value and refuses anything that is
//! not exactly what Kestrel writes, as [`StoreError::Corrupt`] naming the table and column.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// `value` as the `i64` the integer columns hold.
///
/// # Errors
/// [`StoreError::OutOfRange`] above `i64::MAX`.
pub(crate) fn to_i64(field: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { field, value })
}

/// A stored integer as the `u64` the model uses.
///
/// # Errors
/// [`StoreError::Corrupt`] for a negative value.
pub(crate) fn from_i64(
    table: &'static str,
    column: &'static str,
    value: i64,
) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        table,
        column,
        value: value.to_string(),
        expected: String::from("a non-negative integer"),
    })
}

/// Stored decimal text as a money type (`Price::parse`, `Qty::parse`, `Money::parse`).
///
/// # Errors
/// [`StoreError::Corrupt`] for text that is not an exact decimal the type holds.
pub(crate) fn parse_money<T>(
    table: &'static str,
    column: &'static str,
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, kestrel_model::MoneyError>,
) -> Result<T, StoreError> {
    parse(text).map_err(|e| StoreError::Corrupt {
        table,
        column,
        value: truncate(text),
        expected: format!("an exact decimal within the type's range and places ({e})"),
    })
}

/// Nullable decimal text as an optional money type.
///
/// # Errors
/// As [`parse_money`].
pub(crate) fn parse_money_opt<T>(
    table: &'static str,
    column: &'static str,
    text: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, kestrel_model::MoneyError>,
) -> Result<Option<T>, StoreError> {
    text.map(|text| parse_money(table, column, text, parse))
        .transpose()
}

/// The serde name of a unit enum variant (`buy`, `PARTIALLY_FILLED`, ...): what the stored JSON
/// documents hold and what the CHECK constraints list, so columns and documents agree.
pub(crate) fn variant_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        // Not a unit variant: cannot happen for the enums stored here, and if it did the
        // column's CHECK constraint would refuse the empty name rather than store nonsense.
        _ => String::new(),
    }
}

/// A stored serde variant name as its enum.
///
/// # Errors
/// [`StoreError::Corrupt`] for a name the enum does not have.
pub(crate) fn parse_variant<T: DeserializeOwned>(
    table: &'static str,
    column: &'static str,
    name: &str,
) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).map_err(|e| {
        StoreError::Corrupt {
            table,
            column,
            value: truncate(name),
            expected: format!("one of the enum's names ({e})"),
        }
    })
}

/// A document as JSON text.
///
/// # Errors
/// [`StoreError::Encode`] when its `Serialize` implementation fails.
pub(crate) fn to_json<T: Serialize + ?Sized>(
    what: &'static str,
    value: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Encode { what, source })
}

/// Stored JSON text as a document.
///
/// # Errors
/// [`StoreError::Corrupt`] for text that is not JSON of that shape.
pub(crate) fn from_json<T: DeserializeOwned>(
    table: &'static str,
    column: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        table,
        column,
        value: truncate(text),
        expected: format!("the JSON Kestrel writes there ({e})"),
    })
}

/// Keeps error messages bounded when a stored value is huge.
pub(crate) fn truncate(text: &str) -> String {
    const LIMIT: usize = 120;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use kestrel_model::order::{OrderStatus, Side};

    use super::*;

    #[test]
    fn variant_names_are_the_serde_names_and_read_back() {
        assert_eq!(variant_name(&Side::Buy), "buy");
        assert_eq!(
            variant_name(&OrderStatus::PartiallyFilled),
            "PARTIALLY_FILLED"
        );
        let back: OrderStatus = parse_variant("orders", "status", "PARTIALLY_FILLED").unwrap();
        assert_eq!(back, OrderStatus::PartiallyFilled);
    }

    #[test]
    fn an_unknown_variant_name_is_corrupt_naming_table_and_column() {
        let err = parse_variant::<Side>("fills", "side", "sideways").unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Corrupt {
                    table: "fills",
                    column: "side",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn long_values_are_truncated_in_messages() {
        let long = "x".repeat(500);
        assert_eq!(truncate(&long).chars().count(), 121);
        assert_eq!(truncate("short"), "short");
    }
}
