//! Signals into orders (seed 000 FR-SE-004/006): ballots, the vote, exits and the orders they
//! produce.

use std::sync::Arc;

use kestrel_model::money::{Price, Qty};
use kestrel_model::order::{ExecutionMode, Side};
use kestrel_model::position::Direction;

use super::StrategyEngine;
use super::ledger::Entry;
use super::output::{IncidentKind, OrderCommand, Origin, Outbox, PlaceOrder};
use crate::aggregate::{Ballot, Electorate, aggregate};
use crate::pricing::{Pricing, PricingError, order_qty, price_order};
use crate::signal::{AggregatedSignal, Signal, SignalIntent, Strength, Urgency};

/// A signal order to be priced and placed.
struct SignalOrder {
    route: usize,
    side: Side,
    urgency: Urgency,
    hint: Option<Price>,
    /// Owners with their shares (order sizes), lead first.
    owners: Vec<(usize, Qty)>,
    origin: Origin,
}

/// What won a vote: the side, how, and who.
struct Won {
    side: Side,
    strength: Strength,
    urgency: Urgency,
    hint: Option<Price>,
    /// The contributors with their order sizes, lead first.
    owners: Vec<(usize, Qty)>,
    /// The contributors in routing order.
    voters: Vec<Arc<str>>,
}

impl StrategyEngine {
    pub(super) fn take_signal(
        &mut self,
        id: usize,
        intent: SignalIntent,
        in_round: bool,
        time_ms: u64,
        out: &mut Outbox,
    ) {
        let Some(inst) = self.instances.get(id) else {
            return;
        };
        inst.metrics.signal(intent.side);
        let own = intent.exit || !inst.votes;
        let first_vote = !self.ballots.iter().any(|(_, voter)| *voter == id);
        let index = out.signals.len();
        let (side, urgency, hint, exit) =
            (intent.side, intent.urgency, intent.price_hint, intent.exit);
        out.signals
            .push(Signal::stamp(intent, &inst.name, &inst.symbol, time_ms));
        if exit {
            self.exit_order(id, side, urgency, hint, time_ms, out);
        } else if own {
            let order = self.own_order(id, side, urgency, hint);
            self.place_signal_order(order, time_ms, out);
        } else if in_round && first_vote {
            self.ballots.push((index, id));
        } else {
            let why = if in_round {
                "only the first entry signal of an instance counts in one event"
            } else {
                "entry signals are voted on only from on_market_data"
            };
            self.ignore(id, why, out);
        }
    }

    fn own_order(
        &self,
        id: usize,
        side: Side,
        urgency: Urgency,
        hint: Option<Price>,
    ) -> SignalOrder {
        let (route, size, name) = self
            .instances
            .get(id)
            .map_or((0, Qty::ZERO, Arc::from("")), |i| {
                (i.route, i.config.order_size, Arc::clone(&i.name))
            });
        SignalOrder {
            route,
            side,
            urgency,
            hint,
            owners: vec![(id, size)],
            origin: Origin::Signal {
                strategies: vec![name],
            },
        }
    }

    /// Closes instance `id`'s own position by trading `side`.
    fn exit_order(
        &mut self,
        id: usize,
        side: Side,
        urgency: Urgency,
        hint: Option<Price>,
        time_ms: u64,
        out: &mut Outbox,
    ) {
        let Some(inst) = self.instances.get(id) else {
            return;
        };
        let closes = matches!(
            (inst.position.direction(), side),
            (Direction::Long, Side::Sell) | (Direction::Short, Side::Buy)
        );
        if !closes {
            let message = format!(
                "exit {side:?} with a {:?} position: nothing to close",
                inst.position.direction()
            );
            out.incidents
                .push(inst.incident(IncidentKind::OrderSkipped, message));
            return;
        }
        let order = SignalOrder {
            route: inst.route,
            side,
            urgency,
            hint,
            owners: vec![(id, inst.position.qty.abs())],
            origin: Origin::Exit {
                strategy: Arc::clone(&inst.name),
            },
        };
        self.place_signal_order(order, time_ms, out);
    }

