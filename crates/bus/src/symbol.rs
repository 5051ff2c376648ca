//! [`Symbol`]: a venue symbol held inline (no allocation, `Copy`), checked once at the edge.
//!
//! The rule is the model's (`kestrel_model::order::check_symbol`): 1 to 32 upper-case ASCII
//! letters and digits. It keeps topic names unambiguous (no `.`, `*` or `>` inside a segment)
//! and bounds the codec's symbol field.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// The longest symbol accepted, in bytes.
pub const MAX_SYMBOL_LEN: usize = 32;

/// A validated venue symbol such as `BTCUSDT`, stored inline.
#[derive(Clone, Copy)]
pub struct Symbol {
    len: u8,
    bytes: [u8; MAX_SYMBOL_LEN],
}

/// Why text is not a symbol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid symbol {found:?}: expected 1 to {MAX_SYMBOL_LEN} upper-case ASCII letters and digits"
)]
pub struct SymbolError {
    /// The rejected text (cut to 64 characters).
    pub found: String,
}

impl Symbol {
    /// Whether `text` follows the symbol rule.
    #[must_use]
    pub fn is_valid(text: &str) -> bool {
        (1..=MAX_SYMBOL_LEN).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    }

    /// Checks and stores a symbol.
    ///
    /// # Errors
    /// [`SymbolError`] when `text` breaks the rule.
    pub fn new(text: &str) -> Result<Self, SymbolError> {
        if !Self::is_valid(text) {
            return Err(SymbolError {
                found: text.chars().take(64).collect(),
            });
        }
        let mut bytes = [0; MAX_SYMBOL_LEN];
        let len = text.len();
        if let Some(dst) = bytes.get_mut(..len) {
            dst.copy_from_slice(text.as_bytes());
        }
        // `is_valid` bounds `len` by MAX_SYMBOL_LEN (32), so it fits a u8.
        Ok(Self {
            len: len as u8,
            bytes,
        })
    }

    /// The symbol's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        // Only ASCII is ever stored, so this never falls back.
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl PartialEq for Symbol {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Symbol {}

impl Hash for Symbol {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Symbol {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Symbol {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::str::FromStr for Symbol {
    type Err = SymbolError;

    fn from_str(text: &str) -> Result<Self, SymbolError> {
        Self::new(text)
    }
}

impl TryFrom<&str> for Symbol {
    type Error = SymbolError;

    fn try_from(text: &str) -> Result<Self, SymbolError> {
        Self::new(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_venue_symbols_and_rejects_separators_and_lower_case() {
        for good in ["BTCUSDT", "1000PEPEUSDT", "A", &"X".repeat(32)] {
            assert_eq!(Symbol::new(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "btcusdt",
            "BTC.USDT",
            "BTC*",
            "BTC>",
            "BTC USDT",
            &"X".repeat(33),
        ] {
            assert!(Symbol::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn equality_hash_and_order_follow_the_text() {
        let a = Symbol::new("ETHUSDT").unwrap();
        let b: Symbol = "ETHUSDT".parse().unwrap();
        assert_eq!(a, b);
        assert!(Symbol::new("BTCUSDT").unwrap() < a);
        assert_eq!(format!("{a} {a:?}"), "ETHUSDT \"ETHUSDT\"");
    }
}
