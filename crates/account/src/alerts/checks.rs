//! The risk conditions of FR-AM-005, evaluated from the book's current figures against the
//! configured [`AlertThresholds`] (see the table in the module above for what each one means).
//!
//! Total exposure, the fifth metric the seed lists, has no threshold in `AlertThresholds`; the
//! exposure is reported in the margin summary and the risk crate limits it.

use std::collections::BTreeMap;

use kestrel_model::config::AlertThresholds;
use kestrel_model::order::PositionSide;
use kestrel_model::{Money, Rate};

use super::{AlertKind, Category, Raised, Severity};
use crate::arith;

/// The kinds one evaluation decides on (reconciliation and halts are decided elsewhere).
pub(crate) const RISK_KINDS: [AlertKind; 4] = [
    AlertKind::DailyDrawdown,
    AlertKind::MarginRatio,
    AlertKind::PositionSize,
    AlertKind::LiquidationProximity,
];

/// The figures the conditions read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RiskFigures<'a> {
    /// The fall from today's equity peak, percent.
    pub daily_drawdown_pct: Rate,
    /// Margin balance over exposure, percent (`None` without exposure).
    pub margin_level_pct: Option<Rate>,
    /// Every open leg.
    pub legs: Vec<LegRisk<'a>>,
}

/// One open leg's risk figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LegRisk<'a> {
    /// The symbol.
    pub symbol: &'a str,
    /// The leg.
    pub position_side: PositionSide,
    /// |mark × qty|.
    pub value: Money,
    /// |mark − liquidation| / mark, percent (`None` without a liquidation price or mark).
    pub liquidation_distance_pct: Option<Rate>,
}

/// The conditions that hold.
pub(crate) fn evaluate(figures: &RiskFigures<'_>, limits: &AlertThresholds) -> Vec<Raised> {
    let mut raised = Vec::new();
    if figures.daily_drawdown_pct > limits.max_daily_drawdown_pct {
        raised.push(Raised {
            kind: AlertKind::DailyDrawdown,
            subject: None,
            severity: Severity::Error,
            category: Category::Pnl,
            message: format!(
                "daily drawdown {}% exceeds max_daily_drawdown_pct {}%",
                figures.daily_drawdown_pct, limits.max_daily_drawdown_pct
            ),
        });
    }
    if let Some(level) = figures
        .margin_level_pct
        .filter(|level| *level < limits.min_margin_ratio_pct)
    {
        raised.push(Raised {
            kind: AlertKind::MarginRatio,
            subject: None,
            severity: Severity::Warning,
            category: Category::Risk,
            message: format!(
                "margin ratio (margin balance / exposure) {level}% is below min_margin_ratio_pct {}%",
                limits.min_margin_ratio_pct
            ),
        });
    }
    raised.extend(position_sizes(&figures.legs, limits.max_position_size_usdt));
    raised.extend(liquidation_proximity(
        &figures.legs,
        limits.liquidation_proximity_pct,
    ));
    raised
}

/// Symbols whose legs together are worth more than `max`.
fn position_sizes(legs: &[LegRisk<'_>], max: Money) -> Vec<Raised> {
    let mut per_symbol: BTreeMap<&str, Money> = BTreeMap::new();
    for leg in legs {
        let value = per_symbol.entry(leg.symbol).or_insert(Money::ZERO);
        *value = arith::add(*value, leg.value);
    }
    per_symbol
        .into_iter()
        .filter(|(_, value)| *value > max)
        .map(|(symbol, value)| Raised {
            kind: AlertKind::PositionSize,
            subject: Some(symbol.to_owned()),
            severity: Severity::Warning,
            category: Category::Position,
            message: format!(
                "{symbol} position value {value} USDT exceeds max_position_size_usdt {max} USDT"
            ),
        })
        .collect()
}

/// Legs whose mark is within `limit` percent of their liquidation price.
fn liquidation_proximity(legs: &[LegRisk<'_>], limit: Rate) -> Vec<Raised> {
    legs.iter()
        .filter_map(|leg| {
            let distance = leg.liquidation_distance_pct.filter(|d| *d < limit)?;
            let subject = match leg.position_side {
                PositionSide::Both => leg.symbol.to_owned(),
                side => format!("{} {side:?}", leg.symbol),
            };
            Some(Raised {
                kind: AlertKind::LiquidationProximity,
                message: format!(
                    "{subject} mark is {distance}% from the liquidation price \
                     (liquidation_proximity_pct {limit}%)"
                ),
                subject: Some(subject),
                severity: Severity::Critical,
                category: Category::Risk,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(text: &str) -> Rate {
        Rate::parse(text).unwrap()
    }

    fn quiet() -> RiskFigures<'static> {
        RiskFigures {
            daily_drawdown_pct: Rate::ZERO,
            margin_level_pct: None,
            legs: vec![],
        }
    }

    #[test]
    fn thresholds_are_exceeded_strictly() {
        let limits = AlertThresholds::default();
        let mut figures = quiet();
        figures.daily_drawdown_pct = rate("5");
        figures.margin_level_pct = Some(rate("20"));
        assert_eq!(evaluate(&figures, &limits), vec![]);
        figures.daily_drawdown_pct = rate("5.00000001");
        figures.margin_level_pct = Some(rate("19.99999999"));
        let kinds: Vec<_> = evaluate(&figures, &limits).iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [AlertKind::DailyDrawdown, AlertKind::MarginRatio]);
    }

    #[test]
    fn position_size_adds_up_the_legs_of_a_symbol() {
        let limits = AlertThresholds::default();
        let leg = |side, value: &str| LegRisk {
            symbol: "BTCUSDT",
            position_side: side,
            value: Money::parse(value).unwrap(),
            liquidation_distance_pct: Some(rate("4.9")),
        };
        let figures = RiskFigures {
            legs: vec![
                leg(PositionSide::Long, "30000"),
                leg(PositionSide::Short, "20000.01"),
            ],
            ..quiet()
        };
        let raised = evaluate(&figures, &limits);
        assert_eq!(raised[0].kind, AlertKind::PositionSize);
        assert_eq!(raised[0].subject.as_deref(), Some("BTCUSDT"));
        assert_eq!(
            raised[0].message,
            "BTCUSDT position value 50000.01 USDT exceeds max_position_size_usdt 50000 USDT"
        );
        let near: Vec<_> = raised[1..].iter().map(|r| r.subject.clone()).collect();
        assert_eq!(
            near,
            [
                Some("BTCUSDT Long".to_owned()),
                Some("BTCUSDT Short".to_owned())
            ]
        );
    }
}
