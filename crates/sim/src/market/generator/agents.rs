//! What each agent does at its events: the makers' quotes and cancels, the takers' market
//! orders, the arbitrageur's pull, and the initial book.

use kestrel_model::{Price, Qty, Side};

use super::grid::{money_f64, price_f64, qty_f64};
use super::resting::RestingOrder;
use super::sampling::{exponential, pareto, pick, uniforms};
use super::{BookTop, EventClass, Generator, MarketAction, TimedAction, make_tag};

/// Where and how big a quote should be, before it meets the book.
#[derive(Debug, Clone, Copy)]
struct QuoteIntent {
    agent: u32,
    side: Side,
    /// Ticks behind the best price the fair price allows on that side.
    distance_ticks: i64,
    /// A uniform draw for the size.
    size_draw: f64,
    post_only: bool,
}

impl Generator {
    /// A maker's quote event: cancel stale orders, make room under the cap, quote one side,
    /// hedge if the inventory is beyond its limit.
    pub(super) fn quote_event(&mut self, time_ns: u64, view: &BookTop, out: &mut Vec<TimedAction>) {
        self.stats.quote_events += 1;
        let intent = self.draw_quote();
        let agent = intent.agent;
        self.cancel_stale(agent, time_ns, out);
        if self.resting.count(agent as usize) >= self.config.makers.max_orders_per_agent {
            self.cancel_at(agent, 0, time_ns, out);
        }
        self.place_quote(intent, time_ns, view, out);
        self.hedge(agent, time_ns, out);
    }

    /// Draws which maker quotes, on which side (leaning against its inventory), how far from
    /// the touch (near or deep), how big and whether post-only: six draws, whatever the
    /// outcome.
    #[allow(clippy::float_arithmetic)] // agent decision: side and distance of a quote
    fn draw_quote(&mut self) -> QuoteIntent {
        let [
            agent_draw,
            side_draw,
            near_draw,
            distance_draw,
            size_draw,
            post_draw,
        ] = uniforms::<6>(&mut self.decisions[EventClass::Quote as usize]);
        let makers = &self.config.makers;
        let agent = pick(agent_draw, makers.agents as usize) as u32;
        let mean = if near_draw < makers.touch_share {
            makers.touch_mean_ticks
        } else {
            makers.depth_mean_ticks
        };
        let distance = exponential(distance_draw, mean).min(f64::from(makers.max_depth_ticks));
        let lean = self.inventory_ratio(agent, money_f64(makers.max_inventory_notional));
        QuoteIntent {
            agent,
            side: leaning_side(side_draw, lean),
            distance_ticks: distance as i64,
            size_draw,
            post_only: post_draw < makers.post_only_share,
        }
    }

    /// Cancels up to `stale_cancels_per_event` of `agent`'s orders that sit on the wrong side
    /// of the fair price or have drifted beyond the depth profile.
    #[allow(clippy::float_arithmetic)] // agent decision: which quotes are stale
    fn cancel_stale(&mut self, agent: u32, time_ns: u64, out: &mut Vec<TimedAction>) {
        let fair_ticks = self.grid.ticks_of_f64(self.fair);
        let too_far = f64::from(self.config.makers.max_depth_ticks) * 1.5 + 2.0;
        let mut budget = self.config.makers.stale_cancels_per_event;
        let mut index = 0;
        while budget > 0 && index < self.resting.count(agent as usize) {
            let Some(order) = self.resting.get(agent as usize, index) else {
                break;
            };
            let ticks = self.grid.floor_ticks(order.price) as f64;
            let stale = match order.side {
                Side::Buy => ticks >= fair_ticks,
                Side::Sell => ticks <= fair_ticks,
            };
            if stale || (ticks - fair_ticks).abs() > too_far {
                self.cancel_at(agent, index, time_ns, out);
                budget -= 1;
            } else {
                index += 1;
            }
        }
    }

    /// Cancels `agent`'s `index`-th oldest order.
    pub(super) fn cancel_at(
        &mut self,
        agent: u32,
        index: usize,
        time_ns: u64,
        out: &mut Vec<TimedAction>,
    ) {
        if let Some(order) = self.resting.remove_at(agent as usize, index) {
            self.stats.cancels += 1;
            out.push(TimedAction {
                time_ns,
                action: MarketAction::Cancel {
                    agent,
                    client_tag: order.tag,
                },
            });
        }
    }

