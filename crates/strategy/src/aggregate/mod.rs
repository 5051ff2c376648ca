//! Signal aggregation for one symbol (seed 000 FR-SE-004), as pure functions.
//!
//! The engine collects, per market event, at most one entry signal from each voting instance of
//! the symbol (a [`Ballot`]) and asks [`aggregate`] for a [`Decision`]. The electorate is every
//! enabled, healthy, voting instance of the symbol, so an instance that says nothing abstains.
//! `threshold_pct` is `aggregation_threshold_pct` from the config; every comparison is strict
//! ("more than") and exact.
//!
//! - **majority**: a side wins when the instances voting for it are more than `threshold_pct`
//!   percent of the electorate. If both sides pass (a threshold below 50) the side with more
//!   votes wins, and a tie decides nothing. Combined strength: the winners' mean strength.
//! - **weighted**: each vote counts `weight × strength`, buys positive and sells negative; the
//!   side of the net sum wins when the net is more than `threshold_pct` percent of the
//!   electorate's total weight. Combined strength: that net share.
//! - **first**: the first ballot (in routing order) whose strength is more than `threshold_pct`
//!   percent wins alone. Combined strength: its strength.
//!
//! Only one side can come out of a vote, never both.

use kestrel_model::config::Aggregation;
use kestrel_model::money::{FIXED_ONE, Rate};
use kestrel_model::order::Side;

use crate::signal::{SignalIntent, Strength};

/// How a symbol's signals are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AggregationRule {
    /// The method.
    pub method: Aggregation,
    /// The share, in percent, a side (or a signal, for `first`) must exceed.
    pub threshold_pct: Rate,
}

/// Who may vote on a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Electorate {
    /// How many instances may vote.
    pub voters: u32,
    /// The sum of their weights.
    pub total_weight: Rate,
}

/// One instance's vote: its signal and its weight.
#[derive(Debug, Clone, Copy)]
pub struct Ballot<'a> {
    /// What the signal asks for.
    pub signal: &'a SignalIntent,
    /// The instance's configured weight.
    pub weight: Rate,
}

/// The outcome of a vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The winning side.
    pub side: Side,
    /// The combined strength.
    pub strength: Strength,
    /// Index of the lead ballot (the strongest winner, the first on a tie).
    pub lead: usize,
    /// Whether the lead is the only contributor (`first`); otherwise every ballot on `side`.
    pub lead_only: bool,
}

impl Decision {
    /// Whether ballot `index` (with `side`) contributed to the decision.
    #[must_use]
    pub fn contributed(&self, index: usize, side: Side) -> bool {
        if self.lead_only {
            index == self.lead
        } else {
            side == self.side
        }
    }
}

/// Decides one symbol's vote, or `None` when no side wins.
#[must_use]
pub fn aggregate(
    rule: AggregationRule,
    electorate: Electorate,
    ballots: &[Ballot<'_>],
) -> Option<Decision> {
    match rule.method {
        Aggregation::Majority => majority(rule.threshold_pct, electorate, ballots),
        Aggregation::Weighted => weighted(rule.threshold_pct, electorate, ballots),
        Aggregation::First => first(rule.threshold_pct, ballots),
    }
}

/// Whether `part / whole` is more than `threshold_pct` percent: `part × 100 > pct × whole`,
/// with `part` and `whole` on the same scale and `pct` an 8-decimal raw.
fn exceeds(part: i128, whole: i128, threshold_pct: Rate) -> bool {
    part.saturating_mul(100 * i128::from(FIXED_ONE))
        > i128::from(threshold_pct.raw()).saturating_mul(whole)
}

fn majority(threshold: Rate, electorate: Electorate, ballots: &[Ballot<'_>]) -> Option<Decision> {
    let voters = i128::from(electorate.voters);
    let count = |side| ballots.iter().filter(|b| b.signal.side == side).count() as i128;
    let (buys, sells) = (count(Side::Buy), count(Side::Sell));
    let buy_wins = exceeds(buys, voters, threshold);
    let sell_wins = exceeds(sells, voters, threshold);
    let side = match (buy_wins, sell_wins) {
        (true, false) => Side::Buy,
        (false, true) => Side::Sell,
        (true, true) if buys != sells => {
            if buys > sells {
                Side::Buy
            } else {
                Side::Sell
            }
        }
        _ => return None,
    };
    let winners = ballots.iter().filter(|b| b.signal.side == side);
    let (total, n) = winners.fold((0i128, 0i128), |(sum, n), b| {
        (sum + i128::from(b.signal.strength.rate().raw()), n + 1)
    });
    let strength = Strength::ratio(total, n.saturating_mul(i128::from(FIXED_ONE)));
    Some(Decision {
        side,
        strength,
        lead: lead(ballots, side)?,
        lead_only: false,
    })
}

fn weighted(threshold: Rate, electorate: Electorate, ballots: &[Ballot<'_>]) -> Option<Decision> {
    let net: i128 = ballots
        .iter()
        .map(|b| {
            let score = i128::from(b.weight.raw()) * i128::from(b.signal.strength.rate().raw());
            score * i128::from(b.signal.side.sign())
        })
        .sum();
    // `net` carries 16 decimals, the total weight 8: bring the total to the same scale.
    let whole = i128::from(electorate.total_weight.raw()) * i128::from(FIXED_ONE);
    if net == 0 || whole <= 0 || !exceeds(net.abs(), whole, threshold) {
        return None;
    }
    let side = if net > 0 { Side::Buy } else { Side::Sell };
    Some(Decision {
        side,
        strength: Strength::ratio(net.abs(), whole),
        lead: lead(ballots, side)?,
        lead_only: false,
    })
}

fn first(threshold: Rate, ballots: &[Ballot<'_>]) -> Option<Decision> {
    let one = i128::from(FIXED_ONE);
    let index = ballots
        .iter()
        .position(|b| exceeds(i128::from(b.signal.strength.rate().raw()), one, threshold))?;
    let signal = ballots.get(index)?.signal;
    Some(Decision {
        side: signal.side,
        strength: signal.strength,
        lead: index,
        lead_only: true,
    })
}

/// The strongest ballot on `side`, the first on a tie.
fn lead(ballots: &[Ballot<'_>], side: Side) -> Option<usize> {
    let mut best: Option<(usize, Strength)> = None;
    for (index, ballot) in ballots.iter().enumerate() {
        let strength = ballot.signal.strength;
        if ballot.signal.side == side && best.is_none_or(|(_, s)| strength > s) {
            best = Some((index, strength));
        }
    }
    best.map(|(index, _)| index)
}

#[cfg(test)]
mod tests;
