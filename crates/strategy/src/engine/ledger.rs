//! The engine's [`Ledger`] of the orders it generated: who owns each order (for fill
//! attribution, FR-SE-007), which quote slot it fills, what is left of it, and when a resting
//! signal order expires.

use std::collections::{BTreeMap, VecDeque};

use kestrel_model::money::{Price, Qty};
use kestrel_model::order::Side;

use crate::action::QuoteId;

/// How many closed orders are remembered for late fills (a fill can follow a cancel).
const CLOSED_RETAINED: usize = 4_096;

/// One order the engine generated or adopted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub route: usize,
    pub side: Side,
    pub price: Price,
    pub qty: Qty,
    pub remaining: Qty,
    /// Owning instances with their share of the order (their order sizes); lead first.
    pub owners: Vec<(usize, Qty)>,
    /// The slot this order fills, while it is that slot's live order.
    pub quote: Option<(usize, QuoteId)>,
    pub cancel_requested: bool,
    pub closed: bool,
}

impl Entry {
    /// A new open order.
    pub fn open(
        route: usize,
        side: Side,
        price: Price,
        qty: Qty,
        owners: Vec<(usize, Qty)>,
        quote: Option<(usize, QuoteId)>,
    ) -> Self {
        Self {
            route,
            side,
            price,
            qty,
            remaining: qty,
            owners,
            quote,
            cancel_requested: false,
            closed: false,
        }
    }

    /// The lead owner.
    pub fn lead(&self) -> Option<usize> {
        self.owners.first().map(|(instance, _)| *instance)
    }

    /// Splits a fill of `qty` among the owners in proportion to their shares: every owner but
    /// the last gets its share rounded down to 10⁻⁸, the last the rest, so the parts add up
    /// exactly to `qty`.
    pub fn split(&self, qty: Qty) -> impl Iterator<Item = (usize, Qty)> + '_ {
        let total: i128 = self.owners.iter().map(|(_, s)| i128::from(s.raw())).sum();
        let last = self.owners.len().saturating_sub(1);
        let mut given = 0i64;
        self.owners
            .iter()
            .enumerate()
            .map(move |(index, (instance, share))| {
                let part = if index == last || total <= 0 {
                    qty.raw() - given
                } else {
                    let raw = i128::from(qty.raw()) * i128::from(share.raw()) / total;
                    i64::try_from(raw).unwrap_or(0)
                };
                given += part;
                (*instance, Qty::from_raw(part))
            })
    }
}

/// The orders by client order id, and the resting ones by expiry.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    entries: BTreeMap<String, Entry>,
    closed: VecDeque<String>,
    resting: VecDeque<(u64, String)>,
}

impl Ledger {
    pub fn insert(&mut self, client_order_id: String, entry: Entry) {
        self.entries.insert(client_order_id, entry);
    }

    pub fn get(&self, client_order_id: &str) -> Option<&Entry> {
        self.entries.get(client_order_id)
    }

    pub fn get_mut(&mut self, client_order_id: &str) -> Option<&mut Entry> {
        self.entries.get_mut(client_order_id)
    }

    /// Remembers that a resting order should be cancelled at `expires_ms`.
    pub fn expire_at(&mut self, expires_ms: u64, client_order_id: String) {
        self.resting.push_back((expires_ms, client_order_id));
    }

    /// Open resting orders whose time has come; each is marked as being cancelled.
    pub fn expired(&mut self, now_ms: u64) -> Vec<String> {
        let mut due = Vec::new();
        while self.resting.front().is_some_and(|(at, _)| *at <= now_ms) {
            let Some((_, id)) = self.resting.pop_front() else {
                break;
            };
            if let Some(entry) = self.entries.get_mut(&id)
                && !entry.closed
                && !entry.cancel_requested
            {
                entry.cancel_requested = true;
                due.push(id);
            }
        }
        due
    }

    /// Whether any resting order is due at `now_ms` (cheap check for the hot path).
    pub fn has_expired(&self, now_ms: u64) -> bool {
        self.resting.front().is_some_and(|(at, _)| *at <= now_ms)
    }

    /// Marks an order closed, keeping it a while for late fills.
    pub fn close(&mut self, client_order_id: &str) {
        let Some(entry) = self.entries.get_mut(client_order_id) else {
            return;
        };
        if entry.closed {
            return;
        }
        entry.closed = true;
        entry.quote = None;
        self.closed.push_back(client_order_id.to_owned());
        while self.closed.len() > CLOSED_RETAINED {
            if let Some(old) = self.closed.pop_front() {
                self.entries.remove(&old);
            }
        }
    }

    /// Open orders owned by `instance`, for withdrawing them.
    pub fn open_of(&self, instance: usize) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, e)| !e.closed && !e.cancel_requested && e.lead() == Some(instance))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(owners: &[(usize, i64)]) -> Entry {
        let owners = owners
            .iter()
            .map(|(i, s)| (*i, Qty::from_raw(*s)))
            .collect();
        Entry::open(0, Side::Buy, Price::ONE, Qty::ONE, owners, None)
    }

    #[test]
    fn a_shared_fill_is_split_by_order_size_and_adds_up_exactly() {
        let e = entry(&[(0, 1), (1, 2)]);
        let parts: Vec<_> = e.split(Qty::from_raw(100)).collect();
        assert_eq!(parts, [(0, Qty::from_raw(33)), (1, Qty::from_raw(67))]);
    }

    #[test]
    fn a_single_owner_gets_the_whole_fill() {
        let parts: Vec<_> = entry(&[(4, 7)]).split(Qty::from_raw(5)).collect();
        assert_eq!(parts, [(4, Qty::from_raw(5))]);
    }

    #[test]
    fn expiry_skips_orders_already_closed() {
        let mut ledger = Ledger::default();
        ledger.insert("a".into(), entry(&[(0, 1)]));
        ledger.insert("b".into(), entry(&[(0, 1)]));
        ledger.expire_at(10, "a".into());
        ledger.expire_at(20, "b".into());
        ledger.close("a");
        assert!(!ledger.has_expired(9));
        assert_eq!(ledger.expired(25), ["b".to_owned()]);
        assert!(ledger.expired(30).is_empty(), "each order expires once");
    }
}
