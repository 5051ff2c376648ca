//! Why an order was refused: the rule, a stable code and a message with the values and the
//! limit. Building a [`Rejection`] formats nothing; the message is written when displayed.

use std::fmt;
use std::time::Duration;

use kestrel_model::instrument::{Rule, RuleValue, RuleViolation};
use kestrel_model::order::OrderRequestError;
use kestrel_model::{Money, Price, Qty, Rate, Side};

use crate::breaker::BreakerRefusal;
use crate::ratelimit::{LocalRateRefusal, VenueLimitKind, VenueRefusal};

/// The seed's eight validation rules (FR-OE-002), plus the request's own shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValidationRule {
    /// The request is well formed, has its client order id, and matches the instrument.
    Request,
    /// The venue's circuit breaker is not open (rule 8).
    CircuitBreaker,
    /// The price sits on the instrument's grid and bounds (rule 2).
    PricePrecision,
    /// The quantity sits on the instrument's grid and bounds (rule 3).
    QuantityPrecision,
    /// `price × quantity ≥ min_notional` (rule 1).
    MinNotional,
    /// The price is within the band around the mark price (rule 4).
    PriceBand,
    /// The resulting position stays within the maximum position size (rule 5).
    PositionLimit,
    /// The available balance covers the order's margin (rule 6).
    Margin,
    /// The order rate limits are not exceeded (rule 7).
    RateLimit,
}

impl ValidationRule {
    /// The rule's name, as it ends every message (`price_band`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::CircuitBreaker => "circuit_breaker",
            Self::PricePrecision => "price_precision",
            Self::QuantityPrecision => "quantity_precision",
            Self::MinNotional => "min_notional",
            Self::PriceBand => "price_band",
            Self::PositionLimit => "position_limit",
            Self::Margin => "margin",
            Self::RateLimit => "rate_limit",
        }
    }

    /// Which of the seed's rules an exchange filter belongs to.
    #[must_use]
    pub const fn of_filter(rule: Rule) -> Self {
        match rule {
            Rule::PriceRequired
            | Rule::MinPrice
            | Rule::MaxPrice
            | Rule::TickSize
            | Rule::PricePrecision => Self::PricePrecision,
            Rule::MinQty | Rule::MaxQty | Rule::StepSize | Rule::QtyPrecision => {
                Self::QuantityPrecision
            }
            Rule::MinNotional => Self::MinNotional,
            Rule::PercentPriceUp | Rule::PercentPriceDown => Self::PriceBand,
            Rule::MaxOpenOrders => Self::PositionLimit,
        }
    }
}

impl fmt::Display for ValidationRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the local price band is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BandReference {
    /// The mark price.
    Mark,
    /// A conditional order's trigger price.
    Trigger,
}

/// The facts of a refusal (one variant per code; see the module table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// `invalid_request`.
    InvalidRequest(OrderRequestError),
    /// `client_order_id_missing`.
    ClientOrderIdMissing,
    /// `symbol_mismatch`.
    SymbolMismatch {
        /// The order's symbol.
        request: String,
        /// The instrument's symbol.
        instrument: String,
    },
    /// `circuit_open`, `circuit_probe_in_flight`.
    CircuitBreaker(BreakerRefusal),
    /// An exchange filter; the code is the filter rule's.
    Filter {
        /// The broken filter rule, the field, the value and the limit.
        violation: RuleViolation,
        /// Decimal places prices are shown with.
        price_places: u32,
        /// Decimal places quantities are shown with.
        qty_places: u32,
    },
    /// `mark_price_unknown`.
    MarkPriceUnknown,
    /// `mark_price_stale`.
    MarkPriceStale {
        /// How old the mark price is.
        age: Duration,
        /// The oldest allowed.
        max_age: Duration,
    },
    /// `price_outside_band`.
    PriceOutsideBand {
        /// The order's limit price.
        price: Price,
        /// The price the band is around.
        reference: Price,
        /// Mark or trigger.
        reference_kind: BandReference,
        /// Above (true) or below the reference.
        above: bool,
        /// The deviation in hundredths of a percent.
        deviation_bp: u64,
        /// The band's half-width in percent.
        band_pct: Rate,
        /// Decimal places prices are shown with.
        places: u32,
    },
    /// `reduce_only_would_not_reduce`.
    ReduceOnlyWouldNotReduce {
        /// The order's side.
        side: Side,
        /// The order's quantity.
        qty: Qty,
        /// The position it acts on.
        position: Qty,
        /// Decimal places quantities are shown with.
        qty_places: u32,
    },
    /// `position_limit_exceeded`.
    PositionLimitExceeded {
        /// The order's side.
        side: Side,
        /// The order's quantity.
        qty: Qty,
        /// The position before.
        position: Qty,
        /// The position after a complete fill.
        resulting: Qty,
        /// The price it is valued at.
        price: Price,
        /// The resulting position's value.
        value: Money,
        /// `max_position_size_usdt`.
        limit: Money,
        /// Decimal places prices are shown with.
        price_places: u32,
        /// Decimal places quantities are shown with.
        qty_places: u32,
    },
    /// `leverage_invalid`.
    LeverageInvalid {
        /// The leverage found.
        leverage: u32,
    },
    /// `insufficient_margin`.
    InsufficientMargin {
        /// Initial margin plus fee.
        required: Money,
        /// The notional of the opening part.
        notional: Money,
        /// The leverage.
        leverage: u32,
        /// The estimated fee.
        fee: Money,
        /// The available balance.
        available: Money,
    },
    /// `amount_overflow`, in the rule where it arose.
    Overflow(ValidationRule),
    /// `order_rate_exceeded`.
    LocalRate(LocalRateRefusal),
    /// `venue_orders_10s_exhausted`, `venue_orders_1m_exhausted`, `venue_weight_1m_exhausted`,
    /// `venue_backoff`.
    VenueRate(VenueRefusal),
}

