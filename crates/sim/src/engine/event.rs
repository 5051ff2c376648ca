//! What the engine reports: [`EngineEvent`]s pushed into a caller-owned buffer, the taker's
//! final [`TakerOutcome`], and the [`LevelChange`] log the depth streams are built from.
//!
//! The reasons carry their Binance codes (`binance-futures.md` §8.2 `er`, §5.3, §9.2) so the
//! exchange layer can render `ORDER_TRADE_UPDATE` and REST answers without a lookup table.

use kestrel_model::book::BookSide;
use kestrel_model::order::Side;
use kestrel_model::{Money, Price, Qty};

use super::order::OrderRef;

/// One thing that happened inside an engine operation, in the order it happened.
///
/// A `submit` pushes its fills and STP maker expiries in matching order and ends with exactly
/// one [`EngineEvent::Taker`]. An `amend` pushes [`EngineEvent::Amended`] and then what a submit
/// would (the amended order re-enters the book), or a single [`EngineEvent::Canceled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineEvent {
    /// A taker traded with a maker.
    Fill(Fill),
    /// Self-trade prevention expired a resting maker (Binance `EXPIRED_IN_MATCH`, `er` 1).
    MakerExpired(MakerExpired),
    /// A resting order was cancelled, by its owner or by an amend.
    Canceled(Canceled),
    /// A resting order took a new price and quantity and lost its queue position.
    Amended(Amended),
    /// How the submitted (or amended) order ended this operation.
    Taker(TakerOutcome),
}

/// One trade between a taker and a maker, at the maker's price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fill {
    /// The engine's trade id: one per fill, increasing by one.
    pub trade_id: u64,
    /// The execution price (the maker's limit price).
    pub price: Price,
    /// The executed quantity.
    pub qty: Qty,
    /// The taker's side; the maker is on the other side.
    pub taker_side: Side,
    /// The taker.
    pub taker: OrderRef,
    /// The taker's quantity still unfilled after this fill.
    pub taker_remaining_qty: Qty,
    /// The maker.
    pub maker: OrderRef,
    /// The maker's quantity still resting after this fill.
    pub maker_remaining_qty: Qty,
    /// Whether this fill completed the maker (it has left the book).
    pub maker_fully_filled: bool,
}

impl Fill {
    /// The maker's side.
    #[must_use]
    pub const fn maker_side(&self) -> Side {
        self.taker_side.opposite()
    }

    /// The exact quote notional `price × qty`.
    #[must_use]
    pub const fn notional(&self) -> Money {
        self.price.notional(self.qty)
    }
}

/// A resting maker removed by the taker's self-trade prevention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MakerExpired {
    /// The expired maker.
    pub order: OrderRef,
    /// The maker's side.
    pub side: Side,
    /// The maker's limit price.
    pub price: Price,
    /// The quantity that was still resting and is now expired.
    pub expired_qty: Qty,
    /// What the maker had executed before (Binance `z`).
    pub filled_qty: Qty,
    /// The taker whose STP mode expired it.
    pub taker: OrderRef,
    /// Always [`ExpiryReason::SelfTradePrevention`]; kept for uniform rendering.
    pub reason: ExpiryReason,
}

/// A resting order taken off the book without trading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Canceled {
    /// The cancelled order.
    pub order: OrderRef,
    /// Its side.
    pub side: Side,
    /// Its limit price.
    pub price: Price,
    /// The quantity that was resting and is now cancelled.
    pub canceled_qty: Qty,
    /// What it had executed before (Binance `z`).
    pub filled_qty: Qty,
    /// Why.
    pub reason: CancelReason,
}

/// Why a resting order was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CancelReason {
    /// The owner cancelled it (single cancel, batch cancel or cancel-all).
    User,
    /// A modify set the quantity at or below the executed quantity (§3.3 modify).
    AmendQtyNotAboveFilled,
    /// A modify moved a post-only (GTX) order to a price that would take (§3.3 modify).
    AmendPostOnlyWouldCross,
}

/// A resting order's new terms after a modify; it has left its old queue position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amended {
    /// The amended order.
    pub order: OrderRef,
    /// Its side.
    pub side: Side,
    /// The price it rested at before.
    pub old_price: Price,
    /// The new limit price.
    pub price: Price,
    /// The new original quantity (Binance reports the modified `origQty`).
    pub orig_qty: Qty,
    /// The new open quantity: `orig_qty - filled_qty`.
    pub remaining_qty: Qty,
    /// What it had executed before the modify.
    pub filled_qty: Qty,
}

