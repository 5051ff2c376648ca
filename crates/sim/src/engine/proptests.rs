//! Property tests: the engine against a naive model (a flat list of resting orders, sorted on
//! every submit), plus the invariants that must hold after every operation: quantity is
//! conserved per order, the book is never crossed, L2 totals equal the sum of their orders,
//! and update ids strictly increase.

use std::collections::BTreeMap;

use kestrel_model::book::BookSide;
use kestrel_model::order::{Side, TimeInForce};
use kestrel_model::{Price, Qty};
use proptest::prelude::*;

use super::*;

// ---------------------------------------------------------------------------------------------
// The model

/// The same contract as [`MatchingEngine`], written the obvious, slow way.
#[derive(Default)]
struct Model {
    /// Resting orders in the order they started resting.
    resting: Vec<RestingOrder>,
    next_priority: u64,
    last_trade_id: u64,
}

/// A taker in the model.
#[derive(Clone, Copy)]
struct ModelTaker {
    order: OrderRef,
    side: Side,
    price: Option<Price>,
    orig: Qty,
    remaining: Qty,
    filled: Qty,
    tif: TimeInForce,
    stp: Stp,
}

impl ModelTaker {
    fn accepts(&self, maker: &RestingOrder) -> bool {
        maker.side != self.side
            && match (self.price, self.side) {
                (None, _) => true,
                (Some(limit), Side::Buy) => maker.price <= limit,
                (Some(limit), Side::Sell) => maker.price >= limit,
            }
    }
}

impl Model {
    fn find(&self, id: OrderId) -> Option<usize> {
        self.resting.iter().position(|o| o.id == id)
    }

    fn submit(
        &mut self,
        order: NewOrder,
        events: &mut Vec<EngineEvent>,
    ) -> Result<TakerOutcome, EngineError> {
        if self.find(order.id).is_some() {
            return Err(EngineError::DuplicateOrderId { order_id: order.id });
        }
        let taker = ModelTaker {
            order: OrderRef {
                id: order.id,
                account: order.account,
                tag: order.tag,
            },
            side: order.side,
            price: order.price,
            orig: order.qty,
            remaining: order.qty,
            filled: Qty::ZERO,
            tif: order.tif,
            stp: order.stp,
        };
        Ok(self.run(taker, events))
    }

    fn run(&mut self, mut taker: ModelTaker, events: &mut Vec<EngineEvent>) -> TakerOutcome {
        let mut queue: Vec<RestingOrder> = self
            .resting
            .iter()
            .filter(|m| taker.accepts(m))
            .copied()
            .collect();
        queue.sort_by_key(|m| {
            let rank = match taker.side {
                Side::Buy => m.price.raw(),
                Side::Sell => -m.price.raw(),
            };
            (rank, m.priority)
        });
        let available: i64 = queue.iter().map(|m| m.remaining_qty.raw()).sum();
        let rejection = if taker.tif.is_post_only() && !queue.is_empty() {
            Some(RejectReason::PostOnlyWouldTake)
        } else if taker.tif == TimeInForce::Fok && available < taker.remaining.raw() {
            Some(RejectReason::FokCannotFill)
        } else {
            None
        };
        let status = match rejection {
            Some(reason) => TakerStatus::Rejected(reason),
            None => self.sweep(&mut taker, &queue, events),
        };
        let outcome = TakerOutcome {
            order: taker.order,
            side: taker.side,
            price: taker.price,
            filled_qty: taker.filled,
            remaining_qty: taker.remaining,
            status,
        };
        events.push(EngineEvent::Taker(outcome));
        outcome
    }

