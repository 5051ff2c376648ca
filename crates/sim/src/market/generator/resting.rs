//! The generator's own resting orders, per maker, as it believes them to be: added when it
//! proposes a `Place`, reduced by `on_filled`, removed by its own `Cancel` or `on_gone`.
//!
//! Each maker's orders are kept oldest first, so "cancel the oldest" and "cancel the n-th"
//! are deterministic; a per-side count of own orders by price gives the generator's own best
//! bid and ask in `O(log n)`.

use std::collections::{BTreeMap, VecDeque};

use kestrel_model::{Price, Qty, Side};

/// One order the generator believes is resting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RestingOrder {
    /// The client tag it was placed with.
    pub(crate) tag: u64,
    /// Buy (a bid) or sell (an ask).
    pub(crate) side: Side,
    /// Its limit price.
    pub(crate) price: Price,
    /// What is left of it.
    pub(crate) qty: Qty,
}

/// Every maker's resting orders.
#[derive(Debug, Clone, Default)]
pub(crate) struct RestingOrders {
    by_agent: Vec<VecDeque<RestingOrder>>,
    /// Number of own orders at each price: bids, then asks.
    prices: [BTreeMap<Price, u32>; 2],
    total: usize,
}

const fn side_index(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

impl RestingOrders {
    /// Room for `agents` makers holding up to `per_agent` orders each.
    pub(crate) fn new(agents: usize, per_agent: usize) -> Self {
        Self {
            by_agent: (0..agents)
                .map(|_| VecDeque::with_capacity(per_agent))
                .collect(),
            prices: [BTreeMap::new(), BTreeMap::new()],
            total: 0,
        }
    }

    /// How many orders `agent` has resting.
    pub(crate) fn count(&self, agent: usize) -> usize {
        self.by_agent.get(agent).map_or(0, VecDeque::len)
    }

    /// How many orders all makers have resting.
    pub(crate) const fn total(&self) -> usize {
        self.total
    }

    /// `agent`'s orders, oldest first.
    pub(crate) fn orders(&self, agent: usize) -> impl Iterator<Item = &RestingOrder> {
        self.by_agent.get(agent).into_iter().flatten()
    }

    /// `agent`'s `index`-th oldest order.
    pub(crate) fn get(&self, agent: usize, index: usize) -> Option<&RestingOrder> {
        self.by_agent.get(agent)?.get(index)
    }

    /// Records a new order of `agent`.
    pub(crate) fn insert(&mut self, agent: usize, order: RestingOrder) {
        if let Some(orders) = self.by_agent.get_mut(agent) {
            orders.push_back(order);
            *self.prices[side_index(order.side)]
                .entry(order.price)
                .or_insert(0) += 1;
            self.total += 1;
        }
    }

    /// Removes and returns `agent`'s `index`-th oldest order.
    pub(crate) fn remove_at(&mut self, agent: usize, index: usize) -> Option<RestingOrder> {
        let order = self.by_agent.get_mut(agent)?.remove(index)?;
        let prices = &mut self.prices[side_index(order.side)];
        if let Some(count) = prices.get_mut(&order.price) {
            *count -= 1;
            if *count == 0 {
                prices.remove(&order.price);
            }
        }
        self.total -= 1;
        Some(order)
    }

    /// The position of the order tagged `tag` among `agent`'s orders.
    pub(crate) fn find(&self, agent: usize, tag: u64) -> Option<usize> {
        self.by_agent
            .get(agent)?
            .iter()
            .position(|order| order.tag == tag)
    }

    /// Reduces the order tagged `tag` by `qty`, removing it when nothing is left. Returns the
    /// order as it was before, if it was known.
    pub(crate) fn fill(&mut self, agent: usize, tag: u64, qty: Qty) -> Option<RestingOrder> {
        let index = self.find(agent, tag)?;
        let order = self.by_agent.get_mut(agent)?.get_mut(index)?;
        let before = *order;
        match order.qty.try_sub(qty) {
            Ok(left) if left.is_positive() => order.qty = left,
            _ => {
                self.remove_at(agent, index);
            }
        }
        Some(before)
    }

    /// The highest own bid.
    pub(crate) fn best_bid(&self) -> Option<Price> {
        self.prices[0].last_key_value().map(|(price, _)| *price)
    }

    /// The lowest own ask.
    pub(crate) fn best_ask(&self) -> Option<Price> {
        self.prices[1].first_key_value().map(|(price, _)| *price)
    }
}
