//! A seeded agent-based market for one symbol: it proposes orders, the matching engine (which
//! owns the book) executes them and reports back.
//!
//! # Model
//!
//! - A latent **fair price** follows a GARCH(1,1) random walk on the log price
//!   ([`PriceProcess`]), moving every `volatility.update_interval_ns`.
//! - **Makers** (`makers.agents`) quote passively around the fair price: a share of quotes
//!   near the touch (exponential distance, mean `touch_mean_ticks`), the rest deep (mean
//!   `depth_mean_ticks`, up to `max_depth_ticks`), with Pareto notional sizes growing with the
//!   distance. At every quote event the maker first cancels its stale quotes (bids at or above
//!   the fair price, asks at or below it), and its oldest order when it is at its cap. Quotes
//!   lean to the side that reduces the maker's inventory, and a maker beyond its inventory
//!   limit hedges with a market order. A separate **cancel** process removes random resting
//!   orders. At the start, `initial_levels_per_side` quotes per side give the book its depth.
//! - **Takers** (`takers.agents`, noise traders) send market orders of Pareto-distributed
//!   notional, leaning against their own inventory.
//! - The **arbitrageur** (one agent) pulls the book back to the fair price: when the supplied
//!   best ask is below the fair price by more than `pull.band_bps` (or the best bid above it),
//!   it takes that liquidity.
//!
//! # Time and determinism
//!
//! Each event class (quote, cancel, take, pull) is a Poisson process: its event times are
//! drawn from its own seeded ChaCha stream as exponential inter-arrival times, and its
//! decisions from another stream with a fixed number of draws per event. Events are processed
//! in time order (fair-price updates first on ties, then the classes in that order) up to the
//! `now_ns` given to [`Generator::step`]. So for a given seed the timeline depends only on
//! simulated time and on what the caller reports: calling `step` every millisecond or every
//! second gives the same actions with the same timestamps when the caller supplies the same
//! book. Nothing reads the system clock or iterates a hash map, and the math under the
//! randomness is portable (see `sampling.rs`), so the actions are the same on every platform.
//!
//! Every price and quantity in an action is exact and on the instrument's grid; `f64` is used
//! only for the statistics that decide them. No action is ever priced through the best bid or
//! ask the caller supplied, nor through the generator's own resting orders, so post-only
//! orders are never rejected for crossing a book the generator was shown.

mod agents;
mod config;
mod grid;
mod price_process;
mod reference;
mod resting;
mod sampling;

pub use config::{
    GeneratorConfig, MAX_AGENTS, MakerConfig, PullConfig, ReferenceConfig, TakerConfig,
};
pub use price_process::{PriceProcess, SECONDS_PER_YEAR, VolatilityConfig};
pub use reference::ReferencePrices;

use kestrel_model::book::OrderBook;
use kestrel_model::{Level, Price, Qty, Side};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use grid::{Grid, price_f64};
use reference::ReferenceState;
use resting::RestingOrders;
use sampling::{exponential, uniform};

/// One order action the generator proposes to the matching engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarketAction {
    /// A limit order; `post_only` asks for GTX (rejected rather than taking liquidity).
    Place {
        /// The agent placing it.
        agent: u32,
        /// The generator's id for the order (see [`tag_agent`], [`tag_side`]).
        client_tag: u64,
        /// Buy (a bid) or sell (an ask).
        side: Side,
        /// Limit price, on the tick grid.
        price: Price,
        /// Quantity, on the lot step grid and within the lot bounds.
        qty: Qty,
        /// Whether the order must only rest (GTX).
        post_only: bool,
    },
    /// Cancel a resting order the generator placed.
    Cancel {
        /// The agent that placed it.
        agent: u32,
        /// The tag it was placed with.
        client_tag: u64,
    },
    /// A market order; its fills are reported with [`Generator::on_filled`] like any other.
    Take {
        /// The agent sending it.
        agent: u32,
        /// The generator's id for the order.
        client_tag: u64,
        /// Buy (lifts asks) or sell (hits bids).
        side: Side,
        /// Quantity, on the market lot step grid and within its bounds.
        qty: Qty,
    },
}

/// An action and the simulated time it is due at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimedAction {
    /// When the action happens, in nanoseconds (the generator's time base).
    pub time_ns: u64,
    /// What happens.
    pub action: MarketAction,
}

/// The top of the book as the matching engine sees it, supplied to each [`Generator::step`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BookTop {
    /// The best bid, if any.
    pub best_bid: Option<Level>,
    /// The best ask, if any.
    pub best_ask: Option<Level>,
}

