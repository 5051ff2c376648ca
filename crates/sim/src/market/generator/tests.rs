//! The generator's specification: determinism, grid discipline, the statistics of its price
//! process and event rates, post-only safety, and a market that stays alive against a toy
//! matching venue.

// Tests compute statistics of the generated market in f64.
#![allow(clippy::float_arithmetic)]

use std::collections::{BTreeMap, VecDeque};

use kestrel_model::{Level, Price, Qty, Rate, Side};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::sampling::{self, NormalSampler};
use super::*;

const MS: u64 = 1_000_000;
const SECOND: u64 = 1_000_000_000;
/// A start time in the Unix epoch range, as the simulator will use.
const START_NS: u64 = 1_723_161_600 * SECOND;

fn btc() -> GeneratorConfig {
    GeneratorConfig::binance_usdm("BTCUSDT").unwrap()
}

fn generator(config: GeneratorConfig, seed: u64) -> Generator {
    Generator::new(config, seed, START_NS).unwrap()
}

/// Steps `generator` at the given offsets (ns after the start) against a fixed book.
fn run(
    generator: &mut Generator,
    steps: impl IntoIterator<Item = u64>,
    view: &BookTop,
) -> Vec<TimedAction> {
    let mut out = Vec::new();
    for offset in steps {
        generator.step(START_NS + offset, view, &mut out);
    }
    out
}

fn every(interval_ns: u64, until_ns: u64) -> impl Iterator<Item = u64> {
    (1..=until_ns / interval_ns).map(move |i| i * interval_ns)
}

fn level(price: &str, qty: &str) -> Level {
    Level::new(Price::parse(price).unwrap(), Qty::parse(qty).unwrap())
}

/// A book some way from the fair price, so that clamping and pulling are exercised.
fn fixed_view() -> BookTop {
    BookTop {
        best_bid: Some(level("59990.0", "1.5")),
        best_ask: Some(level("60010.0", "2.0")),
    }
}

#[test]
fn same_seed_gives_identical_actions() {
    let a = run(
        &mut generator(btc(), 7),
        every(10 * MS, 30 * SECOND),
        &fixed_view(),
    );
    let b = run(
        &mut generator(btc(), 7),
        every(10 * MS, 30 * SECOND),
        &fixed_view(),
    );
    assert!(a.len() > 5_000, "only {} actions in 30 s", a.len());
    assert_eq!(a, b);
}

#[test]
fn different_seeds_give_different_actions() {
    let a = run(
        &mut generator(btc(), 7),
        every(10 * MS, 10 * SECOND),
        &fixed_view(),
    );
    let b = run(
        &mut generator(btc(), 8),
        every(10 * MS, 10 * SECOND),
        &fixed_view(),
    );
    assert_ne!(a, b);
}

#[test]
fn step_granularity_does_not_change_the_timeline() {
    let until = 20 * SECOND;
    let fine = run(&mut generator(btc(), 3), every(MS, until), &fixed_view());
    let coarse = run(
        &mut generator(btc(), 3),
        every(100 * MS, until),
        &fixed_view(),
    );
    let one_call = run(&mut generator(btc(), 3), [until], &fixed_view());
    let mut irregular = ChaCha8Rng::seed_from_u64(99);
    let mut offsets = Vec::new();
    let mut at = 0;
    while at < until {
        at = (at + sampling::pick(sampling::uniform(&mut irregular), 300) as u64 * MS).min(until);
        offsets.push(at);
    }
    let jittered = run(&mut generator(btc(), 3), offsets, &fixed_view());
    let mut by_advance = generator(btc(), 3);
    let mut advanced = Vec::new();
    for _ in 0..until / (50 * MS) {
        by_advance.advance(50 * MS, &fixed_view(), &mut advanced);
    }
    assert!(fine.len() > 3_000);
    assert_eq!(fine, coarse);
    assert_eq!(fine, one_call);
    assert_eq!(fine, jittered);
    assert_eq!(fine, advanced);
}

