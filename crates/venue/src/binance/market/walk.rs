//! The general walk: one pass over a frame that files every field it knows into the parser's
//! [`Record`] and every depth level into its reusable buffers, without allocating.
//!
//! The walk does not know the event type in advance and does not rely on key order (Binance
//! puts `e` first, but nothing promises it): the same key means different things in different
//! events (`a` is the ask levels of a `depthUpdate`, the best ask price of a `bookTicker` and
//! the aggregate id of an `aggTrade`), so each value is kept as a typed slot and interpreted
//! once the event type is known (`normalise.rs`). An array under a level key is parsed straight
//! into `Level`s.
//!
//! No visitor here refuses a value: a wrong type or a malformed level is recorded and the walk
//! goes on, so the only errors the JSON library reports are syntax errors, and the normaliser
//! decides which recorded problem matters for the event at hand (a bad `b` array in an event
//! that has no levels is ignored, as unknown keys are).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::keys::Key;
use super::levels::{LevelsSeed, scan_levels};
use super::record::{LevelBuffers, Payload, Record, Slot};

/// Walks an object (the frame, or the envelope's `data` when `nested`) into the record.
/// `raw_levels` (sonic-rs only) reads level arrays through their raw text: always for `bids`
/// and `asks`, and for `b` and `a` once `e` has said `depthUpdate` (Binance sends `e` first;
/// in any other order the general path reads them, more slowly, to the same result).
pub(super) struct ObjectSeed<'b> {
    pub(super) record: &'b mut Record,
    pub(super) levels: &'b mut LevelBuffers,
    pub(super) frame: &'b str,
    pub(super) nested: bool,
    pub(super) raw_levels: bool,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> ObjectSeed<'_> {
    /// Files the value of one entry under `key`.
    #[inline]
    fn entry<M: MapAccess<'de>>(&mut self, key: Key, map: &mut M) -> Result<(), M::Error> {
        if key == Key::Unknown || (self.nested && key.is_envelope()) {
            map.next_value::<IgnoredAny>()?;
            return Ok(());
        }
        match key {
            Key::Data => map.next_value_seed(ObjectSeed {
                record: self.record,
                levels: self.levels,
                frame: self.frame,
                nested: true,
                raw_levels: self.raw_levels,
            }),
            Key::Error => map.next_value_seed(ErrorSeed {
                record: self.record,
            }),
            Key::Msg => {
                let msg = map.next_value_seed(TextSeed {
                    record: self.record,
                })?;
                self.record.set(Key::Msg, msg);
                Ok(())
            }
            _ => {
                let base = self.record.base;
                let levels = key.level_list().map(|list| LevelsSeed {
                    out: self.levels.list_mut(list),
                    fault: &mut self.record.level_faults[list as usize],
                    key,
                });
                let raw = self.raw_levels
                    && (self.record.expects_levels || matches!(key, Key::Bids | Key::Asks));
                let value = match levels {
                    Some(levels) if raw => map.next_value_seed(RawValueSeed { base, levels })?,
                    levels => map.next_value_seed(ValueSeed { base, levels })?,
                };
                if key == Key::EventType {
                    self.record.expects_levels = self.is_depth_update(value);
                }
                self.record.set(key, value);
                Ok(())
            }
        }
    }

    /// Whether an `e` value is the text `depthUpdate`.
    fn is_depth_update(&self, value: Slot) -> bool {
        match value {
            Slot::Str { start, len } => {
                let end = start.saturating_add(len);
                self.frame.as_bytes().get(start..end) == Some(b"depthUpdate")
            }
            _ => false,
        }
    }

    fn non_object(self, payload: Payload) {
        self.record.payload = payload;
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    #[inline]
    fn visit_map<M: MapAccess<'de>>(mut self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            self.entry(key, &mut map)?;
        }
        Ok(())
    }

    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<(), S::Error> {
        drain_seq(seq)?;
        self.non_object(Payload::Array);
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.non_object(Payload::Scalar("a boolean"));
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.non_object(Payload::Scalar("a number"));
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.non_object(Payload::Scalar("a number"));
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.non_object(Payload::Scalar("a number"));
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.non_object(Payload::Scalar("a string"));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.non_object(Payload::Scalar("null"));
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.non_object(Payload::Scalar("null"));
        Ok(())
    }
}

