//! The risk core's metrics, under the catalogue's names (`kestrel_model::telemetry::names`):
//! refusals by reason — `signals_rejected_by_risk{reason}` for the strategy's risk filter
//! (seed 000 Strategy Engine), `risk_rejections_total{reason}` for the execution engine's
//! check — and `risk_circuit_breaker_trips_total{breaker}`. Labels are the rules' and
//! breakers' stable codes: a bounded set (REQ-METRICS-004).

use kestrel_model::telemetry::names;

use crate::breakers::Breaker;
use crate::rule::{RiskRule, Stage};

/// Counts one refusal of `rule` at `stage`.
pub(crate) fn rejected(stage: Stage, rule: RiskRule) {
    let name = match stage {
        Stage::Signal => names::SIGNALS_REJECTED_BY_RISK,
        Stage::Order => names::RISK_REJECTIONS_TOTAL,
    };
    metrics::counter!(name, "reason" => rule.code()).increment(1);
}

/// Counts one trip of `breaker`.
pub(crate) fn tripped(breaker: Breaker) {
    metrics::counter!(names::RISK_CIRCUIT_BREAKER_TRIPS_TOTAL, "breaker" => breaker.code())
        .increment(1);
}
