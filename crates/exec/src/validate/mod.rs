//! Pre-trade validation (seed 000 FR-OE-002): every order passes eight rules before it may be
//! sent, and an order that passed is an [`Approved`] value — the only thing submission accepts,
//! so an unchecked order cannot reach the venue by construction.
//!
//! # The checks, in this fixed order (the first failure is reported)
//!
//! 1. **request** — the request is well formed for its type ([`OrderRequest::check_shape`]),
//!    carries its client order id (intake assigns it first), and is for the instrument given.
//! 2. **circuit_breaker** — the venue's breaker lets a request through (when it is open
//!    nothing else matters, and saying so is the useful answer).
//! 3. **exchange filters** — [`Instrument::validate`], in [`Rule::ALL`] order: price
//!    required, bounds, tick and precision (*price_precision*); quantity bounds, step and
//!    precision (*quantity_precision*); notional (*min_notional*); `PERCENT_PRICE`
//!    (*price_band*); open-order cap (*position_limit*). The band and a market order's
//!    notional are taken against the mark price — against the trigger price for conditional
//!    orders, which meet the book only once the market is there.
//! 4. **price_band** — a fresh mark price is known (no older than
//!    `risk.max_market_data_staleness_ms`), and a limit price lies within ±band of it
//!    (default ±10 %, the seed's example); conditional limit orders are held to the band
//!    around their trigger price instead.
//! 5. **position_limit** — reduce-only and hedge-mode closing orders must face a position to
//!    reduce; any other order may not take the position's value (at the order's price) past
//!    `risk.max_position_size_usdt` — unless it shrinks the position, which is always allowed.
//! 6. **margin** — initial margin of the part of the order that opens exposure
//!    (`notional / leverage`, rounded up) plus the estimated fee on the whole order (`notional ×
//!    fee rate`, rounded up) is at most the available balance. Exact fixed-point; equality
//!    passes. Orders that only reduce need no margin.
//! 7. **rate_limit** — our `max_orders_per_second` (never more than N in any second), then the
//!    venue's order-count and weight windows as its headers report them ([`crate::ratelimit`]).
//!
//! Checks 1–7 look and do not touch. Only when all pass does [`Validator::validate`] commit:
//! it takes the rate-limit slot, counts the order against the venue's windows (in flight), and
//! takes the breaker's permit (making the order the half-open probe when it is one). A refused
//! order therefore costs nothing.
//!
//! # Codes
//!
//! Every refusal carries a stable code, the rule it belongs to, and a message naming the rule,
//! the values and the limit, e.g. `price 70500.00 is 12.35% above mark 62750.00; band is
//! ±10% (price_band)`.
//!
//! | code | rule | meaning |
//! |---|---|---|
//! | `invalid_request` | request | malformed for its type (missing or forbidden field, non-positive value, bad symbol or client order id) |
//! | `client_order_id_missing` | request | no client order id assigned before validation |
//! | `symbol_mismatch` | request | the instrument given is not the order's symbol |
//! | `circuit_open` | circuit_breaker | the venue breaker is open |
//! | `circuit_probe_in_flight` | circuit_breaker | half-open and its one probe order is in flight |
//! | `price_required` | price_precision | a limit-priced order without a price (`PRICE_FILTER`) |
//! | `price_below_min` | price_precision | price or stop price below `minPrice` or not positive |
//! | `price_above_max` | price_precision | price or stop price above `maxPrice` |
//! | `price_off_tick` | price_precision | price or stop price not on the `tickSize` grid |
//! | `price_precision` | price_precision | more decimals than `pricePrecision` |
//! | `qty_below_min` | quantity_precision | quantity below `LOT_SIZE.minQty` |
//! | `qty_above_max` | quantity_precision | quantity above `LOT_SIZE.maxQty` (`MARKET_LOT_SIZE` for market orders) |
//! | `qty_off_step` | quantity_precision | quantity not on the `stepSize` grid |
//! | `qty_precision` | quantity_precision | more decimals than `quantityPrecision` |
//! | `notional_below_min` | min_notional | `price × quantity` below `MIN_NOTIONAL` (reduce-only exempt) |
//! | `price_above_band` | price_band | a buy above mark × `PERCENT_PRICE.multiplierUp` |
//! | `price_below_band` | price_band | a sell below mark × `PERCENT_PRICE.multiplierDown` |
//! | `mark_price_unknown` | price_band | no mark price for the symbol |
//! | `mark_price_stale` | price_band | the mark price is older than `max_market_data_staleness_ms` |
//! | `price_outside_band` | price_band | limit price more than ±band from the mark (or trigger) price |
//! | `too_many_open_orders` | position_limit | the symbol already has `MAX_NUM_ORDERS` open orders |
//! | `reduce_only_would_not_reduce` | position_limit | reduce-only or closing order with no opposite position to reduce |
//! | `position_limit_exceeded` | position_limit | the resulting position would be worth more than `max_position_size_usdt` |
//! | `leverage_invalid` | margin | the symbol's leverage is zero |
//! | `insufficient_margin` | margin | initial margin plus estimated fee exceeds the available balance |
//! | `amount_overflow` | (where it arose) | an amount does not fit exact arithmetic (absurd inputs) |
//! | `order_rate_exceeded` | rate_limit | `max_orders_per_second` orders already sent in the last second |
//! | `venue_orders_10s_exhausted` | rate_limit | the venue's order count per 10 s is (nearly) spent |
//! | `venue_orders_1m_exhausted` | rate_limit | the venue's order count per minute is (nearly) spent |
//! | `venue_weight_1m_exhausted` | rate_limit | the IP's request weight per minute is (nearly) spent |
//! | `venue_backoff` | rate_limit | the venue answered 429/418 and its back-off has not passed |

