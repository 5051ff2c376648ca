//! The [`Strategy`] trait (seed 000 FR-SE-001) and the [`StrategyContext`] it is configured
//! from.

use kestrel_model::instrument::Instrument;
use kestrel_model::money::Qty;
use kestrel_model::position::Position;

use crate::action::{Actions, QuoteId, Recovery, StrategyFill};
use crate::error::StrategyError;
use crate::market::MarketView;
use crate::params::Params;

/// Everything an instance is configured with.
#[derive(Debug, Clone, Copy)]
pub struct StrategyContext<'a> {
    /// The instance name (`momentum-btc`).
    pub instance: &'a str,
    /// The symbol it trades.
    pub symbol: &'a str,
    /// The quantity of each order, in the base asset.
    pub order_size: Qty,
    /// The symbol's trading rules (tick, step, bounds).
    pub instrument: &'a Instrument,
    /// The strategy-specific `parameters` table.
    pub parameters: &'a toml::Table,
}

impl<'a> StrategyContext<'a> {
    /// A checked reader over the parameters.
    #[must_use]
    pub const fn params(&self) -> Params<'a> {
        Params::new(self.parameters)
    }
}

/// A trading strategy: a synchronous state machine fed by the engine.
///
/// Every method runs on the engine's thread, must not block or do I/O, and takes its time
/// from the events (never from the system clock), so a replay gives the same actions. The
/// engine catches a panic or an error from any method, counts it, and disables the instance
/// after repeated failures; other instances go on.
///
/// Methods with an `out` parameter ask for orders by pushing [`crate::StrategyAction`]s; see
/// [`crate::action`] for what the engine does with them.
pub trait Strategy: Send {
    /// The strategy's type name, as registered (`momentum`).
    fn name(&self) -> &'static str;

    /// Reads the configuration. Called once, before any event.
    ///
    /// # Errors
    /// [`StrategyError::Parameter`] for a bad or unknown parameter.
    fn initialize(&mut self, ctx: &StrategyContext<'_>) -> Result<(), StrategyError>;

    /// Applies a changed configuration of the same type and symbol (hot reload). The engine
    /// has already withdrawn the instance's quotes. The default starts over from
    /// [`Strategy::initialize`]; strategies override it to keep state that is still valid.
    ///
    /// # Errors
    /// As [`Strategy::initialize`].
    fn reconfigure(&mut self, ctx: &StrategyContext<'_>) -> Result<(), StrategyError> {
        self.initialize(ctx)
    }

    /// Takes over the venue's open orders and the position at start-up (before any market
    /// event), adopting the orders it recognises (see [`crate::action`]).
    ///
    /// # Errors
    /// When the state cannot be understood; the engine then cancels the orders.
    fn recover(&mut self, state: &Recovery<'_>, out: &mut Actions) -> Result<(), StrategyError> {
        let _ = (state, out);
        Ok(())
    }

    /// Reacts to one market event on the instance's symbol (seed `on_market_data`).
    ///
    /// # Errors
    /// When the event cannot be handled; the engine counts it.
    fn on_market_data(
        &mut self,
        view: &MarketView<'_>,
        out: &mut Actions,
    ) -> Result<(), StrategyError>;

    /// Reacts to a fill of one of the instance's orders. [`Strategy::on_position_update`] has
    /// already been called with the position after the fill.
    ///
    /// # Errors
    /// When the fill cannot be handled; the engine counts it.
    fn on_order_fill(
        &mut self,
        fill: &StrategyFill<'_>,
        out: &mut Actions,
    ) -> Result<(), StrategyError> {
        let _ = (fill, out);
        Ok(())
    }

    /// Learns that a quote's order ended without filling completely (cancelled, rejected,
    /// expired, refused), so its slot is free.
    ///
    /// # Errors
    /// When the event cannot be handled; the engine counts it.
    fn on_quote_closed(&mut self, quote: QuoteId, out: &mut Actions) -> Result<(), StrategyError> {
        let _ = (quote, out);
        Ok(())
    }

    /// Learns the instance's position after a fill or at recovery (seed `on_position_update`).
    fn on_position_update(&mut self, position: &Position) {
        let _ = position;
    }

    /// Whether the instance's signals are put to its symbol's vote. Market makers that only
    /// quote say no, so they do not count in the majority's denominator.
    fn votes(&self) -> bool {
        true
    }

    /// The strategy's state for the dashboard (seed `get_state`), as JSON.
    fn state(&self) -> serde_json::Value;
}
