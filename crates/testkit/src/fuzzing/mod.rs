//! The fuzz targets' checks: one function per target, from the fuzzer's bytes to assertions.
//!
//! Each check drives one parser of outside input and asserts what must hold whatever the
//! input, not only that nothing panics:
//!
//! | target | parser | invariants |
//! |---|---|---|
//! | `market_frame` | `MarketParser::parse` | fast paths (byte scanner, serde pass) = general walk; JSON libraries agree; a used parser = a fresh one; values in range; fields = an independent `serde_json` reading |
//! | `depth_snapshot` | `MarketParser::parse_depth_snapshot` | as above, and it agrees with `parse` |
//! | `exchange_info` | `parse_exchange_info` | every listed symbol is kept or skipped, in order; filter values are non-negative and re-parse |
//! | `recording_line` | `RecordingReader` | never fails; the counts add up; gzip reads as plain; written messages read back the same |
//! | `money_parse` | `Price` / `Qty` / `Rate` / `Money` `parse` | parse → display → parse is exact; the 8- and 16-decimal parsers agree |
//! | `bus_codec` | `kestrel_bus::codec::decode` | decode → encode → decode is stable; the bytes come back unchanged but for the one field the layout ignores |
//!
//! A check returns normally for input it has nothing to say about (text targets ignore bytes
//! that are not UTF-8, except that the two frame targets read bytes starting with `0xFF` as a
//! recipe for a Binance-shaped frame, see `frames.rs`) and panics, naming the input, when an
//! invariant breaks: that panic is the fuzzer's finding. `fuzz/fuzz_targets/*.rs` call these,
//! and `tests/fuzz_seeds.rs` replays the committed seeds (`fuzz/seeds/<target>/`) through them
//! on a stable toolchain.

// A check's job is to panic on a broken invariant: the fuzzer reports the panic as a finding.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

mod codec;
mod frames;
mod market;
mod money;
mod recording;

pub use codec::bus_codec;
pub use frames::FRAME_KEYS;
pub use market::{depth_snapshot, exchange_info, market_frame};
pub use money::money_parse;
pub use recording::recording_line;

/// A fuzz target: its name (the file under `fuzz/fuzz_targets/` and the seed folder) and its
/// check.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The target's name, as `cargo fuzz run` takes it.
    pub name: &'static str,
    /// Runs the target's invariants over one input; panics when one breaks.
    pub check: fn(&[u8]),
}

/// Every fuzz target, in the order `scripts/fuzz.sh` runs them.
pub const TARGETS: [Target; 6] = [
    Target {
        name: "market_frame",
        check: market_frame,
    },
    Target {
        name: "depth_snapshot",
        check: depth_snapshot,
    },
    Target {
        name: "exchange_info",
        check: exchange_info,
    },
    Target {
        name: "recording_line",
        check: recording_line,
    },
    Target {
        name: "money_parse",
        check: money_parse,
    },
    Target {
        name: "bus_codec",
        check: bus_codec,
    },
];

/// The input as text, for the targets that take WebSocket frames or REST bodies (always
/// UTF-8 on the wire); `None` for other bytes, which those targets skip.
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// The input for an assertion message: in full when short, else its head and length.
fn shown(text: &str) -> String {
    const LIMIT: usize = 400;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{:?}… ({} bytes)", &text[..cut], text.len()),
        None => format!("{text:?}"),
    }
}

/// Whether some object in the JSON `text` repeats a key. JSON gives repeated keys no meaning
/// (RFC 8259 §4), so the checks compare parsers with `serde_json`'s reading only on text
/// without them; `false` for text that is not JSON.
fn has_duplicate_keys(text: &str) -> bool {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    matches!(DuplicateScan.deserialize(&mut deserializer), Ok(true))
}

/// Walks a JSON value, answering whether any object in it repeats a key.
struct DuplicateScan;

impl<'de> DeserializeSeed<'de> for DuplicateScan {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DuplicateScan {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<bool, M::Error> {
        let mut keys = HashSet::new();
        let mut repeated = false;
        while let Some(key) = map.next_key::<String>()? {
            repeated |= !keys.insert(key);
            repeated |= map.next_value_seed(Self)?;
        }
        Ok(repeated)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<bool, S::Error> {
        let mut repeated = false;
        while let Some(inner) = seq.next_element_seed(Self)? {
            repeated |= inner;
        }
        Ok(repeated)
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}
