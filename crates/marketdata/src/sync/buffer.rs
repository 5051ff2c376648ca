//! [`DiffBuffer`]: the bounded queue of diff events held while no snapshot is in force.
//!
//! A ring of slots, each an owned copy of one event. Slots are created on first use and then
//! reused for ever (their level vectors keep their capacity), so once the buffer has reached
//! its high-water mark buffering and replaying allocate nothing. When full, pushing drops the
//! oldest event: the newest ones are those a fresh snapshot can connect to.

use kestrel_model::book::{DepthDiff, Level};

/// One buffered event: the ids and an owned copy of the levels.
#[derive(Debug, Clone, Default)]
pub(super) struct BufferedDiff {
    first_update_id: u64,
    final_update_id: u64,
    prev_final_update_id: Option<u64>,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl BufferedDiff {
    /// The event as a borrowed [`DepthDiff`].
    pub(super) fn as_diff(&self) -> DepthDiff<'_> {
        DepthDiff {
            first_update_id: self.first_update_id,
            final_update_id: self.final_update_id,
            prev_final_update_id: self.prev_final_update_id,
            bids: &self.bids,
            asks: &self.asks,
        }
    }

    /// Overwrites this slot with a copy of `diff`, reusing the vectors' capacity.
    fn copy_from(&mut self, diff: &DepthDiff<'_>) {
        self.first_update_id = diff.first_update_id;
        self.final_update_id = diff.final_update_id;
        self.prev_final_update_id = diff.prev_final_update_id;
        self.bids.clear();
        self.bids.extend_from_slice(diff.bids);
        self.asks.clear();
        self.asks.extend_from_slice(diff.asks);
    }
}

/// A bounded FIFO of [`BufferedDiff`]s over reusable slots.
#[derive(Debug, Clone)]
pub(super) struct DiffBuffer {
    /// Slot storage; grows lazily up to `max` and never shrinks.
    slots: Vec<BufferedDiff>,
    /// Index of the oldest event.
    head: usize,
    /// Number of events held.
    len: usize,
    /// The most events held at once (at least one).
    max: usize,
}

impl DiffBuffer {
    /// An empty buffer holding at most `max` events (a `max` of zero is taken as one).
    pub(super) fn new(max: usize) -> Self {
        Self {
            slots: Vec::new(),
            head: 0,
            len: 0,
            max: max.max(1),
        }
    }

    /// Number of events held.
    pub(super) const fn len(&self) -> usize {
        self.len
    }

    /// Appends a copy of `diff`; returns `true` when the oldest event was dropped for room.
    pub(super) fn push(&mut self, diff: &DepthDiff<'_>) -> bool {
        let dropped = self.len == self.max;
        if dropped {
            self.head = (self.head + 1) % self.max;
            self.len -= 1;
        }
        let index = (self.head + self.len) % self.max;
        if self.slots.len() <= index {
            self.slots.resize_with(index + 1, BufferedDiff::default);
        }
        if let Some(slot) = self.slots.get_mut(index) {
            slot.copy_from(diff);
            self.len += 1;
        }
        dropped
    }

    /// The oldest event.
    pub(super) fn front(&self) -> Option<&BufferedDiff> {
        if self.len == 0 {
            return None;
        }
        self.slots.get(self.head)
    }

    /// Removes the oldest event (its slot is kept for reuse).
    pub(super) fn pop_front(&mut self) {
        if self.len == 0 {
            return;
        }
        self.len -= 1;
        self.head = if self.len == 0 {
            0
        } else {
            (self.head + 1) % self.max
        };
    }

    /// The events held, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = &BufferedDiff> {
        (0..self.len).filter_map(|i| self.slots.get((self.head + i) % self.max))
    }

    /// Removes every event, keeping the slots.
    pub(super) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}
