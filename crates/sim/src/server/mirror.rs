//! The market driver's mirror source: a live venue's messages, as Kestrel's recorder captures
//! them, arriving over a channel ([`super::MirrorFeed`]) and applied to the exchange once per
//! market step. How the books and queue positions follow the venue is
//! [`crate::exchange::mirror`]'s business; this module routes messages to each symbol's
//! [`MirrorBook`] and decides when a batch is applied.
//!
//! Depth is applied one step after it arrived, trades in the step they arrive: the depth
//! stream and the trade stream are separate, and a depth update that overtook the trade it
//! reflects by up to one step must not make the trade count twice against the queue.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, TryRecvError};

use kestrel_model::{Instrument, Price};
use serde_json::{Value, json};

use super::Shared;
use super::snapshots::Snapshots;
use crate::market::mirror::MirrorBook;
use crate::market::recording::RecordedMessage;

/// The most messages taken from the feed in one step (the rest wait for the next).
const MAX_MESSAGES_PER_STEP: usize = 100_000;

/// The mirror source: the feed and one book per listed symbol.
pub(super) struct Mirror {
    feed: Receiver<RecordedMessage>,
    books: BTreeMap<String, MirrorBook>,
    received: u64,
    unrouted: u64,
    closed: bool,
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mirror({} symbols)", self.books.len())
    }
}

impl Mirror {
    /// A mirror of `instruments` fed by `feed`.
    pub(super) fn new(feed: super::MirrorFeed, instruments: &[(Instrument, Price)]) -> Self {
        let books = instruments
            .iter()
            .map(|(instrument, _)| {
                let book = MirrorBook::new(&instrument.symbol, instrument.tick_size());
                (instrument.symbol.clone(), book)
            })
            .collect();
        Self {
            feed: feed.receiver,
            books,
            received: 0,
            unrouted: 0,
            closed: false,
        }
    }

    /// One market step: the depth that arrived before it and the trades that arrive now are
    /// applied (when `moves`: a paused market keeps following the venue without touching
    /// the books, and drops the trades it missed), the venue's marks are set as they come
    /// (a mark from the book's mid, for a venue that sends none, when `publish_marks`), and
    /// the venue's clock advances. Returns how many messages arrived.
    pub(super) fn step(
        &mut self,
        shared: &Shared,
        snapshots: &mut Snapshots,
        moves: bool,
        publish_marks: bool,
        now: u64,
    ) -> usize {
        if moves {
            for book in self.books.values_mut() {
                book.prepare();
            }
        }
        let received = self.drain();
        shared.with_exchange(|exchange, _| {
            for (symbol, book) in &mut self.books {
                if moves {
                    let target = |side, price| book.target(side, price);
                    exchange.mirror(symbol, book.trades(), book.changed(), target, now);
                }
                book.clear_batch();
                if moves
                    && let Some(mark) = book.mark_due(publish_marks)
                    && let Err(error) =
                        exchange.set_mark(symbol, mark.mark, mark.index, mark.funding_rate, now)
                {
                    tracing::warn!(%symbol, %error, "mirrored mark price not applied");
                }
            }
            // Mirror orders need no bookkeeping of their fills.
            exchange.drain_participant_fills(&mut Vec::new());
            exchange.tick(now);
            snapshots.publish(&shared.hub, exchange, now);
        });
        received
    }

    /// Routes what has arrived to the symbols' books.
    fn drain(&mut self) -> usize {
        let mut count = 0;
        while count < MAX_MESSAGES_PER_STEP {
            match self.feed.try_recv() {
                Ok(message) => {
                    self.route(&message);
                    count += 1;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if !self.closed {
                        self.closed = true;
                        tracing::warn!(
                            "the mirrored venue's feed has ended: its book stands still"
                        );
                    }
                    break;
                }
            }
        }
        self.received += count as u64;
        count
    }

    fn route(&mut self, message: &RecordedMessage) {
        let book = match &message.symbol {
            Some(symbol) if symbol.bytes().any(|b| b.is_ascii_lowercase()) => {
                self.books.get_mut(&symbol.to_ascii_uppercase())
            }
            Some(symbol) => self.books.get_mut(symbol),
            // A snapshot that names no symbol can only be the one symbol's.
            None if self.books.len() == 1 => self.books.values_mut().next(),
            None => None,
        };
        match book {
            Some(book) => book.apply(message),
            None => self.unrouted += 1,
        }
    }

    /// What the mirror has taken in, per symbol, for `/sim/v1/status`.
    pub(super) fn status(&self) -> Value {
        let symbols: serde_json::Map<String, Value> = self
            .books
            .iter()
            .map(|(symbol, book)| {
                let (stats, depth) = (book.stats(), book.book_stats());
                let (bids, asks) = book.levels();
                let view = json!({
                    "synced": book.is_synced(), "bid_levels": bids, "ask_levels": asks,
                    "messages": stats.messages, "trades": stats.trades, "marks": stats.marks,
                    "rejected": stats.rejected, "snapshots": depth.snapshots, "gaps": depth.gaps,
                });
                (symbol.clone(), view)
            })
            .collect();
        json!({
            "received": self.received, "unrouted": self.unrouted, "feed_closed": self.closed,
            "symbols": symbols,
        })
    }
}
