#![allow(unsafe_code)]
//! The only unsafe code of the crate: viewing a shared file mapping as 64-bit atomic words.
//!
//! Every byte of a ring is read and written through `AtomicU64` (the payload too, a word at a
//! time), so a writer in one process and readers in others never race in the Rust memory model
//! sense: the seqlock in `writer.rs` / `reader.rs` decides which reads are trustworthy.
//! [`MmapRaw`] maps without handing out `&[u8]`, so no plain reference ever aliases the memory
//! another process writes.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::{MmapOptions, MmapRaw};

/// A file mapping seen as a slice of atomic 64-bit words.
pub(super) struct SharedWords {
    map: MmapRaw,
    writable: bool,
}

impl SharedWords {
    /// Maps `file` (opened read-write) for the writer.
    pub(super) fn writable(file: &File) -> io::Result<Self> {
        Self::checked(MmapOptions::new().map_raw(file)?, true)
    }

    /// Maps `file` read-only for a reader.
    pub(super) fn read_only(file: &File) -> io::Result<Self> {
        Self::checked(MmapOptions::new().map_raw_read_only(file)?, false)
    }

    fn checked(map: MmapRaw, writable: bool) -> io::Result<Self> {
        if map.len() < 8 || map.as_ptr().align_offset(align_of::<AtomicU64>()) != 0 {
            return Err(io::Error::other("mapping is empty or not 8-byte aligned"));
        }
        Ok(Self { map, writable })
    }

    /// The whole mapping as words (a trailing partial word is left out).
    fn words(&self) -> &[AtomicU64] {
        // SAFETY: `checked` made sure the pointer is non-null and 8-byte aligned (mmap returns
        // page-aligned memory), and `len / 8` words lie inside the mapping, which lives as long
        // as `self` (the borrow ties the slice to it). Rings are created by renaming a fully
        // sized file into place and never truncated, so the pages stay backed. The memory is
        // only ever accessed through these atomics, in every process, so concurrent access is
        // not a data race. For a read-only mapping `load` is the only operation callers can
        // reach (see `load` / `store`), and std documents atomic loads of native-width
        // integers as allowed on read-only memory.
        unsafe {
            std::slice::from_raw_parts(self.map.as_ptr().cast::<AtomicU64>(), self.map.len() / 8)
        }
    }

    /// Number of words mapped.
    pub(super) fn len(&self) -> usize {
        self.map.len() / 8
    }

    /// Loads word `index`; `None` past the end.
    #[inline]
    pub(super) fn load(&self, index: usize, order: Ordering) -> Option<u64> {
        self.words().get(index).map(|w| w.load(order))
    }

    /// Loads words `start..start + out.len()` (relaxed) into `out` as little-endian bytes;
    /// `false` when the range runs past the end.
    #[inline]
    pub(super) fn load_words(&self, start: usize, out: &mut [[u8; 8]]) -> bool {
        let Some(words) = self.words().get(start..start + out.len()) else {
            return false;
        };
        for (dst, word) in out.iter_mut().zip(words) {
            *dst = word.load(Ordering::Relaxed).to_le_bytes();
        }
        true
    }

    /// Stores `bytes` (relaxed) into the words from `start`, zero-padding the last one;
    /// `false` (nothing stored) when they run past the end or the mapping is read-only.
    #[inline]
    pub(super) fn store_bytes(&self, start: usize, bytes: &[u8]) -> bool {
        let (chunks, tail) = bytes.as_chunks::<8>();
        let count = chunks.len() + usize::from(!tail.is_empty());
        let Some(words) = self.words().get(start..start + count) else {
            return false;
        };
        if !self.writable {
            return false;
        }
        for (word, chunk) in words.iter().zip(chunks) {
            word.store(u64::from_le_bytes(*chunk), Ordering::Relaxed);
        }
        if let (Some(word), false) = (words.last(), tail.is_empty()) {
            let mut last = [0; 8];
            if let Some(dst) = last.get_mut(..tail.len()) {
                dst.copy_from_slice(tail);
            }
            word.store(u64::from_le_bytes(last), Ordering::Relaxed);
        }
        true
    }

    /// Stores word `index`; ignored past the end or on a read-only mapping.
    #[inline]
    pub(super) fn store(&self, index: usize, value: u64, order: Ordering) {
        debug_assert!(self.writable, "store on a read-only ring mapping");
        if self.writable
            && let Some(word) = self.words().get(index)
        {
            word.store(value, order);
        }
    }
}
