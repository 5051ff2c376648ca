//! The engine's operations: submit, cancel, cancel-all and amend, and the matching loop they
//! share.

use kestrel_model::book::BookSide;
use kestrel_model::order::{Side, TimeInForce};
use kestrel_model::{Price, Qty};

use super::book::{book_side, opposite, qty_add, qty_sub, rank_key};
use super::order::AccountId;
use super::{
    AmendOutcome, Amended, CancelReason, Canceled, EngineError, EngineEvent, ExpiryReason, Fill,
    MakerExpired, MatchingEngine, NewOrder, OrderId, OrderRef, RejectReason, RestingOrder, Stp,
    TakerOutcome, TakerStatus,
};

/// An order while it is matched: a new submission, or an amended order re-entering the book.
#[derive(Debug, Clone, Copy)]
struct Taker {
    order: OrderRef,
    side: Side,
    price: Option<Price>,
    orig_qty: Qty,
    remaining: Qty,
    filled: Qty,
    tif: TimeInForce,
    stp: Stp,
    /// The rank key, on the opposite side, of the worst maker price it accepts.
    limit_key: i64,
}

impl Taker {
    fn new(order: &NewOrder) -> Self {
        Self {
            order: OrderRef {
                id: order.id,
                account: order.account,
                tag: order.tag,
            },
            side: order.side,
            price: order.price,
            orig_qty: order.qty,
            remaining: order.qty,
            filled: Qty::ZERO,
            tif: order.tif,
            stp: order.stp,
            limit_key: limit_key(order.side, order.price),
        }
    }

    /// A resting order re-entering the book with a new price and original quantity; its fills
    /// so far count against `qty`, which the caller has checked exceeds them.
    fn amended(current: &RestingOrder, price: Price, qty: Qty) -> Self {
        let filled = current.filled_qty();
        Self {
            order: current.order_ref(),
            side: current.side,
            price: Some(price),
            orig_qty: qty,
            remaining: qty_sub(qty, filled),
            filled,
            tif: current.tif,
            stp: current.stp,
            limit_key: limit_key(current.side, Some(price)),
        }
    }

    /// The side it takes from.
    const fn maker_side(&self) -> BookSide {
        opposite(book_side(self.side))
    }
}

/// Why the matching loop stopped.
enum MatchEnd {
    /// Nothing left to fill.
    Filled,
    /// No maker left at an acceptable price.
    NoLiquidity,
    /// Self-trade prevention expired the taker.
    SelfTrade,
}

impl MatchingEngine {
    /// Submits a LIMIT or MARKET order and matches it. Pushes its fills and any makers
    /// expired by self-trade prevention, in matching order, then one [`EngineEvent::Taker`];
    /// returns that outcome.
    ///
    /// Binance rules applied (§3.3, §9.2): fills are at the maker's price; a market order
    /// sweeps until filled or the opposite side is empty and its remainder expires (`er` 9);
    /// an IOC remainder expires (`er` 2); a FOK that cannot fill completely and a GTX that
    /// would take any liquidity are rejected with nothing executed (-5021, -5022); a GTC or
    /// GTX remainder rests. Self-trade prevention follows the taker's [`Stp`] mode.
    ///
    /// # Errors
    /// [`EngineError::NonPositiveQty`], [`EngineError::NonPositivePrice`],
    /// [`EngineError::LimitWithoutPrice`] (post-only market order),
    /// [`EngineError::DuplicateOrderId`], [`EngineError::LevelQtyOverflow`],
    /// [`EngineError::BookFull`]; nothing changes.
    pub fn submit(
        &mut self,
        order: NewOrder,
        events: &mut Vec<EngineEvent>,
    ) -> Result<TakerOutcome, EngineError> {
        self.check_new(&order)?;
        let outcome = self.execute(Taker::new(&order), events);
        self.book.commit();
        Ok(outcome)
    }