impl BookTop {
    /// An empty book.
    pub const EMPTY: Self = Self {
        best_bid: None,
        best_ask: None,
    };

    /// The best bid and ask of `book`.
    #[must_use]
    pub fn of(book: &OrderBook) -> Self {
        Self {
            best_bid: book.best_bid(),
            best_ask: book.best_ask(),
        }
    }

    /// The mid price as an `f64`, when both sides are present.
    #[must_use]
    #[allow(clippy::float_arithmetic)] // statistics: the mid for the basis
    pub fn mid_f64(&self) -> Option<f64> {
        let (bid, ask) = (self.best_bid?, self.best_ask?);
        Some((price_f64(bid.price) + price_f64(ask.price)) / 2.0)
    }
}

/// Why a generator could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeneratorError {
    /// A configuration field is out of range.
    #[error("generator {symbol}: {field} must be {expected}, found {found}")]
    InvalidConfig {
        /// The symbol whose configuration is wrong.
        symbol: String,
        /// The field, as a path (`makers.quote_rate_per_s`).
        field: &'static str,
        /// What it must be.
        expected: String,
        /// What it is.
        found: String,
    },
}

/// Counts of what the generator has done, for monitoring and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeneratorStats {
    /// Fair-price updates.
    pub price_updates: u64,
    /// Maker quote events.
    pub quote_events: u64,
    /// Random cancel events.
    pub cancel_events: u64,
    /// Taker events.
    pub take_events: u64,
    /// Arbitrageur checks.
    pub pull_events: u64,
    /// `Place` actions proposed.
    pub places: u64,
    /// `Cancel` actions proposed.
    pub cancels: u64,
    /// `Take` actions proposed.
    pub takes: u64,
    /// Quotes dropped because no valid price or quantity existed for them.
    pub skipped_quotes: u64,
}

/// Client tags carry the agent in bits 48–63 and the side in bit 47 (1 = sell), so a fill
/// reported for any tag can be attributed without a lookup; bits 0–46 count orders.
const TAG_AGENT_SHIFT: u32 = 48;
const TAG_SIDE_BIT: u64 = 1 << 47;
const TAG_SEQ_MASK: u64 = TAG_SIDE_BIT - 1;

/// The agent that placed the order tagged `client_tag`.
#[must_use]
pub const fn tag_agent(client_tag: u64) -> u32 {
    (client_tag >> TAG_AGENT_SHIFT) as u32
}

/// The side of the order tagged `client_tag`.
#[must_use]
pub const fn tag_side(client_tag: u64) -> Side {
    if client_tag & TAG_SIDE_BIT == 0 {
        Side::Buy
    } else {
        Side::Sell
    }
}

const fn make_tag(agent: u32, side: Side, seq: u64) -> u64 {
    let side_bit = match side {
        Side::Buy => 0,
        Side::Sell => TAG_SIDE_BIT,
    };
    ((agent as u64) << TAG_AGENT_SHIFT) | side_bit | (seq & TAG_SEQ_MASK)
}

/// The random event classes, in tie-break order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventClass {
    Quote = 0,
    Cancel = 1,
    Take = 2,
    Pull = 3,
}

const CLASSES: [EventClass; 4] = [
    EventClass::Quote,
    EventClass::Cancel,
    EventClass::Take,
    EventClass::Pull,
];

/// ChaCha stream numbers: one per purpose, so that each is independent of the others.
const STREAM_PRICE: u64 = 0;
const STREAM_INITIAL_BOOK: u64 = 1;
const STREAM_CLOCKS: u64 = 2; // + class
const STREAM_DECISIONS: u64 = 6; // + class

/// The Poisson clock of one event class.
#[derive(Debug, Clone)]
struct EventClock {
    rate_per_s: f64,
    next_ns: u64,
    rng: ChaCha8Rng,
}

impl EventClock {
    /// Never fires: the time of a clock whose rate is zero.
    const NEVER: u64 = u64::MAX;

    fn new(rate_per_s: f64, start_ns: u64, rng: ChaCha8Rng) -> Self {
        let mut clock = Self {
            rate_per_s,
            next_ns: start_ns,
            rng,
        };
        clock.advance();
        clock
    }

