//! The Account Monitor's metrics (seed 000 "Metrics Exported"), recorded through the `metrics`
//! facade under the names of [`kestrel_model::telemetry::names`].
//!
//! Gauges are amounts in USDT as the nearest `f64` of the exact figure (converted through its
//! decimal text: no float arithmetic). `margin_ratio` is Binance's maintenance margin over
//! margin balance, as a fraction (1.0 is liquidation).

use std::collections::BTreeSet;

use kestrel_model::telemetry::names;
use kestrel_model::{Money, Rate};

use crate::alerts::Alert;
use crate::view::AccountView;

/// Records the gauges, zeroing `position_value_usdt` of symbols no longer held.
#[derive(Debug, Default)]
pub(crate) struct Gauges {
    symbols: BTreeSet<String>,
}

impl Gauges {
    /// Sets every gauge from `view`.
    pub(crate) fn record(&mut self, view: &AccountView) {
        let margin = view.balances.iter().find(|b| b.asset == view.margin_asset);
        let amount =
            |f: fn(&crate::view::AssetBalance) -> Money| margin.map_or(0.0, |b| to_f64(f(b)));
        metrics::gauge!(names::ACCOUNT_BALANCE_USDT).set(amount(|b| b.total_balance));
        metrics::gauge!(names::AVAILABLE_BALANCE_USDT).set(amount(|b| b.available_balance));
        metrics::gauge!(names::TOTAL_PNL_USDT).set(to_f64(view.pnl.total_pnl));
        metrics::gauge!(names::REALIZED_PNL_USDT).set(to_f64(view.pnl.realized_pnl));
        metrics::gauge!(names::UNREALIZED_PNL_USDT).set(to_f64(view.pnl.unrealized_pnl));
        metrics::gauge!(names::DAILY_PNL_USDT).set(to_f64(view.pnl.daily_pnl));
        metrics::gauge!(names::POSITION_COUNT).set(count(view.positions.len()));
        let ratio = view
            .margin
            .maint_margin_ratio
            .map_or(0.0, percent_to_fraction);
        metrics::gauge!(names::MARGIN_RATIO).set(ratio);
        self.record_position_values(view);
    }

    fn record_position_values(&mut self, view: &AccountView) {
        let mut held = BTreeSet::new();
        for position in &view.positions {
            held.insert(position.symbol.clone());
        }
        for symbol in self.symbols.difference(&held) {
            metrics::gauge!(names::POSITION_VALUE_USDT, "symbol" => symbol.clone()).set(0.0);
        }
        for symbol in &held {
            let value = crate::arith::sum(
                view.positions
                    .iter()
                    .filter(|p| &p.symbol == symbol)
                    .map(|p| p.notional),
            );
            metrics::gauge!(names::POSITION_VALUE_USDT, "symbol" => symbol.clone())
                .set(to_f64(value));
        }
        self.symbols = held;
    }
}

/// Counts one raised alert.
pub(crate) fn count_alert(alert: &Alert) {
    let severity = label(&alert.severity);
    let category = label(&alert.category);
    metrics::counter!(names::ALERTS_GENERATED_TOTAL, "severity" => severity, "category" => category)
        .increment(1);
}

/// Counts the mismatches one reconciliation found.
pub(crate) fn count_mismatches(found: u64) {
    metrics::counter!(names::RECONCILIATION_MISMATCHES_TOTAL).increment(found);
}

/// A serde unit-variant name as a label.
fn label<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::from("unknown"),
    }
}

fn to_f64(amount: Money) -> f64 {
    amount.to_string().parse().unwrap_or(0.0)
}

fn count(n: usize) -> f64 {
    u32::try_from(n).map_or(f64::from(u32::MAX), f64::from)
}

/// A percent [`Rate`] as a fraction: 50 % → 0.5 (through the decimal text of rate / 100).
fn percent_to_fraction(percent: Rate) -> f64 {
    // Rate raw is 10⁻⁸ percent: 10⁻¹⁰ of a fraction. Money keeps 16 decimals, so the
    // fraction's text is exact.
    to_f64(Money::from_raw(i128::from(percent.raw()) * 1_000_000))
}