    fn check_new(&self, order: &NewOrder) -> Result<(), EngineError> {
        check_qty(order.id, order.qty)?;
        match order.price {
            Some(price) => check_price(order.id, price)?,
            None if order.tif.is_post_only() => {
                return Err(EngineError::LimitWithoutPrice {
                    order_id: order.id,
                    tif: order.tif,
                });
            }
            None => {}
        }
        if self.book.lookup(order.id).is_some() {
            return Err(EngineError::DuplicateOrderId { order_id: order.id });
        }
        match order.price {
            Some(_) if can_rest(order.tif) && self.book.is_full() => {
                Err(EngineError::BookFull { order_id: order.id })
            }
            Some(price) if can_rest(order.tif) => {
                self.check_room(order.id, order.side, price, order.qty, Qty::ZERO)
            }
            _ => Ok(()),
        }
    }

    /// Checks that `qty` more can rest at `price` once `leaving` (the order's own quantity
    /// already there, for an amend) has left.
    fn check_room(
        &self,
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
        leaving: Qty,
    ) -> Result<(), EngineError> {
        let resting = qty_sub(self.book.qty_at(book_side(side), price), leaving);
        if resting.try_add(qty).is_err() {
            return Err(EngineError::LevelQtyOverflow { order_id, price });
        }
        Ok(())
    }

    /// Matches a checked taker and settles its remainder. Does not commit the update id.
    fn execute(&mut self, mut taker: Taker, events: &mut Vec<EngineEvent>) -> TakerOutcome {
        if let Some(reason) = self.refusal(&taker) {
            return conclude(&taker, TakerStatus::Rejected(reason), events);
        }
        let status = match self.match_book(&mut taker, events) {
            MatchEnd::Filled => TakerStatus::Filled,
            MatchEnd::SelfTrade => TakerStatus::Expired(stp_expiry(&taker)),
            MatchEnd::NoLiquidity => self.rest_or_expire(&taker),
        };
        conclude(&taker, status, events)
    }

    /// Post-only and FOK refusals, decided before anything executes.
    fn refusal(&self, taker: &Taker) -> Option<RejectReason> {
        let makers = taker.maker_side();
        if taker.tif.is_post_only() {
            return self
                .book
                .crosses(makers, taker.limit_key)
                .then_some(RejectReason::PostOnlyWouldTake);
        }
        // FOK ignores STP (Binance), so every crossing maker counts towards the fill.
        let fok_short = taker.tif == TimeInForce::Fok
            && !self.book.can_fill(makers, taker.limit_key, taker.remaining);
        fok_short.then_some(RejectReason::FokCannotFill)
    }

    /// Fills the taker against the opposite side, best price and oldest order first.
    fn match_book(&mut self, taker: &mut Taker, events: &mut Vec<EngineEvent>) -> MatchEnd {
        let makers = taker.maker_side();
        let stp = taker.stp.effective_for(taker.tif);
        while taker.remaining.is_positive() {
            let Some(maker) = self.book.best_order(makers, taker.limit_key) else {
                return MatchEnd::NoLiquidity;
            };
            if stp != Stp::None && self.book.order(maker).account == taker.order.account {
                if matches!(stp, Stp::ExpireMaker | Stp::ExpireBoth) {
                    self.expire_maker(maker, taker, events);
                }
                if matches!(stp, Stp::ExpireTaker | Stp::ExpireBoth) {
                    return MatchEnd::SelfTrade;
                }
                continue;
            }
            self.fill(taker, maker, events);
        }
        MatchEnd::Filled
    }

    /// One trade between the taker and the maker in `slot`, at the maker's price.
    fn fill(&mut self, taker: &mut Taker, slot: u32, events: &mut Vec<EngineEvent>) {
        let maker = *self.book.order(slot);
        let qty = taker.remaining.min(maker.remaining_qty);
        let maker_remaining = self.book.execute(slot, qty);
        taker.remaining = qty_sub(taker.remaining, qty);
        taker.filled = qty_add(taker.filled, qty);
        self.last_trade_id = self.last_trade_id.saturating_add(1);
        events.push(EngineEvent::Fill(Fill {
            trade_id: self.last_trade_id,
            price: maker.price,
            qty,
            taker_side: taker.side,
            taker: taker.order,
            taker_remaining_qty: taker.remaining,
            maker: maker.order_ref(),
            maker_remaining_qty: maker_remaining,
            maker_fully_filled: maker_remaining.is_zero(),
        }));
    }

