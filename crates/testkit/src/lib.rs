//! Test support shared by Kestrel's crates; a dev-dependency only, never linked into the
//! product.
//!
//! [`CountingAllocator`] counts the allocations of the current thread, so a test can prove a
//! hot path allocates nothing once warmed up. A test binary installs it with
//! `#[global_allocator] static GLOBAL: CountingAllocator = CountingAllocator;` and reads
//! [`allocations`] before and after the work.
//!
//! [`fuzzing`] holds the checks of the fuzz targets (`fuzz/`, run with `scripts/fuzz.sh`):
//! each takes the fuzzer's bytes, drives one parser and asserts its invariants. The same
//! functions replay the committed seed corpus in this crate's tests, so a stable toolchain
//! checks every seed and every past finding.
//!
//! [`db`] (feature `db`) gives a test a database of its own on every available backend — a
//! SQLite file in a temporary directory and a PostgreSQL schema — for the crates that test
//! against the store.
//!
//! [`nats`] finds the NATS server of the tests that publish or subscribe on one, or says why
//! they are skipped.

// `GlobalAlloc` is an unsafe trait: this crate is the one place Kestrel needs `unsafe` for
// allocation counting. It only forwards to the system allocator.
#![allow(unsafe_code)]

#[cfg(feature = "db")]
pub mod db;
pub mod fuzzing;
pub mod nats;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Allocations made by this thread (per thread, so the test harness's other threads and
    /// tests cannot disturb the count).
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// A global allocator that forwards to [`System`] and counts allocations per thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

/// Allocations (alloc, alloc_zeroed, realloc) made so far by the calling thread.
#[must_use]
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

fn count_one() {
    // `try_with`: the allocator can be called while thread-locals are being torn down.
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
}

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; counting touches only a const-initialised thread-local `Cell`, which
// never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}