mod rejection;

pub use rejection::{BandReference, Reason, Rejection, ValidationRule};

use std::ops::Deref;
use std::time::Duration;

use kestrel_model::config::{ExecutionConfig, RiskConfig};
use kestrel_model::instrument::{OrderCheck, Rule};
use kestrel_model::money::FIXED_ONE;
use kestrel_model::order::PositionSide;
use kestrel_model::{Instrument, Money, OrderRequest, Price, Qty, Rate, RoundingMode, Side};
use serde::{Deserialize, Serialize};

use crate::breaker::{BreakerConfig, CircuitBreaker};
use crate::clock::Nanos;
use crate::ratelimit::{Cost, OrderRateLimiter, VenueCounters, VenueLimits};

/// The price band around the mark price when the config names none (seed FR-OE-002: ±10 %).
pub const DEFAULT_PRICE_BAND_PCT: Rate = Rate::from_raw(10 * FIXED_ONE);

/// The limits the local rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Half-width of the band around the mark price, in percent (`10` is ±10 %).
    pub price_band_pct: Rate,
    /// The most a position in one symbol may be worth (`risk.max_position_size_usdt`).
    pub max_position_usdt: Money,
    /// The oldest a mark price may be (`risk.max_market_data_staleness_ms`).
    pub max_mark_age: Duration,
}

impl Limits {
    /// From the `[risk]` section, with [`DEFAULT_PRICE_BAND_PCT`] (the config has no key for
    /// the band yet).
    #[must_use]
    pub const fn from_config(risk: &RiskConfig) -> Self {
        Self {
            price_band_pct: DEFAULT_PRICE_BAND_PCT,
            max_position_usdt: risk.max_position_size_usdt,
            max_mark_age: Duration::from_millis(risk.max_market_data_staleness_ms),
        }
    }
}

/// What the market says about the order's symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketView {
    /// The latest mark price, if any has been received.
    pub mark_price: Option<Price>,
    /// When it was received.
    pub mark_at: Nanos,
}

/// What the account holds, for the order's symbol and margin asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountView {
    /// The signed position the order acts on: the net position in one-way mode; the leg of
    /// the order's `position_side` in hedge mode (long ≥ 0, short ≤ 0).
    pub position_qty: Qty,
    /// Orders open on the symbol.
    pub open_orders: u32,
    /// Balance available for new margin in the margin asset (after existing positions' and
    /// open orders' margin).
    pub available_balance: Money,
    /// The symbol's leverage (Binance: 1 to 125).
    pub leverage: u32,
    /// The fee rate used to estimate the order's fee (the taker rate, a plain fraction).
    pub fee_rate: Rate,
}

