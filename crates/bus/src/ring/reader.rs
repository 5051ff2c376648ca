//! [`RingReader`]: opens a ring read-only and follows its writer.

use std::fs::File;
use std::hint::spin_loop;
use std::path::{Path, PathBuf};
use std::sync::atomic::{Ordering, fence};
use std::thread;
use std::time::{Duration, Instant};

use super::mapping::SharedWords;
use super::{
    Geometry, RING_HEADER_LEN, RING_LAYOUT_VERSION, RING_MAGIC, RingError, WRITER_CLOSED,
    stamp_done, stamp_writing, word,
};

/// How many times one `try_next` re-reads after being lapped before giving up for now.
const MAX_ATTEMPTS: u32 = 8;

/// One message read from a ring, borrowed from the reader's copy buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingMessage<'r> {
    /// The message's sequence number (0 for the ring's first message).
    pub seq: u64,
    /// Messages lost to lapping since the previous message this reader returned.
    pub lost_before: u64,
    /// The message bytes (a consistent copy: never torn).
    pub bytes: &'r [u8],
}

/// A reader of a ring, at its own position; any number may follow one writer.
pub struct RingReader {
    words: SharedWords,
    geometry: Geometry,
    path: PathBuf,
    next_seq: u64,
    lost: u64,
    pending_lost: u64,
    /// The copy of the last message read, in words.
    buf: Vec<[u8; 8]>,
}

/// What a message returned by `advance` is, without borrowing the buffer.
#[derive(Debug, Clone, Copy)]
struct Delivered {
    seq: u64,
    lost_before: u64,
    len: usize,
}

/// What one attempt to read a slot found.
enum SlotRead {
    /// A consistent copy of `len` bytes is in the buffer.
    Ready(usize),
    /// The message is not published yet.
    NotYet,
    /// The writer has moved past the message: this reader was lapped.
    Lapped,
    /// A consistent slot with an impossible length (a misbehaving writer): skip it.
    Corrupt,
}

