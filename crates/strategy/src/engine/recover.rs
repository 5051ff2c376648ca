//! Start-up recovery: handing an instance its open orders on the venue and its position, so a
//! restart continues the same orders instead of placing a second set (seed 001 §2.2
//! "reconstruction of grid state from exchange positions on startup").

use kestrel_model::position::Position;

use super::StrategyEngine;
use super::instance::Call;
use super::ledger::Entry;
use super::output::{CancelReason, IncidentKind, Outbox};
use crate::action::{Actions, OpenOrder, QuoteId, Recovery, StrategyAction};
use crate::error::SetupError;
use crate::ids::InstanceTag;

impl StrategyEngine {
    /// Recovers instance `name` from the venue's open orders on its symbol and its position.
    ///
    /// Only orders whose client order id carries the instance's tag are shown to it (see
    /// [`crate::ids`]). The strategy adopts the ones it recognises as its quotes and may cancel
    /// others; the engine cancels every tagged order left over. Call it once per instance,
    /// after [`StrategyEngine::new`] and before the first market event.
    ///
    /// # Errors
    /// [`SetupError::Field`] when the instance does not exist, is not running, or the position
    /// is for another symbol.
    pub fn recover(
        &mut self,
        name: &str,
        open_orders: &[OpenOrder],
        position: Position,
        time_ms: u64,
        out: &mut Outbox,
    ) -> Result<(), SetupError> {
        let id = self.running_instance(name)?;
        let mine = self.take_position(id, position, open_orders)?;
        let mut actions = std::mem::take(&mut self.scratch);
        let call = self.ask_recovery(id, &mine, &mut actions, out);
        let mut handled = vec![false; mine.len()];
        for action in actions.drain() {
            self.recovery_action(id, action, &mine, &mut handled, time_ms, out);
        }
        self.scratch = actions;
        for (order, done) in mine.iter().zip(&handled) {
            if !done {
                self.cancel_foreign(id, order, out);
            }
        }
        if matches!(call, Call::Disabled) {
            self.withdraw(id, out);
        }
        self.deliver_closures(time_ms, out);
        Ok(())
    }

    /// Sets instance `id`'s position; returns those of `open_orders` carrying its tag.
    fn take_position(
        &mut self,
        id: usize,
        position: Position,
        open_orders: &[OpenOrder],
    ) -> Result<Vec<OpenOrder>, SetupError> {
        let Some(inst) = self.instances.get_mut(id) else {
            return Err(not_running(""));
        };
        if position.symbol != *inst.symbol {
            let problem = format!(
                "is {}, but the recovered position is for {}",
                inst.symbol, position.symbol
            );
            let instance = inst.config.name.clone();
            return Err(SetupError::Field {
                instance,
                key: "symbol",
                problem,
            });
        }
        inst.position = position;
        let tag = Some(inst.tag);
        let mine = open_orders
            .iter()
            .filter(|o| InstanceTag::from_client_order_id(&o.client_order_id) == tag);
        Ok(mine.cloned().collect())
    }

    /// Tells the strategy its position, then asks it to recover from `mine`.
    fn ask_recovery(
        &mut self,
        id: usize,
        mine: &[OpenOrder],
        actions: &mut Actions,
        out: &mut Outbox,
    ) -> Call<()> {
        let max = self.settings.max_consecutive_failures;
        let Some(inst) = self.instances.get_mut(id) else {
            return Call::Failed;
        };
        let position = inst.position.clone();
        let state = Recovery {
            open_orders: mine,
            position_qty: position.qty,
            entry_price: position.entry_price(),
        };
        let call = inst.guarded(max, &mut out.incidents, actions, |s, _| {
            s.on_position_update(&position);
            Ok(())
        });
        match call {
            Call::Done(()) => inst.guarded(max, &mut out.incidents, actions, |s, a| {
                s.recover(&state, a)
            }),
            other => other,
        }
    }

    fn running_instance(&self, name: &str) -> Result<usize, SetupError> {
        self.by_name
            .get(name)
            .copied()
            .filter(|&id| {
                self.instances
                    .get(id)
                    .is_some_and(super::instance::Instance::is_running)
            })
            .ok_or_else(|| not_running(name))
    }

    fn recovery_action(
        &mut self,
        id: usize,
        action: StrategyAction,
        mine: &[OpenOrder],
        handled: &mut [bool],
        time_ms: u64,
        out: &mut Outbox,
    ) {
        let (cid, adopt) = match &action {
            StrategyAction::AdoptOrder {
                quote,
                client_order_id,
            } => (client_order_id, Some(*quote)),
            StrategyAction::CancelOrder { client_order_id } => (client_order_id, None),
            _ => return self.apply_action(id, action, false, time_ms, out),
        };
        let found = mine.iter().position(|o| &o.client_order_id == cid);
        let Some(k) = found.filter(|&k| handled.get(k) == Some(&false)) else {
            let message =
                format!("recovery named order {cid:?}, which is not one of its open orders");
            self.incident(id, IncidentKind::ActionIgnored, message, out);
            return;
        };
        if let Some(flag) = handled.get_mut(k) {
            *flag = true;
        }
        let Some(order) = mine.get(k) else {
            return;
        };
        match adopt {
            Some(quote) => self.adopt(id, quote, order, out),
            None => self.cancel_foreign(id, order, out),
        }
    }

    /// Makes `order` the live order of slot `quote`; a slot already taken keeps its order and
    /// the newcomer is cancelled.
    fn adopt(&mut self, id: usize, quote: QuoteId, order: &OpenOrder, out: &mut Outbox) {
        let Some(inst) = self.instances.get_mut(id) else {
            return;
        };
        if inst.quotes.contains_key(&quote) {
            let message = format!(
                "slot {quote:?} adopted twice; cancelling {}",
                order.client_order_id
            );
            self.incident(id, IncidentKind::ActionIgnored, message, out);
            self.cancel_foreign(id, order, out);
            return;
        }
        inst.quotes.insert(quote, order.client_order_id.clone());
        let entry = Entry::open(
            inst.route,
            order.side,
            order.price,
            order.qty,
            vec![(id, order.qty)],
            Some((id, quote)),
        );
        self.ledger.insert(order.client_order_id.clone(), entry);
    }

    /// Cancels a venue order found at start-up, still attributing any fill it gets before the
    /// cancel lands to the instance.
    fn cancel_foreign(&mut self, id: usize, order: &OpenOrder, out: &mut Outbox) {
        let Some(route) = self.instances.get(id).map(|i| i.route) else {
            return;
        };
        let cid = order.client_order_id.clone();
        let owners = vec![(id, order.qty)];
        let entry = Entry::open(route, order.side, order.price, order.qty, owners, None);
        self.ledger.insert(cid.clone(), entry);
        self.cancel(id, cid, CancelReason::NotRecovered, out);
    }

    fn incident(&self, id: usize, kind: IncidentKind, message: String, out: &mut Outbox) {
        if let Some(inst) = self.instances.get(id) {
            out.incidents.push(inst.incident(kind, message));
        }
    }
}

fn not_running(name: &str) -> SetupError {
    SetupError::Field {
        instance: name.to_owned(),
        key: "name",
        problem: "names no running instance".to_owned(),
    }
}