/// Everything validation reads besides the request and the validator's own state.
#[derive(Debug, Clone, Copy)]
pub struct OrderContext<'a> {
    /// The symbol's exchange rules.
    pub instrument: &'a Instrument,
    /// The market.
    pub market: MarketView,
    /// The account.
    pub account: AccountView,
}

/// A value that passed validation. It can only be made by [`Validator::validate`], is not
/// `Clone` (it holds one rate-limit slot and possibly the breaker's probe permit), and gives
/// read access to what it wraps.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "an approval holds a rate-limit slot; submit the order or drop it deliberately"]
pub struct Approved<T> {
    inner: T,
    approved_at: Nanos,
    probe: bool,
}

impl<T> Approved<T> {
    /// The approved value.
    #[must_use]
    pub const fn get(&self) -> &T {
        &self.inner
    }

    /// The approved value, giving up the approval.
    #[must_use]
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// When it was approved.
    #[must_use]
    pub const fn approved_at(&self) -> Nanos {
        self.approved_at
    }

    /// Whether this order is the half-open circuit breaker's probe: its outcome decides
    /// whether the breaker closes.
    #[must_use]
    pub const fn is_probe(&self) -> bool {
        self.probe
    }
}

impl Approved<OrderRequest> {
    /// The client order id the order will be sent with.
    #[must_use]
    pub fn client_order_id(&self) -> &str {
        self.inner.client_order_id.as_deref().unwrap_or_default()
    }
}

impl<T> Deref for Approved<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

/// A value that failed validation, handed back with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused<T> {
    /// The refused value, unchanged.
    pub request: T,
    /// Why.
    pub rejection: Rejection,
}

/// The seed's `ValidationResult` (FR-OE-002): `order_id` when valid, `error_code` and
/// `error_message` when not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationResult {
    /// Whether the order passed every rule.
    pub valid: bool,
    /// The client order id the order will be sent with (when valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The stable code of the failed check (when invalid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// What failed, with the values and the limit, ending with the rule's name (when invalid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl ValidationResult {
    /// The result of a validation.
    #[must_use]
    pub fn of(result: &Result<Approved<OrderRequest>, Refused<OrderRequest>>) -> Self {
        match result {
            Ok(approved) => Self::approved(approved.client_order_id()),
            Err(refused) => Self::refused(&refused.rejection),
        }
    }

    /// A pass for the order with this client order id.
    #[must_use]
    pub fn approved(order_id: &str) -> Self {
        Self {
            valid: true,
            order_id: Some(order_id.to_owned()),
            error_code: None,
            error_message: None,
        }
    }

    /// A failure.
    #[must_use]
    pub fn refused(rejection: &Rejection) -> Self {
        Self {
            valid: false,
            order_id: None,
            error_code: Some(rejection.code().to_owned()),
            error_message: Some(rejection.to_string()),
        }
    }
}

/// Every refusal code with its rule, in the order of the table in the module docs.
#[must_use]
pub fn codes() -> Vec<(&'static str, ValidationRule)> {
    let mut all = vec![
        ("invalid_request", ValidationRule::Request),
        ("client_order_id_missing", ValidationRule::Request),
        ("symbol_mismatch", ValidationRule::Request),
        ("circuit_open", ValidationRule::CircuitBreaker),
        ("circuit_probe_in_flight", ValidationRule::CircuitBreaker),
    ];
    all.extend(
        Rule::ALL
            .iter()
            .map(|rule| (rule.code(), ValidationRule::of_filter(*rule))),
    );
    all.extend([
        ("mark_price_unknown", ValidationRule::PriceBand),
        ("mark_price_stale", ValidationRule::PriceBand),
        ("price_outside_band", ValidationRule::PriceBand),
        (
            "reduce_only_would_not_reduce",
            ValidationRule::PositionLimit,
        ),
        ("position_limit_exceeded", ValidationRule::PositionLimit),
        ("leverage_invalid", ValidationRule::Margin),
        ("insufficient_margin", ValidationRule::Margin),
        ("amount_overflow", ValidationRule::Request),
        ("order_rate_exceeded", ValidationRule::RateLimit),
        ("venue_orders_10s_exhausted", ValidationRule::RateLimit),
        ("venue_orders_1m_exhausted", ValidationRule::RateLimit),
        ("venue_weight_1m_exhausted", ValidationRule::RateLimit),
        ("venue_backoff", ValidationRule::RateLimit),
    ]);
    all
}