/// Reads one value as a [`Slot`]; an array goes into `levels` when given. `base` is the
/// frame's address, for string ranges.
struct ValueSeed<'b> {
    base: usize,
    levels: Option<LevelsSeed<'b>>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Slot;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Slot, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Slot;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Slot, E> {
        Ok(Slot::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Slot, E> {
        Ok(u64::try_from(value).map_or(Slot::NegInt(value), Slot::Int))
    }

    #[inline]
    fn visit_u64<E>(self, value: u64) -> Result<Slot, E> {
        Ok(Slot::Int(value))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Slot, E> {
        Ok(Slot::Float)
    }

    #[inline]
    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Slot, E> {
        Ok(Slot::Str {
            start: (text.as_ptr() as usize).wrapping_sub(self.base),
            len: text.len(),
        })
    }

    fn visit_str<E>(self, _: &str) -> Result<Slot, E> {
        Ok(Slot::EscapedStr)
    }

    fn visit_unit<E>(self) -> Result<Slot, E> {
        Ok(Slot::Null)
    }

    fn visit_none<E>(self) -> Result<Slot, E> {
        Ok(Slot::Null)
    }

    #[inline]
    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<Slot, S::Error> {
        match self.levels {
            Some(levels) => levels.fill(seq).map(|()| Slot::Levels),
            None => drain_seq(seq).map(Slot::Array),
        }
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Slot, M::Error> {
        drain_map(map).map(|()| Slot::Object)
    }
}

/// Reads the value of a level key (`b`, `a`, `bids`, `asks`) through its raw text, which
/// sonic-rs skips and validates quickly: an array goes to [`scan_levels`], a string (the
/// `bookTicker` prices) is kept as a range of the frame, and anything else, or an array not in
/// Binance's usual shape, is read again from that text by the general [`ValueSeed`].
struct RawValueSeed<'b> {
    base: usize,
    levels: LevelsSeed<'b>,
}

impl<'de> DeserializeSeed<'de> for RawValueSeed<'_> {
    type Value = Slot;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Slot, D::Error> {
        let lazy = sonic_rs::LazyValue::deserialize(deserializer)?;
        let Cow::Borrowed(raw) = lazy.as_raw_cow() else {
            // Escapes inside: never Binance's levels or prices; the general path decides.
            return self.general(lazy.as_raw_str());
        };
        match raw.as_bytes().first() {
            Some(b'[') if scan_levels(raw.as_bytes(), self.levels.out).is_some() => {
                return Ok(Slot::Levels);
            }
            Some(b'"') => {
                let text = raw.get(1..raw.len().saturating_sub(1)).unwrap_or_default();
                return Ok(Slot::Str {
                    start: (text.as_ptr() as usize).wrapping_sub(self.base),
                    len: text.len(),
                });
            }
            _ => {}
        }
        self.general(raw)
    }
}

impl RawValueSeed<'_> {
    /// Reads `raw` (valid JSON: sonic-rs has validated it) with the general [`ValueSeed`].
    #[cold]
    fn general<E: serde::de::Error>(self, raw: &str) -> Result<Slot, E> {
        let seed = ValueSeed {
            base: self.base,
            levels: Some(self.levels),
        };
        let mut de = sonic_rs::Deserializer::from_str(raw);
        seed.deserialize(&mut de).map_err(E::custom)
    }
}

/// Reads the nested `error` object's `code` and `msg`; anything else there is skipped, and an
/// `error` that is not an object is ignored like an unknown key.
struct ErrorSeed<'b> {
    record: &'b mut Record,
}

impl<'de> DeserializeSeed<'de> for ErrorSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ErrorSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an error object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            let value = match key {
                Key::Code => map.next_value_seed(ValueSeed {
                    base: self.record.base,
                    levels: None,
                })?,
                Key::Msg => map.next_value_seed(TextSeed {
                    record: self.record,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            self.record.set(key, value);
        }
        Ok(())
    }

    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<(), S::Error> {
        drain_seq(seq).map(|_| ())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Reads an error's `msg`: a borrowed string as a range of the frame, an escaped one
/// unescaped into the record's reused `escaped_msg`; any other value as its type.
struct TextSeed<'b> {
    record: &'b mut Record,
}

impl<'de> DeserializeSeed<'de> for TextSeed<'_> {
    type Value = Slot;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Slot, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TextSeed<'_> {
    type Value = Slot;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Slot, E> {
        Ok(self.record.str_slot(text))
    }

    fn visit_str<E>(self, text: &str) -> Result<Slot, E> {
        self.record.escaped_msg.clear();
        self.record.escaped_msg.push_str(text);
        Ok(Slot::EscapedStr)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<Slot, S::Error> {
        drain_seq(seq).map(Slot::Array)
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Slot, M::Error> {
        drain_map(map).map(|()| Slot::Object)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Slot, E> {
        Ok(Slot::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Slot, E> {
        Ok(Slot::NegInt(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Slot, E> {
        Ok(Slot::Int(value))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Slot, E> {
        Ok(Slot::Float)
    }

    fn visit_unit<E>(self) -> Result<Slot, E> {
        Ok(Slot::Null)
    }

    fn visit_none<E>(self) -> Result<Slot, E> {
        Ok(Slot::Null)
    }
}

/// Skips the rest of an array, returning how many elements it had.
pub(super) fn drain_seq<'de, S: SeqAccess<'de>>(mut seq: S) -> Result<usize, S::Error> {
    let mut len = 0;
    while seq.next_element::<IgnoredAny>()?.is_some() {
        len += 1;
    }
    Ok(len)
}

/// Skips the rest of an object.
pub(super) fn drain_map<'de, M: MapAccess<'de>>(mut map: M) -> Result<(), M::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}