#[test]
fn actions_are_in_time_order_and_start_with_the_initial_book() {
    let actions = run(
        &mut generator(btc(), 1),
        every(100 * MS, 10 * SECOND),
        &BookTop::EMPTY,
    );
    assert!(actions.windows(2).all(|w| w[0].time_ns <= w[1].time_ns));
    let initial = actions.iter().take_while(|a| a.time_ns == START_NS).count();
    assert_eq!(initial, 400, "200 initial quotes per side");
    assert!(
        actions
            .iter()
            .all(|a| a.time_ns > START_NS - 1 && a.time_ns <= START_NS + 10 * SECOND)
    );
}

#[test]
fn every_price_and_qty_is_on_the_instrument_grid_and_positive() {
    for symbol in kestrel_model::instrument::PRESET_SYMBOLS {
        let config = GeneratorConfig::binance_usdm(symbol).unwrap();
        let instrument = config.instrument.clone();
        let mut generator = generator(config, 11);
        let mut venue = ToyVenue::default();
        let actions = venue.run(&mut generator, 10 * MS, 60 * SECOND, |_, _| {});
        let (filter, lot, market) = (
            instrument.price_filter,
            instrument.lot_size,
            instrument.market_lot_size,
        );
        for timed in &actions {
            match timed.action {
                MarketAction::Place { price, qty, .. } => {
                    assert!(
                        price.is_positive() && price.is_on_step(filter.tick_size, filter.min_price)
                    );
                    assert!(
                        price >= filter.min_price && price <= filter.max_price,
                        "{symbol} {price}"
                    );
                    assert!(qty >= lot.min_qty && qty <= lot.max_qty, "{symbol} {qty}");
                    assert!(qty.is_on_step(lot.step_size, lot.min_qty), "{symbol} {qty}");
                }
                MarketAction::Take { qty, .. } => {
                    assert!(
                        qty >= market.min_qty && qty <= market.max_qty,
                        "{symbol} {qty}"
                    );
                    assert!(
                        qty.is_on_step(market.step_size, market.min_qty),
                        "{symbol} {qty}"
                    );
                }
                MarketAction::Cancel { .. } => {}
            }
        }
        assert!(
            actions.len() > 10_000,
            "{symbol}: {} actions",
            actions.len()
        );
    }
}

/// Lag-`lag` autocorrelation of `series`.
fn autocorrelation(series: &[f64], lag: usize) -> f64 {
    let n = series.len() as f64;
    let mean = series.iter().sum::<f64>() / n;
    let var = series.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let cov = series
        .windows(lag + 1)
        .map(|w| (w[0] - mean) * (w[lag] - mean))
        .sum::<f64>()
        / n;
    cov / var
}

#[test]
fn fair_price_shows_volatility_clustering_and_stays_positive() {
    let config = VolatilityConfig::garch(0.5);
    let mut process = PriceProcess::new(&config, 60_000.0, ChaCha8Rng::seed_from_u64(5));
    let returns: Vec<f64> = (0..200_000).map(|_| process.advance()).collect();
    assert!(process.price() > 0.0 && process.price().is_finite());
    let squared: Vec<f64> = returns.iter().map(|r| r * r).collect();
    // GARCH(1,1) with α = 0.05, β = 0.94 has a lag-1 autocorrelation of r² of about 0.155,
    // decaying like (α + β)^k; independent returns would give 0 ± 0.003.
    let lag1 = autocorrelation(&squared, 1);
    let lag10 = autocorrelation(&squared, 10);
    assert!(
        lag1 > 0.08 && lag1 < 0.3,
        "lag-1 autocorrelation of r² = {lag1}"
    );
    assert!(lag10 > 0.05, "lag-10 autocorrelation of r² = {lag10}");
    let plain = autocorrelation(&returns, 1);
    assert!(
        plain.abs() < 0.02,
        "returns themselves are uncorrelated: {plain}"
    );
}

