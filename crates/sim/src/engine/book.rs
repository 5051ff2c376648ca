//! The book's storage: resting orders in an arena, threaded into per-price FIFO queues and
//! per-account lists, price levels in one ordered map per side, and the L2 change log.
//!
//! Every resting order lives in a slot of a `Vec` (freed slots are reused), linked twice:
//! into its price level's queue (time priority) and into its account's list (the order
//! `open_orders` and `cancel_all` walk). Both links are doubly linked through slot indices, so
//! removing an order anywhere is O(1) plus one map update when its level empties.
//!
//! Levels are keyed in a `BTreeMap` by a *rank key* that makes the best price the smallest
//! key on both sides (bids negate the price), so one code path serves bids and asks: the best
//! level is the first entry and "at or better than a limit" is `key <= limit_key`.
//!
//! Ids and accounts are found through hash maps with a fixed hasher. Their iteration order is
//! never used, so output stays deterministic.

use std::collections::{BTreeMap, HashMap, btree_map};
use std::hash::{BuildHasherDefault, Hasher};
use std::iter;
use std::ops::{Index, IndexMut};

use kestrel_model::book::{BookSide, Level};
use kestrel_model::order::Side;
use kestrel_model::{Price, Qty};

use super::event::LevelChange;
use super::order::{AccountId, OrderId, RestingOrder};

/// The "no slot" link.
const NIL: u32 = u32::MAX;

/// The book side an order of `side` rests on.
pub(super) const fn book_side(side: Side) -> BookSide {
    match side {
        Side::Buy => BookSide::Bid,
        Side::Sell => BookSide::Ask,
    }
}

/// The other book side.
pub(super) const fn opposite(side: BookSide) -> BookSide {
    match side {
        BookSide::Bid => BookSide::Ask,
        BookSide::Ask => BookSide::Bid,
    }
}

/// The rank key of `price` on `side`: smaller is better on both sides.
pub(super) const fn rank_key(side: BookSide, price: Price) -> i64 {
    match side {
        BookSide::Bid => price.raw().saturating_neg(),
        BookSide::Ask => price.raw(),
    }
}

/// `a + b` for quantities the book keeps in range (level totals are checked before an order
/// rests), saturating rather than panicking if that ever failed.
pub(super) const fn qty_add(a: Qty, b: Qty) -> Qty {
    Qty::from_raw(a.raw().saturating_add(b.raw()))
}

/// `a - b` for quantities with `b <= a`, saturating rather than panicking.
pub(super) const fn qty_sub(a: Qty, b: Qty) -> Qty {
    Qty::from_raw(a.raw().saturating_sub(b.raw()))
}

const fn side_index(side: BookSide) -> usize {
    match side {
        BookSide::Bid => 0,
        BookSide::Ask => 1,
    }
}

/// A fast, fixed (hence deterministic) hasher for integer ids (the Fx multiply-rotate).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct IdHasher(u64);

impl IdHasher {
    const fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.mix(u64::from(byte));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.mix(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }
}

type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A `Vec` whose freed entries are reused, addressed by `u32`.
#[derive(Debug, Clone, Default)]
struct Arena<T> {
    items: Vec<T>,
    free: Vec<u32>,
}

impl<T> Arena<T> {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            items: Vec::with_capacity(capacity),
            free: Vec::new(),
        }
    }

    /// Whether every index below [`NIL`] is in use.
    fn is_full(&self) -> bool {
        self.free.is_empty() && self.items.len() >= NIL as usize
    }

    /// Stores `item`; the caller has checked [`Self::is_full`].
    fn alloc(&mut self, item: T) -> u32 {
        if let Some(index) = self.free.pop() {
            self.items[index as usize] = item;
            index
        } else {
            debug_assert!(!self.is_full(), "arena overflow: check is_full first");
            let index = self.items.len() as u32;
            self.items.push(item);
            index
        }
    }

    fn release(&mut self, index: u32) {
        self.free.push(index);
    }
}

impl<T> Index<u32> for Arena<T> {
    type Output = T;

    fn index(&self, index: u32) -> &T {
        &self.items[index as usize]
    }
}

impl<T> IndexMut<u32> for Arena<T> {
    fn index_mut(&mut self, index: u32) -> &mut T {
        &mut self.items[index as usize]
    }
}

