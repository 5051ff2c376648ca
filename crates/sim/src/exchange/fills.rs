//! Booking what the engine did: fills into both sides' accounts and order records, expiries
//! and cancels into records, and the user-stream events each produces (§8.2–§8.4, in Binance's
//! order: `TRADE_LITE`, then `ORDER_TRADE_UPDATE`, then `ACCOUNT_UPDATE`).

use kestrel_model::order::Side;
use kestrel_model::{Money, Price, Qty};
use serde_json::{Value, json};

use super::feed::PublicTrade;
use super::order::{AMOUNT_DECIMALS, Execution, FillReport, VenueStatus, position_side_name};
use super::queries::UserTrade;
use super::{Exchange, PARTICIPANT_BASE, VenueEvent};
use crate::account::Execution as Booking;
use crate::engine::{EngineEvent, Fill, OrderRef};

/// A fill of the synthetic market's own orders, for its generator's bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantFill {
    /// The symbol the order is on (generator tags are unique per symbol).
    pub symbol: String,
    /// The generator's tag of the order.
    pub tag: u64,
    /// The quantity filled.
    pub qty: Qty,
    /// Whether the order is gone from the book.
    pub done: bool,
}

impl Exchange {
    /// Books every engine event of one operation on `symbol`.
    pub(super) fn apply_engine_events(
        &mut self,
        symbol: &str,
        events: &[EngineEvent],
        now_ms: u64,
    ) {
        for event in events {
            match event {
                EngineEvent::Fill(fill) => self.apply_fill(symbol, fill, now_ms),
                EngineEvent::MakerExpired(expired) => {
                    self.close_user_order(
                        symbol,
                        expired.order,
                        VenueStatus::ExpiredInMatch,
                        "EXPIRED",
                        expired.reason.binance_code(),
                        now_ms,
                    );
                }
                EngineEvent::Canceled(canceled) => {
                    self.close_user_order(
                        symbol,
                        canceled.order,
                        VenueStatus::Canceled,
                        "CANCELED",
                        0,
                        now_ms,
                    );
                }
                EngineEvent::Amended(amended) => {
                    self.apply_amend(amended.order.id, amended.price, amended.orig_qty, now_ms)
                }
                EngineEvent::Taker(_) => {}
            }
        }
    }

    fn apply_fill(&mut self, symbol: &str, fill: &Fill, now_ms: u64) {
        let trade = PublicTrade {
            trade_id: fill.trade_id,
            price: fill.price,
            qty: fill.qty,
            buyer_is_maker: fill.taker_side == Side::Sell,
            time_ms: now_ms,
        };
        if let Some(market) = self.markets.get_mut(symbol) {
            market.record_trade(trade);
        }
        self.events.push(VenueEvent::Trade {
            symbol: symbol.to_owned(),
            trade,
        });
        let taker_done = fill.taker_remaining_qty.is_zero();
        self.fill_side(
            symbol,
            fill.taker,
            fill.taker_side,
            fill,
            false,
            taker_done,
            now_ms,
        );
        self.fill_side(
            symbol,
            fill.maker,
            fill.maker_side(),
            fill,
            true,
            fill.maker_fully_filled,
            now_ms,
        );
    }

    #[allow(clippy::too_many_arguments)] // one call per side of a fill; the pieces are distinct
    fn fill_side(
        &mut self,
        symbol: &str,
        who: OrderRef,
        side: Side,
        fill: &Fill,
        is_maker: bool,
        done: bool,
        now_ms: u64,
    ) {
        if who.account.0 >= PARTICIPANT_BASE {
            self.participant_fills.push(ParticipantFill {
                symbol: symbol.to_owned(),
                tag: who.tag,
                qty: fill.qty,
                done,
            });
            return;
        }
        if let Err(error) = self.book_user_fill(who.id, side, fill, is_maker, now_ms) {
            // The engine traded, so the fill stands; a booking failure is a bug to see, not hide.
            tracing::error!(order_id = who.id, %error, "fill could not be booked to its account");
        }
    }

    fn book_user_fill(
        &mut self,
        order_id: u64,
        side: Side,
        fill: &Fill,
        is_maker: bool,
        now_ms: u64,
    ) -> Result<(), crate::account::AccountError> {
        let Some(record) = self.orders.get(&order_id) else {
            return Ok(());
        };
        let (account, symbol, position_side) =
            (record.account, record.symbol.clone(), record.position_side);
        let booking = match self.accounts.get_mut(account) {
            Some(holder) => holder.apply_fill(
                &Booking {
                    symbol: &symbol,
                    side,
                    position_side,
                    qty: fill.qty,
                    price: fill.price,
                    is_maker,
                },
                now_ms,
            )?,
            None => return Ok(()),
        };
        let report = FillReport {
            trade_id: fill.trade_id,
            price: fill.price,
            qty: fill.qty,
            commission: booking.commission,
            realized_pnl: booking.realized_pnl,
            is_maker,
            time_ms: now_ms,
        };
        let done = self.advance_record(order_id, fill.price, fill.qty, now_ms);
        self.trades.entry(account).or_default().push(UserTrade::new(
            &symbol,
            order_id,
            side,
            position_side,
            &report,
        ));
        self.emit_fill_events(order_id, &report, now_ms);
        self.emit_account_update(account, &symbol, position_side, "ORDER", now_ms);
        if done {
            self.record_closed(order_id);
        }
        Ok(())
    }