#[test]
fn realised_volatility_matches_the_configured_annual_vol() {
    let config = VolatilityConfig::garch(0.8);
    let mut process = PriceProcess::new(&config, 150.0, ChaCha8Rng::seed_from_u64(6));
    let steps = 400_000;
    let variance = (0..steps).map(|_| process.advance().powi(2)).sum::<f64>() / f64::from(steps);
    let annual = (variance / config.step_variance()).sqrt() * 0.8;
    assert!((annual - 0.8).abs() < 0.08, "realised annual vol {annual}");
}

#[test]
fn event_rates_match_the_configuration() {
    let config = btc();
    let seconds = 600.0;
    let mut generator = generator(config.clone(), 21);
    run(&mut generator, every(SECOND, 600 * SECOND), &fixed_view());
    let stats = *generator.stats();
    let within = |count: u64, rate: f64, tolerance: f64| {
        let expected = rate * seconds;
        ((count as f64) - expected).abs() <= expected * tolerance
    };
    assert!(
        within(stats.quote_events, config.makers.quote_rate_per_s, 0.03),
        "{stats:?}"
    );
    assert!(
        within(stats.cancel_events, config.makers.cancel_rate_per_s, 0.05),
        "{stats:?}"
    );
    assert!(
        within(stats.take_events, config.takers.rate_per_s, 0.1),
        "{stats:?}"
    );
    assert!(
        within(stats.pull_events, config.pull.rate_per_s, 0.1),
        "{stats:?}"
    );
    assert_eq!(stats.price_updates, 6_000);
}

#[test]
fn post_only_orders_never_cross_the_supplied_book() {
    let mut generator = generator(btc(), 13);
    let mut draws = ChaCha8Rng::seed_from_u64(14);
    let mut out = Vec::new();
    let mut checked = 0;
    for step in 1..=20_000u64 {
        // A book whose touch wanders around the fair price, sometimes through it.
        let fair = generator.fair_price().raw();
        let shift = (sampling::uniform(&mut draws) * 4_000.0 - 2_000.0) as i64 * 10_000_000;
        let width = 1 + sampling::pick(sampling::uniform(&mut draws), 50) as i64;
        let bid = Price::from_raw(fair + shift - width * 10_000_000);
        let ask = Price::from_raw(fair + shift + width * 10_000_000);
        let view = BookTop {
            best_bid: Some(Level::new(bid, Qty::ONE)),
            best_ask: Some(Level::new(ask, Qty::ONE)),
        };
        out.clear();
        generator.step(START_NS + step * 5 * MS, &view, &mut out);
        for timed in &out {
            if let MarketAction::Place {
                side,
                price,
                post_only,
                ..
            } = timed.action
            {
                match side {
                    Side::Buy => assert!(price < ask, "bid {price} crosses ask {ask}"),
                    Side::Sell => assert!(price > bid, "ask {price} crosses bid {bid}"),
                }
                checked += usize::from(post_only);
            }
        }
    }
    assert!(checked > 10_000, "{checked} post-only orders checked");
}

