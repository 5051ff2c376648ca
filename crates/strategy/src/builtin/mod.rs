//! The built-in strategies, registered by [`crate::Registry::with_builtins`]:
//!
//! | type | module | what it does |
//! |---|---|---|
//! | `momentum` | [`momentum`] | buys a rise, sells a fall of more than a threshold over a lookback |
//! | `scalper` | [`scalper`] | EMA crossover trend with an RSI dip/spike entry, stop-loss and take-profit exits (seed 003) |
//! | `grid` | [`grid`] | a grid of post-only buy and sell slots that flip on fills, recovered from the venue at start (seed 001) |
//! | `spread_maker` | [`spread_maker`] | quotes both sides of the mid, skewed against its inventory |
//!
//! Each module's documentation lists its parameters with their defaults.

pub mod grid;
pub mod momentum;
pub mod scalper;
pub mod spread_maker;

#[cfg(test)]
pub(crate) mod script;

use crate::registry::Registry;

/// Builds one built-in strategy.
type Build = fn() -> Box<dyn crate::Strategy>;

/// Registers every built-in type. The names are distinct, so registration cannot fail.
pub fn register(registry: &mut Registry) {
    let builtins: [(&str, Build); 4] = [
        (momentum::KIND, || Box::new(momentum::Momentum::default())),
        (scalper::KIND, || Box::new(scalper::Scalper::default())),
        (grid::KIND, || Box::new(grid::Grid::default())),
        (spread_maker::KIND, || {
            Box::new(spread_maker::SpreadMaker::default())
        }),
    ];
    for (kind, factory) in builtins {
        if let Err(error) = registry.register(kind, factory) {
            tracing::error!("{error}");
        }
    }
}
