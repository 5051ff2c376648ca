//! What goes into the engine ([`NewOrder`]) and what a resting order looks like from outside
//! ([`RestingOrder`]), with the identifiers and modes they carry.

use std::fmt;

use kestrel_model::order::{Side, TimeInForce};
use kestrel_model::{Price, Qty};

/// The exchange's order id. The caller assigns it (Binance: increasing per symbol); the engine
/// only requires it to be unique among the orders resting on the book.
pub type OrderId = u64;

/// The account an order belongs to: the key for self-trade prevention, `open_orders` and
/// `cancel_all`. A small dense integer assigned by the exchange layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(pub u32);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account {}", self.0)
    }
}

/// Self-trade prevention mode (Binance `selfTradePreventionMode`, `binance-futures.md` §3.3).
///
/// The taker's mode decides what happens when it would match a maker of the same account. It
/// is effective only for GTC and IOC takers (market orders count as GTC); FOK and GTX orders
/// trade against themselves as if the mode were [`Stp::None`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Stp {
    /// No prevention: the account may trade with itself.
    #[default]
    None,
    /// Expire the taker's remaining quantity; the maker stays.
    ExpireTaker,
    /// Expire the maker and keep matching the taker against the rest of the book.
    ExpireMaker,
    /// Expire the maker and the taker's remaining quantity.
    ExpireBoth,
}

impl Stp {
    /// Binance's spelling (`NONE`, `EXPIRE_TAKER`, `EXPIRE_MAKER`, `EXPIRE_BOTH`).
    #[must_use]
    pub const fn binance_name(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::ExpireTaker => "EXPIRE_TAKER",
            Self::ExpireMaker => "EXPIRE_MAKER",
            Self::ExpireBoth => "EXPIRE_BOTH",
        }
    }

    /// The mode that actually applies to a taker with this time in force: Binance ignores
    /// STP for FOK and post-only orders.
    #[must_use]
    pub const fn effective_for(self, tif: TimeInForce) -> Self {
        match tif {
            TimeInForce::Gtc | TimeInForce::Ioc => self,
            TimeInForce::Fok | TimeInForce::Gtx | TimeInForce::PostOnly => Self::None,
        }
    }
}

/// A LIMIT or MARKET order submitted to the engine. Conditional orders are held above the
/// engine and arrive here as their plain child order; reduce-only clipping is also done above,
/// so `qty` is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NewOrder {
    /// The caller-assigned id, unique among resting orders.
    pub id: OrderId,
    /// The owning account.
    pub account: AccountId,
    /// Buy or sell.
    pub side: Side,
    /// The limit price; `None` makes it a market order.
    pub price: Option<Price>,
    /// The quantity to trade, greater than zero.
    pub qty: Qty,
    /// GTC, IOC, FOK or GTX (post-only). A market order ignores GTC versus IOC (its
    /// remainder always expires) but honours FOK; it cannot be post-only.
    pub tif: TimeInForce,
    /// What to do when the order would trade against its own account.
    pub stp: Stp,
    /// An opaque value handed back in every event about this order.
    pub tag: u64,
}

impl NewOrder {
    /// A limit order with no self-trade prevention and a zero tag.
    #[must_use]
    pub const fn limit(
        id: OrderId,
        account: AccountId,
        side: Side,
        price: Price,
        qty: Qty,
        tif: TimeInForce,
    ) -> Self {
        Self {
            id,
            account,
            side,
            price: Some(price),
            qty,
            tif,
            stp: Stp::None,
            tag: 0,
        }
    }

    /// A market order (GTC: its unfilled remainder expires) with no self-trade prevention.
    #[must_use]
    pub const fn market(id: OrderId, account: AccountId, side: Side, qty: Qty) -> Self {
        Self {
            id,
            account,
            side,
            price: None,
            qty,
            tif: TimeInForce::Gtc,
            stp: Stp::None,
            tag: 0,
        }
    }

    /// The same order with another self-trade prevention mode.
    #[must_use]
    pub const fn with_stp(self, stp: Stp) -> Self {
        Self { stp, ..self }
    }

    /// The same order with another tag.
    #[must_use]
    pub const fn with_tag(self, tag: u64) -> Self {
        Self { tag, ..self }
    }

    /// The same order with another time in force.
    #[must_use]
    pub const fn with_tif(self, tif: TimeInForce) -> Self {
        Self { tif, ..self }
    }
}

/// Who an event is about: the order, its account and the caller's tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderRef {
    /// The order id.
    pub id: OrderId,
    /// The owning account.
    pub account: AccountId,
    /// The caller's tag from [`NewOrder::tag`].
    pub tag: u64,
}

/// A snapshot of an order resting on the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RestingOrder {
    /// The order id.
    pub id: OrderId,
    /// The owning account.
    pub account: AccountId,
    /// The caller's tag.
    pub tag: u64,
    /// Buy (a bid) or sell (an ask).
    pub side: Side,
    /// The limit price it rests at.
    pub price: Price,
    /// The original quantity (after an amend, the amended quantity, as Binance reports it).
    pub orig_qty: Qty,
    /// The quantity still open on the book.
    pub remaining_qty: Qty,
    /// GTC or GTX (the only kinds that rest).
    pub tif: TimeInForce,
    /// The order's self-trade prevention mode (used again if an amend makes it cross).
    pub stp: Stp,
    /// Time priority: a smaller value queued earlier at its price. Unique per engine; an
    /// amend gives a new one.
    pub priority: u64,
}

impl RestingOrder {
    /// The quantity already executed (Binance `executedQty`).
    #[must_use]
    pub const fn filled_qty(&self) -> Qty {
        Qty::from_raw(self.orig_qty.raw().saturating_sub(self.remaining_qty.raw()))
    }

    /// The event reference for this order.
    #[must_use]
    pub const fn order_ref(&self) -> OrderRef {
        OrderRef {
            id: self.id,
            account: self.account,
            tag: self.tag,
        }
    }
}