    /// Adds a fill to a record; returns whether the order is now completely filled.
    fn advance_record(&mut self, order_id: u64, price: Price, qty: Qty, now_ms: u64) -> bool {
        let Some(record) = self.orders.get_mut(&order_id) else {
            return false;
        };
        record.executed_qty = record
            .executed_qty
            .try_add(qty)
            .unwrap_or(record.executed_qty);
        record.cum_quote = record
            .cum_quote
            .try_add(price.notional(qty))
            .unwrap_or(record.cum_quote);
        record.update_time_ms = now_ms;
        let done = record.remaining_qty().is_zero();
        record.status = if done {
            VenueStatus::Filled
        } else {
            VenueStatus::PartiallyFilled
        };
        done
    }

    fn emit_fill_events(&mut self, order_id: u64, report: &FillReport, now_ms: u64) {
        let Some(record) = self.orders.get(&order_id) else {
            return;
        };
        let Some(market) = self.markets.get(&record.symbol) else {
            return;
        };
        let p = market.precision;
        let lite = record.trade_lite(report, p, now_ms);
        let execution = Execution {
            kind: "TRADE",
            fill: Some(report.clone()),
            expiry_reason: 0,
        };
        let update = record.trade_update(&execution, p, now_ms);
        let account = record.account;
        self.push_user(account, lite);
        self.push_user(account, update);
    }

    /// Emits `ORDER_TRADE_UPDATE` for a change that is not a fill.
    pub(super) fn emit_execution(&mut self, order_id: u64, execution: Execution, now_ms: u64) {
        let Some(record) = self.orders.get(&order_id) else {
            return;
        };
        let Some(market) = self.markets.get(&record.symbol) else {
            return;
        };
        let payload = record.trade_update(&execution, market.precision, now_ms);
        let account = record.account;
        self.push_user(account, payload);
    }

    /// Closes a user's order with `status`, reporting `kind` with expiry reason `er`.
    fn close_user_order(
        &mut self,
        symbol: &str,
        who: OrderRef,
        status: VenueStatus,
        kind: &'static str,
        er: u8,
        now_ms: u64,
    ) {
        if who.account.0 >= PARTICIPANT_BASE {
            self.participant_fills.push(ParticipantFill {
                symbol: symbol.to_owned(),
                tag: who.tag,
                qty: Qty::ZERO,
                done: true,
            });
            return;
        }
        if let Some(record) = self.orders.get_mut(&who.id) {
            record.status = status;
            record.update_time_ms = now_ms;
        }
        self.emit_execution(
            who.id,
            Execution {
                kind,
                fill: None,
                expiry_reason: er,
            },
            now_ms,
        );
        self.record_closed(who.id);
    }

    fn apply_amend(&mut self, order_id: u64, price: Price, orig_qty: Qty, now_ms: u64) {
        if let Some(record) = self.orders.get_mut(&order_id) {
            record.price = price;
            record.orig_qty = orig_qty;
            record.update_time_ms = now_ms;
        }
        self.emit_execution(
            order_id,
            Execution {
                kind: "AMENDMENT",
                fill: None,
                expiry_reason: 0,
            },
            now_ms,
        );
    }

    /// Emits `ACCOUNT_UPDATE` (§8.3) with the USDT balance and one position leg.
    pub(super) fn emit_account_update(
        &mut self,
        account: u32,
        symbol: &str,
        leg: kestrel_model::order::PositionSide,
        reason: &str,
        now_ms: u64,
    ) {
        let payload =
            self.account_update_payload(account, Some((symbol, leg)), reason, Money::ZERO, now_ms);
        if let Some(payload) = payload {
            self.push_user(account, payload);
        }
    }

    /// Renders `ACCOUNT_UPDATE`: the USDT balance, and the position leg when given.
    pub(super) fn account_update_payload(
        &self,
        account: u32,
        leg: Option<(&str, kestrel_model::order::PositionSide)>,
        reason: &str,
        balance_change: Money,
        now_ms: u64,
    ) -> Option<Value> {
        let holder = self.accounts.get(account)?;
        let wallet = format!("{:.*}", AMOUNT_DECIMALS, holder.wallet_balance());
        let mut positions = Vec::new();
        if let Some((symbol, side)) = leg {
            let open = self.open_orders_for_margin(account);
            let rows = holder
                .position_risk_for(symbol, &open, &self.marks())
                .ok()?;
            let p = self.markets.get(symbol)?.precision;
            for row in rows.iter().filter(|r| r.position_side == side) {
                positions.push(json!({
                    "s": row.symbol,
                    "pa": format!("{:.*}", p.qty, row.position_amt),
                    "ep": format!("{:.*}", p.price + 5, row.entry_price),
                    "bep": format!("{:.*}", p.price + 5, row.break_even_price),
                    "cr": format!("{:.*}", AMOUNT_DECIMALS, row.accumulated_realized),
                    "up": format!("{:.*}", AMOUNT_DECIMALS, row.unrealized_profit),
                    "mt": "cross",
                    "iw": "0",
                    "ps": position_side_name(row.position_side),
                }));
            }
        }
        Some(json!({
            "e": "ACCOUNT_UPDATE", "E": now_ms, "T": now_ms,
            "a": {
                "m": reason,
                "B": [{ "a": "USDT", "wb": wallet, "cw": wallet, "bc": format!("{:.*}", AMOUNT_DECIMALS, balance_change) }],
                "P": positions,
            }
        }))
    }
}