    fn sweep(
        &mut self,
        taker: &mut ModelTaker,
        queue: &[RestingOrder],
        events: &mut Vec<EngineEvent>,
    ) -> TakerStatus {
        let stp = taker.stp.effective_for(taker.tif);
        for maker in queue {
            if taker.remaining.is_zero() {
                break;
            }
            let index = self.find(maker.id).unwrap();
            if stp != Stp::None && maker.account == taker.order.account {
                if matches!(stp, Stp::ExpireMaker | Stp::ExpireBoth) {
                    let maker = self.resting.remove(index);
                    events.push(EngineEvent::MakerExpired(MakerExpired {
                        order: maker.order_ref(),
                        side: maker.side,
                        price: maker.price,
                        expired_qty: maker.remaining_qty,
                        filled_qty: maker.filled_qty(),
                        taker: taker.order,
                        reason: ExpiryReason::SelfTradePrevention,
                    }));
                }
                if matches!(stp, Stp::ExpireTaker | Stp::ExpireBoth) {
                    let ioc = taker.price.is_some() && taker.tif == TimeInForce::Ioc;
                    return TakerStatus::Expired(if ioc {
                        ExpiryReason::IocSelfTradePrevention
                    } else {
                        ExpiryReason::SelfTradePrevention
                    });
                }
                continue;
            }
            let resting = &mut self.resting[index];
            let qty = taker.remaining.min(resting.remaining_qty);
            resting.remaining_qty = resting.remaining_qty.try_sub(qty).unwrap();
            taker.remaining = taker.remaining.try_sub(qty).unwrap();
            taker.filled = taker.filled.try_add(qty).unwrap();
            self.last_trade_id += 1;
            let maker_remaining = resting.remaining_qty;
            events.push(EngineEvent::Fill(Fill {
                trade_id: self.last_trade_id,
                price: resting.price,
                qty,
                taker_side: taker.side,
                taker: taker.order,
                taker_remaining_qty: taker.remaining,
                maker: resting.order_ref(),
                maker_remaining_qty: maker_remaining,
                maker_fully_filled: maker_remaining.is_zero(),
            }));
            if maker_remaining.is_zero() {
                self.resting.remove(index);
            }
        }
        self.settle(taker)
    }

    fn settle(&mut self, taker: &ModelTaker) -> TakerStatus {
        match (taker.remaining.is_zero(), taker.price, taker.tif) {
            (true, _, _) => TakerStatus::Filled,
            (false, None, _) => TakerStatus::Expired(ExpiryReason::MarketRemainder),
            (false, Some(_), TimeInForce::Ioc | TimeInForce::Fok) => {
                TakerStatus::Expired(ExpiryReason::IocRemainder)
            }
            (false, Some(price), _) => {
                let priority = self.next_priority;
                self.next_priority += 1;
                self.resting.push(RestingOrder {
                    id: taker.order.id,
                    account: taker.order.account,
                    tag: taker.order.tag,
                    side: taker.side,
                    price,
                    orig_qty: taker.orig,
                    remaining_qty: taker.remaining,
                    tif: taker.tif,
                    stp: taker.stp,
                    priority,
                });
                TakerStatus::Rested { priority }
            }
        }
    }

    fn cancel_at(
        &mut self,
        index: usize,
        reason: CancelReason,
        events: &mut Vec<EngineEvent>,
    ) -> Canceled {
        let order = self.resting.remove(index);
        let canceled = Canceled {
            order: order.order_ref(),
            side: order.side,
            price: order.price,
            canceled_qty: order.remaining_qty,
            filled_qty: order.filled_qty(),
            reason,
        };
        events.push(EngineEvent::Canceled(canceled));
        canceled
    }

    fn cancel(
        &mut self,
        order_id: OrderId,
        events: &mut Vec<EngineEvent>,
    ) -> Result<Canceled, EngineError> {
        let index = self
            .find(order_id)
            .ok_or(EngineError::UnknownOrder { order_id })?;
        Ok(self.cancel_at(index, CancelReason::User, events))
    }

    fn cancel_all(&mut self, account: AccountId, events: &mut Vec<EngineEvent>) -> usize {
        let mut count = 0;
        while let Some(index) = self.resting.iter().position(|o| o.account == account) {
            self.cancel_at(index, CancelReason::User, events);
            count += 1;
        }
        count
    }