    /// Moves to the next event time, an exponential inter-arrival time later.
    #[allow(clippy::float_arithmetic)] // statistics: exponential inter-arrival times
    fn advance(&mut self) {
        if self.rate_per_s <= 0.0 || self.next_ns == Self::NEVER {
            self.next_ns = Self::NEVER;
            return;
        }
        let gap_ns = exponential(uniform(&mut self.rng), 1e9 / self.rate_per_s).round();
        let gap_ns = if gap_ns < 1.8e19 {
            gap_ns as u64
        } else {
            Self::NEVER
        };
        self.next_ns = self.next_ns.saturating_add(gap_ns);
    }
}

/// What is due next.
#[derive(Debug, Clone, Copy)]
enum Due {
    PriceUpdate,
    Agent(EventClass),
}

/// A seeded agent-based market for one symbol (see the module docs).
#[derive(Debug, Clone)]
pub struct Generator {
    config: GeneratorConfig,
    grid: Grid,
    start_ns: u64,
    clock_ns: u64,
    seeded: bool,
    process: PriceProcess,
    fair: f64,
    next_price_ns: u64,
    clocks: [EventClock; 4],
    decisions: [ChaCha8Rng; 4],
    initial_book_rng: ChaCha8Rng,
    resting: RestingOrders,
    inventory: Vec<Qty>,
    last_hedge_ns: Vec<Option<u64>>,
    next_seq: u64,
    reference: ReferenceState,
    stats: GeneratorStats,
}

