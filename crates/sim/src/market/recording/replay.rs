//! [`Replay`]: releases a recording's messages on a replay clock, keeping a book in sync.

use super::RecordedMessage;
use super::replay_book::ReplayBook;

/// How a [`Replay`] releases messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// With the spacing they were received with: a message is due when its `recv_ns` minus
    /// the first message's is at most the elapsed replay time the caller passes. (Scale the
    /// elapsed time to replay faster or slower.)
    OriginalSpacing,
    /// As fast as the caller takes them: every poll releases up to `batch` messages.
    AsFastAsPossible {
        /// Messages released per poll (at least 1).
        batch: usize,
    },
}

/// Replays recorded messages (from a [`super::RecordingReader`] or any iterator) on a clock
/// the caller drives, feeding an optional [`ReplayBook`] with every message released, so the
/// book reflects exactly what has been released.
///
/// Messages are released in recording order; a message whose receive time is earlier than
/// its predecessor's is due as soon as its predecessor has been released.
#[derive(Debug)]
pub struct Replay<I: Iterator<Item = RecordedMessage>> {
    source: I,
    pending: Option<RecordedMessage>,
    origin_ns: Option<u64>,
    pacing: Pacing,
    book: Option<ReplayBook>,
    released: u64,
}

impl<I: Iterator<Item = RecordedMessage>> Replay<I> {
    /// A replay of `source` with `pacing`.
    pub fn new(source: I, pacing: Pacing) -> Self {
        Self {
            source,
            pending: None,
            origin_ns: None,
            pacing,
            book: None,
            released: 0,
        }
    }

    /// Keeps `book` in sync with the messages released.
    #[must_use]
    pub fn with_book(mut self, book: ReplayBook) -> Self {
        self.book = Some(book);
        self
    }

    /// The book kept in sync, if one was given.
    #[must_use]
    pub const fn book(&self) -> Option<&ReplayBook> {
        self.book.as_ref()
    }

    /// The pacing in force.
    #[must_use]
    pub const fn pacing(&self) -> Pacing {
        self.pacing
    }

    /// Messages released so far.
    #[must_use]
    pub const fn released(&self) -> u64 {
        self.released
    }

    /// The receive time of the first message, the origin of the replay clock (`None` before
    /// the first message has been looked at).
    #[must_use]
    pub const fn origin_ns(&self) -> Option<u64> {
        self.origin_ns
    }

    /// The replay-clock time (ns after the first message) at which the next message is due;
    /// `None` when the recording is exhausted. With [`Pacing::AsFastAsPossible`] it is 0.
    pub fn next_due_ns(&mut self) -> Option<u64> {
        let recv_ns = self.peek()?.recv_ns;
        Some(match self.pacing {
            Pacing::OriginalSpacing => self.offset_of(recv_ns),
            Pacing::AsFastAsPossible { .. } => 0,
        })
    }

    /// Whether every message has been released.
    pub fn is_finished(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Appends to `out` the messages due when `elapsed_ns` of replay time have passed since
    /// the first message (all of them up to that time with [`Pacing::OriginalSpacing`]; the
    /// next batch with [`Pacing::AsFastAsPossible`], whatever the clock) and returns how many.
    pub fn poll(&mut self, elapsed_ns: u64, out: &mut Vec<RecordedMessage>) -> usize {
        let mut count = 0;
        loop {
            let due = match self.pacing {
                Pacing::OriginalSpacing => self.next_due_ns().is_some_and(|due| due <= elapsed_ns),
                Pacing::AsFastAsPossible { batch } => count < batch.max(1),
            };
            if !due {
                return count;
            }
            let Some(message) = self.release() else {
                return count;
            };
            out.push(message);
            count += 1;
        }
    }

    /// The next message, without releasing it.
    fn peek(&mut self) -> Option<&RecordedMessage> {
        if self.pending.is_none() {
            self.pending = self.source.next();
            if let (None, Some(message)) = (self.origin_ns, &self.pending) {
                self.origin_ns = Some(message.recv_ns);
            }
        }
        self.pending.as_ref()
    }

    fn offset_of(&self, recv_ns: u64) -> u64 {
        recv_ns.saturating_sub(self.origin_ns.unwrap_or(recv_ns))
    }

    /// Releases the next message, whatever the clock, feeding the book.
    fn release(&mut self) -> Option<RecordedMessage> {
        self.peek()?;
        let message = self.pending.take()?;
        if let Some(book) = &mut self.book {
            book.apply(&message);
        }
        self.released += 1;
        Some(message)
    }
}

impl<I: Iterator<Item = RecordedMessage>> Iterator for Replay<I> {
    type Item = RecordedMessage;

    /// Releases the next message now, whatever the pacing.
    fn next(&mut self) -> Option<RecordedMessage> {
        self.release()
    }
}
