//! Random draws for the generator and the portable math they rest on.
//!
//! The generator must give the same actions for the same seed on every platform, so nothing
//! here calls the C library's `log`/`exp` (whose last bit may differ between libm builds):
//! [`ln`] and [`exp`] are written with `+ − × ÷` and `sqrt` only, which IEEE 754 rounds
//! exactly, so their results are bit-identical wherever Rust runs. They are accurate to a
//! few units in the last place, which is plenty for statistics.
//!
//! Uniforms come from the raw 64-bit output of a seeded ChaCha stream (53 high bits), so the
//! draws do not depend on `rand`'s distribution code either.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

/// ln 2 split, as in fdlibm, into a high part with 32 trailing zero bits (so `k × LN2_HI` is
/// exact for the exponents we meet) and the remainder.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const LN2: f64 = std::f64::consts::LN_2;
const SQRT_2: f64 = std::f64::consts::SQRT_2;
/// 2⁻⁵³: the spacing of the uniforms drawn by [`uniform`].
const UNIT: f64 = 1.0 / 9_007_199_254_740_992.0;

/// A uniform draw in `[0, 1)` with 53 random bits.
#[allow(clippy::float_arithmetic)] // statistics: scaling random bits to [0, 1)
pub(crate) fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * UNIT
}

/// `N` uniforms at once, so that an event consumes the same number of draws whatever branch
/// it takes (keeping the stream aligned across runs that differ only in the book they see).
pub(crate) fn uniforms<const N: usize>(rng: &mut ChaCha8Rng) -> [f64; N] {
    std::array::from_fn(|_| uniform(rng))
}

/// An exponential variate with mean `mean`, from a uniform `u` in `[0, 1)` (inverse CDF).
#[allow(clippy::float_arithmetic)] // statistics: inverse-CDF sampling
pub(crate) fn exponential(u: f64, mean: f64) -> f64 {
    -ln(1.0 - u) * mean
}

/// A Pareto variate with scale 1 and tail index `alpha` (`P(X > x) = x^-alpha`, `x ≥ 1`),
/// from a uniform `u` in `[0, 1)`.
#[allow(clippy::float_arithmetic)] // statistics: inverse-CDF sampling
pub(crate) fn pareto(u: f64, alpha: f64) -> f64 {
    exp(-ln(1.0 - u) / alpha)
}

/// Index `0..len` chosen by a uniform `u` in `[0, 1)`; 0 when `len` is 0.
#[allow(clippy::float_arithmetic)] // statistics: scaling a uniform to an index
pub(crate) fn pick(u: f64, len: usize) -> usize {
    ((u * len as f64) as usize).min(len.saturating_sub(1))
}

/// Standard normal variates by Marsaglia's polar method, which needs only `ln` and `sqrt`;
/// it makes them in pairs and keeps the second for the next call.
#[derive(Debug, Clone, Default)]
pub(crate) struct NormalSampler {
    spare: Option<f64>,
}

impl NormalSampler {
    /// The next standard normal variate.
    #[allow(clippy::float_arithmetic)] // statistics: the polar method
    pub(crate) fn sample(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        if let Some(spare) = self.spare.take() {
            return spare;
        }
        loop {
            let x = 2.0 * uniform(rng) - 1.0;
            let y = 2.0 * uniform(rng) - 1.0;
            let s = x * x + y * y;
            if s > 0.0 && s < 1.0 {
                let factor = (-2.0 * ln(s) / s).sqrt();
                self.spare = Some(y * factor);
                return x * factor;
            }
        }
    }
}

/// Natural logarithm, bit-identical on every platform. `NaN` for negative or `NaN` input,
/// `-inf` for zero, `+inf` for `+inf`.
#[allow(clippy::float_arithmetic)] // portable math for the price process
pub(crate) fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    // x = m × 2^e with m in [√½, √2): ln x = e ln 2 + ln m.
    let (mut m, mut e) = split_exponent(x);
    if m > SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln m = 2 atanh(s) = 2 (s + s³/3 + s⁵/5 + …) with s = (m − 1)/(m + 1), |s| ≤ 0.1716.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut series = 0.0;
    for k in (0..=12).rev() {
        series = series * s2 + 1.0 / f64::from(2 * k + 1);
    }
    let e = f64::from(e);
    e * LN2_HI + (e * LN2_LO + 2.0 * s * series)
}

/// `x = m × 2^e` with `m` in `[1, 2)`, for a finite positive `x` (subnormals included).
#[allow(clippy::float_arithmetic)] // portable math for the price process
fn split_exponent(x: f64) -> (f64, i32) {
    const MANTISSA: u64 = (1 << 52) - 1;
    let (x, bias) = if x < f64::MIN_POSITIVE {
        (x * 18_014_398_509_481_984.0, 54) // × 2⁵⁴ brings a subnormal into the normal range
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32 - 1023 - bias;
    let mantissa = f64::from_bits((bits & MANTISSA) | (1023 << 52));
    (mantissa, exponent)
}

/// The exponential function, bit-identical on every platform; overflows to `+inf` and
/// underflows to `0`.
#[allow(clippy::float_arithmetic)] // portable math for the price process
pub(crate) fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    // Beyond these e^x is not a finite non-zero f64 (max ≈ e^709.8, min subnormal ≈ e^-745.1).
    if x > 710.0 {
        return f64::INFINITY;
    }
    if x < -746.0 {
        return 0.0;
    }
    // x = k ln 2 + r with |r| ≤ ln 2 / 2: e^x = 2^k e^r, e^r by its Taylor series.
    let k = (x / LN2).round();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut sum = 1.0;
    for n in (1..=17).rev() {
        sum = 1.0 + sum * r / f64::from(n);
    }
    scale_by_power_of_two(sum, k as i32)
}

/// `value × 2^k`, exact while the result stays normal.
#[allow(clippy::float_arithmetic)] // portable math for the price process
fn scale_by_power_of_two(mut value: f64, mut k: i32) -> f64 {
    let power = |k: i32| f64::from_bits(((k + 1023) as u64) << 52);
    while k > 1000 {
        value *= power(1000);
        k -= 1000;
    }
    while k < -1000 {
        value *= power(-1000);
        k += 1000;
    }
    value * power(k)
}
