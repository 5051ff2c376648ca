//! Time as an input: [`Nanos`], a monotonic instant, and the [`Clock`] that supplies it.
//!
//! Nothing in this crate reads the system time. Every stateful piece (rate limiter, breaker,
//! venue counters, validator) takes `now: Nanos` as an argument, so a backtest, a simulator run
//! and a unit test replay exactly, and the live engine passes the reading of its monotonic
//! clock. `Nanos` is an instant on one clock, counted from that clock's origin; instants of
//! different clocks must not be compared.

use std::cell::Cell;
use std::fmt;
use std::time::Duration;

/// A monotonic instant: nanoseconds since the origin of the clock that produced it.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nanos(u64);

impl Nanos {
    /// The clock's origin.
    pub const ZERO: Self = Self(0);
    /// The farthest representable instant ("never").
    pub const MAX: Self = Self(u64::MAX);

    /// An instant `nanos` nanoseconds after the origin.
    #[must_use]
    pub const fn from_nanos(nanos: u64) -> Self {
        Self(nanos)
    }

    /// An instant `millis` milliseconds after the origin (saturating at [`Nanos::MAX`]).
    #[must_use]
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis.saturating_mul(1_000_000))
    }

    /// An instant `secs` seconds after the origin (saturating at [`Nanos::MAX`]).
    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds since the origin.
    #[must_use]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The instant `duration` later, saturating at [`Nanos::MAX`].
    #[must_use]
    pub const fn saturating_add(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration_nanos(duration)))
    }

    /// The instant `duration` earlier, saturating at [`Nanos::ZERO`].
    #[must_use]
    pub const fn saturating_sub(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration_nanos(duration)))
    }

    /// Time elapsed from `earlier` to `self`; zero when `earlier` is later.
    #[must_use]
    pub const fn saturating_since(self, earlier: Self) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Debug for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nanos({})", self.0)
    }
}

/// A duration in whole nanoseconds, saturating at `u64::MAX` (584 years).
#[must_use]
pub const fn duration_nanos(duration: Duration) -> u64 {
    let nanos = duration.as_nanos();
    if nanos > u64::MAX as u128 {
        u64::MAX
    } else {
        nanos as u64
    }
}

/// A source of monotonic instants: the live engine's clock, a simulated clock, or a test's
/// [`ManualClock`].
pub trait Clock {
    /// The current instant.
    fn now(&self) -> Nanos;
}

/// A clock that moves only when told to: for tests and replays.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Cell<u64>,
}

impl ManualClock {
    /// A clock reading `start`.
    #[must_use]
    pub const fn new(start: Nanos) -> Self {
        Self {
            now: Cell::new(start.0),
        }
    }

    /// Moves the clock forward by `duration` (saturating).
    pub fn advance(&self, duration: Duration) {
        self.now
            .set(self.now.get().saturating_add(duration_nanos(duration)));
    }

    /// Sets the clock to `instant`; moving it backwards is ignored, as a monotonic clock
    /// never goes back.
    pub fn set(&self, instant: Nanos) {
        self.now.set(self.now.get().max(instant.0));
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Nanos {
        Nanos(self.now.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_only_moves_forward() {
        let clock = ManualClock::new(Nanos::from_secs(5));
        clock.advance(Duration::from_millis(250));
        assert_eq!(clock.now(), Nanos::from_millis(5_250));
        clock.set(Nanos::from_secs(1));
        assert_eq!(clock.now(), Nanos::from_millis(5_250));
        clock.set(Nanos::from_secs(9));
        assert_eq!(clock.now(), Nanos::from_secs(9));
    }

    #[test]
    fn instant_arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(
            Nanos::MAX.saturating_add(Duration::from_secs(1)),
            Nanos::MAX
        );
        assert_eq!(
            Nanos::ZERO.saturating_sub(Duration::from_secs(1)),
            Nanos::ZERO
        );
        assert_eq!(
            Nanos::from_secs(1).saturating_since(Nanos::from_secs(3)),
            Duration::ZERO
        );
        assert_eq!(
            Nanos::from_secs(3).saturating_since(Nanos::from_secs(1)),
            Duration::from_secs(2)
        );
        assert_eq!(duration_nanos(Duration::MAX), u64::MAX);
    }
}
