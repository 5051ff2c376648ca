//! The pre-trade checks (seed 000 FR-SE-005, seed 001 REQ-RISK-001/003), one function per
//! rule, run in the order of [`CHECKS`] (the order of [`RiskRule::ALL`]).
//!
//! The table of rules, what each refuses and which spare reductions is in the crate docs.

use std::fmt;

use kestrel_model::OrderRequest;
use kestrel_model::config::RiskConfig;

use crate::breakers::{Breakers, Trip};
use crate::day::DayLedger;
use crate::frequency::{OrderWindow, request_key};
use crate::impact::{Impact, Unvalued, Valuation};
use crate::kill::KillSwitch;
use crate::ratio::{self, PERCENT, TIMES};
use crate::refusal::{Measure, Refusal};
use crate::rule::RiskRule;
use crate::state::{Portfolio, SymbolState};

/// Everything the checks read besides the order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub config: &'a RiskConfig,
    pub portfolio: &'a Portfolio,
    pub breakers: &'a Breakers,
    pub kill: &'a KillSwitch,
    pub day: &'a DayLedger,
    pub window: &'a OrderWindow,
    pub now_ms: u64,
}

/// The order with what it would do, computed once.
struct Proposal<'a> {
    order: &'a OrderRequest,
    symbol: Option<&'a SymbolState>,
    impact: Impact,
    valuation: Result<Valuation, Unvalued>,
}

/// A check: the refusal, if the order fails it.
type Check = fn(&View<'_>, &Proposal<'_>) -> Option<Refusal>;

/// The checks in order, each under the rule it enforces.
const CHECKS: [(RiskRule, Check); 15] = [
    (RiskRule::InvalidQuantity, invalid_quantity),
    (RiskRule::KillSwitch, kill_switch),
    (RiskRule::ConsecutiveLosses, consecutive_losses),
    (RiskRule::WindowDrawdown, window_drawdown),
    (RiskRule::VenueLatency, venue_latency),
    (RiskRule::StaleMarketData, stale_market_data),
    (RiskRule::DailyLoss, daily_loss),
    (RiskRule::DailyDrawdown, daily_drawdown),
    (RiskRule::NoPrice, valued),
    (RiskRule::OrderNotional, order_notional),
    (RiskRule::PositionSize, position_size),
    (RiskRule::PositionsPerSymbol, positions_per_symbol),
    (RiskRule::TotalExposure, total_exposure),
    (RiskRule::Leverage, leverage),
    (RiskRule::OrderFrequency, order_frequency),
];

/// Runs the checks in order, handing each refusal to `refused`, which says whether to go on.
pub(crate) fn evaluate(
    view: &View<'_>,
    order: &OrderRequest,
    refused: &mut dyn FnMut(Refusal) -> bool,
) {
    let symbol = view.portfolio.symbol(&order.symbol);
    let Ok(impact) = Impact::of(order, symbol) else {
        refused(out_of_range(order));
        return;
    };
    let valuation = Valuation::of(order, &impact, symbol, view.portfolio.exposure());
    let proposal = Proposal {
        order,
        symbol,
        impact,
        valuation,
    };
    for (rule, check) in CHECKS {
        if impact.reduces && rule.spares_reductions() {
            continue;
        }
        if let Some(refusal) = check(view, &proposal)
            && !refused(refusal)
        {
            return;
        }
    }
}

fn refuse(
    rule: RiskRule,
    observed: Measure,
    limit: Measure,
    what: fmt::Arguments<'_>,
) -> Option<Refusal> {
    Some(Refusal::new(rule, observed, limit, what))
}

fn out_of_range(order: &OrderRequest) -> Refusal {
    Refusal::new(
        RiskRule::OutOfRange,
        Measure::Qty(order.quantity),
        Measure::None,
        format_args!(
            "{} order of {} {} cannot be evaluated exactly: an amount is out of range",
            order.symbol,
            order.quantity,
            order.side.binance_name()
        ),
    )
}

fn invalid_quantity(_: &View<'_>, p: &Proposal<'_>) -> Option<Refusal> {
    let qty = p.order.quantity;
    if p.order.close_position || qty.is_positive() {
        return None;
    }
    refuse(
        RiskRule::InvalidQuantity,
        Measure::Qty(qty),
        Measure::None,
        format_args!(
            "{} order quantity {qty} must be greater than zero",
            p.order.symbol
        ),
    )
}