/// A refusal: its [`Reason`], from which the code, the rule and the message follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    reason: Reason,
}

impl Rejection {
    /// A rejection for `reason`.
    #[must_use]
    pub const fn new(reason: Reason) -> Self {
        Self { reason }
    }

    /// The facts.
    #[must_use]
    pub const fn reason(&self) -> &Reason {
        &self.reason
    }

    /// The rule that refused.
    #[must_use]
    pub const fn rule(&self) -> ValidationRule {
        match &self.reason {
            Reason::InvalidRequest(_)
            | Reason::ClientOrderIdMissing
            | Reason::SymbolMismatch { .. } => ValidationRule::Request,
            Reason::CircuitBreaker(_) => ValidationRule::CircuitBreaker,
            Reason::Filter { violation, .. } => ValidationRule::of_filter(violation.rule),
            Reason::MarkPriceUnknown
            | Reason::MarkPriceStale { .. }
            | Reason::PriceOutsideBand { .. } => ValidationRule::PriceBand,
            Reason::ReduceOnlyWouldNotReduce { .. } | Reason::PositionLimitExceeded { .. } => {
                ValidationRule::PositionLimit
            }
            Reason::LeverageInvalid { .. } | Reason::InsufficientMargin { .. } => {
                ValidationRule::Margin
            }
            Reason::Overflow(rule) => *rule,
            Reason::LocalRate(_) | Reason::VenueRate(_) => ValidationRule::RateLimit,
        }
    }

    /// The stable code (module table).
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match &self.reason {
            Reason::InvalidRequest(_) => "invalid_request",
            Reason::ClientOrderIdMissing => "client_order_id_missing",
            Reason::SymbolMismatch { .. } => "symbol_mismatch",
            Reason::CircuitBreaker(BreakerRefusal::Open { .. }) => "circuit_open",
            Reason::CircuitBreaker(BreakerRefusal::ProbeInFlight) => "circuit_probe_in_flight",
            Reason::Filter { violation, .. } => violation.rule.code(),
            Reason::MarkPriceUnknown => "mark_price_unknown",
            Reason::MarkPriceStale { .. } => "mark_price_stale",
            Reason::PriceOutsideBand { .. } => "price_outside_band",
            Reason::ReduceOnlyWouldNotReduce { .. } => "reduce_only_would_not_reduce",
            Reason::PositionLimitExceeded { .. } => "position_limit_exceeded",
            Reason::LeverageInvalid { .. } => "leverage_invalid",
            Reason::InsufficientMargin { .. } => "insufficient_margin",
            Reason::Overflow(_) => "amount_overflow",
            Reason::LocalRate(_) => "order_rate_exceeded",
            Reason::VenueRate(refusal) => match refusal.kind {
                VenueLimitKind::Orders10s => "venue_orders_10s_exhausted",
                VenueLimitKind::Orders1m => "venue_orders_1m_exhausted",
                VenueLimitKind::Weight1m => "venue_weight_1m_exhausted",
                VenueLimitKind::Backoff => "venue_backoff",
            },
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_reason(f, &self.reason)?;
        write!(f, " ({})", self.rule())
    }
}

impl std::error::Error for Rejection {}

/// A price or quantity shown with at least `places` decimals (more when it has more).
struct Shown<T>(T, u32);

impl fmt::Display for Shown<Price> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let places = self.1.max(self.0.decimal_places()) as usize;
        write!(f, "{:.places$}", self.0)
    }
}

impl fmt::Display for Shown<Qty> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let places = self.1.max(self.0.decimal_places()) as usize;
        write!(f, "{:.places$}", self.0)
    }
}

/// A filter value: prices and quantities at the instrument's precision, amounts at the
/// price precision (they are prices × quantities compared with prices' units in mind).
struct ShownValue(RuleValue, u32, u32);