#[test]
fn reference_prices_follow_the_documented_rules() {
    let start = START_NS - 30 * SECOND; // a funding time (00:00 UTC) falls half-way
    let mut generator = Generator::new(btc(), 17, start).unwrap();
    let before = generator.reference_prices();
    assert_eq!(before.next_funding_time_ms, START_NS / MS);
    assert_eq!(
        before.funding_rate,
        Rate::from_raw(10_000),
        "no premium yet: the interest rate"
    );
    let mut out = Vec::new();
    let mut last_estimate = Rate::ZERO;
    for step in 1..=600u64 {
        // The book trades 10 bp above the fair price: a premium of +0.1 %.
        let fair = generator.fair_price().raw();
        let mid = fair + fair / 1_000;
        let view = BookTop {
            best_bid: Some(Level::new(Price::from_raw(mid - 10_000_000), Qty::ONE)),
            best_ask: Some(Level::new(Price::from_raw(mid + 10_000_000), Qty::ONE)),
        };
        let now = start + step * 100 * MS;
        if now == START_NS {
            last_estimate = generator.reference_prices().funding_rate;
        }
        generator.step(now, &view, &mut out);
    }
    let prices = generator.reference_prices();
    assert_eq!(prices.index_price, generator.fair_price());
    assert_eq!(prices.next_funding_time_ms, START_NS / MS + 8 * 3_600_000);
    // F = P + clamp(I − P, ±0.05 %) with P ≈ 0.1 % and I = 0.01 %: P − 0.05 % ≈ 0.05 %.
    let funding = prices.funding_rate.raw();
    assert!(
        (40_000..=60_000).contains(&funding),
        "funding {}",
        prices.funding_rate
    );
    assert!(
        last_estimate.raw() > 40_000,
        "settled at the funding time: {last_estimate}"
    );
    assert!(prices.last_funding_rate.raw() > 40_000, "{prices:?}");
    // Mark: median of index × (1 + F × time left), index × (1 + average basis), and the mid.
    let (index, mark) = (prices.index_price.raw(), prices.mark_price.raw());
    let mid = index + index / 1_000;
    assert!(
        mark > index && mark < mid,
        "index {index} < mark {mark} < mid {mid}"
    );
}

#[test]
fn client_tags_carry_agent_and_side() {
    let tag = make_tag(77, Side::Sell, 123_456);
    assert_eq!((tag_agent(tag), tag_side(tag)), (77, Side::Sell));
    let tag = make_tag(MAX_AGENTS, Side::Buy, u64::MAX);
    assert_eq!((tag_agent(tag), tag_side(tag)), (MAX_AGENTS, Side::Buy));
}

#[test]
fn fills_and_gone_orders_update_what_the_generator_tracks() {
    let mut generator = generator(btc(), 2);
    let mut out = Vec::new();
    generator.step(START_NS, &BookTop::EMPTY, &mut out);
    let resting = generator.resting_orders();
    assert_eq!(resting, 400);
    let MarketAction::Place {
        agent,
        client_tag,
        qty,
        side,
        ..
    } = out[0].action
    else {
        panic!("first action is a quote: {:?}", out[0]);
    };
    generator.on_filled(client_tag, qty);
    assert_eq!(
        generator.resting_orders(),
        resting - 1,
        "a full fill removes the order"
    );
    assert_eq!(
        generator.inventory(agent),
        Some(qty.try_mul_int(side.sign()).unwrap())
    );
    let MarketAction::Place {
        client_tag: gone, ..
    } = out[1].action
    else {
        panic!("second action is a quote");
    };
    generator.on_gone(gone);
    generator.on_gone(gone);
    assert_eq!(generator.resting_orders(), resting - 2);
    out.clear();
    generator.step(START_NS + 60 * SECOND, &BookTop::EMPTY, &mut out);
    let cancelled_again = out.iter().any(|timed| {
        matches!(timed.action, MarketAction::Cancel { client_tag, .. } if client_tag == gone)
    });
    assert!(!cancelled_again, "a gone order is never cancelled");
}

#[test]
fn invalid_configuration_is_refused_naming_the_field() {
    let mut config = btc();
    config.makers.quote_rate_per_s = -1.0;
    let error = Generator::new(config, 1, 0).unwrap_err().to_string();
    assert!(
        error.contains("BTCUSDT") && error.contains("makers.quote_rate_per_s"),
        "{error}"
    );
    let mut config = btc();
    config.volatility.garch_beta = 0.96;
    let error = Generator::new(config, 1, 0).unwrap_err().to_string();
    assert!(error.contains("garch_alpha + garch_beta"), "{error}");
    assert!(GeneratorConfig::binance_usdm("DOGEUSDT").is_none());
}