fn kill_switch(v: &View<'_>, p: &Proposal<'_>) -> Option<Refusal> {
    if !v.kill.is_engaged() || p.impact.flagged_reducing {
        return None;
    }
    refuse(
        RiskRule::KillSwitch,
        Measure::None,
        Measure::None,
        format_args!(
            "trading is halted by the kill switch ({}); only reduce-only or closing orders are accepted",
            v.kill.reason().unwrap_or("no reason given")
        ),
    )
}

/// A tripped breaker refuses with its reason and how it resets.
fn paused(rule: RiskRule, trip: Option<&Trip>, resets: &str) -> Option<Refusal> {
    let trip = trip?;
    refuse(
        rule,
        Measure::None,
        Measure::None,
        format_args!(
            "trading paused since {} ms: {}; orders that open or grow positions are refused {resets}",
            trip.since_ms, trip.reason
        ),
    )
}

fn consecutive_losses(v: &View<'_>, _: &Proposal<'_>) -> Option<Refusal> {
    let resets = "until an operator resets the breaker";
    paused(
        RiskRule::ConsecutiveLosses,
        v.breakers.losses.as_ref(),
        resets,
    )
}

fn window_drawdown(v: &View<'_>, _: &Proposal<'_>) -> Option<Refusal> {
    let resets = "until an operator resets the breaker";
    paused(
        RiskRule::WindowDrawdown,
        v.breakers.drawdown.as_ref(),
        resets,
    )
}

fn venue_latency(v: &View<'_>, _: &Proposal<'_>) -> Option<Refusal> {
    let resets = "until venue round trips are back within the limit";
    paused(RiskRule::VenueLatency, v.breakers.latency.as_ref(), resets)
}

fn stale_market_data(v: &View<'_>, p: &Proposal<'_>) -> Option<Refusal> {
    let max = v.config.max_market_data_staleness_ms;
    let limit = Measure::Millis(max);
    let symbol = &p.order.symbol;
    match p.symbol.and_then(|s| s.data_age_ms(v.now_ms)) {
        Some(age) if age <= max => None,
        Some(age) => refuse(
            RiskRule::StaleMarketData,
            Measure::Millis(age),
            limit,
            format_args!(
                "{symbol} market data is {age} ms old; the limit is max_market_data_staleness_ms {max} ms"
            ),
        ),
        None => refuse(
            RiskRule::StaleMarketData,
            Measure::None,
            limit,
            format_args!("no market data has been received for {symbol}"),
        ),
    }
}

fn daily_loss(v: &View<'_>, _: &Proposal<'_>) -> Option<Refusal> {
    let equity = v.portfolio.equity();
    let open = v.day.open_equity(v.now_ms, equity);
    let loss = open.try_sub(equity).unwrap_or(kestrel_model::Money::MAX);
    let max = v.config.max_daily_loss_usdt;
    if !loss.is_positive() || loss < max {
        return None;
    }
    refuse(
        RiskRule::DailyLoss,
        Measure::Usdt(loss),
        Measure::Usdt(max),
        format_args!(
            "loss since UTC midnight is {loss:.2} USDT (equity {equity:.2} from {open:.2} at the open); the limit is max_daily_loss_usdt {max:.2} USDT"
        ),
    )
}

fn daily_drawdown(v: &View<'_>, _: &Proposal<'_>) -> Option<Refusal> {
    let equity = v.portfolio.equity();
    let open = v.day.open_equity(v.now_ms, equity);
    let max = v.config.max_daily_drawdown_pct;
    let Ok(fall) = open.try_sub(equity) else {
        return None;
    };
    let reached = ratio::compare(fall, open, PERCENT, max).is_some_and(|o| o.is_ge());
    if !fall.is_positive() || !reached {
        return None;
    }
    let pct = ratio::ratio(fall, open, PERCENT).unwrap_or(max);
    refuse(
        RiskRule::DailyDrawdown,
        Measure::Percent(pct),
        Measure::Percent(max),
        format_args!(
            "equity {equity:.2} USDT is {pct:.2}% below the day's opening {open:.2} USDT; the limit is max_daily_drawdown_pct {max}%"
        ),
    )
}

fn valued(_: &View<'_>, p: &Proposal<'_>) -> Option<Refusal> {
    match p.valuation {
        Ok(_) => None,
        Err(Unvalued::OutOfRange) => Some(out_of_range(p.order)),
        Err(Unvalued::NoPrice) => refuse(
            RiskRule::NoPrice,
            Measure::None,
            Measure::None,
            format_args!(
                "{} {} order has no price and no mark price is known for the symbol, so its value cannot be checked",
                p.order.symbol,
                p.order.order_type.binance_name()
            ),
        ),
    }
}

