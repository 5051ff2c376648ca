//! [`Record`]: what the general walk (`walk.rs`) recorded about the current frame, owned and
//! reused by the parser, and [`Bag`], the view the normaliser reads it through.
//!
//! The record is reused: a bitmask says which slots this frame filled, so starting a frame
//! costs a few stores instead of clearing every slot, and strings are kept as byte ranges of
//! the frame (the record has no lifetime) and resolved by the view.

use kestrel_model::book::Level;

use super::keys::{Key, STORED};
use super::levels::LevelFault;

/// One JSON value as the normaliser sees it; strings are borrowed from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Scalar<'a> {
    /// The key did not occur.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A non-negative integer.
    Int(u64),
    /// A negative integer.
    NegInt(i64),
    /// A number with a fraction or exponent.
    Float,
    /// A string without escapes, borrowed from the frame.
    Str(&'a str),
    /// A string with escape sequences (never used by Binance in the fields we read).
    EscapedStr,
    /// An array (of this many elements) that was not a level list.
    Array(usize),
    /// An object.
    Object,
    /// An array parsed into the parser's level buffer for the key's side.
    Levels,
}

impl Scalar<'_> {
    /// The JSON type, for error messages.
    pub(super) const fn found(self) -> &'static str {
        match self {
            Self::Absent => "nothing",
            Self::Null => "null",
            Self::Bool(_) => "a boolean",
            Self::Int(_) => "an integer",
            Self::NegInt(_) => "a negative integer",
            Self::Float => "a fractional number",
            Self::Str(_) => "a string",
            Self::EscapedStr => "a string with escapes",
            Self::Array(_) | Self::Levels => "an array",
            Self::Object => "an object",
        }
    }
}

/// A [`Scalar`] as stored in the record: a string is a byte range of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Slot {
    #[default]
    Null,
    Bool(bool),
    Int(u64),
    NegInt(i64),
    Float,
    Str {
        start: usize,
        len: usize,
    },
    EscapedStr,
    Array(usize),
    Object,
    Levels,
}

/// What the top-level value, or the envelope's `data`, was when it was not an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Payload {
    /// An object (the normal case).
    #[default]
    Object,
    /// An array (e.g. `!markPrice@arr`).
    Array,
    /// A bare scalar, described.
    Scalar(&'static str),
}

/// Everything the walk recorded about the current frame; owned and reused by the parser.
#[derive(Debug, Clone, Default)]
pub(super) struct Record {
    /// One slot per stored key; only those whose bit is set in `present` are this frame's.
    slots: [Slot; STORED],
    /// Bit `k` set when key `k` occurred in this frame.
    present: u64,
    /// The unescaped `msg` of an error object, when it had escapes.
    pub(super) escaped_msg: String,
    /// The first malformed level met in each level list (by [`LevelList`]).
    pub(super) level_faults: [Option<LevelFault>; LevelList::COUNT],
    /// The shape of the payload.
    pub(super) payload: Payload,
    /// Address of the frame's first byte, to turn borrowed strings into byte ranges.
    pub(super) base: usize,
    /// Whether `e` said `depthUpdate`, so `b` and `a` are expected to be level arrays.
    pub(super) expects_levels: bool,
}

impl Record {
    /// Forgets the previous frame and prepares for `frame`.
    #[inline]
    pub(super) fn start(&mut self, frame: &str) {
        self.present = 0;
        self.level_faults = Default::default();
        self.payload = Payload::Object;
        self.base = frame.as_ptr() as usize;
        self.expects_levels = false;
    }

    /// Records `slot` as this frame's value for `key` (a repeated key: the last one wins).
    #[inline]
    pub(super) fn set(&mut self, key: Key, slot: Slot) {
        if let Some(stored) = self.slots.get_mut(key as usize) {
            *stored = slot;
            self.present |= 1 << key as u32;
        }
    }