/// A resting order with its two sets of links.
#[derive(Debug, Clone, Copy)]
struct Slot {
    order: RestingOrder,
    level: u32,
    prev: u32,
    next: u32,
    account_prev: u32,
    account_next: u32,
}

/// One price level: its total and its FIFO queue.
#[derive(Debug, Clone, Copy)]
struct PriceLevel {
    side: BookSide,
    price: Price,
    qty: Qty,
    head: u32,
    tail: u32,
}

/// The ends of one account's list of resting orders, oldest first.
#[derive(Debug, Clone, Copy)]
struct AccountList {
    head: u32,
    tail: u32,
}

/// The resting orders of one symbol and the L2 view derived from them.
#[derive(Debug, Clone)]
pub(super) struct Book {
    slots: Arena<Slot>,
    levels: Arena<PriceLevel>,
    /// Rank key → level index, per side (`side_index`).
    sides: [BTreeMap<i64, u32>; 2],
    ids: IdMap<OrderId, u32>,
    accounts: IdMap<AccountId, AccountList>,
    next_priority: u64,
    update_id: u64,
    /// Whether the current operation has changed a level (and so will take the next id).
    changed: bool,
    changes: Vec<LevelChange>,
}

impl Book {
    /// An empty book whose last update id is `update_id`, with room for `capacity` orders.
    pub(super) fn new(update_id: u64, capacity: usize) -> Self {
        Self {
            slots: Arena::with_capacity(capacity),
            levels: Arena::with_capacity(capacity),
            sides: [BTreeMap::new(), BTreeMap::new()],
            ids: IdMap::with_capacity_and_hasher(capacity, BuildHasherDefault::default()),
            accounts: IdMap::default(),
            next_priority: 0,
            update_id,
            changed: false,
            changes: Vec::with_capacity(capacity.min(1 << 16)),
        }
    }

    /// The slot of a resting order.
    pub(super) fn lookup(&self, id: OrderId) -> Option<u32> {
        self.ids.get(&id).copied()
    }

    /// The resting order in `slot`.
    pub(super) fn order(&self, slot: u32) -> &RestingOrder {
        &self.slots[slot].order
    }

    /// The number of resting orders.
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether one more order can rest (the arena's `u32` indices are not exhausted).
    pub(super) fn is_full(&self) -> bool {
        self.slots.is_full()
    }

    /// The first order in time priority at the best level of `side`, if that level is at or
    /// better than `limit_key` (a rank key on `side`).
    pub(super) fn best_order(&self, side: BookSide, limit_key: i64) -> Option<u32> {
        let (&key, &level) = self.sides[side_index(side)].first_key_value()?;
        (key <= limit_key).then(|| self.levels[level].head)
    }

    /// Whether `side` holds any level at or better than `limit_key`.
    pub(super) fn crosses(&self, side: BookSide, limit_key: i64) -> bool {
        self.sides[side_index(side)]
            .first_key_value()
            .is_some_and(|(&key, _)| key <= limit_key)
    }

    /// Whether the levels of `side` at or better than `limit_key` hold at least `needed`.
    pub(super) fn can_fill(&self, side: BookSide, limit_key: i64, needed: Qty) -> bool {
        let mut total: i128 = 0;
        for &level in self.sides[side_index(side)]
            .range(..=limit_key)
            .map(|(_, l)| l)
        {
            total += i128::from(self.levels[level].qty.raw());
            if total >= i128::from(needed.raw()) {
                return true;
            }
        }
        false
    }

    /// The best level of `side`.
    pub(super) fn best(&self, side: BookSide) -> Option<Level> {
        let (_, &level) = self.sides[side_index(side)].first_key_value()?;
        Some(self.level_view(level))
    }

    /// The levels of `side`, best first.
    pub(super) fn levels(&self, side: BookSide) -> impl Iterator<Item = Level> + '_ {
        self.sides[side_index(side)]
            .values()
            .map(|&level| self.level_view(level))
    }

    /// The number of levels on `side`.
    pub(super) fn level_count(&self, side: BookSide) -> usize {
        self.sides[side_index(side)].len()
    }