fn order_notional(v: &View<'_>, p: &Proposal<'_>) -> Option<Refusal> {
    let Ok(val) = &p.valuation else { return None };
    let max = v.config.max_order_notional_usdt;
    if val.order_notional <= max {
        return None;
    }
    refuse(
        RiskRule::OrderNotional,
        Measure::Usdt(val.order_notional),
        Measure::Usdt(max),
        format_args!(
            "{} order of {} at {} is worth {:.2} USDT; the limit is max_order_notional_usdt {max:.2} USDT",
            p.order.symbol, p.impact.traded, val.price, val.order_notional
        ),
    )
}

fn position_size(v: &View<'_>, p: &Proposal<'_>) -> Option<Refusal> {
    let Ok(val) = &p.valuation else { return None };
    let max = v.config.max_position_size_usdt;
    if val.symbol_after <= max || val.symbol_after <= val.symbol_before {
        return None;
    }
    refuse(
        RiskRule::PositionSize,
        Measure::Usdt(val.symbol_after),
        Measure::Usdt(max),
        format_args!(
            "{} position would be worth {:.2} USDT at {} after this order (now {:.2}); the limit is max_position_size_usdt {max:.2} USDT",
            p.order.symbol, val.symbol_after, val.price, val.symbol_before
        ),
    )
}

fn positions_per_symbol(v: &View<'_>, p: &Proposal<'_>) -> Option<Refusal> {
    let Ok(val) = &p.valuation else { return None };
    let max = v.config.max_positions_per_symbol;
    if val.legs_after <= max || val.legs_after <= val.legs_before {
        return None;
    }
    refuse(
        RiskRule::PositionsPerSymbol,
        Measure::Count(u64::from(val.legs_after)),
        Measure::Count(u64::from(max)),
        format_args!(
            "{} would hold {} open positions after this order; the limit is max_positions_per_symbol {max}",
            p.order.symbol, val.legs_after
        ),
    )
}

fn total_exposure(v: &View<'_>, p: &Proposal<'_>) -> Option<Refusal> {
    let Ok(val) = &p.valuation else { return None };
    let max = v.config.max_total_exposure_usdt;
    if val.total_after <= max || val.total_after <= val.total_before {
        return None;
    }
    refuse(
        RiskRule::TotalExposure,
        Measure::Usdt(val.total_after),
        Measure::Usdt(max),
        format_args!(
            "exposure across all symbols would be {:.2} USDT after this {} order (now {:.2}); the limit is max_total_exposure_usdt {max:.2} USDT",
            val.total_after, p.order.symbol, val.total_before
        ),
    )
}

fn leverage(v: &View<'_>, p: &Proposal<'_>) -> Option<Refusal> {
    let Ok(val) = &p.valuation else { return None };
    if val.total_after <= val.total_before {
        return None;
    }
    let equity = v.portfolio.equity();
    let max = v.config.max_leverage;
    let lev = ratio::ratio(val.total_after, equity, TIMES);
    match ratio::compare(val.total_after, equity, TIMES, max) {
        Some(o) if o.is_le() => None,
        Some(_) => refuse(
            RiskRule::Leverage,
            Measure::Times(lev.unwrap_or(max)),
            Measure::Times(max),
            format_args!(
                "leverage would be {:.2}x ({:.2} USDT exposure on {equity:.2} USDT equity) after this {} order; the limit is max_leverage {max}x",
                lev.unwrap_or(max),
                val.total_after,
                p.order.symbol
            ),
        ),
        None if equity.is_positive() => Some(out_of_range(p.order)),
        None => refuse(
            RiskRule::Leverage,
            Measure::Usdt(equity),
            Measure::Times(max),
            format_args!(
                "equity is {equity:.2} USDT, so no order may add exposure; the limit is max_leverage {max}x"
            ),
        ),
    }
}

fn order_frequency(v: &View<'_>, p: &Proposal<'_>) -> Option<Refusal> {
    let key = request_key(&p.order.request_id);
    let Err(full) = v.window.check(key, v.now_ms) else {
        return None;
    };
    let max = v.config.max_orders_per_second;
    let wait = full.frees_at_ms.saturating_sub(v.now_ms);
    refuse(
        RiskRule::OrderFrequency,
        Measure::Count(u64::from(full.in_window)),
        Measure::Count(u64::from(max)),
        format_args!(
            "{} orders were sent in the last second; the limit is max_orders_per_second {max}; the next slot frees in {wait} ms",
            full.in_window
        ),
    )
}