/// What the position rule learned, for the margin rule.
#[derive(Debug, Clone, Copy)]
struct Exposure {
    /// The price the order is valued at.
    price: Price,
    /// The part of the quantity that opens or grows exposure.
    opening: Qty,
}

/// The pre-trade validator: the local limits plus the stateful gates (breaker, local rate
/// limiter, venue counters) that the execution engine also feeds with outcomes.
#[derive(Debug, Clone)]
pub struct Validator {
    limits: Limits,
    breaker: CircuitBreaker,
    local_rate: OrderRateLimiter,
    venue: VenueCounters,
}

impl Validator {
    /// A validator from its parts.
    #[must_use]
    pub const fn new(
        limits: Limits,
        breaker: CircuitBreaker,
        local_rate: OrderRateLimiter,
        venue: VenueCounters,
    ) -> Self {
        Self {
            limits,
            breaker,
            local_rate,
            venue,
        }
    }

    /// A validator from the `[execution]` and `[risk]` sections and the venue's limits.
    #[must_use]
    pub fn from_config(execution: &ExecutionConfig, risk: &RiskConfig, venue: VenueLimits) -> Self {
        Self::new(
            Limits::from_config(risk),
            CircuitBreaker::new(BreakerConfig::from_config(execution)),
            OrderRateLimiter::per_second(execution.max_orders_per_second),
            VenueCounters::new(venue),
        )
    }

    /// The local limits.
    #[must_use]
    pub const fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The venue circuit breaker.
    #[must_use]
    pub const fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// The venue circuit breaker, to record request outcomes.
    pub const fn breaker_mut(&mut self) -> &mut CircuitBreaker {
        &mut self.breaker
    }

    /// The venue's rate-limit counters.
    #[must_use]
    pub const fn venue(&self) -> &VenueCounters {
        &self.venue
    }

    /// The venue's rate-limit counters, to record answers and 429s.
    pub const fn venue_mut(&mut self) -> &mut VenueCounters {
        &mut self.venue
    }

