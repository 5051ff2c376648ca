//! The JSON library behind the hot path, chosen by measurement (see [`JsonLib`]).

use serde::de::DeserializeSeed;

use super::ParseError;

/// Which JSON library walks the text. Both drive the same serde visitors and give the same
/// events and errors (checked on the recordings and by property tests); they can differ only
/// on what counts as valid JSON at the edges of the grammar (`-0`, lone surrogates) and on the
/// wording of syntax errors. Otherwise only the speed differs.
///
/// [`JsonLib::SonicRs`] is the default, chosen by `benches/parse.rs` on the real BTCUSDT
/// recording (2-vCPU x86_64 VM, mean per message): over the recorded mix the full parse takes
/// about 600 ns with sonic-rs against 770 ns with serde_json (parse-only floors 550 and 675);
/// bookTicker 420 against 490 ns, trade 440 against 470 ns, depth diff 3.3 against 5.0 µs.
/// Depth gains most because sonic-rs hands over the raw text of a level array
/// (`LazyValue`), which the parser then reads in one pass; serde_json has no such door
/// without a crate feature. serde_json stays selectable so the comparison can be re-run
/// elsewhere: sonic-rs is SIMD-accelerated on x86_64 and aarch64 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JsonLib {
    /// `sonic-rs`: SIMD string scanning and whitespace skipping.
    #[default]
    SonicRs,
    /// `serde_json`: the reference implementation.
    SerdeJson,
}

impl JsonLib {
    /// Both libraries, default first.
    pub const ALL: [Self; 2] = [Self::SonicRs, Self::SerdeJson];

    /// `"sonic-rs"` or `"serde_json"`, for benchmark labels.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SonicRs => "sonic-rs",
            Self::SerdeJson => "serde_json",
        }
    }

    /// Runs `seed` over the whole of `text` (trailing non-whitespace is an error).
    ///
    /// # Errors
    /// [`ParseError::InvalidJson`] with the library's message when `text` is not well-formed
    /// JSON or a visitor refused it.
    pub(crate) fn deserialize_seed<'de, S>(
        self,
        text: &'de str,
        seed: S,
        place: &'static str,
    ) -> Result<S::Value, ParseError>
    where
        S: DeserializeSeed<'de>,
    {
        let invalid = |detail: String| ParseError::InvalidJson { place, detail };
        match self {
            Self::SonicRs => {
                let mut de = sonic_rs::Deserializer::from_str(text);
                let value = seed
                    .deserialize(&mut de)
                    .map_err(|e| invalid(e.to_string()))?;
                de.end().map_err(|e| invalid(e.to_string()))?;
                Ok(value)
            }
            Self::SerdeJson => {
                let mut de = serde_json::Deserializer::from_str(text);
                let value = seed
                    .deserialize(&mut de)
                    .map_err(|e| invalid(e.to_string()))?;
                de.end().map_err(|e| invalid(e.to_string()))?;
                Ok(value)
            }
        }
    }
}
