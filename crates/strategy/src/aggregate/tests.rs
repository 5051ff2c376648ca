use proptest::prelude::*;

use super::*;
use crate::signal::{SignalIntent, Urgency};

fn signal(side: Side, strength_pct: i64) -> SignalIntent {
    let strength = Strength::new(Rate::from_raw(strength_pct * FIXED_ONE / 100)).unwrap();
    SignalIntent::new(side, strength, Urgency::Normal, "test")
}

fn pct(n: i64) -> Rate {
    Rate::from_int(n).unwrap()
}

fn rule(method: Aggregation, threshold: i64) -> AggregationRule {
    AggregationRule {
        method,
        threshold_pct: pct(threshold),
    }
}

fn electorate(voters: u32, total_weight: i64) -> Electorate {
    Electorate {
        voters,
        total_weight: pct(total_weight),
    }
}

fn ballots<'a>(signals: &'a [SignalIntent], weights: &[i64]) -> Vec<Ballot<'a>> {
    signals
        .iter()
        .zip(weights)
        .map(|(signal, w)| Ballot {
            signal,
            weight: pct(*w),
        })
        .collect()
}

#[test]
fn majority_buys_when_two_of_three_instances_vote_buy() {
    let s = [signal(Side::Buy, 100), signal(Side::Buy, 50)];
    let d = aggregate(
        rule(Aggregation::Majority, 50),
        electorate(3, 3),
        &ballots(&s, &[1, 1]),
    );
    let d = d.unwrap();
    assert_eq!(d.side, Side::Buy);
    assert_eq!(
        d.strength.rate(),
        Rate::from_raw(75_000_000),
        "mean of 1.0 and 0.5"
    );
    assert_eq!(d.lead, 0, "the strongest winner leads");
}

#[test]
fn majority_needs_more_than_half_so_abstainers_count_against() {
    let s = [signal(Side::Buy, 100)];
    let d = aggregate(
        rule(Aggregation::Majority, 50),
        electorate(2, 2),
        &ballots(&s, &[1]),
    );
    assert_eq!(d, None, "one vote of two is not more than 50%");
}

#[test]
fn majority_with_a_low_threshold_and_a_tied_vote_decides_nothing() {
    let s = [signal(Side::Buy, 100), signal(Side::Sell, 100)];
    let d = aggregate(
        rule(Aggregation::Majority, 30),
        electorate(3, 3),
        &ballots(&s, &[1, 1]),
    );
    assert_eq!(d, None);
}

#[test]
fn majority_with_a_low_threshold_picks_the_side_with_more_votes() {
    let s = [
        signal(Side::Sell, 40),
        signal(Side::Buy, 60),
        signal(Side::Sell, 90),
    ];
    let d = aggregate(
        rule(Aggregation::Majority, 30),
        electorate(4, 4),
        &ballots(&s, &[1, 1, 1]),
    );
    let d = d.unwrap();
    assert_eq!(d.side, Side::Sell);
    assert_eq!(d.lead, 2, "the 0.9 seller leads");
    assert!(d.contributed(0, Side::Sell) && !d.contributed(1, Side::Buy));
}

#[test]
fn weighted_counts_weight_times_strength_against_the_total_weight() {
    let s = [signal(Side::Buy, 100), signal(Side::Sell, 100)];
    let b = ballots(&s, &[3, 1]);
    let at_half = aggregate(rule(Aggregation::Weighted, 50), electorate(2, 4), &b);
    assert_eq!(at_half, None, "net 2 of 4 is exactly 50%, not more");
    let d = aggregate(rule(Aggregation::Weighted, 40), electorate(2, 4), &b).unwrap();
    assert_eq!(d.side, Side::Buy);
    assert_eq!(d.strength.rate(), Rate::from_raw(50_000_000));
}

#[test]
fn weighted_lets_a_heavy_weak_vote_beat_a_light_strong_one() {
    let s = [signal(Side::Sell, 100), signal(Side::Buy, 50)];
    let d = aggregate(
        rule(Aggregation::Weighted, 10),
        electorate(2, 5),
        &ballots(&s, &[1, 4]),
    );
    assert_eq!(d.map(|d| d.side), Some(Side::Buy), "4 × 0.5 beats 1 × 1.0");
}