/// The final state of a taker after one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TakerOutcome {
    /// The order.
    pub order: OrderRef,
    /// Its side.
    pub side: Side,
    /// Its limit price; `None` for a market order.
    pub price: Option<Price>,
    /// Its cumulative executed quantity (Binance `executedQty`, including fills before an
    /// amend).
    pub filled_qty: Qty,
    /// The quantity not executed: resting for [`TakerStatus::Rested`], expired for
    /// [`TakerStatus::Expired`], all of it for [`TakerStatus::Rejected`], zero when filled.
    pub remaining_qty: Qty,
    /// What became of it.
    pub status: TakerStatus,
}

impl TakerOutcome {
    /// Binance's REST order status for this outcome (§9.1). A rejection is `REJECTED` here;
    /// Binance answers it with the error code of [`RejectReason::binance_code`] instead.
    #[must_use]
    pub const fn binance_status(&self) -> &'static str {
        match self.status {
            TakerStatus::Rested { .. } if self.filled_qty.is_zero() => "NEW",
            TakerStatus::Rested { .. } => "PARTIALLY_FILLED",
            TakerStatus::Filled => "FILLED",
            TakerStatus::Expired(reason) => reason.binance_status(),
            TakerStatus::Rejected(_) => "REJECTED",
        }
    }
}

/// What became of a taker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TakerStatus {
    /// Its remainder rests on the book (GTC or GTX).
    Rested {
        /// Its time priority at its price.
        priority: u64,
    },
    /// It executed completely.
    Filled,
    /// Its remainder expired.
    Expired(ExpiryReason),
    /// It was refused before touching the book; nothing executed and nothing is recorded.
    Rejected(RejectReason),
}

/// Why an order's remaining quantity expired (Binance `er`, §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpiryReason {
    /// Self-trade prevention (`er` 1): a maker, or a GTC/market taker.
    SelfTradePrevention,
    /// An IOC limit order's unfilled remainder (`er` 2).
    IocRemainder,
    /// An IOC taker's remainder expired by self-trade prevention (`er` 3).
    IocSelfTradePrevention,
    /// A market order ran out of liquidity on the book (`er` 9).
    MarketRemainder,
}

impl ExpiryReason {
    /// Binance's expiry-reason code (`er` in `ORDER_TRADE_UPDATE`).
    #[must_use]
    pub const fn binance_code(self) -> u8 {
        match self {
            Self::SelfTradePrevention => 1,
            Self::IocRemainder => 2,
            Self::IocSelfTradePrevention => 3,
            Self::MarketRemainder => 9,
        }
    }

    /// Binance's order status after the expiry: STP gives `EXPIRED_IN_MATCH`, the rest
    /// `EXPIRED` (§9.2).
    #[must_use]
    pub const fn binance_status(self) -> &'static str {
        match self {
            Self::SelfTradePrevention | Self::IocSelfTradePrevention => "EXPIRED_IN_MATCH",
            Self::IocRemainder | Self::MarketRemainder => "EXPIRED",
        }
    }
}

/// Why a taker was refused before matching (§5.3, §9.2: neither is recorded in history).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// A FOK order could not execute completely (`-5021`).
    FokCannotFill,
    /// A post-only (GTX) order would have taken liquidity (`-5022`).
    PostOnlyWouldTake,
}

impl RejectReason {
    /// Binance's error code.
    #[must_use]
    pub const fn binance_code(self) -> i32 {
        match self {
            Self::FokCannotFill => -5021,
            Self::PostOnlyWouldTake => -5022,
        }
    }

    /// Binance's error message (the futures error-code page; the REST `msg`).
    #[must_use]
    pub const fn binance_msg(self) -> &'static str {
        match self {
            Self::FokCannotFill => {
                "Due to the order could not be filled immediately, the FOK order has been rejected."
            }
            Self::PostOnlyWouldTake => {
                "Due to the order could not be executed as maker, the Post Only order will be rejected."
            }
        }
    }
}

/// What happened to an amended order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmendOutcome {
    /// It took its new terms and re-entered the book; the outcome says whether it rests,
    /// filled, or expired (it may trade if the new price crosses).
    Amended(TakerOutcome),
    /// The modify cancelled it instead (new qty at or below executed, or a crossing GTX).
    Canceled(Canceled),
}

/// One L2 level's new aggregate quantity, stamped with the book update id of the operation
/// that changed it. A zero `qty` means the level is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelChange {
    /// The book `update_id` of the operation (Binance `u`; equal for every change it made).
    pub update_id: u64,
    /// Bid or ask.
    pub side: BookSide,
    /// The level's price.
    pub price: Price,
    /// The new total resting quantity at that price; zero deletes the level.
    pub qty: Qty,
}