#[test]
fn portable_ln_and_exp_agree_with_std() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for _ in 0..100_000 {
        let x = sampling::exp(sampling::uniform(&mut rng) * 80.0 - 40.0);
        let (ours, std) = (sampling::ln(x), x.ln());
        assert!(
            (ours - std).abs() <= 4.0 * f64::EPSILON * std.abs().max(1.0),
            "ln {x}"
        );
        let y = sampling::uniform(&mut rng) * 1_400.0 - 700.0;
        let (ours, std) = (sampling::exp(y), y.exp());
        assert!(
            (ours - std).abs() <= 4.0 * f64::EPSILON * std,
            "exp {y}: {ours} vs {std}"
        );
    }
    assert_eq!(sampling::ln(1.0), 0.0);
    assert_eq!(sampling::exp(0.0), 1.0);
    assert!(sampling::ln(-1.0).is_nan() && sampling::ln(0.0) == f64::NEG_INFINITY);
    assert!((sampling::ln(f64::MIN_POSITIVE / 8.0) - (f64::MIN_POSITIVE / 8.0).ln()).abs() < 1e-12);
}

#[test]
fn normal_draws_have_unit_variance() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut normal = NormalSampler::default();
    let draws: Vec<f64> = (0..200_000).map(|_| normal.sample(&mut rng)).collect();
    let mean = draws.iter().sum::<f64>() / draws.len() as f64;
    let var = draws.iter().map(|z| z * z).sum::<f64>() / draws.len() as f64;
    assert!(
        mean.abs() < 0.01 && (var - 1.0).abs() < 0.02,
        "mean {mean}, var {var}"
    );
}

/// A price-time matching venue just good enough to run the generator against.
#[derive(Default)]
struct ToyVenue {
    bids: BTreeMap<Price, VecDeque<(u64, Qty)>>,
    asks: BTreeMap<Price, VecDeque<(u64, Qty)>>,
    orders: BTreeMap<u64, (Side, Price)>,
    trades: u64,
    rejected: u64,
}

impl ToyVenue {
    fn top(&self) -> BookTop {
        let sum = |queue: &VecDeque<(u64, Qty)>| {
            queue
                .iter()
                .fold(Qty::ZERO, |total, (_, qty)| total.try_add(*qty).unwrap())
        };
        BookTop {
            best_bid: self
                .bids
                .last_key_value()
                .map(|(p, q)| Level::new(*p, sum(q))),
            best_ask: self
                .asks
                .first_key_value()
                .map(|(p, q)| Level::new(*p, sum(q))),
        }
    }

    /// Steps the generator every `interval_ns` until `until_ns`, executing every action;
    /// `sample` sees the venue and the generator after each step.
    fn run(
        &mut self,
        generator: &mut Generator,
        interval_ns: u64,
        until_ns: u64,
        mut sample: impl FnMut(&Self, &Generator),
    ) -> Vec<TimedAction> {
        let mut all = Vec::new();
        let mut out = Vec::new();
        for offset in every(interval_ns, until_ns) {
            out.clear();
            generator.step(START_NS + offset, &self.top(), &mut out);
            for timed in &out {
                self.execute(timed.action, generator);
            }
            all.extend_from_slice(&out);
            sample(self, generator);
        }
        all
    }

    fn execute(&mut self, action: MarketAction, generator: &mut Generator) {
        match action {
            MarketAction::Place {
                client_tag,
                side,
                price,
                qty,
                ..
            } => {
                let crosses = match side {
                    Side::Buy => self
                        .asks
                        .first_key_value()
                        .is_some_and(|(ask, _)| price >= *ask),
                    Side::Sell => self
                        .bids
                        .last_key_value()
                        .is_some_and(|(bid, _)| price <= *bid),
                };
                if crosses {
                    self.rejected += 1;
                    generator.on_gone(client_tag);
                    return;
                }
                let book = if side == Side::Buy {
                    &mut self.bids
                } else {
                    &mut self.asks
                };
                book.entry(price).or_default().push_back((client_tag, qty));
                self.orders.insert(client_tag, (side, price));
            }
            MarketAction::Cancel { client_tag, .. } => {
                if let Some((side, price)) = self.orders.remove(&client_tag) {
                    let book = if side == Side::Buy {
                        &mut self.bids
                    } else {
                        &mut self.asks
                    };
                    if let Some(queue) = book.get_mut(&price) {
                        queue.retain(|(tag, _)| *tag != client_tag);
                        if queue.is_empty() {
                            book.remove(&price);
                        }
                    }
                }
            }
            MarketAction::Take {
                client_tag,
                side,
                qty,
                ..
            } => {
                let filled = self.take(side, qty, generator);
                generator.on_filled(client_tag, filled);
            }
        }
    }