impl Generator {
    /// A generator for `config` whose randomness comes from `seed` and whose simulated time
    /// starts at `start_ns` (the time base of every action; the initial book is placed then).
    ///
    /// # Errors
    /// [`GeneratorError::InvalidConfig`] when `config` fails [`GeneratorConfig::validate`].
    pub fn new(config: GeneratorConfig, seed: u64, start_ns: u64) -> Result<Self, GeneratorError> {
        config.validate()?;
        let stream = |number: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(number);
            rng
        };
        let grid = Grid::new(config.instrument.clone());
        let fair = price_f64(grid.nearest_price(price_f64(config.initial_price)));
        let process = PriceProcess::new(&config.volatility, fair, stream(STREAM_PRICE));
        let rates = [
            config.makers.quote_rate_per_s,
            config.makers.cancel_rate_per_s,
            config.takers.rate_per_s,
            config.pull.rate_per_s,
        ];
        let clocks = CLASSES.map(|class| {
            let rng = stream(STREAM_CLOCKS + class as u64);
            EventClock::new(rates[class as usize], start_ns, rng)
        });
        let agents = config.agent_count() as usize;
        let update_ns = config.volatility.update_interval_ns;
        Ok(Self {
            grid,
            start_ns,
            clock_ns: start_ns,
            seeded: false,
            fair: process.price(),
            process,
            next_price_ns: start_ns.saturating_add(update_ns),
            clocks,
            decisions: CLASSES.map(|class| stream(STREAM_DECISIONS + class as u64)),
            initial_book_rng: stream(STREAM_INITIAL_BOOK),
            resting: RestingOrders::new(
                config.makers.agents as usize,
                config.makers.max_orders_per_agent,
            ),
            inventory: vec![Qty::ZERO; agents],
            last_hedge_ns: vec![None; agents],
            next_seq: 1,
            reference: ReferenceState::new(config.reference, update_ns, start_ns, fair),
            stats: GeneratorStats::default(),
            config,
        })
    }

    /// Runs the market up to `now_ns`, appending every action due at or before it to `out`
    /// in time order, and returns how many were appended. `view` is the engine's current top of
    /// book; it is used for every event in this call. A `now_ns` at or before the time already
    /// reached does nothing (time never goes back).
    pub fn step(&mut self, now_ns: u64, view: &BookTop, out: &mut Vec<TimedAction>) -> usize {
        let before = out.len();
        if now_ns < self.start_ns {
            return 0;
        }
        if !self.seeded {
            self.seeded = true;
            self.place_initial_book(self.start_ns, view, out);
        }
        while let Some((time_ns, due)) = self.next_due(now_ns) {
            match due {
                Due::PriceUpdate => self.update_price(time_ns, view),
                Due::Agent(class) => self.run_event(class, time_ns, view, out),
            }
        }
        self.clock_ns = self.clock_ns.max(now_ns);
        out.len() - before
    }

    /// Runs the market for `by_ns` more nanoseconds of simulated time (see [`Self::step`]).
    pub fn advance(&mut self, by_ns: u64, view: &BookTop, out: &mut Vec<TimedAction>) -> usize {
        self.step(self.clock_ns.saturating_add(by_ns), view, out)
    }

    /// The event due first at or before `limit`, if any.
    fn next_due(&self, limit: u64) -> Option<(u64, Due)> {
        let mut best = (self.next_price_ns, Due::PriceUpdate);
        for (clock, class) in self.clocks.iter().zip(CLASSES) {
            if clock.next_ns < best.0 {
                best = (clock.next_ns, Due::Agent(class));
            }
        }
        (best.0 <= limit && best.0 != EventClock::NEVER).then_some(best)
    }

    fn update_price(&mut self, time_ns: u64, view: &BookTop) {
        self.process.advance();
        self.fair = self.process.price();
        self.reference.update(time_ns, self.fair, view);
        let interval = self.config.volatility.update_interval_ns;
        self.next_price_ns = self.next_price_ns.saturating_add(interval);
        self.stats.price_updates += 1;
    }

    fn run_event(
        &mut self,
        class: EventClass,
        time_ns: u64,
        view: &BookTop,
        out: &mut Vec<TimedAction>,
    ) {
        self.clocks[class as usize].advance();
        match class {
            EventClass::Quote => self.quote_event(time_ns, view, out),
            EventClass::Cancel => self.cancel_event(time_ns, out),
            EventClass::Take => self.take_event(time_ns, out),
            EventClass::Pull => self.pull_event(time_ns, view, out),
        }
    }

    /// Reports that `qty` of the order tagged `client_tag` (a resting order or a market order)
    /// was executed: the order's remaining quantity and the agent's inventory follow. Unknown
    /// tags and non-positive quantities are ignored.
    pub fn on_filled(&mut self, client_tag: u64, qty: Qty) {
        if !qty.is_positive() {
            return;
        }
        let agent = tag_agent(client_tag) as usize;
        if agent < self.config.makers.agents as usize {
            self.resting.fill(agent, client_tag, qty);
        }
        let signed = qty.try_mul_int(tag_side(client_tag).sign());
        if let (Some(held), Ok(change)) = (self.inventory.get_mut(agent), signed) {
            *held = held.try_add(change).unwrap_or(*held);
        }
    }

    /// Reports that the order tagged `client_tag` is no longer resting (cancelled, expired,
    /// rejected or fully filled). Unknown tags are ignored.
    pub fn on_gone(&mut self, client_tag: u64) {
        let agent = tag_agent(client_tag) as usize;
        if let Some(index) = self.resting.find(agent, client_tag) {
            self.resting.remove_at(agent, index);
        }
    }

    /// The configuration in force.
    #[must_use]
    pub const fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    /// The simulated time reached, in nanoseconds.
    #[must_use]
    pub const fn now_ns(&self) -> u64 {
        self.clock_ns
    }

    /// The latent fair price on the tick grid (nearest).
    #[must_use]
    pub fn fair_price(&self) -> Price {
        self.grid.nearest_price(self.fair)
    }

    /// The latent fair price as the process holds it (a statistic, off the grid).
    #[must_use]
    pub const fn fair_price_f64(&self) -> f64 {
        self.fair
    }

    /// The fair-price process (its current volatility, last return).
    #[must_use]
    pub const fn price_process(&self) -> &PriceProcess {
        &self.process
    }

    /// Index price, mark price and funding-rate estimate as of the last fair-price update.
    #[must_use]
    pub fn reference_prices(&self) -> ReferencePrices {
        self.reference
            .prices(|price| self.grid.nearest_price(price))
    }

    /// Counts of events and actions so far.
    #[must_use]
    pub const fn stats(&self) -> &GeneratorStats {
        &self.stats
    }

    /// The signed position of `agent` (long > 0) from the fills reported so far.
    #[must_use]
    pub fn inventory(&self, agent: u32) -> Option<Qty> {
        self.inventory.get(agent as usize).copied()
    }

    /// How many orders the generator believes it has resting.
    #[must_use]
    pub const fn resting_orders(&self) -> usize {
        self.resting.total()
    }

    /// The ids of the maker agents.
    #[must_use]
    pub const fn maker_agents(&self) -> std::ops::Range<u32> {
        0..self.config.makers.agents
    }

    /// The ids of the taker agents.
    #[must_use]
    pub const fn taker_agents(&self) -> std::ops::Range<u32> {
        let first = self.config.makers.agents;
        first..first + self.config.takers.agents
    }

    /// The id of the arbitrageur that pulls the book to the fair price.
    #[must_use]
    pub const fn pull_agent(&self) -> u32 {
        self.config.makers.agents + self.config.takers.agents
    }
}

#[cfg(test)]
mod tests;