    /// The total resting at `price` on `side` (zero when there is no level).
    pub(super) fn qty_at(&self, side: BookSide, price: Price) -> Qty {
        self.sides[side_index(side)]
            .get(&rank_key(side, price))
            .map_or(Qty::ZERO, |&level| self.levels[level].qty)
    }

    /// The orders at `price` on `side` in time priority.
    pub(super) fn orders_at(
        &self,
        side: BookSide,
        price: Price,
    ) -> impl Iterator<Item = &RestingOrder> + '_ {
        let head = self.sides[side_index(side)]
            .get(&rank_key(side, price))
            .map_or(NIL, |&level| self.levels[level].head);
        self.chain(head, |slot| slot.next)
    }

    /// The resting orders of `account`, oldest first.
    pub(super) fn account_orders(
        &self,
        account: AccountId,
    ) -> impl Iterator<Item = &RestingOrder> + '_ {
        let head = self.accounts.get(&account).map_or(NIL, |list| list.head);
        self.chain(head, |slot| slot.account_next)
    }

    /// The oldest resting order of `account`.
    pub(super) fn account_first(&self, account: AccountId) -> Option<u32> {
        self.accounts
            .get(&account)
            .map(|list| list.head)
            .filter(|&head| head != NIL)
    }

    fn chain(&self, head: u32, next: fn(&Slot) -> u32) -> impl Iterator<Item = &RestingOrder> + '_ {
        iter::successors((head != NIL).then_some(head), move |&slot| {
            let after = next(&self.slots[slot]);
            (after != NIL).then_some(after)
        })
        .map(|slot| &self.slots[slot].order)
    }

    fn level_view(&self, level: u32) -> Level {
        let level = &self.levels[level];
        Level::new(level.price, level.qty)
    }

    /// Rests `order` at the back of its price level with the next time priority and returns
    /// that priority. The caller has checked the id is new, the book is not full and the level
    /// total stays in range.
    pub(super) fn insert(&mut self, mut order: RestingOrder) -> u64 {
        debug_assert!(
            !self.ids.contains_key(&order.id),
            "duplicate id reached the book"
        );
        let side = book_side(order.side);
        order.priority = self.next_priority;
        self.next_priority += 1;
        let level = self.level_for(side, order.price);
        let slot = self.slots.alloc(Slot {
            order,
            level,
            prev: self.levels[level].tail,
            next: NIL,
            account_prev: NIL,
            account_next: NIL,
        });
        self.link_level_tail(level, slot);
        self.link_account_tail(order.account, slot);
        self.ids.insert(order.id, slot);
        let total = qty_add(self.levels[level].qty, order.remaining_qty);
        self.levels[level].qty = total;
        self.record(side, order.price, total);
        order.priority
    }

    /// The level for `price` on `side`, created empty if absent.
    fn level_for(&mut self, side: BookSide, price: Price) -> u32 {
        match self.sides[side_index(side)].entry(rank_key(side, price)) {
            btree_map::Entry::Occupied(entry) => *entry.get(),
            btree_map::Entry::Vacant(entry) => *entry.insert(self.levels.alloc(PriceLevel {
                side,
                price,
                qty: Qty::ZERO,
                head: NIL,
                tail: NIL,
            })),
        }
    }

    fn link_level_tail(&mut self, level: u32, slot: u32) {
        let tail = self.levels[level].tail;
        if tail == NIL {
            self.levels[level].head = slot;
        } else {
            self.slots[tail].next = slot;
        }
        self.levels[level].tail = slot;
    }

    fn link_account_tail(&mut self, account: AccountId, slot: u32) {
        let list = self.accounts.entry(account).or_insert(AccountList {
            head: NIL,
            tail: NIL,
        });
        if list.tail == NIL {
            list.head = slot;
        } else {
            self.slots[list.tail].account_next = slot;
            self.slots[slot].account_prev = list.tail;
        }
        list.tail = slot;
    }

    /// Executes `qty` (at most its remaining) of the order in `slot`; an order left with
    /// nothing is removed. Returns what remains.
    pub(super) fn execute(&mut self, slot: u32, qty: Qty) -> Qty {
        let order = &mut self.slots[slot].order;
        debug_assert!(qty <= order.remaining_qty, "fill larger than the maker");
        order.remaining_qty = qty_sub(order.remaining_qty, qty);
        let remaining = order.remaining_qty;
        let level = &mut self.levels[self.slots[slot].level];
        level.qty = qty_sub(level.qty, qty);
        if remaining.is_zero() {
            self.remove(slot);
        } else {
            let (side, price, total) = (level.side, level.price, level.qty);
            self.record(side, price, total);
        }
        remaining
    }

    /// Takes `qty` (less than its remaining) off the order in `slot` where it stands: its
    /// original and remaining quantities shrink, its queue position does not change.
    pub(super) fn shrink(&mut self, slot: u32, qty: Qty) {
        let order = &mut self.slots[slot].order;
        debug_assert!(qty < order.remaining_qty, "shrink would empty the order");
        order.remaining_qty = qty_sub(order.remaining_qty, qty);
        order.orig_qty = qty_sub(order.orig_qty, qty);
        let level = &mut self.levels[self.slots[slot].level];
        level.qty = qty_sub(level.qty, qty);
        let (side, price, total) = (level.side, level.price, level.qty);
        self.record(side, price, total);
    }

    /// Takes the order in `slot` off the book and returns it.
    pub(super) fn remove(&mut self, slot: u32) -> RestingOrder {
        let Slot {
            order,
            level,
            prev,
            next,
            ..
        } = self.slots[slot];
        if prev == NIL {
            self.levels[level].head = next;
        } else {
            self.slots[prev].next = next;
        }
        if next == NIL {
            self.levels[level].tail = prev;
        } else {
            self.slots[next].prev = prev;
        }
        self.unlink_account(slot);
        self.ids.remove(&order.id);
        self.slots.release(slot);
        self.shrink_level(level, order.remaining_qty);
        order
    }

    fn unlink_account(&mut self, slot: u32) {
        let Slot {
            order,
            account_prev: prev,
            account_next: next,
            ..
        } = self.slots[slot];
        if prev != NIL {
            self.slots[prev].account_next = next;
        }
        if next != NIL {
            self.slots[next].account_prev = prev;
        }
        if (prev == NIL || next == NIL)
            && let Some(list) = self.accounts.get_mut(&order.account)
        {
            if prev == NIL {
                list.head = next;
            }
            if next == NIL {
                list.tail = prev;
            }
        }
    }

    /// Lowers a level's total by `qty`, dropping the level once its queue is empty.
    fn shrink_level(&mut self, level: u32, qty: Qty) {
        let PriceLevel {
            side, price, head, ..
        } = self.levels[level];
        let total = qty_sub(self.levels[level].qty, qty);
        self.levels[level].qty = total;
        if head == NIL {
            debug_assert!(total.is_zero(), "an empty level kept a total");
            self.sides[side_index(side)].remove(&rank_key(side, price));
            self.levels.release(level);
            self.record(side, price, Qty::ZERO);
        } else {
            self.record(side, price, total);
        }
    }

    /// Logs a level's new total under the id the current operation will take. Consecutive
    /// changes of one level in one operation (a sweep through its queue) collapse into one.
    fn record(&mut self, side: BookSide, price: Price, qty: Qty) {
        let update_id = self.update_id.saturating_add(1);
        self.changed = true;
        if let Some(last) = self.changes.last_mut()
            && last.update_id == update_id
            && last.side == side
            && last.price == price
        {
            last.qty = qty;
            return;
        }
        self.changes.push(LevelChange {
            update_id,
            side,
            price,
            qty,
        });
    }

    /// Ends an operation: if it changed any level, the book update id advances by one.
    pub(super) fn commit(&mut self) {
        if self.changed {
            self.update_id = self.update_id.saturating_add(1);
            self.changed = false;
        }
    }

    /// The id of the last operation that changed a level (or the starting id).
    pub(super) const fn update_id(&self) -> u64 {
        self.update_id
    }

    /// The change log since it was last drained.
    pub(super) fn changes(&self) -> &[LevelChange] {
        &self.changes
    }

    /// Moves the change log to the end of `out`, keeping this buffer's capacity.
    pub(super) fn drain_changes(&mut self, out: &mut Vec<LevelChange>) {
        out.append(&mut self.changes);
    }

    /// Forgets the change log.
    pub(super) fn clear_changes(&mut self) {
        self.changes.clear();
    }
}
