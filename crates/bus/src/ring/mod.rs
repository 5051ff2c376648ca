//! The shared-memory broadcast ring (seed 000 FR-MD-005 step 2, "shared memory ring buffer
//! (local consumers)"): one [`RingWriter`] per ring, any number of [`RingReader`]s in any
//! process on the host, each reading at its own pace.
//!
//! The ring is a file, by default `/dev/shm/kestrel-<name>` ([`default_ring_path`]), mapped by
//! every party. The writer never waits for readers: it overwrites the oldest slot. A reader that
//! falls a whole ring behind is *lapped*; it notices, reports how many messages it lost and
//! resynchronises to the newest one. Messages are opaque bytes (normally [`crate::codec`]
//! messages) of at most [`RingConfig::max_message_len`] bytes; a longer one is refused with
//! [`RingError::MessageTooLarge`], never truncated.
//!
//! # File layout, version 1
//!
//! All fields are little-endian `u64` words, accessed atomically. Header, 128 bytes:
//!
//! | offset | field |
//! |---|---|
//! | 0 | magic, the bytes `KSTRLRNG` ([`RING_MAGIC`]) |
//! | 8 | layout version ([`RING_LAYOUT_VERSION`]) |
//! | 16 | header length in bytes (128) |
//! | 24 | slot count `N` (a power of two, 2 or more: the config's `ring_buffer_size`) |
//! | 32 | slot size `S` in bytes (a multiple of 64, 64 to 1 MiB) |
//! | 40 | writer state: 1 open, 2 closed (set when the writer is dropped) |
//! | 48 | writer process id (informational) |
//! | 64 | write sequence: how many messages have been published (own cache line) |
//!
//! Then `N` slots of `S` bytes; message `n` (counting from 0) goes to slot `n mod N`:
//!
//! | offset in slot | field |
//! |---|---|
//! | 0 | stamp: `2n + 1` while message `n` is being written, `2n + 2` once it is complete |
//! | 8 | message length in bytes |
//! | 16 | message bytes, padded with zeros to a whole word |
//!
//! # Seqlock protocol
//!
//! The writer stores the odd stamp, a release fence, the length and payload (relaxed), then
//! the even stamp (release) and the write sequence (release). A reader expecting message `n`
//! loads the stamp (acquire): below `2n + 2` means not yet published; `2n + 2` means copy the
//! length and payload (relaxed), issue an acquire fence and load the stamp again, accepting the
//! copy only if it is unchanged; above `2n + 2` means the writer has lapped it. A copy torn by
//! a concurrent overwrite therefore always shows a changed stamp and is never accepted.
//!
//! A new writer builds the file under a temporary name and renames it into place, so a reader
//! never maps a half-initialised ring; a reader of a replaced ring sees
//! [`RingReader::writer_closed`] and must reopen. An advisory lock on `<path>.lock` keeps a
//! second writer from the same ring.

mod mapping;
mod reader;
mod writer;

pub use reader::{RingMessage, RingReader};
pub use writer::RingWriter;

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::codec::EncodeError;

/// The first word of every ring file: the bytes `KSTRLRNG`.
pub const RING_MAGIC: u64 = u64::from_le_bytes(*b"KSTRLRNG");
/// The file layout this build writes and reads.
pub const RING_LAYOUT_VERSION: u64 = 1;
/// Length of the file header in bytes.
pub const RING_HEADER_LEN: usize = 128;
/// Bytes at the start of each slot before the message (stamp and length).
pub const SLOT_HEADER_LEN: usize = 16;
/// Slot sizes are multiples of this (one cache line).
pub const SLOT_ALIGN: usize = 64;
/// The largest slot size accepted.
pub const MAX_SLOT_SIZE: usize = 1 << 20;
/// Default slot count (the seed's `ring_buffer_size` default).
pub const DEFAULT_SLOT_COUNT: u32 = 8192;
/// Default slot size: room for a depth update of up to 248 levels.
pub const DEFAULT_SLOT_SIZE: u32 = 4096;

/// Header word indices (byte offset / 8).
mod word {
    pub(super) const MAGIC: usize = 0;
    pub(super) const VERSION: usize = 1;
    pub(super) const HEADER_LEN: usize = 2;
    pub(super) const SLOT_COUNT: usize = 3;
    pub(super) const SLOT_SIZE: usize = 4;
    pub(super) const WRITER_STATE: usize = 5;
    pub(super) const WRITER_PID: usize = 6;
    pub(super) const WRITE_SEQ: usize = 8;
}

/// Writer state word: a writer has the ring open.
const WRITER_OPEN: u64 = 1;
/// Writer state word: the writer has gone.
const WRITER_CLOSED: u64 = 2;

/// The stamp of slot `seq` while it is being written (odd).
const fn stamp_writing(seq: u64) -> u64 {
    seq.wrapping_mul(2).wrapping_add(1)
}

/// The stamp of slot `seq` once it is complete (even).
const fn stamp_done(seq: u64) -> u64 {
    seq.wrapping_mul(2).wrapping_add(2)
}

/// The shape of a ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingConfig {
    /// Number of slots: a power of two, 2 or more (`market_data.ring_buffer_size`).
    pub slot_count: u32,
    /// Bytes per slot, its 16-byte header included: a multiple of 64, 64 to 1 MiB.
    pub slot_size: u32,
}