    fn amend(
        &mut self,
        order_id: OrderId,
        price: Price,
        qty: Qty,
        events: &mut Vec<EngineEvent>,
    ) -> Result<AmendOutcome, EngineError> {
        let index = self
            .find(order_id)
            .ok_or(EngineError::UnknownOrder { order_id })?;
        let current = self.resting[index];
        if current.price == price && current.orig_qty == qty {
            return Err(EngineError::AmendNoChange {
                order_id,
                price,
                qty,
            });
        }
        let filled = current.filled_qty();
        if qty <= filled {
            let reason = CancelReason::AmendQtyNotAboveFilled;
            return Ok(AmendOutcome::Canceled(
                self.cancel_at(index, reason, events),
            ));
        }
        let taker = ModelTaker {
            order: current.order_ref(),
            side: current.side,
            price: Some(price),
            orig: qty,
            remaining: qty.try_sub(filled).unwrap(),
            filled,
            tif: current.tif,
            stp: current.stp,
        };
        if current.tif.is_post_only() && self.resting.iter().any(|m| taker.accepts(m)) {
            let reason = CancelReason::AmendPostOnlyWouldCross;
            return Ok(AmendOutcome::Canceled(
                self.cancel_at(index, reason, events),
            ));
        }
        self.resting.remove(index);
        events.push(EngineEvent::Amended(Amended {
            order: current.order_ref(),
            side: current.side,
            old_price: current.price,
            price,
            orig_qty: qty,
            remaining_qty: taker.remaining,
            filled_qty: filled,
        }));
        Ok(AmendOutcome::Amended(self.run(taker, events)))
    }
}

// ---------------------------------------------------------------------------------------------
// Operations