    /// Validates `request` at `now`; on success commits its rate-limit slot, venue count and
    /// breaker permit and returns the approval (module docs).
    ///
    /// # Errors
    /// [`Refused`] with the request and the first failed check; nothing is committed.
    #[expect(
        clippy::result_large_err,
        reason = "both arms carry the request by value; boxing would allocate per refusal"
    )]
    pub fn validate(
        &mut self,
        request: OrderRequest,
        ctx: &OrderContext<'_>,
        now: Nanos,
    ) -> Result<Approved<OrderRequest>, Refused<OrderRequest>> {
        if let Err(rejection) = self.check(&request, ctx, now) {
            return Err(Refused { request, rejection });
        }
        // The checks just passed at this same instant, so these cannot refuse; if they ever
        // did, the order is refused rather than sent.
        let permit = match self.breaker.try_acquire(now) {
            Ok(permit) => permit,
            Err(refusal) => {
                return Err(Refused {
                    request,
                    rejection: Rejection::new(Reason::CircuitBreaker(refusal)),
                });
            }
        };
        if let Err(refusal) = self.local_rate.try_admit(now) {
            return Err(Refused {
                request,
                rejection: Rejection::new(Reason::LocalRate(refusal)),
            });
        }
        self.venue.on_sent(Cost::ORDER);
        Ok(Approved {
            inner: request,
            approved_at: now,
            probe: permit.probe,
        })
    }

    /// Runs every check at `now` without committing anything (a dry run).
    ///
    /// # Errors
    /// The first failed check's [`Rejection`].
    pub fn check(
        &self,
        request: &OrderRequest,
        ctx: &OrderContext<'_>,
        now: Nanos,
    ) -> Result<(), Rejection> {
        check_request(request, ctx.instrument)?;
        if let Err(refusal) = self.breaker.check(now) {
            return Err(Rejection::new(Reason::CircuitBreaker(refusal)));
        }
        let mark = self.fresh_mark(ctx.market, now);
        check_filters(request, ctx, mark.as_ref().ok().copied())?;
        let mark = mark?;
        self.check_band(request, ctx.instrument, mark)?;
        let exposure = self.check_position(request, ctx, mark)?;
        check_margin(request, &ctx.account, exposure)?;
        self.local_rate
            .check(now)
            .map_err(|refusal| Rejection::new(Reason::LocalRate(refusal)))?;
        self.venue
            .check(Cost::ORDER, now)
            .map_err(|refusal| Rejection::new(Reason::VenueRate(refusal)))
    }

    /// The mark price if known, positive and fresh.
    fn fresh_mark(&self, market: MarketView, now: Nanos) -> Result<Price, Rejection> {
        let Some(mark) = market.mark_price.filter(|mark| mark.is_positive()) else {
            return Err(Rejection::new(Reason::MarkPriceUnknown));
        };
        let age = now.saturating_since(market.mark_at);
        if age > self.limits.max_mark_age {
            return Err(Rejection::new(Reason::MarkPriceStale {
                age,
                max_age: self.limits.max_mark_age,
            }));
        }
        Ok(mark)
    }

    /// The local band: a limit price within ±band of the mark (of the trigger price for
    /// conditional orders).
    fn check_band(
        &self,
        request: &OrderRequest,
        instrument: &Instrument,
        mark: Price,
    ) -> Result<(), Rejection> {
        let Some(price) = request.price else {
            return Ok(());
        };
        let (reference, kind) = match request.stop_price {
            Some(stop) if request.order_type.is_conditional() => (stop, BandReference::Trigger),
            _ => (mark, BandReference::Mark),
        };
        let diff = i128::from(price.raw()) - i128::from(reference.raw());
        let reference_raw = i128::from(reference.raw());
        // Outside when |diff| / reference > band / 100, compared exactly as integers:
        // |diff| × 100 × 10⁸ > reference × band_raw.
        let overflow = || Rejection::new(Reason::Overflow(ValidationRule::PriceBand));
        let lhs = diff
            .unsigned_abs()
            .checked_mul(100 * FIXED_ONE as u128)
            .ok_or_else(overflow)?;
        let rhs = reference_raw
            .checked_mul(i128::from(self.limits.price_band_pct.raw()))
            .ok_or_else(overflow)?;
        if lhs as i128 <= rhs {
            return Ok(());
        }
        // Deviation in hundredths of a percent, rounded half up, for the message.
        let deviation_bp =
            (diff.unsigned_abs() * 20_000 / reference_raw.unsigned_abs()).div_ceil(2);
        Err(Rejection::new(Reason::PriceOutsideBand {
            price,
            reference,
            reference_kind: kind,
            above: diff > 0,
            deviation_bp: u64::try_from(deviation_bp).unwrap_or(u64::MAX),
            band_pct: self.limits.price_band_pct,
            places: instrument.price_precision,
        }))
    }

    /// The position rule (module docs), returning what the margin rule needs.
    fn check_position(
        &self,
        request: &OrderRequest,
        ctx: &OrderContext<'_>,
        mark: Price,
    ) -> Result<Exposure, Rejection> {
        let price = valuation_price(request, mark);
        if request.close_position {
            return Ok(Exposure {
                price,
                opening: Qty::ZERO,
            });
        }
        let position = ctx.account.position_qty;
        let qty = request.quantity;
        let opposite = match request.side {
            Side::Buy => position.is_negative(),
            Side::Sell => position.is_positive(),
        };
        let closing = match request.position_side {
            PositionSide::Both => request.reduce_only,
            PositionSide::Long => request.side == Side::Sell,
            PositionSide::Short => request.side == Side::Buy,
        };
        let places = (
            ctx.instrument.price_precision,
            ctx.instrument.quantity_precision,
        );
        if closing {
            // A conditional closing order may be placed ahead of the position it protects;
            // the venue checks it when it triggers.
            if !opposite && !request.order_type.is_conditional() {
                return Err(Rejection::new(Reason::ReduceOnlyWouldNotReduce {
                    side: request.side,
                    qty,
                    position,
                    qty_places: places.1,
                }));
            }
            return Ok(Exposure {
                price,
                opening: Qty::ZERO,
            });
        }
        let overflow = || Rejection::new(Reason::Overflow(ValidationRule::PositionLimit));
        let signed = match request.side {
            Side::Buy => qty,
            Side::Sell => qty.neg(),
        };
        let resulting = position.try_add(signed).map_err(|_| overflow())?;
        let closable = if opposite {
            qty.min(position.abs())
        } else {
            Qty::ZERO
        };
        let opening = qty.try_sub(closable).map_err(|_| overflow())?;
        if resulting.abs() > position.abs() {
            let value = price.notional(resulting.abs());
            if value > self.limits.max_position_usdt {
                return Err(Rejection::new(Reason::PositionLimitExceeded {
                    side: request.side,
                    qty,
                    position,
                    resulting,
                    price,
                    value,
                    limit: self.limits.max_position_usdt,
                    price_places: places.0,
                    qty_places: places.1,
                }));
            }
        }
        Ok(Exposure { price, opening })
    }
}