impl Default for RingConfig {
    fn default() -> Self {
        Self {
            slot_count: DEFAULT_SLOT_COUNT,
            slot_size: DEFAULT_SLOT_SIZE,
        }
    }
}

impl RingConfig {
    /// The default slot size with `slot_count` slots.
    #[must_use]
    pub const fn with_slot_count(slot_count: u32) -> Self {
        Self {
            slot_count,
            slot_size: DEFAULT_SLOT_SIZE,
        }
    }

    /// The longest message a slot holds, in bytes.
    #[must_use]
    pub const fn max_message_len(&self) -> usize {
        (self.slot_size as usize).saturating_sub(SLOT_HEADER_LEN)
    }

    /// The checked geometry.
    fn geometry(&self) -> Result<Geometry, RingError> {
        let (slot_count, slot_size) = (u64::from(self.slot_count), u64::from(self.slot_size));
        Geometry::new(slot_count, slot_size).map_err(|reason| RingError::Config {
            slot_count,
            slot_size,
            reason,
        })
    }
}

/// A checked ring shape, in the units the reader and writer use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geometry {
    slot_count: u64,
    slot_size: u64,
    /// `slot_count - 1`: maps a sequence number to its slot.
    mask: u64,
    /// Words per slot.
    slot_words: usize,
    /// Longest message, bytes.
    capacity: usize,
}

impl Geometry {
    fn new(slot_count: u64, slot_size: u64) -> Result<Self, &'static str> {
        if slot_count < 2 || !slot_count.is_power_of_two() {
            return Err("slot_count must be a power of two, 2 or more");
        }
        let size = usize::try_from(slot_size).unwrap_or(usize::MAX);
        if !(SLOT_ALIGN..=MAX_SLOT_SIZE).contains(&size) || size % SLOT_ALIGN != 0 {
            return Err("slot_size must be a multiple of 64 bytes from 64 to 1 MiB");
        }
        let slots = usize::try_from(slot_count).unwrap_or(usize::MAX);
        if slots
            .checked_mul(size)
            .and_then(|b| b.checked_add(RING_HEADER_LEN))
            .is_none()
        {
            return Err("the ring does not fit in memory");
        }
        Ok(Self {
            slot_count,
            slot_size,
            mask: slot_count - 1,
            slot_words: size / 8,
            capacity: size - SLOT_HEADER_LEN,
        })
    }

    /// Total file length in bytes (checked in [`Self::new`]).
    const fn file_len(&self) -> usize {
        RING_HEADER_LEN + self.slot_count as usize * self.slot_words * 8
    }

    /// Word index of the stamp of message `seq`'s slot.
    const fn slot_base(&self, seq: u64) -> usize {
        RING_HEADER_LEN / 8 + (seq & self.mask) as usize * self.slot_words
    }
}

/// Why a ring cannot be created, opened or written.
#[derive(Debug, thiserror::Error)]
pub enum RingError {
    /// A file operation failed.
    #[error("ring {}: {action}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done (`create`, `map`, ...).
        action: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The requested shape is invalid.
    #[error("invalid ring config (slot_count {slot_count}, slot_size {slot_size}): {reason}")]
    Config {
        /// The slot count asked for.
        slot_count: u64,
        /// The slot size asked for.
        slot_size: u64,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The file does not start with [`RING_MAGIC`].
    #[error("ring {}: not a Kestrel ring (magic {found:#018x}, expected {RING_MAGIC:#018x})", path.display())]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The first word found.
        found: u64,
    },
    /// The file's layout version is not [`RING_LAYOUT_VERSION`].
    #[error("ring {}: layout version {found}, this build reads version {RING_LAYOUT_VERSION}", path.display())]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: u64,
    },
    /// The header describes an impossible ring, or the file is shorter than it says.
    #[error("ring {}: corrupt header: {reason}", path.display())]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// Another writer holds the ring's lock.
    #[error("ring {}: another writer has it open (lock held on {}.lock)", path.display(), path.display())]
    WriterActive {
        /// The ring file.
        path: PathBuf,
    },
    /// The message is longer than a slot holds.
    #[error("message of {len} bytes does not fit a ring slot (at most {max} bytes)")]
    MessageTooLarge {
        /// The message length.
        len: usize,
        /// The slot's capacity.
        max: usize,
    },
    /// The ring name is not usable in a file name.
    #[error("invalid ring name {name:?}: expected 1 to 64 ASCII letters, digits, `-` or `_`")]
    BadName {
        /// The rejected name (cut to 64 characters).
        name: String,
    },
    /// The event could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

impl RingError {
    fn io(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| Self::Io {
            path,
            action,
            source,
        }
    }
}

/// Where ring `name` lives: `/dev/shm/kestrel-<name>` when `/dev/shm` exists, else
/// `<fallback_dir>/kestrel-<name>` (normally the data directory).
///
/// # Errors
/// [`RingError::BadName`] when `name` is empty, longer than 64 bytes or holds anything but
/// ASCII letters, digits, `-` and `_`.
pub fn default_ring_path(name: &str, fallback_dir: &Path) -> Result<PathBuf, RingError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(RingError::BadName {
            name: name.chars().take(64).collect(),
        });
    }
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() { shm } else { fallback_dir };
    Ok(dir.join(format!("kestrel-{name}")))
}

#[cfg(test)]
mod tests;
