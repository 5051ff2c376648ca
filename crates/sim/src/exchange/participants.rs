//! The synthetic market's orders: the generator's actions applied to a symbol's book as the
//! rest of the market (no margin, no fees, no records), and their fills reported back.

use std::collections::HashMap;

use kestrel_model::order::TimeInForce;

use super::fills::ParticipantFill;
use super::{Exchange, PARTICIPANT_BASE};
use crate::engine::{AccountId, NewOrder, Stp};
use crate::market::generator::MarketAction;

/// Participant order ids live above this, apart from user order ids.
const PARTICIPANT_ORDER_BASE: u64 = 1 << 62;

/// The generator's resting orders on the book: its tag → the engine order id.
#[derive(Debug, Default)]
pub struct ParticipantOrders {
    by_tag: HashMap<(String, u64), u64>,
    next_id: u64,
}

impl Exchange {
    /// Applies one action of the synthetic market on `symbol`. Refusals (a post-only order
    /// that would now cross, a cancel of an order that already filled) are normal and are
    /// reported to the generator as the order being gone.
    pub fn apply_market_action(&mut self, symbol: &str, action: &MarketAction, now_ms: u64) {
        let order = match *action {
            MarketAction::Place {
                agent,
                client_tag,
                side,
                price,
                qty,
                post_only,
            } => {
                let tif = if post_only {
                    TimeInForce::Gtx
                } else {
                    TimeInForce::Gtc
                };
                let id = self.participant_id(symbol, client_tag);
                NewOrder::limit(id, participant(agent), side, price, qty, tif)
                    .with_tag(client_tag)
                    .with_stp(Stp::None)
            }
            MarketAction::Take {
                agent,
                client_tag,
                side,
                qty,
            } => {
                let id = self.participant_id(symbol, client_tag);
                NewOrder::market(id, participant(agent), side, qty).with_tag(client_tag)
            }
            MarketAction::Cancel { client_tag, .. } => {
                self.cancel_participant(symbol, client_tag, now_ms);
                return;
            }
        };
        self.submit_participant(symbol, order, now_ms);
    }

    fn participant_id(&mut self, symbol: &str, tag: u64) -> u64 {
        let orders = &mut self.participants;
        orders.next_id += 1;
        let id = PARTICIPANT_ORDER_BASE + orders.next_id;
        orders.by_tag.insert((symbol.to_owned(), tag), id);
        id
    }

    fn gone(&mut self, symbol: &str, tag: u64) {
        self.participants.by_tag.remove(&(symbol.to_owned(), tag));
        let qty = kestrel_model::Qty::ZERO;
        self.participant_fills.push(ParticipantFill {
            symbol: symbol.to_owned(),
            tag,
            qty,
            done: true,
        });
    }

    fn submit_participant(&mut self, symbol: &str, order: NewOrder, now_ms: u64) {
        let Some(market) = self.markets.get_mut(symbol) else {
            return;
        };
        let mut events = std::mem::take(&mut self.scratch);
        events.clear();
        let tag = order.tag;
        match market.engine.submit(order, &mut events) {
            Ok(outcome) if matches!(outcome.status, crate::engine::TakerStatus::Rested { .. }) => {}
            Ok(_) | Err(_) => self.gone(symbol, tag),
        }
        self.apply_engine_events(symbol, &events, now_ms);
        self.scratch = events;
        self.after_book_change(symbol, now_ms);
    }

    fn cancel_participant(&mut self, symbol: &str, tag: u64, now_ms: u64) {
        let Some(id) = self.participants.by_tag.remove(&(symbol.to_owned(), tag)) else {
            self.gone(symbol, tag);
            return;
        };
        let Some(market) = self.markets.get_mut(symbol) else {
            return;
        };
        let mut events = std::mem::take(&mut self.scratch);
        events.clear();
        let missing = market.engine.cancel(id, &mut events).is_err();
        if missing {
            self.gone(symbol, tag);
        }
        self.apply_engine_events(symbol, &events, now_ms);
        self.scratch = events;
        self.after_book_change(symbol, now_ms);
    }

    /// Moves the synthetic market's fills and removals since the last call into `out`.
    pub fn drain_participant_fills(&mut self, out: &mut Vec<ParticipantFill>) {
        for fill in &self.participant_fills {
            if fill.done {
                self.participants
                    .by_tag
                    .remove(&(fill.symbol.clone(), fill.tag));
            }
        }
        out.append(&mut self.participant_fills);
    }
}

/// The engine account of generator agent `agent`.
const fn participant(agent: u32) -> AccountId {
    AccountId(PARTICIPANT_BASE + agent)
}