    /// Decides the vote of one market event on `route` and places the winning order.
    pub(super) fn vote(&mut self, route: usize, time_ms: u64, out: &mut Outbox) {
        let Some(won) = self.decide(route, &out.signals) else {
            return;
        };
        let Some(r) = self.routes.get(route) else {
            return;
        };
        r.aggregated.increment(1);
        let strategies = won
            .owners
            .iter()
            .filter_map(|(i, _)| self.instances.get(*i).map(|inst| Arc::clone(&inst.name)))
            .collect();
        out.aggregated.push(AggregatedSignal {
            symbol: Arc::clone(&r.symbol),
            side: won.side,
            combined_strength: won.strength,
            contributing_strategies: won.voters,
            final_price_hint: won.hint,
            urgency: won.urgency,
            timestamp_ms: time_ms,
        });
        let order = SignalOrder {
            route,
            side: won.side,
            urgency: won.urgency,
            hint: won.hint,
            owners: won.owners,
            origin: Origin::Signal { strategies },
        };
        self.place_signal_order(order, time_ms, out);
    }

    /// Puts this event's ballots on `route` to the vote.
    fn decide(&self, route: usize, signals: &[Signal]) -> Option<Won> {
        let ballots: Vec<Ballot<'_>> = self
            .ballots
            .iter()
            .filter_map(|&(signal, voter)| {
                let weight = self.instances.get(voter)?.config.weight;
                let signal = &signals.get(signal)?.intent;
                Some(Ballot { signal, weight })
            })
            .collect();
        let decision = aggregate(self.rule, self.electorate(route), &ballots)?;
        let lead = ballots.get(decision.lead)?.signal;
        let mut won = Won {
            side: decision.side,
            strength: decision.strength,
            urgency: lead.urgency,
            hint: lead.price_hint,
            owners: Vec::new(),
            voters: Vec::new(),
        };
        for (k, (ballot, &(_, voter))) in ballots.iter().zip(&self.ballots).enumerate() {
            let Some(inst) = self.instances.get(voter) else {
                continue;
            };
            if decision.contributed(k, ballot.signal.side) {
                let share = (voter, inst.config.order_size);
                let at = if k == decision.lead {
                    0
                } else {
                    won.owners.len()
                };
                won.owners.insert(at, share);
                won.voters.push(Arc::clone(&inst.name));
            }
        }
        Some(won)
    }

    /// Every running, voting instance of `route` and their total weight.
    fn electorate(&self, route: usize) -> Electorate {
        let mut electorate = Electorate::default();
        let ids = self.routes.get(route).map_or(&[][..], |r| &r.instances[..]);
        for inst in ids.iter().filter_map(|&i| self.instances.get(i)) {
            if inst.is_running() && inst.votes {
                electorate.voters += 1;
                let total = electorate.total_weight.try_add(inst.config.weight);
                electorate.total_weight = total.unwrap_or(electorate.total_weight);
            }
        }
        electorate
    }

    fn place_signal_order(&mut self, order: SignalOrder, time_ms: u64, out: &mut Outbox) {
        let lead = order.owners.first().map(|(i, _)| *i);
        let (pricing, qty) = match self.price_signal_order(&order) {
            Ok(priced) => priced,
            Err(error) => {
                let symbol = self.routes.get(order.route).map(|r| Arc::clone(&r.symbol));
                let message = format!("{symbol:?} {:?} order skipped: {error}", order.side);
                self.skip(lead, message, out);
                return;
            }
        };
        if self.settings.execution_mode == ExecutionMode::Observation {
            return;
        }
        let tag = lead.and_then(|i| self.instances.get(i)).map(|i| i.tag);
        let id = self.next_id(tag, time_ms);
        if pricing.time_in_force.is_post_only() {
            let expires = time_ms.saturating_add(self.settings.resting_order_ttl_ms);
            self.ledger.expire_at(expires, id.clone());
        }
        let entry = Entry::open(
            order.route,
            order.side,
            pricing.price,
            qty,
            order.owners,
            None,
        );
        self.record_place(&id, entry);
        let request = self.request(order.route, order.side, pricing, qty, id);
        let origin = order.origin;
        out.commands
            .push(OrderCommand::Place(PlaceOrder { request, origin }));
    }

    /// The order's price by urgency and its quantity (the owners' sizes) on the step grid.
    fn price_signal_order(&self, order: &SignalOrder) -> Result<(Pricing, Qty), PricingError> {
        let r = self.routes.get(order.route).ok_or(PricingError::NoTouch {
            side: order.side,
            urgency: order.urgency,
            needed: "route",
        })?;
        let slippage = self.settings.aggressive_slippage_ticks;
        let pricing = price_order(
            &r.instrument,
            order.side,
            order.urgency,
            r.touch,
            order.hint,
            slippage,
        )?;
        let total = order
            .owners
            .iter()
            .try_fold(Qty::ZERO, |sum, (_, q)| sum.try_add(*q))?;
        Ok((pricing, order_qty(&r.instrument, total, false)?))
    }
}
