//! The JSON library behind the hot path, chosen by measurement (see [`JsonLib`]).

use serde::de::DeserializeSeed;

use super::ParseError;

/// Which JSON library walks the text. Both drive the same serde visitors, so they accept and
/// refuse the same messages; only the speed differs.
///
/// [`JsonLib::SonicRs`] is the default: on the real BTCUSDT recording it is faster than
/// serde_json for every message type (figures in the crate's `benches/parse.rs` header and the
/// adapter README section). serde_json is kept selectable so the comparison can be re-run on
/// another machine or architecture (sonic-rs is SIMD-accelerated on x86_64 and aarch64 only).
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