impl fmt::Display for ShownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            RuleValue::Price(price) => Shown(price, self.1).fmt(f),
            RuleValue::Qty(qty) => Shown(qty, self.2).fmt(f),
            RuleValue::Money(money) => money.fmt(f),
            RuleValue::Count(count) => count.fmt(f),
            RuleValue::None => f.write_str("none"),
        }
    }
}

const fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn write_reason(f: &mut fmt::Formatter<'_>, reason: &Reason) -> fmt::Result {
    match reason {
        Reason::InvalidRequest(error) => write!(f, "invalid order request: {error}"),
        Reason::ClientOrderIdMissing => {
            f.write_str("order has no client order id; intake assigns one before validation")
        }
        Reason::SymbolMismatch {
            request,
            instrument,
        } => write!(
            f,
            "order is for {request} but the trading rules given are for {instrument}"
        ),
        Reason::CircuitBreaker(refusal) => fmt::Display::fmt(refusal, f),
        Reason::Filter {
            violation,
            price_places,
            qty_places,
        } => write_filter(f, violation, *price_places, *qty_places),
        Reason::MarkPriceUnknown => f.write_str(
            "no mark price known; the price band, position value and margin cannot be checked",
        ),
        Reason::MarkPriceStale { age, max_age } => write!(
            f,
            "mark price is {age:?} old, older than max_market_data_staleness_ms {}",
            max_age.as_millis()
        ),
        Reason::PriceOutsideBand {
            price,
            reference,
            reference_kind,
            above,
            deviation_bp,
            band_pct,
            places,
        } => write!(
            f,
            "price {} is {}.{:02}% {} {} {}; band is ±{band_pct}%",
            Shown(*price, *places),
            deviation_bp / 100,
            deviation_bp % 100,
            if *above { "above" } else { "below" },
            match reference_kind {
                BandReference::Mark => "mark",
                BandReference::Trigger => "trigger price",
            },
            Shown(*reference, *places),
        ),
        Reason::ReduceOnlyWouldNotReduce {
            side,
            qty,
            position,
            qty_places,
        } => write!(
            f,
            "reduce-only {} {} cannot reduce position {}: there is no opposite position",
            side_name(*side),
            Shown(*qty, *qty_places),
            Shown(*position, *qty_places),
        ),
        Reason::PositionLimitExceeded {
            side,
            qty,
            position,
            resulting,
            price,
            value,
            limit,
            price_places,
            qty_places,
        } => write!(
            f,
            "{} {} would take position {} to {}, worth {value} at {}, above max_position_size_usdt {limit}",
            side_name(*side),
            Shown(*qty, *qty_places),
            Shown(*position, *qty_places),
            Shown(*resulting, *qty_places),
            Shown(*price, *price_places),
        ),
        Reason::LeverageInvalid { leverage } => {
            write!(
                f,
                "leverage {leverage} is not a usable leverage (1 or more)"
            )
        }
        Reason::InsufficientMargin {
            required,
            notional,
            leverage,
            fee,
            available,
        } => write!(
            f,
            "initial margin {required} (notional {notional} / leverage {leverage} + estimated fee {fee}) exceeds available balance {available}"
        ),
        Reason::Overflow(rule) => {
            write!(
                f,
                "amounts too large for exact arithmetic in the {rule} check"
            )
        }
        Reason::LocalRate(refusal) => fmt::Display::fmt(refusal, f),
        Reason::VenueRate(refusal) => fmt::Display::fmt(refusal, f),
    }
}

fn write_filter(
    f: &mut fmt::Formatter<'_>,
    violation: &RuleViolation,
    price_places: u32,
    qty_places: u32,
) -> fmt::Result {
    let found = ShownValue(violation.found, price_places, qty_places);
    let limit = ShownValue(violation.limit, price_places, qty_places);
    let field = violation.field;
    let filter = violation.rule.filter();
    match violation.rule {
        Rule::PriceRequired => {
            return write!(f, "{field} is required for a limit-priced order ({filter})");
        }
        Rule::PricePrecision | Rule::QtyPrecision => {
            return write!(
                f,
                "{field} {found} has more than {limit} decimal places ({filter})"
            );
        }
        Rule::MaxOpenOrders => {
            return write!(
                f,
                "{found} orders already open, the maximum is {limit} ({filter})"
            );
        }
        _ => {}
    }
    let what = match violation.rule {
        Rule::MinPrice => "is below the minimum price",
        Rule::MaxPrice => "is above the maximum price",
        Rule::TickSize => "is not a multiple of the tick size",
        Rule::MinQty => "is below the minimum quantity",
        Rule::MaxQty => "is above the maximum quantity",
        Rule::StepSize => "is not a multiple of the step size",
        Rule::MinNotional => "is below the minimum notional",
        Rule::PercentPriceUp => "is above the venue's band around the mark price, limit",
        _ => "is below the venue's band around the mark price, limit",
    };
    write!(f, "{field} {found} {what} {limit} ({filter})")
}