    /// Prices, sizes and places a quote, if the book and the grid leave room for it.
    #[allow(clippy::float_arithmetic)] // agent decision: quote size
    fn place_quote(
        &mut self,
        intent: QuoteIntent,
        time_ns: u64,
        view: &BookTop,
        out: &mut Vec<TimedAction>,
    ) {
        let makers = &self.config.makers;
        let depth_factor = 1.0 + intent.distance_ticks as f64 / makers.depth_mean_ticks.max(1.0);
        let notional = (money_f64(makers.order_notional)
            * pareto(intent.size_draw, makers.size_tail_alpha)
            * depth_factor)
            .min(money_f64(makers.max_order_notional));
        let placed = self
            .quote_price(intent.side, intent.distance_ticks, view)
            .and_then(|price| {
                let qty = self.grid.qty(notional / price_f64(price), false)?;
                Some((price, qty))
            });
        let Some((price, qty)) = placed else {
            self.stats.skipped_quotes += 1;
            return;
        };
        let client_tag = self.next_tag(intent.agent, intent.side);
        let order = RestingOrder {
            tag: client_tag,
            side: intent.side,
            price,
            qty,
        };
        self.resting.insert(intent.agent as usize, order);
        self.stats.places += 1;
        out.push(TimedAction {
            time_ns,
            action: MarketAction::Place {
                agent: intent.agent,
                client_tag,
                side: intent.side,
                price,
                qty,
                post_only: intent.post_only,
            },
        });
    }

    /// The price `distance_ticks` behind the best the fair price allows on `side` (bids below
    /// it, asks above it), never through the supplied top of book or the generator's own
    /// orders on the other side.
    fn quote_price(&self, side: Side, distance_ticks: i64, view: &BookTop) -> Option<Price> {
        let fair_ticks = self.grid.ticks_of_f64(self.fair);
        let ticks = match side {
            Side::Buy => {
                let ticks = fair_ticks.ceil() as i64 - 1 - distance_ticks;
                match self.effective_ask(view) {
                    Some(ask) => ticks.min(self.grid.ceil_ticks(ask) - 1),
                    None => ticks,
                }
            }
            Side::Sell => {
                let ticks = fair_ticks.floor() as i64 + 1 + distance_ticks;
                match self.effective_bid(view) {
                    Some(bid) => ticks.max(self.grid.floor_ticks(bid) + 1),
                    None => ticks,
                }
            }
        };
        self.grid.price_at(ticks)
    }