impl RingReader {
    /// Opens the ring at `path` read-only, positioned after the newest message (it yields only
    /// messages published from now on; see [`Self::seek_oldest`]).
    ///
    /// # Errors
    /// [`RingError::Io`] when the file cannot be opened or mapped, [`RingError::BadMagic`],
    /// [`RingError::UnsupportedVersion`] or [`RingError::BadHeader`] when it is not a ring this
    /// build reads.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, RingError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(RingError::io(path, "open"))?;
        let len = file.metadata().map_err(RingError::io(path, "stat"))?.len();
        if len < RING_HEADER_LEN as u64 {
            return Err(bad_header(path, "file shorter than the 128-byte header"));
        }
        let words = SharedWords::read_only(&file).map_err(RingError::io(path, "map"))?;
        let geometry = check_header(&words, path)?;
        let buf = vec![[0; 8]; geometry.capacity / 8];
        let mut reader = Self {
            words,
            geometry,
            path: path.to_path_buf(),
            next_seq: 0,
            lost: 0,
            pending_lost: 0,
            buf,
        };
        reader.seek_newest();
        Ok(reader)
    }

    /// The ring file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The longest message a slot holds, in bytes.
    #[must_use]
    pub const fn max_message_len(&self) -> usize {
        self.geometry.capacity
    }

    /// Number of slots.
    #[must_use]
    pub const fn slot_count(&self) -> u64 {
        self.geometry.slot_count
    }

    /// How many messages the writer has published so far.
    #[must_use]
    pub fn write_seq(&self) -> u64 {
        self.words
            .load(word::WRITE_SEQ, Ordering::Acquire)
            .unwrap_or(0)
    }

    /// The sequence number this reader will return next.
    #[must_use]
    pub const fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Messages lost to lapping since the reader opened.
    #[must_use]
    pub const fn lost(&self) -> u64 {
        self.lost
    }

    /// Whether the writer has been dropped (a new writer replaces the file: reopen to follow).
    #[must_use]
    pub fn writer_closed(&self) -> bool {
        self.words.load(word::WRITER_STATE, Ordering::Acquire) == Some(WRITER_CLOSED)
    }

    /// Moves to the next message to be published, skipping everything in the ring.
    pub fn seek_newest(&mut self) {
        self.next_seq = self.write_seq();
        self.pending_lost = 0;
    }

    /// Moves to the oldest message still in the ring (one slot is left as margin for the
    /// slot the writer may be overwriting).
    pub fn seek_oldest(&mut self) {
        let published = self.write_seq();
        let slots = self.geometry.slot_count;
        self.next_seq = if published >= slots {
            published - slots + 1
        } else {
            0
        };
        self.pending_lost = 0;
    }

    /// The next message if one is published, without waiting. After being lapped the reader
    /// jumps to the newest message and reports the gap in [`RingMessage::lost_before`].
    pub fn try_next(&mut self) -> Option<RingMessage<'_>> {
        let delivered = self.advance()?;
        Some(self.message(delivered))
    }

    /// The next message, polling until one is published or `timeout` passes: spins briefly,
    /// then yields, then sleeps 20 µs between polls.
    pub fn poll_next(&mut self, timeout: Duration) -> Option<RingMessage<'_>> {
        let deadline = Instant::now().checked_add(timeout);
        let mut idle: u32 = 0;
        let delivered = loop {
            if let Some(delivered) = self.advance() {
                break delivered;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            back_off(idle);
            idle = idle.saturating_add(1);
        };
        Some(self.message(delivered))
    }

    fn message(&self, delivered: Delivered) -> RingMessage<'_> {
        let bytes = self.buf.as_flattened();
        RingMessage {
            seq: delivered.seq,
            lost_before: delivered.lost_before,
            bytes: bytes.get(..delivered.len).unwrap_or_default(),
        }
    }

    /// Reads the next message into the buffer, resynchronising when lapped.
    fn advance(&mut self) -> Option<Delivered> {
        for _ in 0..MAX_ATTEMPTS {
            let seq = self.next_seq;
            match self.read_slot(seq) {
                SlotRead::Ready(len) => {
                    self.next_seq = seq + 1;
                    let lost_before = std::mem::take(&mut self.pending_lost);
                    return Some(Delivered {
                        seq,
                        lost_before,
                        len,
                    });
                }
                SlotRead::NotYet => return None,
                SlotRead::Lapped => self.resync(seq),
                SlotRead::Corrupt => self.skip_to(seq + 1, seq),
            }
        }
        None
    }

    /// One seqlock read of message `seq` (see the module docs for the protocol).
    fn read_slot(&mut self, seq: u64) -> SlotRead {
        let base = self.geometry.slot_base(seq);
        let Some(before) = self.words.load(base, Ordering::Acquire) else {
            return SlotRead::Corrupt;
        };
        if before <= stamp_writing(seq) {
            return SlotRead::NotYet;
        }
        if before != stamp_done(seq) {
            return SlotRead::Lapped;
        }
        let len = self
            .words
            .load(base + 1, Ordering::Relaxed)
            .unwrap_or(u64::MAX);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let copied = len <= self.geometry.capacity
            && self
                .buf
                .get_mut(..len.div_ceil(8))
                .is_some_and(|dst| self.words.load_words(base + 2, dst));
        fence(Ordering::Acquire);
        let after = self.words.load(base, Ordering::Relaxed);
        match (after == Some(before), copied) {
            (true, true) => SlotRead::Ready(len),
            (true, false) => SlotRead::Corrupt,
            (false, _) => SlotRead::Lapped,
        }
    }

    /// Jumps to the newest published message after being lapped at `seq`.
    fn resync(&mut self, seq: u64) {
        let newest = self.write_seq().saturating_sub(1);
        self.skip_to(newest.max(seq + 1), seq);
    }

    /// Moves from `seq` to `target`, counting the messages skipped as lost.
    fn skip_to(&mut self, target: u64, seq: u64) {
        let skipped = target.saturating_sub(seq);
        self.lost += skipped;
        self.pending_lost += skipped;
        self.next_seq = target;
    }
}

impl std::fmt::Debug for RingReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingReader")
            .field("path", &self.path)
            .field("geometry", &self.geometry)
            .field("next_seq", &self.next_seq)
            .field("lost", &self.lost)
            .finish_non_exhaustive()
    }
}

fn bad_header(path: &Path, reason: &'static str) -> RingError {
    RingError::BadHeader {
        path: path.to_path_buf(),
        reason,
    }
}

/// Checks magic, version and shape, and that the file holds every slot.
fn check_header(words: &SharedWords, path: &Path) -> Result<Geometry, RingError> {
    let load = |index| words.load(index, Ordering::Acquire).unwrap_or(0);
    let magic = load(word::MAGIC);
    if magic != RING_MAGIC {
        let path = path.to_path_buf();
        return Err(RingError::BadMagic { path, found: magic });
    }
    let version = load(word::VERSION);
    if version != RING_LAYOUT_VERSION {
        let path = path.to_path_buf();
        return Err(RingError::UnsupportedVersion {
            path,
            found: version,
        });
    }
    if load(word::HEADER_LEN) != RING_HEADER_LEN as u64 {
        return Err(bad_header(path, "header length is not 128 bytes"));
    }
    let geometry = Geometry::new(load(word::SLOT_COUNT), load(word::SLOT_SIZE))
        .map_err(|reason| bad_header(path, reason))?;
    if words.len() * 8 < geometry.file_len() {
        return Err(bad_header(
            path,
            "file shorter than the slots its header declares",
        ));
    }
    Ok(geometry)
}

/// Waits a little longer the longer a poll has been idle.
fn back_off(idle: u32) {
    if idle < 64 {
        spin_loop();
    } else if idle < 128 {
        thread::yield_now();
    } else {
        thread::sleep(Duration::from_micros(20));
    }
}
