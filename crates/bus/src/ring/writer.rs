//! [`RingWriter`]: creates a ring file and publishes messages into it.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{Ordering, fence};

use kestrel_model::event::MarketEvent;

use super::mapping::SharedWords;
use super::{
    Geometry, RING_HEADER_LEN, RING_LAYOUT_VERSION, RING_MAGIC, RingConfig, RingError,
    WRITER_CLOSED, WRITER_OPEN, stamp_done, stamp_writing, word,
};
use crate::codec;

/// The single writer of a ring. Dropping it marks the ring closed for readers.
pub struct RingWriter {
    words: SharedWords,
    geometry: Geometry,
    path: PathBuf,
    next_seq: u64,
    /// Reused encoding buffer for [`Self::publish`].
    scratch: Vec<u8>,
    /// Holds the advisory lock on `<path>.lock` for the writer's lifetime.
    _lock: File,
}

impl RingWriter {
    /// Creates (or replaces) the ring at `path` with the shape `config` and opens it for
    /// writing; publishing starts at sequence 0.
    ///
    /// # Errors
    /// [`RingError::Config`] for a bad shape, [`RingError::WriterActive`] when another writer
    /// holds the ring, [`RingError::Io`] when the file cannot be built.
    pub fn create(path: impl AsRef<Path>, config: RingConfig) -> Result<Self, RingError> {
        let path = path.as_ref();
        let geometry = config.geometry()?;
        let lock = take_lock(path)?;
        let tmp = with_suffix(path, &format!(".tmp-{}", std::process::id()));
        let built = build_file(&tmp, &geometry).and_then(|words| {
            fs::rename(&tmp, path).map_err(RingError::io(path, "rename into place"))?;
            Ok(words)
        });
        let words = built.inspect_err(|_| {
            // Best effort: the temporary file is useless after a failure.
            let _ = fs::remove_file(&tmp);
        })?;
        Ok(Self {
            words,
            geometry,
            path: path.to_path_buf(),
            next_seq: 0,
            scratch: Vec::with_capacity(geometry.capacity),
            _lock: lock,
        })
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

    /// The sequence number the next message will get (= messages published so far).
    #[must_use]
    pub const fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Publishes `message` and returns its sequence number.
    ///
    /// # Errors
    /// [`RingError::MessageTooLarge`] when it exceeds [`Self::max_message_len`].
    pub fn write(&mut self, message: &[u8]) -> Result<u64, RingError> {
        let seq = self.next_seq;
        self.write_slot(seq, message)?;
        self.next_seq = seq + 1;
        Ok(seq)
    }

    /// Encodes `event` with [`crate::codec`] and publishes it; returns its sequence number.
    ///
    /// # Errors
    /// [`RingError::Encode`] when the event breaks a codec rule,
    /// [`RingError::MessageTooLarge`] when its encoding exceeds a slot.
    pub fn publish(&mut self, event: &MarketEvent<'_>) -> Result<u64, RingError> {
        self.scratch.clear();
        codec::encode(event, &mut self.scratch)?;
        let seq = self.next_seq;
        self.write_slot(seq, &self.scratch)?;
        self.next_seq = seq + 1;
        Ok(seq)
    }

    /// The seqlock write of one slot (see the module docs for the protocol).
    fn write_slot(&self, seq: u64, message: &[u8]) -> Result<(), RingError> {
        let max = self.geometry.capacity;
        if message.len() > max {
            let len = message.len();
            return Err(RingError::MessageTooLarge { len, max });
        }
        let base = self.geometry.slot_base(seq);
        let words = &self.words;
        words.store(base, stamp_writing(seq), Ordering::Relaxed);
        // Keeps the payload stores below from becoming visible before the odd stamp.
        fence(Ordering::Release);
        words.store(base + 1, message.len() as u64, Ordering::Relaxed);
        words.store_bytes(base + 2, message);
        words.store(base, stamp_done(seq), Ordering::Release);
        words.store(word::WRITE_SEQ, seq + 1, Ordering::Release);
        Ok(())
    }
}

impl Drop for RingWriter {
    fn drop(&mut self) {
        self.words
            .store(word::WRITER_STATE, WRITER_CLOSED, Ordering::Release);
    }
}

impl std::fmt::Debug for RingWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingWriter")
            .field("path", &self.path)
            .field("geometry", &self.geometry)
            .field("next_seq", &self.next_seq)
            .finish_non_exhaustive()
    }
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// Takes the exclusive advisory lock that makes this process the ring's only writer.
fn take_lock(path: &Path) -> Result<File, RingError> {
    let lock_path = with_suffix(path, ".lock");
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(RingError::io(&lock_path, "open lock file"))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(RingError::WriterActive {
            path: path.to_path_buf(),
        }),
        Err(TryLockError::Error(source)) => Err(RingError::io(&lock_path, "lock")(source)),
    }
}

/// Creates the sized file at `tmp`, maps it and writes the header.
fn build_file(tmp: &Path, geometry: &Geometry) -> Result<SharedWords, RingError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)
        .map_err(RingError::io(tmp, "create"))?;
    file.set_len(geometry.file_len() as u64)
        .map_err(RingError::io(tmp, "size"))?;
    let words = SharedWords::writable(&file).map_err(RingError::io(tmp, "map"))?;
    let header = [
        (word::MAGIC, RING_MAGIC),
        (word::VERSION, RING_LAYOUT_VERSION),
        (word::HEADER_LEN, RING_HEADER_LEN as u64),
        (word::SLOT_COUNT, geometry.slot_count),
        (word::SLOT_SIZE, geometry.slot_size),
        (word::WRITER_STATE, WRITER_OPEN),
        (word::WRITER_PID, u64::from(std::process::id())),
        (word::WRITE_SEQ, 0),
    ];
    for (index, value) in header {
        words.store(index, value, Ordering::Release);
    }
    Ok(words)
}
