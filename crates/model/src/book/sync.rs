//! [`DepthSequencer`]: which diff-depth events belong on top of a snapshot.
//!
//! Binance publishes a book as a REST snapshot (with `lastUpdateId`, called `L` below) plus a
//! stream of diff events, each carrying the range of update ids it covers: `U` (first), `u`
//! (final) and, on futures, `pu` (the previous event's `u`). The sequencer decides, from the ids
//! alone, whether an event is to be applied, is stale (already reflected in the snapshot or
//! seen before) or reveals missing updates, in which case the book is broken until a new
//! snapshot arrives. It holds no levels, so it is testable on its own and reusable by anything
//! that consumes the stream.
//!
//! The rules are those of `binance-futures.md` §7.1 (futures) and §7.2 (spot); each is quoted
//! where it is enforced in [`DepthSequencer::check`].

use std::fmt;

/// Which venue's sequencing rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Binance USD-M futures (§7.1): events carry `pu`, which must equal the previous `u`;
    /// `U` may jump between consecutive events.
    Futures,
    /// Binance spot (§7.2): events carry no `pu`; each `U` must be the previous `u + 1`.
    Spot,
}

impl Flavor {
    /// `"futures"` or `"spot"`, for messages.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Futures => "futures",
            Self::Spot => "spot",
        }
    }
}

/// What to do with one diff event, as decided by [`DepthSequencer::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncDecision {
    /// The event continues the book: apply its levels.
    Apply,
    /// The event is already reflected in the book (before the snapshot, or a duplicate): skip it.
    DropStale,
    /// Updates are missing between the book and this event. The book is broken: fetch a new
    /// snapshot (keeping the stream) and call [`DepthSequencer::on_snapshot`].
    Gap(SyncGap),
    /// No snapshot is in force (never taken, or a gap was found since): buffer the event until
    /// the next snapshot, or drop it.
    AwaitingSnapshot,
}

/// Which sequencing rule an event broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncRule {
    /// Futures §7.1 step 4: the first event applied after a snapshot must have `U <= L`
    /// (and `u >= L`; a smaller `u` is stale, not a gap).
    FuturesFirstStraddlesSnapshot,
    /// Futures §7.1 step 5: every later event must have `pu == previous event's u`.
    FuturesPrevFinalIdLinks,
    /// Spot §7.2: the first event applied after a snapshot must have `U <= L + 1`
    /// (and `u >= L + 1`; a smaller `u` is stale, not a gap).
    SpotFirstStraddlesSnapshot,
    /// Spot §7.2: every later event must have `U == previous event's u + 1`.
    SpotFirstIdFollows,
}

/// The evidence of a gap: the rule broken, the id it required and the id the event carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SyncGap {
    /// The rule the event broke.
    pub rule: SyncRule,
    /// The id the rule required (an upper bound for `U` in the two "straddle" rules, the exact
    /// value otherwise).
    pub expected: u64,
    /// The id found in the event (`U`, or `pu` for [`SyncRule::FuturesPrevFinalIdLinks`]);
    /// `None` when a futures event carries no `pu` at all.
    pub found: Option<u64>,
}

impl fmt::Display for SyncGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (venue, requirement, field) = match self.rule {
            SyncRule::FuturesFirstStraddlesSnapshot => (
                "futures",
                "the first event after the snapshot must have U <= lastUpdateId",
                "U",
            ),
            SyncRule::FuturesPrevFinalIdLinks => ("futures", "pu must equal the previous u", "pu"),
            SyncRule::SpotFirstStraddlesSnapshot => (
                "spot",
                "the first event after the snapshot must have U <= lastUpdateId + 1",
                "U",
            ),
            SyncRule::SpotFirstIdFollows => ("spot", "U must equal the previous u + 1", "U"),
        };
        write!(
            f,
            "{venue} depth gap: {requirement} = {}, found ",
            self.expected
        )?;
        match self.found {
            Some(id) => write!(f, "{field} {id}"),
            None => write!(f, "no {field}"),
        }
    }
}

/// Where the sequencer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SyncState {
    /// No snapshot, or a gap since the last one.
    NeedsSnapshot,
    /// A snapshot with this `lastUpdateId` is in force; no event applied on it yet.
    Snapshot {
        /// The snapshot's `lastUpdateId` (`L`).
        last_update_id: u64,
    },
    /// Events are being applied; this is the last applied event's `u`.
    Live {
        /// The `u` of the last event applied.
        final_id: u64,
    },
}

/// The update-id state machine of a Binance diff-depth stream (`binance-futures.md` §7).
///
/// Call [`Self::on_snapshot`] with each snapshot's `lastUpdateId`, then [`Self::check`] with
/// each event's ids in stream order; it returns what to do with the event and, when it says
/// [`SyncDecision::Apply`], assumes the caller applies it. After a [`SyncDecision::Gap`] it
/// answers [`SyncDecision::AwaitingSnapshot`] until the next `on_snapshot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthSequencer {
    flavor: Flavor,
    state: SyncState,
}

impl DepthSequencer {
    /// A sequencer waiting for its first snapshot.
    #[must_use]
    pub const fn new(flavor: Flavor) -> Self {
        Self {
            flavor,
            state: SyncState::NeedsSnapshot,
        }
    }