    fn expire_maker(&mut self, slot: u32, taker: &Taker, events: &mut Vec<EngineEvent>) {
        let maker = self.book.remove(slot);
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

    /// What happens to a remainder that found no more liquidity.
    fn rest_or_expire(&mut self, taker: &Taker) -> TakerStatus {
        let Some(price) = taker.price else {
            return TakerStatus::Expired(ExpiryReason::MarketRemainder);
        };
        if !can_rest(taker.tif) {
            // FOK lands here only if the refusal check was wrong; expiring keeps it off the book.
            debug_assert!(taker.tif == TimeInForce::Ioc, "a FOK was not fully filled");
            return TakerStatus::Expired(ExpiryReason::IocRemainder);
        }
        let priority = self.book.insert(RestingOrder {
            id: taker.order.id,
            account: taker.order.account,
            tag: taker.order.tag,
            side: taker.side,
            price,
            orig_qty: taker.orig_qty,
            remaining_qty: taker.remaining,
            tif: taker.tif,
            stp: taker.stp,
            priority: 0,
        });
        TakerStatus::Rested { priority }
    }

    /// Cancels a resting order at its owner's request and pushes [`EngineEvent::Canceled`].
    ///
    /// # Errors
    /// [`EngineError::UnknownOrder`] (Binance -2011) when `order_id` is not open on the book.
    pub fn cancel(
        &mut self,
        order_id: OrderId,
        events: &mut Vec<EngineEvent>,
    ) -> Result<Canceled, EngineError> {
        let slot = self
            .book
            .lookup(order_id)
            .ok_or(EngineError::UnknownOrder { order_id })?;
        let canceled = self.cancel_slot(slot, CancelReason::User, events);
        self.book.commit();
        Ok(canceled)
    }

    /// Cancels every resting order of `account`, oldest first (the `open_orders` order), as
    /// one book update. Pushes one [`EngineEvent::Canceled`] each; returns how many.
    pub fn cancel_all(&mut self, account: AccountId, events: &mut Vec<EngineEvent>) -> usize {
        let mut count = 0;
        while let Some(slot) = self.book.account_first(account) {
            self.cancel_slot(slot, CancelReason::User, events);
            count += 1;
        }
        self.book.commit();
        count
    }

    /// Takes `qty` off a resting order where it stands (a partial cancel): its original and
    /// remaining quantities shrink and it keeps its queue position, unlike [`Self::amend`].
    /// Taking all that remains cancels it, pushing [`EngineEvent::Canceled`]; otherwise
    /// nothing is pushed. Returns the quantity left resting. The simulator's mirror of a live
    /// book uses it to follow a level that shrank without reordering the queue.
    ///
    /// # Errors
    /// [`EngineError::UnknownOrder`] when `order_id` is not resting,
    /// [`EngineError::NonPositiveQty`] when `qty` is not positive; nothing changes.
    pub fn reduce(
        &mut self,
        order_id: OrderId,
        qty: Qty,
        events: &mut Vec<EngineEvent>,
    ) -> Result<Qty, EngineError> {
        let slot = self
            .book
            .lookup(order_id)
            .ok_or(EngineError::UnknownOrder { order_id })?;
        check_qty(order_id, qty)?;
        let remaining = self.book.order(slot).remaining_qty;
        let left = if qty >= remaining {
            self.cancel_slot(slot, CancelReason::User, events);
            Qty::ZERO
        } else {
            self.book.shrink(slot, qty);
            qty_sub(remaining, qty)
        };
        self.book.commit();
        Ok(left)
    }

    fn cancel_slot(
        &mut self,
        slot: u32,
        reason: CancelReason,
        events: &mut Vec<EngineEvent>,
    ) -> Canceled {
        let order = self.book.remove(slot);
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

    /// Modifies a resting order's price and quantity the Binance way (§3.3 `PUT
    /// /fapi/v1/order`): `qty` is the new original quantity, fills so far count against it,
    /// and the order loses its queue position. The modify cancels the order instead when `qty`
    /// is at or below the executed quantity, or when a post-only order would cross. Otherwise
    /// it pushes [`EngineEvent::Amended`] and the order re-enters the book like a submit (a
    /// new price that crosses trades as taker, with the order's own STP mode), ending with an
    /// [`EngineEvent::Taker`].
    ///
    /// # Errors
    /// [`EngineError::UnknownOrder`], [`EngineError::AmendToMarket`] (`price` is `None`),
    /// [`EngineError::NonPositivePrice`], [`EngineError::NonPositiveQty`],
    /// [`EngineError::AmendNoChange`], [`EngineError::LevelQtyOverflow`]; nothing changes.
    pub fn amend(
        &mut self,
        order_id: OrderId,
        price: Option<Price>,
        qty: Qty,
        events: &mut Vec<EngineEvent>,
    ) -> Result<AmendOutcome, EngineError> {
        let slot = self
            .book
            .lookup(order_id)
            .ok_or(EngineError::UnknownOrder { order_id })?;
        let price = price.ok_or(EngineError::AmendToMarket { order_id })?;
        check_price(order_id, price)?;
        check_qty(order_id, qty)?;
        let current = *self.book.order(slot);
        if price == current.price && qty == current.orig_qty {
            return Err(EngineError::AmendNoChange {
                order_id,
                price,
                qty,
            });
        }
        let outcome = self.amend_slot(slot, &current, price, qty, events)?;
        self.book.commit();
        Ok(outcome)
    }

    fn amend_slot(
        &mut self,
        slot: u32,
        current: &RestingOrder,
        price: Price,
        qty: Qty,
        events: &mut Vec<EngineEvent>,
    ) -> Result<AmendOutcome, EngineError> {
        let filled = current.filled_qty();
        if qty <= filled {
            let reason = CancelReason::AmendQtyNotAboveFilled;
            return Ok(AmendOutcome::Canceled(
                self.cancel_slot(slot, reason, events),
            ));
        }
        let taker = Taker::amended(current, price, qty);
        if current.tif.is_post_only() && self.book.crosses(taker.maker_side(), taker.limit_key) {
            let reason = CancelReason::AmendPostOnlyWouldCross;
            return Ok(AmendOutcome::Canceled(
                self.cancel_slot(slot, reason, events),
            ));
        }
        let leaving = if price == current.price {
            current.remaining_qty
        } else {
            Qty::ZERO
        };
        self.check_room(current.id, current.side, price, taker.remaining, leaving)?;
        self.book.remove(slot);
        events.push(EngineEvent::Amended(Amended {
            order: current.order_ref(),
            side: current.side,
            old_price: current.price,
            price,
            orig_qty: qty,
            remaining_qty: taker.remaining,
            filled_qty: filled,
        }));
        Ok(AmendOutcome::Amended(self.execute(taker, events)))
    }
}

/// The rank key, on the makers' side, of the worst price a taker of `side` accepts.
const fn limit_key(side: Side, price: Option<Price>) -> i64 {
    match price {
        Some(price) => rank_key(opposite(book_side(side)), price),
        None => i64::MAX,
    }
}

/// Whether an order with this time in force may rest on the book.
const fn can_rest(tif: TimeInForce) -> bool {
    matches!(
        tif,
        TimeInForce::Gtc | TimeInForce::Gtx | TimeInForce::PostOnly
    )
}

/// The expiry reason of a taker stopped by self-trade prevention: `er` 3 for an IOC limit
/// order, `er` 1 otherwise.
const fn stp_expiry(taker: &Taker) -> ExpiryReason {
    match (taker.price, taker.tif) {
        (Some(_), TimeInForce::Ioc) => ExpiryReason::IocSelfTradePrevention,
        _ => ExpiryReason::SelfTradePrevention,
    }
}

/// Builds the taker's outcome and pushes it as the operation's last event.
fn conclude(taker: &Taker, status: TakerStatus, events: &mut Vec<EngineEvent>) -> TakerOutcome {
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

const fn check_qty(order_id: OrderId, qty: Qty) -> Result<(), EngineError> {
    if qty.is_positive() {
        Ok(())
    } else {
        Err(EngineError::NonPositiveQty { order_id, qty })
    }
}

const fn check_price(order_id: OrderId, price: Price) -> Result<(), EngineError> {
    if price.is_positive() {
        Ok(())
    } else {
        Err(EngineError::NonPositivePrice { order_id, price })
    }
}