#[derive(Debug, Clone)]
enum Op {
    Submit {
        account: u32,
        side: Side,
        ticks: i64,
        lots: i64,
        kind: u8,
        stp: u8,
    },
    Cancel {
        pick: u64,
    },
    Amend {
        pick: u64,
        ticks: i64,
        lots: i64,
    },
    CancelAll {
        account: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let side = prop_oneof![Just(Side::Buy), Just(Side::Sell)];
    prop_oneof![
        6 => (0..3_u32, side, 0..12_i64, 1..6_i64, 0..6_u8, 0..4_u8).prop_map(
            |(account, side, ticks, lots, kind, stp)| Op::Submit { account, side, ticks, lots, kind, stp }
        ),
        2 => any::<u64>().prop_map(|pick| Op::Cancel { pick }),
        2 => (any::<u64>(), 0..12_i64, 1..6_i64).prop_map(|(pick, ticks, lots)| Op::Amend { pick, ticks, lots }),
        1 => (0..3_u32).prop_map(|account| Op::CancelAll { account }),
    ]
}

fn price_of(ticks: i64) -> Price {
    Price::from_raw((1_000 + ticks) * 10_000_000) // 100.0 + ticks × 0.1
}

fn qty_of(lots: i64) -> Qty {
    Qty::from_raw(lots * 25_000_000) // lots × 0.25
}

fn new_order(id: OrderId, op: &Op) -> Option<NewOrder> {
    let Op::Submit {
        account,
        side,
        ticks,
        lots,
        kind,
        stp,
    } = *op
    else {
        return None;
    };
    let (price, tif) = match kind {
        0 => (Some(price_of(ticks)), TimeInForce::Gtc),
        1 => (Some(price_of(ticks)), TimeInForce::Ioc),
        2 => (Some(price_of(ticks)), TimeInForce::Fok),
        3 => (Some(price_of(ticks)), TimeInForce::Gtx),
        4 => (None, TimeInForce::Gtc),
        _ => (None, TimeInForce::Fok),
    };
    let stp = [
        Stp::None,
        Stp::ExpireTaker,
        Stp::ExpireMaker,
        Stp::ExpireBoth,
    ][usize::from(stp)];
    Some(NewOrder {
        id,
        account: AccountId(account),
        side,
        price,
        qty: qty_of(lots),
        tif,
        stp,
        tag: id * 3,
    })
}

// ---------------------------------------------------------------------------------------------
// Invariants

/// What happened to each order's quantity, from the events alone.
#[derive(Debug, Default, Clone, Copy)]
struct Ledger {
    orig: i64,
    taken: i64,
    made: i64,
    closed: i64,
}

fn post(ledgers: &mut BTreeMap<OrderId, Ledger>, events: &[EngineEvent]) {
    for event in events {
        match *event {
            EngineEvent::Fill(fill) => {
                ledgers.entry(fill.taker.id).or_default().taken += fill.qty.raw();
                ledgers.entry(fill.maker.id).or_default().made += fill.qty.raw();
            }
            EngineEvent::MakerExpired(expired) => {
                ledgers.entry(expired.order.id).or_default().closed += expired.expired_qty.raw();
            }
            EngineEvent::Canceled(canceled) => {
                ledgers.entry(canceled.order.id).or_default().closed += canceled.canceled_qty.raw();
            }
            EngineEvent::Amended(amended) => {
                ledgers.entry(amended.order.id).or_default().orig = amended.orig_qty.raw();
            }
            EngineEvent::Taker(outcome) => {
                if !matches!(outcome.status, TakerStatus::Rested { .. }) {
                    ledgers.entry(outcome.order.id).or_default().closed +=
                        outcome.remaining_qty.raw();
                }
            }
        }
    }
}

fn check_conservation(engine: &MatchingEngine, ledgers: &BTreeMap<OrderId, Ledger>) {
    let (mut taken, mut made) = (0_i64, 0_i64);
    for (&id, ledger) in ledgers {
        taken += ledger.taken;
        made += ledger.made;
        let resting = engine.order(id).map_or(0, |o| o.remaining_qty.raw());
        assert_eq!(
            ledger.taken + ledger.made + ledger.closed + resting,
            ledger.orig,
            "order {id}: filled + closed + resting must equal its original qty"
        );
        if let Some(order) = engine.order(id) {
            assert_eq!(order.filled_qty().raw(), ledger.taken + ledger.made);
        }
    }
    assert_eq!(taken, made, "taker and maker fills must balance");
}

fn check_book(engine: &MatchingEngine) {
    if let (Some(bid), Some(ask)) = (engine.best_bid(), engine.best_ask()) {
        assert!(bid.price < ask.price, "crossed book: {bid:?} / {ask:?}");
    }
    let mut count = 0;
    for side in [BookSide::Bid, BookSide::Ask] {
        let levels: Vec<_> = engine.levels(side).collect();
        assert!(
            levels.windows(2).all(|w| match side {
                BookSide::Bid => w[0].price > w[1].price,
                BookSide::Ask => w[0].price < w[1].price,
            }),
            "{side} levels out of order"
        );
        for level in levels {
            let orders: Vec<_> = engine.orders_at(side, level.price).collect();
            let total: i64 = orders.iter().map(|o| o.remaining_qty.raw()).sum();
            assert!(level.qty.is_positive());
            assert_eq!(total, level.qty.raw(), "L2 total at {}", level.price);
            assert!(orders.windows(2).all(|w| w[0].priority < w[1].priority));
            assert!(
                orders
                    .iter()
                    .all(|o| o.price == level.price && o.remaining_qty.is_positive())
            );
            count += orders.len();
        }
    }
    assert_eq!(count, engine.open_order_count());
}

/// The engine's resting orders, per side and price, in time priority.
fn engine_orders(engine: &MatchingEngine) -> Vec<RestingOrder> {
    let mut all = Vec::new();
    for side in [BookSide::Bid, BookSide::Ask] {
        for level in engine.levels(side) {
            all.extend(engine.orders_at(side, level.price));
        }
    }
    all.sort_by_key(|o| (o.side, o.price, o.priority));
    all
}

fn model_orders(model: &Model) -> Vec<RestingOrder> {
    let mut all = model.resting.clone();
    all.sort_by_key(|o| (o.side, o.price, o.priority));
    all
}

/// Applies one op to the engine and the model, asserting they agree.
fn apply(
    engine: &mut MatchingEngine,
    model: &mut Model,
    id: OrderId,
    op: &Op,
    events: &mut Vec<EngineEvent>,
) {
    let mut expected = Vec::new();
    let pick = |pick: u64| if id == 0 { 0 } else { pick % (id + 1) };
    match *op {
        Op::Submit { .. } => {
            let order = new_order(id, op).unwrap();
            assert_eq!(
                engine.submit(order, events),
                model.submit(order, &mut expected)
            );
        }
        Op::Cancel { pick: p } => {
            let target = pick(p);
            assert_eq!(
                engine.cancel(target, events),
                model.cancel(target, &mut expected)
            );
        }
        Op::Amend {
            pick: p,
            ticks,
            lots,
        } => {
            let (target, price, qty) = (pick(p), price_of(ticks), qty_of(lots));
            assert_eq!(
                engine.amend(target, Some(price), qty, events),
                model.amend(target, price, qty, &mut expected)
            );
        }
        Op::CancelAll { account } => {
            let account = AccountId(account);
            assert_eq!(
                engine.cancel_all(account, events),
                model.cancel_all(account, &mut expected)
            );
        }
    }
    assert_eq!(*events, expected);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn engine_matches_the_model_and_keeps_its_invariants(ops in prop::collection::vec(op(), 1..250)) {
        let mut engine = MatchingEngine::default();
        let mut model = Model::default();
        let mut ledgers = BTreeMap::new();
        let mut events = Vec::new();
        let mut log = Vec::new();
        let mut last_update_id = engine.update_id();
        for (id, op) in (0_u64..).zip(&ops) {
            if let Some(order) = new_order(id, op) {
                ledgers.insert(id, Ledger { orig: order.qty.raw(), ..Ledger::default() });
            }
            events.clear();
            apply(&mut engine, &mut model, id, op, &mut events);
            post(&mut ledgers, &events);

            log.clear();
            engine.drain_level_changes(&mut log);
            let update_id = engine.update_id();
            if log.is_empty() {
                prop_assert_eq!(update_id, last_update_id);
            } else {
                prop_assert_eq!(update_id, last_update_id + 1);
                prop_assert!(log.iter().all(|c| c.update_id == update_id));
                // A level may change more than once in one operation; its last entry is final.
                let mut last = BTreeMap::new();
                for change in &log {
                    last.insert((change.side, change.price), change.qty);
                }
                for ((side, price), qty) in last {
                    prop_assert_eq!(engine.l2_qty_at(side, price), qty);
                }
            }
            last_update_id = update_id;

            check_book(&engine);
            check_conservation(&engine, &ledgers);
            prop_assert_eq!(engine_orders(&engine), model_orders(&model));
            prop_assert_eq!(engine.last_trade_id(), model.last_trade_id);
        }
    }

    #[test]
    fn replaying_the_change_log_rebuilds_the_l2_book(ops in prop::collection::vec(op(), 1..250)) {
        let mut engine = MatchingEngine::default();
        let mut model = Model::default();
        let mut events = Vec::new();
        let mut mirror: [BTreeMap<Price, Qty>; 2] = [BTreeMap::new(), BTreeMap::new()];
        let mut log = Vec::new();
        for (id, op) in (0_u64..).zip(&ops) {
            events.clear();
            apply(&mut engine, &mut model, id, op, &mut events);
        }
        engine.drain_level_changes(&mut log);
        prop_assert!(log.windows(2).all(|w| w[0].update_id <= w[1].update_id));
        for change in &log {
            let book = &mut mirror[usize::from(change.side == BookSide::Ask)];
            if change.qty.is_zero() {
                book.remove(&change.price);
            } else {
                book.insert(change.price, change.qty);
            }
        }
        let bids: Vec<_> = mirror[0].iter().rev().map(|(p, q)| (*p, *q)).collect();
        let asks: Vec<_> = mirror[1].iter().map(|(p, q)| (*p, *q)).collect();
        let engine_bids: Vec<_> = engine.levels(BookSide::Bid).map(|l| (l.price, l.qty)).collect();
        let engine_asks: Vec<_> = engine.levels(BookSide::Ask).map(|l| (l.price, l.qty)).collect();
        prop_assert_eq!(bids, engine_bids);
        prop_assert_eq!(asks, engine_asks);
    }
}