#[test]
fn first_takes_the_first_signal_above_the_threshold_alone() {
    let s = [
        signal(Side::Sell, 30),
        signal(Side::Buy, 80),
        signal(Side::Buy, 90),
    ];
    let d = aggregate(
        rule(Aggregation::First, 50),
        electorate(3, 3),
        &ballots(&s, &[1, 1, 1]),
    );
    let d = d.unwrap();
    assert_eq!((d.side, d.lead, d.lead_only), (Side::Buy, 1, true));
    assert!(!d.contributed(2, Side::Buy), "only the first counts");
}

#[test]
fn no_ballots_decide_nothing() {
    for method in [
        Aggregation::Majority,
        Aggregation::Weighted,
        Aggregation::First,
    ] {
        assert_eq!(aggregate(rule(method, 0), electorate(3, 3), &[]), None);
    }
}

fn arb_ballots() -> impl Strategy<Value = Vec<(bool, i64, i64)>> {
    prop::collection::vec((any::<bool>(), 0i64..=100, 1i64..=5), 0..8)
}

fn arb_method() -> impl Strategy<Value = Aggregation> {
    prop_oneof![
        Just(Aggregation::Majority),
        Just(Aggregation::Weighted),
        Just(Aggregation::First)
    ]
}

proptest! {
    #[test]
    fn a_vote_only_ever_chooses_a_side_that_had_more_support(
        raw in arb_ballots(), method in arb_method(), threshold in 0i64..=100, extra in 0u32..3,
    ) {
        let signals: Vec<SignalIntent> = raw.iter()
            .map(|(buy, s, _)| signal(if *buy { Side::Buy } else { Side::Sell }, *s))
            .collect();
        let weights: Vec<i64> = raw.iter().map(|(_, _, w)| *w).collect();
        let b = ballots(&signals, &weights);
        let total: i64 = weights.iter().sum::<i64>() + i64::from(extra);
        let voters = u32::try_from(raw.len()).unwrap() + extra;
        let Some(d) = aggregate(rule(method, threshold), electorate(voters, total), &b) else {
            return Ok(());
        };
        prop_assert_eq!(b[d.lead].signal.side, d.side, "the lead voted for the winning side");
        let support = |side: Side| -> (usize, i128) {
            b.iter().filter(|x| x.signal.side == side).fold((0, 0), |(n, w), x| {
                (n + 1, w + i128::from(x.weight.raw()) * i128::from(x.signal.strength.rate().raw()))
            })
        };
        let (won, lost) = (support(d.side), support(d.side.opposite()));
        match method {
            Aggregation::Majority => prop_assert!(won.0 > lost.0),
            Aggregation::Weighted => prop_assert!(won.1 > lost.1),
            Aggregation::First => {
                let limit = i128::from(threshold) * i128::from(FIXED_ONE);
                let below =
                    |x: &Ballot<'_>| i128::from(x.signal.strength.rate().raw()) * 100 <= limit;
                prop_assert!(b[..d.lead].iter().all(below), "an earlier ballot was strong enough");
            }
        }
    }

    #[test]
    fn majority_and_weighted_do_not_depend_on_ballot_order(
        raw in arb_ballots(), threshold in 0i64..=100, weighted in any::<bool>(),
    ) {
        let method = if weighted { Aggregation::Weighted } else { Aggregation::Majority };
        let signals: Vec<SignalIntent> = raw.iter()
            .map(|(buy, s, _)| signal(if *buy { Side::Buy } else { Side::Sell }, *s))
            .collect();
        let weights: Vec<i64> = raw.iter().map(|(_, _, w)| *w).collect();
        let total: i64 = weights.iter().sum();
        let voters = u32::try_from(raw.len()).unwrap();
        let forward = ballots(&signals, &weights);
        let mut backward = forward.clone();
        backward.reverse();
        let e = electorate(voters, total);
        let a = aggregate(rule(method, threshold), e, &forward).map(|d| (d.side, d.strength));
        let z = aggregate(rule(method, threshold), e, &backward).map(|d| (d.side, d.strength));
        prop_assert_eq!(a, z);
    }
}