    fn take(&mut self, side: Side, mut left: Qty, generator: &mut Generator) -> Qty {
        let mut filled = Qty::ZERO;
        while left.is_positive() {
            let best = match side {
                Side::Buy => self.asks.first_entry(),
                Side::Sell => self.bids.last_entry(),
            };
            let Some(mut level) = best else { break };
            let Some((tag, resting)) = level.get_mut().front_mut() else {
                break;
            };
            let fill = left.min(*resting);
            let tag = *tag;
            *resting = resting.try_sub(fill).unwrap();
            let done = resting.is_zero();
            if done {
                level.get_mut().pop_front();
                self.orders.remove(&tag);
            }
            if level.get().is_empty() {
                level.remove();
            }
            generator.on_filled(tag, fill);
            left = left.try_sub(fill).unwrap();
            filled = filled.try_add(fill).unwrap();
            self.trades += 1;
        }
        filled
    }
}

#[test]
fn market_stays_two_sided_deep_and_near_the_fair_price() {
    for symbol in kestrel_model::instrument::PRESET_SYMBOLS {
        let config = GeneratorConfig::binance_usdm(symbol).unwrap();
        assert_market_is_alive(symbol, config);
    }
}

fn assert_market_is_alive(symbol: &str, config: GeneratorConfig) {
    let tick = config.instrument.tick_size().raw() as f64;
    let mut generator = generator(config, 31);
    let mut venue = ToyVenue::default();
    let (mut samples, mut spreads, mut gaps_bps, mut one_sided) = (0u64, Vec::new(), Vec::new(), 0);
    venue.run(&mut generator, 10 * MS, 300 * SECOND, |venue, generator| {
        samples += 1;
        let top = venue.top();
        let (Some(bid), Some(ask)) = (top.best_bid, top.best_ask) else {
            one_sided += 1;
            return;
        };
        spreads.push((ask.price.raw() - bid.price.raw()) as f64 / tick);
        let mid = top.mid_f64().unwrap();
        gaps_bps.push((mid / generator.fair_price_f64() - 1.0).abs() * 1e4);
    });
    spreads.sort_by(f64::total_cmp);
    gaps_bps.sort_by(f64::total_cmp);
    let median_spread = spreads[spreads.len() / 2];
    let p99_gap = gaps_bps[gaps_bps.len() * 99 / 100];
    let (bid_levels, ask_levels) = (venue.bids.len(), venue.asks.len());
    eprintln!(
        "{symbol}: samples {samples}, one-sided {one_sided}, median spread {median_spread} ticks, \
         median gap {} bp, p99 gap {p99_gap} bp, levels {bid_levels}/{ask_levels}, trades {}, \
         resting {}, stats {:?}",
        gaps_bps[gaps_bps.len() / 2],
        venue.trades,
        generator.resting_orders(),
        generator.stats()
    );
    assert_eq!(one_sided, 0, "the book is always two-sided");
    assert_eq!(venue.rejected, 0, "no order ever crossed the venue's book");
    assert!(median_spread <= 20.0, "median spread {median_spread} ticks");
    assert!(
        p99_gap < 5.0,
        "mid within 5 bp of the fair price 99 % of the time: {p99_gap}"
    );
    assert!(
        bid_levels >= 200 && ask_levels >= 200,
        "levels {bid_levels}/{ask_levels}"
    );
    assert!(venue.trades > 1_000, "{} trades", venue.trades);
    assert_eq!(
        generator.resting_orders(),
        venue.orders.len(),
        "generator and venue agree"
    );
}