    /// The rules this sequencer enforces.
    #[must_use]
    pub const fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// Starts over from a snapshot whose `lastUpdateId` is `last_update_id`.
    pub const fn on_snapshot(&mut self, last_update_id: u64) {
        self.state = SyncState::Snapshot { last_update_id };
    }

    /// Forgets the snapshot: every event is answered with [`SyncDecision::AwaitingSnapshot`]
    /// until the next [`Self::on_snapshot`]. For when the book is known to be wrong for a reason
    /// the ids do not show (a malformed level, a lost connection).
    pub const fn invalidate(&mut self) {
        self.state = SyncState::NeedsSnapshot;
    }

    /// Whether a snapshot is in force and no gap has been seen since.
    #[must_use]
    pub const fn is_synced(&self) -> bool {
        !matches!(self.state, SyncState::NeedsSnapshot)
    }

    /// The update id the book reflects: the snapshot's `lastUpdateId` until an event is
    /// applied, then the last applied event's `u`; `None` when not synced.
    #[must_use]
    pub const fn last_update_id(&self) -> Option<u64> {
        match self.state {
            SyncState::NeedsSnapshot => None,
            SyncState::Snapshot { last_update_id } => Some(last_update_id),
            SyncState::Live { final_id } => Some(final_id),
        }
    }

    /// Decides what to do with the event covering update ids `first_id` (`U`) to `final_id`
    /// (`u`), whose `pu` is `prev_final_id` (futures; spot events have none and it is ignored).
    ///
    /// Rules enforced, with `L` the snapshot's `lastUpdateId`:
    ///
    /// **Futures** (§7.1):
    /// - step 3, "discard every buffered event with `u < L`": [`SyncDecision::DropStale`];
    /// - step 4, "the first event you apply must satisfy `U <= L` and `u >= L`": otherwise
    ///   [`SyncRule::FuturesFirstStraddlesSnapshot`];
    /// - step 5, "for every later event, require `pu == previous event's u`; if that fails, the
    ///   book is broken: go back to step 2": otherwise [`SyncRule::FuturesPrevFinalIdLinks`].
    ///
    /// **Spot** (§7.2):
    /// - "discard events with `u <= lastUpdateId`": [`SyncDecision::DropStale`];
    /// - "the first applied event must straddle `lastUpdateId + 1` (`U <= L+1 <= u`)":
    ///   otherwise [`SyncRule::SpotFirstStraddlesSnapshot`];
    /// - "continuity is checked as `U == previous u + 1`": otherwise
    ///   [`SyncRule::SpotFirstIdFollows`].
    ///
    /// Once live, an event whose `u` is not beyond the last applied `u` is a duplicate or a
    /// replay (ids strictly increase, §7.4) whose content the book already holds; it is
    /// [`SyncDecision::DropStale`] rather than a gap.
    pub fn check(
        &mut self,
        first_id: u64,
        final_id: u64,
        prev_final_id: Option<u64>,
    ) -> SyncDecision {
        let decision = match (self.state, self.flavor) {
            (SyncState::NeedsSnapshot, _) => return SyncDecision::AwaitingSnapshot,
            (SyncState::Snapshot { last_update_id }, Flavor::Futures) => {
                if final_id < last_update_id {
                    SyncDecision::DropStale
                } else if first_id <= last_update_id {
                    SyncDecision::Apply
                } else {
                    gap(
                        SyncRule::FuturesFirstStraddlesSnapshot,
                        last_update_id,
                        Some(first_id),
                    )
                }
            }
            (SyncState::Snapshot { last_update_id }, Flavor::Spot) => {
                let next = last_update_id.saturating_add(1);
                if final_id <= last_update_id {
                    SyncDecision::DropStale
                } else if first_id <= next {
                    SyncDecision::Apply
                } else {
                    gap(SyncRule::SpotFirstStraddlesSnapshot, next, Some(first_id))
                }
            }
            (SyncState::Live { final_id: previous }, Flavor::Futures) => {
                if final_id <= previous {
                    SyncDecision::DropStale
                } else if prev_final_id == Some(previous) {
                    SyncDecision::Apply
                } else {
                    gap(SyncRule::FuturesPrevFinalIdLinks, previous, prev_final_id)
                }
            }
            (SyncState::Live { final_id: previous }, Flavor::Spot) => {
                let next = previous.saturating_add(1);
                if final_id <= previous {
                    SyncDecision::DropStale
                } else if first_id == next {
                    SyncDecision::Apply
                } else {
                    gap(SyncRule::SpotFirstIdFollows, next, Some(first_id))
                }
            }
        };
        match decision {
            SyncDecision::Apply => self.state = SyncState::Live { final_id },
            SyncDecision::Gap(_) => self.state = SyncState::NeedsSnapshot,
            SyncDecision::DropStale | SyncDecision::AwaitingSnapshot => {}
        }
        decision
    }
}

const fn gap(rule: SyncRule, expected: u64, found: Option<u64>) -> SyncDecision {
    SyncDecision::Gap(SyncGap {
        rule,
        expected,
        found,
    })
}