    /// The lowest ask in the supplied book or among the generator's own orders.
    fn effective_ask(&self, view: &BookTop) -> Option<Price> {
        let supplied = view.best_ask.map(|level| level.price);
        match (supplied, self.resting.best_ask()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The highest bid in the supplied book or among the generator's own orders.
    fn effective_bid(&self, view: &BookTop) -> Option<Price> {
        let supplied = view.best_bid.map(|level| level.price);
        match (supplied, self.resting.best_bid()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// `agent`'s inventory at the fair price as a fraction of `limit` (signed).
    #[allow(clippy::float_arithmetic)] // agent decision: inventory pressure
    fn inventory_ratio(&self, agent: u32, limit: f64) -> f64 {
        let held = self
            .inventory
            .get(agent as usize)
            .copied()
            .unwrap_or(Qty::ZERO);
        qty_f64(held) * self.fair / limit
    }

    /// A maker beyond its inventory limit sends a market order bringing it back to half the
    /// limit, at most once per `hedge_cooldown_ns`.
    #[allow(clippy::float_arithmetic)] // agent decision: hedge size
    fn hedge(&mut self, agent: u32, time_ns: u64, out: &mut Vec<TimedAction>) {
        let limit = money_f64(self.config.makers.max_inventory_notional);
        let ratio = self.inventory_ratio(agent, limit);
        let last = self.last_hedge_ns.get(agent as usize).copied().flatten();
        let cooling = last
            .is_some_and(|at| time_ns.saturating_sub(at) < self.config.makers.hedge_cooldown_ns);
        if ratio.abs() <= 1.0 || cooling {
            return;
        }
        let side = if ratio > 0.0 { Side::Sell } else { Side::Buy };
        let excess = (ratio.abs() - 0.5) * limit / self.fair;
        if let Some(qty) = self.grid.qty(excess, true) {
            if let Some(slot) = self.last_hedge_ns.get_mut(agent as usize) {
                *slot = Some(time_ns);
            }
            self.push_take(agent, side, qty, time_ns, out);
        }
    }

    /// A random maker cancels one of its resting orders chosen at random.
    pub(super) fn cancel_event(&mut self, time_ns: u64, out: &mut Vec<TimedAction>) {
        self.stats.cancel_events += 1;
        let [agent_draw, order_draw] =
            uniforms::<2>(&mut self.decisions[EventClass::Cancel as usize]);
        let agent = pick(agent_draw, self.config.makers.agents as usize) as u32;
        let count = self.resting.count(agent as usize);
        if count > 0 {
            self.cancel_at(agent, pick(order_draw, count), time_ns, out);
        }
    }

    /// A random taker sends a market order of Pareto notional, leaning against its inventory.
    #[allow(clippy::float_arithmetic)] // agent decision: taker side and size
    pub(super) fn take_event(&mut self, time_ns: u64, out: &mut Vec<TimedAction>) {
        self.stats.take_events += 1;
        let [agent_draw, side_draw, size_draw] =
            uniforms::<3>(&mut self.decisions[EventClass::Take as usize]);
        let takers = self.config.takers;
        if takers.agents == 0 {
            return;
        }
        let agent = self.config.makers.agents + pick(agent_draw, takers.agents as usize) as u32;
        let lean = self.inventory_ratio(agent, money_f64(takers.max_inventory_notional));
        let side = leaning_side(side_draw, lean);
        let notional = (money_f64(takers.min_notional) * pareto(size_draw, takers.size_tail_alpha))
            .min(money_f64(takers.max_notional));
        if let Some(qty) = self.grid.qty(notional / self.fair, true) {
            self.push_take(agent, side, qty, time_ns, out);
        }
    }

    /// The arbitrageur takes the supplied best ask when it is below the fair price by more
    /// than the band (or the best bid when above it), with the generator's own orders beyond
    /// the band on that side.
    #[allow(clippy::float_arithmetic)] // agent decision: when and how much to pull
    pub(super) fn pull_event(&mut self, time_ns: u64, view: &BookTop, out: &mut Vec<TimedAction>) {
        self.stats.pull_events += 1;
        let band = self.fair * self.config.pull.band_bps * 1e-4;
        let (side, level, limit) = match (view.best_ask, view.best_bid) {
            (Some(ask), _) if price_f64(ask.price) < self.fair - band => {
                (Side::Buy, ask, self.fair - band)
            }
            (_, Some(bid)) if price_f64(bid.price) > self.fair + band => {
                (Side::Sell, bid, self.fair + band)
            }
            _ => return,
        };
        let own = self.own_qty_through(side.opposite(), limit);
        let most = money_f64(self.config.pull.max_notional) / self.fair;
        let wanted = (qty_f64(level.qty) + own).min(most);
        if let Some(qty) = self.grid.qty(wanted, true) {
            self.push_take(self.pull_agent(), side, qty, time_ns, out);
        }
    }

    /// The generator's own resting quantity on `side` priced through `limit` (asks below it,
    /// bids above it).
    fn own_qty_through(&self, side: Side, limit: f64) -> f64 {
        let through = |order: &&RestingOrder| match side {
            Side::Sell => price_f64(order.price) < limit,
            Side::Buy => price_f64(order.price) > limit,
        };
        self.maker_agents()
            .flat_map(|agent| self.resting.orders(agent as usize))
            .filter(|order| order.side == side)
            .filter(through)
            .map(|order| qty_f64(order.qty))
            .sum()
    }

    fn push_take(
        &mut self,
        agent: u32,
        side: Side,
        qty: Qty,
        time_ns: u64,
        out: &mut Vec<TimedAction>,
    ) {
        let client_tag = self.next_tag(agent, side);
        self.stats.takes += 1;
        out.push(TimedAction {
            time_ns,
            action: MarketAction::Take {
                agent,
                client_tag,
                side,
                qty,
            },
        });
    }

    fn next_tag(&mut self, agent: u32, side: Side) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        make_tag(agent, side, seq)
    }

    /// The initial book: `initial_levels_per_side` quotes per side, on consecutive ticks for
    /// the first half and spread evenly out to `max_depth_ticks` for the rest, dealt to the
    /// makers in turn.
    pub(super) fn place_initial_book(
        &mut self,
        time_ns: u64,
        view: &BookTop,
        out: &mut Vec<TimedAction>,
    ) {
        let levels = self.config.makers.initial_levels_per_side;
        let agents = self.config.makers.agents as usize;
        for side in [Side::Buy, Side::Sell] {
            for level in 0..levels {
                let agent = (level % agents) as u32;
                let [size_draw] = uniforms::<1>(&mut self.initial_book_rng);
                if self.resting.count(agent as usize) >= self.config.makers.max_orders_per_agent {
                    continue;
                }
                let intent = QuoteIntent {
                    agent,
                    side,
                    distance_ticks: self.initial_distance(level, levels),
                    size_draw,
                    post_only: true,
                };
                self.place_quote(intent, time_ns, view, out);
            }
        }
    }

    /// The distance of the `level`-th of `levels` initial quotes.
    fn initial_distance(&self, level: usize, levels: usize) -> i64 {
        let half = (levels / 2) as i64;
        let level = level as i64;
        let max = i64::from(self.config.makers.max_depth_ticks);
        if level < half || max <= half {
            return level.min(max);
        }
        let spread_over = (levels as i64 - half).max(1);
        half + (level - half) * (max - half) / spread_over
    }
}

/// Buy with probability `(1 − lean) / 2` (lean clamped to ±1): an agent long by its whole
/// limit only sells, one short by it only buys.
#[allow(clippy::float_arithmetic)] // agent decision: side against inventory
fn leaning_side(draw: f64, lean: f64) -> Side {
    if draw < 0.5 * (1.0 - lean.clamp(-1.0, 1.0)) {
        Side::Buy
    } else {
        Side::Sell
    }
}