    /// The slot for a string borrowed from the frame.
    #[inline]
    pub(super) fn str_slot(&self, text: &str) -> Slot {
        Slot::Str {
            start: (text.as_ptr() as usize).wrapping_sub(self.base),
            len: text.len(),
        }
    }
}

/// The record of one frame, read back with its strings borrowed from the frame.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bag<'a> {
    record: &'a Record,
    frame: &'a str,
}

impl<'a> Bag<'a> {
    /// A view of `record`, which was filled from `frame`.
    pub(super) const fn new(record: &'a Record, frame: &'a str) -> Self {
        Self { record, frame }
    }

    /// The value recorded for `key` ([`Scalar::Absent`] if none).
    #[inline]
    pub(super) fn get(&self, key: Key) -> Scalar<'a> {
        if self.record.present & (1u64 << (key as u32 & 63)) == 0 {
            return Scalar::Absent;
        }
        let Some(&slot) = self.record.slots.get(key as usize) else {
            return Scalar::Absent;
        };
        match slot {
            Slot::Null => Scalar::Null,
            Slot::Bool(value) => Scalar::Bool(value),
            Slot::Int(value) => Scalar::Int(value),
            Slot::NegInt(value) => Scalar::NegInt(value),
            Slot::Float => Scalar::Float,
            Slot::Str { start, len } => start
                .checked_add(len)
                .and_then(|end| self.frame.get(start..end))
                .map_or(Scalar::EscapedStr, Scalar::Str),
            Slot::EscapedStr => Scalar::EscapedStr,
            Slot::Array(len) => Scalar::Array(len),
            Slot::Object => Scalar::Object,
            Slot::Levels => Scalar::Levels,
        }
    }

    /// The first malformed level of the frame's list under `key`, if any.
    pub(super) fn level_fault(&self, key: Key) -> Option<&'a LevelFault> {
        let list = key.level_list()?;
        self.record.level_faults[list as usize].as_ref()
    }

    /// The shape of the payload.
    pub(super) fn payload(&self) -> Payload {
        self.record.payload
    }

    /// The error object's `msg`, unescaped; empty when absent or not a string.
    pub(super) fn msg(&self) -> &'a str {
        match self.get(Key::Msg) {
            Scalar::Str(text) => text,
            Scalar::EscapedStr => &self.record.escaped_msg,
            _ => "",
        }
    }
}

/// One of the level lists a frame can carry, each parsed into a buffer of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LevelList {
    /// `b`: a `depthUpdate`'s bids.
    B,
    /// `a`: a `depthUpdate`'s asks.
    A,
    /// `bids`: a REST snapshot's bids.
    Bids,
    /// `asks`: a REST snapshot's asks.
    Asks,
}

impl LevelList {
    /// How many lists there are.
    pub(super) const COUNT: usize = 4;
}

/// The level buffers a parser reuses across frames, one per [`LevelList`].
#[derive(Debug, Clone, Default)]
pub(super) struct LevelBuffers {
    /// Bid levels (`b`) of the last frame that had any.
    pub(super) bids: Vec<Level>,
    /// Ask levels (`a`) of the last frame that had any.
    pub(super) asks: Vec<Level>,
    /// REST snapshot bid levels (`bids`) of the last frame that had any.
    pub(super) snapshot_bids: Vec<Level>,
    /// REST snapshot ask levels (`asks`) of the last frame that had any.
    pub(super) snapshot_asks: Vec<Level>,
}

impl LevelBuffers {
    /// Buffers with room for `capacity` levels each.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            bids: Vec::with_capacity(capacity),
            asks: Vec::with_capacity(capacity),
            snapshot_bids: Vec::with_capacity(capacity),
            snapshot_asks: Vec::with_capacity(capacity),
        }
    }

    /// The buffer for `list`.
    pub(super) fn list_mut(&mut self, list: LevelList) -> &mut Vec<Level> {
        match list {
            LevelList::B => &mut self.bids,
            LevelList::A => &mut self.asks,
            LevelList::Bids => &mut self.snapshot_bids,
            LevelList::Asks => &mut self.snapshot_asks,
        }
    }
}