/// Check 1: shape, client order id, symbol.
fn check_request(request: &OrderRequest, instrument: &Instrument) -> Result<(), Rejection> {
    request
        .check_shape()
        .map_err(|error| Rejection::new(Reason::InvalidRequest(error)))?;
    if request.client_order_id.is_none() {
        return Err(Rejection::new(Reason::ClientOrderIdMissing));
    }
    if request.symbol != instrument.symbol {
        return Err(Rejection::new(Reason::SymbolMismatch {
            request: request.symbol.clone(),
            instrument: instrument.symbol.clone(),
        }));
    }
    Ok(())
}

/// Check 3: the instrument's exchange filters, against the trigger price for conditional
/// orders and the (fresh) mark otherwise.
fn check_filters(
    request: &OrderRequest,
    ctx: &OrderContext<'_>,
    mark: Option<Price>,
) -> Result<(), Rejection> {
    let reference = if request.order_type.is_conditional() {
        request.stop_price.or(request.activation_price).or(mark)
    } else {
        mark
    };
    let check = OrderCheck::from_request(request, reference, ctx.account.open_orders);
    ctx.instrument.validate(&check).map_err(|violation| {
        Rejection::new(Reason::Filter {
            violation,
            price_places: ctx.instrument.price_precision,
            qty_places: ctx.instrument.quantity_precision,
        })
    })
}

/// Check 6: initial margin of the opening part plus the fee estimate against the balance.
fn check_margin(
    request: &OrderRequest,
    account: &AccountView,
    exposure: Exposure,
) -> Result<(), Rejection> {
    if !exposure.opening.is_positive() {
        return Ok(());
    }
    if account.leverage == 0 {
        return Err(Rejection::new(Reason::LeverageInvalid {
            leverage: account.leverage,
        }));
    }
    let overflow = || Rejection::new(Reason::Overflow(ValidationRule::Margin));
    let notional = exposure.price.notional(exposure.opening);
    // Money raw is exact to 10⁻¹⁶ and non-negative here; round the division up so the
    // estimate never falls short of what the venue will lock.
    let initial = u128::try_from(notional.raw())
        .ok()
        .map(|raw| raw.div_ceil(u128::from(account.leverage)))
        .and_then(|raw| i128::try_from(raw).ok())
        .map(Money::from_raw)
        .ok_or_else(overflow)?;
    let fee = exposure
        .price
        .notional(request.quantity)
        .try_mul_rate(account.fee_rate, RoundingMode::Ceil)
        .map_err(|_| overflow())?
        .max(Money::ZERO);
    let required = initial.try_add(fee).map_err(|_| overflow())?;
    if required > account.available_balance {
        return Err(Rejection::new(Reason::InsufficientMargin {
            required,
            notional,
            leverage: account.leverage,
            fee,
            available: account.available_balance,
        }));
    }
    Ok(())
}

/// The price an order is valued at: its limit price, else its trigger price, else the mark.
fn valuation_price(request: &OrderRequest, mark: Price) -> Price {
    request
        .price
        .or(request.stop_price)
        .or(request.activation_price)
        .unwrap_or(mark)
}

#[cfg(test)]
mod tests;
