//! Who comes back: the customer-base models of Fader, Hardie & Lee. BG/NBD ("Counting Your
//! Customers the Easy Way", Marketing Science 24(2), 2005) for how often a buyer buys and whether
//! they are still a buyer (P(alive)); Gamma-Gamma ("RFM and CLV", Journal of Marketing Research
//! 42(4), 2005) for how much they spend. Both are fitted by maximum likelihood with Nelder-Mead
//! on the logarithms of the parameters (which keeps them positive), from each buyer's summary:
//! repeat purchases `x`, the time of the last one `t_x` and the time observed `t`, all counted
//! from the first purchase (weeks, as in the papers).
//!
//! The log-likelihoods are written with `lgamma` and `log-sum-exp`, never with the gamma function
//! or a ratio of powers, so that a buyer with hundreds of purchases neither overflows nor loses
//! precision.

use serde::Serialize;

/// One buyer's purchase history as the models read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Repeat purchases (purchases on one day count once; the first one is not a repeat).
    pub x: f64,
    /// When the last repeat purchase was, from the first purchase (0 without one).
    pub t_x: f64,
    /// How long the buyer was observed, from the first purchase.
    pub t: f64,
    /// The average value of the repeat purchases (0 without one).
    pub monetary: f64,
}

/// The BG/NBD model's parameters: purchase rates are Gamma(r, α) across buyers, the chance of
/// dropping out after a purchase Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

/// The Gamma-Gamma spend model's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

fn lgamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// `ln(e^a + e^b)` without overflow.
fn log_add_exp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + (-(a - b).abs()).exp().ln_1p()
}

impl BgNbd {
    /// The log-likelihood of one buyer's `x`, `t_x`, `t`.
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let a1 = lgamma(r + x) - lgamma(r) + r * alpha.ln();
        let a2 = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
        let a3 = -(r + x) * (alpha + t).ln();
        if x > 0.0 {
            let a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + t_x).ln();
            a1 + a2 + log_add_exp(a3, a4)
        } else {
            a1 + a2 + a3
        }
    }

    /// The log-likelihood of every buyer together.
    pub fn total_log_likelihood(&self, buyers: &[Summary]) -> f64 {
        buyers
            .iter()
            .map(|s| self.log_likelihood(s.x, s.t_x, s.t))
            .sum()
    }

    /// The chance a buyer with this history is still a buyer (has not dropped out).
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        // 1 / (1 + a/(b+x-1) · ((α+T)/(α+t_x))^(r+x)), in logs.
        let log_ratio = (a / (b + x - 1.0)).ln() + (r + x) * ((alpha + t) / (alpha + t_x)).ln();
        1.0 / (1.0 + log_ratio.exp())
    }

    /// The purchases a buyer with this history is expected to make in the next `horizon`.
    pub fn expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let z = horizon / (alpha + t + horizon);
        let hyp = hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let first = (a + b + x - 1.0) / (a - 1.0);
        let numerator = first * (1.0 - ((alpha + t) / (alpha + t + horizon)).powf(r + x) * hyp);
        let denominator = if x > 0.0 {
            1.0 + (a / (b + x - 1.0)) * ((alpha + t) / (alpha + t_x)).powf(r + x)
        } else {
            1.0
        };
        numerator / denominator
    }

    /// Fits the model to `buyers` by maximum likelihood; returns it with its log-likelihood.
    ///
    /// Buyers with the same history are counted once with their weight, and the terms that
    /// depend on `x` alone (the gamma functions) are computed once per distinct `x`: a step then
    /// costs a few logarithms per distinct history, not a dozen `lgamma`s per buyer. The search is
    /// BFGS on the parameters' logarithms with the log-likelihood's exact gradient (digamma
    /// functions), a few dozen steps where Nelder-Mead took over three hundred evaluations.
    pub fn fit(buyers: &[Summary]) -> (BgNbd, f64) {
        let groups = Groups::of(buyers);
        let objective = |p: &[f64; 4]| {
            let model = BgNbd {
                r: p[0].exp(),
                alpha: p[1].exp(),
                a: p[2].exp(),
                b: p[3].exp(),
            };
            let (ll, gradient) = groups.log_likelihood_and_gradient(&model);
            if ll.is_finite() && gradient.iter().all(|g| g.is_finite()) {
                (-ll, gradient.map(|g| -g))
            } else {
                (f64::INFINITY, [0.0; 4])
            }
        };
        let best = bfgs(objective, [0.0; 4]);
        let model = BgNbd {
            r: best[0].exp(),
            alpha: best[1].exp(),
            a: best[2].exp(),
            b: best[3].exp(),
        };
        (model, model.total_log_likelihood(buyers))
    }
}

/// Buyers' histories grouped by `x`, each distinct `(t_x, T)` with how many buyers have it, both
/// times by their index among the distinct times (few: whole days in weeks), whose
/// `ln(α + time)` a step computes once.
struct Groups {
    times: Vec<f64>,
    by_x: Vec<(f64, Vec<(usize, usize, f64)>)>,
}

impl Groups {
    fn of(buyers: &[Summary]) -> Groups {
        use std::collections::BTreeMap;
        let mut times: BTreeMap<u64, usize> = BTreeMap::new();
        let mut by_x: BTreeMap<u64, BTreeMap<(u64, u64), f64>> = BTreeMap::new();
        for s in buyers {
            for time in [s.t, s.t_x] {
                let next = times.len();
                times.entry(time.to_bits()).or_insert(next);
            }
            *by_x
                .entry(s.x.to_bits())
                .or_default()
                .entry((s.t_x.to_bits(), s.t.to_bits()))
                .or_default() += 1.0;
        }
        let mut distinct = vec![0.0; times.len()];
        for (t, i) in &times {
            distinct[*i] = f64::from_bits(*t);
        }
        Groups {
            by_x: by_x
                .into_iter()
                .map(|(x, histories)| {
                    let histories = histories
                        .into_iter()
                        .map(|((t_x, t), n)| (times[&t_x], times[&t], n))
                        .collect();
                    (f64::from_bits(x), histories)
                })
                .collect(),
            times: distinct,
        }
    }

    /// `total_log_likelihood`, term for term, over the groups (the gradient's test compares).
    #[cfg(test)]
    fn log_likelihood(&self, model: &BgNbd) -> f64 {
        let BgNbd { r, alpha, a, b } = *model;
        let (lg_r, lg_b, lg_ab, ln_alpha, ln_a) =
            (lgamma(r), lgamma(b), lgamma(a + b), alpha.ln(), a.ln());
        let ln_alpha_t: Vec<f64> = self.times.iter().map(|t| (alpha + t).ln()).collect();
        let mut total = 0.0;
        for (x, histories) in &self.by_x {
            let x = *x;
            let common = lgamma(r + x) - lg_r + r * ln_alpha + lg_ab + lgamma(b + x)
                - lg_b
                - lgamma(a + b + x);
            let dropout = (x > 0.0).then(|| ln_a - (b + x - 1.0).ln());
            for (t_x, t, n) in histories {
                let a3 = -(r + x) * ln_alpha_t[*t];
                let ll = match dropout {
                    Some(d) => log_add_exp(a3, d - (r + x) * ln_alpha_t[*t_x]),
                    None => a3,
                };
                total += n * (common + ll);
            }
        }
        total
    }

    /// The log-likelihood and its gradient with respect to the parameters' logarithms
    /// (`∂/∂ ln r = r ∂/∂r`, and so on).
    fn log_likelihood_and_gradient(&self, model: &BgNbd) -> (f64, [f64; 4]) {
        let BgNbd { r, alpha, a, b } = *model;
        let (lg_r, lg_b, lg_ab, ln_alpha, ln_a) =
            (lgamma(r), lgamma(b), lgamma(a + b), alpha.ln(), a.ln());
        let (dg_r, dg_b, dg_ab) = (digamma(r), digamma(b), digamma(a + b));
        let ln_alpha_t: Vec<f64> = self.times.iter().map(|t| (alpha + t).ln()).collect();
        let inv_alpha_t: Vec<f64> = self.times.iter().map(|t| 1.0 / (alpha + t)).collect();
        let mut total = 0.0;
        // ∂/∂r, ∂/∂α, ∂/∂a, ∂/∂b.
        let mut g = [0.0; 4];
        for (x, histories) in &self.by_x {
            let x = *x;
            let (dg_abx, dg_bx) = (digamma(a + b + x), digamma(b + x));
            let common = lgamma(r + x) - lg_r + r * ln_alpha + lg_ab + lgamma(b + x)
                - lg_b
                - lgamma(a + b + x);
            let mut weight = 0.0;
            let dropout = (x > 0.0).then(|| ln_a - (b + x - 1.0).ln());
            for &(t_x, t, n) in histories {
                weight += n;
                let a3 = -(r + x) * ln_alpha_t[t];
                match dropout {
                    Some(d) => {
                        let a4 = d - (r + x) * ln_alpha_t[t_x];
                        // log(e^a3 + e^a4), and the share each term has in it.
                        let e = (-(a3 - a4).abs()).exp();
                        let (w_big, w_small) = (1.0 / (1.0 + e), e / (1.0 + e));
                        let (w3, w4) = if a3 >= a4 {
                            (w_big, w_small)
                        } else {
                            (w_small, w_big)
                        };
                        total += n * (common + a3.max(a4) + e.ln_1p());
                        g[0] -= n * (w3 * ln_alpha_t[t] + w4 * ln_alpha_t[t_x]);
                        g[1] -= n * (r + x) * (w3 * inv_alpha_t[t] + w4 * inv_alpha_t[t_x]);
                        g[2] += n * w4 / a;
                        g[3] -= n * w4 / (b + x - 1.0);
                    }
                    None => {
                        total += n * (common + a3);
                        g[0] -= n * ln_alpha_t[t];
                        g[1] -= n * (r + x) * inv_alpha_t[t];
                    }
                }
            }
            g[0] += weight * (digamma(r + x) - dg_r + ln_alpha);
            g[1] += weight * r / alpha;
            g[2] += weight * (dg_ab - dg_abx);
            g[3] += weight * (dg_ab + dg_bx - dg_b - dg_abx);
        }
        (total, [g[0] * r, g[1] * alpha, g[2] * a, g[3] * b])
    }
}

/// The digamma function ψ (the derivative of `lgamma`) for x > 0: the recurrence up to 10, then
/// the asymptotic series (error below 1e-12).
fn digamma(mut x: f64) -> f64 {
    let mut result = 0.0;
    while x < 10.0 {
        result -= 1.0 / x;
        x += 1.0;
    }
    let inv2 = 1.0 / (x * x);
    result + x.ln()
        - 0.5 / x
        - inv2
            * (1.0 / 12.0
                - inv2 * (1.0 / 120.0 - inv2 * (1.0 / 252.0 - inv2 * (1.0 / 240.0 - inv2 / 132.0))))
}

/// Minimises `f` (its value and gradient) from `start` by BFGS with a backtracking line search
/// (Armijo's condition), the first step scaled to move no parameter by more than 1; stops when
/// the gradient is below 1e-7 of the value, when a step no longer changes the value, or after
/// 500 steps.
fn bfgs(f: impl Fn(&[f64; 4]) -> (f64, [f64; 4]), start: [f64; 4]) -> [f64; 4] {
    const N: usize = 4;
    let dot = |u: &[f64; N], v: &[f64; N]| u.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
    let mut x = start;
    let (mut fx, mut g) = f(&x);
    let largest = g.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
    // The inverse Hessian's estimate.
    let mut h = [[0.0; N]; N];
    for (i, row) in h.iter_mut().enumerate() {
        row[i] = 1.0 / largest;
    }
    for _ in 0..500 {
        if g.iter().all(|v| v.abs() <= 1e-7 * fx.abs().max(1.0)) {
            break;
        }
        let mut p = [0.0; N];
        for i in 0..N {
            p[i] = -dot(&h[i], &g);
        }
        let mut slope = dot(&g, &p);
        if slope >= 0.0 {
            // Not a descent direction: start the estimate again.
            h = [[0.0; N]; N];
            for (i, row) in h.iter_mut().enumerate() {
                row[i] = 1.0 / largest;
            }
            p = g.map(|v| -v / largest);
            slope = dot(&g, &p);
        }
        let mut t = 1.0;
        let (next, f_next, g_next) = loop {
            let mut candidate = x;
            for i in 0..N {
                candidate[i] += t * p[i];
            }
            let (f_candidate, g_candidate) = f(&candidate);
            if f_candidate <= fx + 1e-4 * t * slope || t < 1e-12 {
                break (candidate, f_candidate, g_candidate);
            }
            t *= 0.5;
        };
        if !f_next.is_finite() || f_next > fx {
            break;
        }
        let s: [f64; N] = std::array::from_fn(|i| next[i] - x[i]);
        let y: [f64; N] = std::array::from_fn(|i| g_next[i] - g[i]);
        let unchanged = (fx - f_next).abs() <= 1e-14 * fx.abs().max(1.0);
        (x, fx, g) = (next, f_next, g_next);
        if unchanged {
            break;
        }
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
            let rho = 1.0 / sy;
            let hy: [f64; N] = std::array::from_fn(|i| dot(&h[i], &y));
            let yhy = dot(&y, &hy);
            for i in 0..N {
                for j in 0..N {
                    h[i][j] +=
                        rho * ((1.0 + rho * yhy) * s[i] * s[j] - hy[i] * s[j] - s[i] * hy[j]);
                }
            }
        }
    }
    x
}

impl GammaGamma {
    /// The log-likelihood of a buyer's `x` repeat purchases of average value `monetary`.
    pub fn log_likelihood(&self, x: f64, monetary: f64) -> f64 {
        let GammaGamma { p, q, v } = *self;
        lgamma(p * x + q) - lgamma(p * x) - lgamma(q)
            + q * v.ln()
            + (p * x - 1.0) * monetary.ln()
            + (p * x) * x.ln()
            - (p * x + q) * (x * monetary + v).ln()
    }

    /// The average value a buyer with this history is expected to spend on a purchase.
    pub fn expected_spend(&self, x: f64, monetary: f64) -> f64 {
        let GammaGamma { p, q, v } = *self;
        let population = p * v / (q - 1.0);
        let weight = (q - 1.0) / (p * x + q - 1.0);
        weight * population + (1.0 - weight) * monetary
    }

    /// Fits the model to the buyers with at least one repeat purchase.
    pub fn fit(buyers: &[Summary]) -> (GammaGamma, f64) {
        let repeat: Vec<(f64, f64)> = buyers
            .iter()
            .filter(|s| s.x > 0.0 && s.monetary > 0.0)
            .map(|s| (s.x, s.monetary))
            .collect();
        let total = |model: &GammaGamma| -> f64 {
            repeat
                .iter()
                .map(|(x, m)| model.log_likelihood(*x, *m))
                .sum()
        };
        let objective = |p: &[f64]| {
            let ll = total(&GammaGamma {
                p: p[0].exp(),
                q: p[1].exp(),
                v: p[2].exp(),
            });
            if ll.is_finite() { -ll } else { f64::INFINITY }
        };
        let best = nelder_mead(objective, &[0.0, 0.0, 0.0]);
        let model = GammaGamma {
            p: best[0].exp(),
            q: best[1].exp(),
            v: best[2].exp(),
        };
        (model, total(&model))
    }
}

/// A purchase as a transaction file lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Purchase {
    pub customer: String,
    pub date: jiff::civil::Date,
    pub amount: f64,
}

/// Each buyer's summary as the models read it, from their purchases up to `calibration_end`
/// (inclusive): purchases on one day count once (their amounts added), times in weeks from the
/// buyer's first purchase, `monetary` the average of the repeat purchases' amounts. Buyers in
/// the order they first appear.
pub fn summarise(
    purchases: &[Purchase],
    calibration_end: jiff::civil::Date,
) -> Vec<(String, Summary)> {
    use std::collections::{BTreeMap, HashMap};
    let mut days: HashMap<&str, BTreeMap<jiff::civil::Date, f64>> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for p in purchases.iter().filter(|p| p.date <= calibration_end) {
        let entry = days.entry(p.customer.as_str()).or_insert_with(|| {
            order.push(p.customer.as_str());
            BTreeMap::new()
        });
        *entry.entry(p.date).or_default() += p.amount;
    }
    let weeks = |from: jiff::civil::Date, to: jiff::civil::Date| -> f64 {
        (to - from).get_days() as f64 / 7.0
    };
    order
        .into_iter()
        .map(|customer| {
            let by_day = &days[customer];
            let (&first, _) = by_day.iter().next().expect("a buyer has a purchase");
            let (&last, _) = by_day.iter().next_back().expect("a buyer has a purchase");
            let repeats: Vec<f64> = by_day.values().skip(1).copied().collect();
            let x = repeats.len() as f64;
            let monetary = if repeats.is_empty() {
                0.0
            } else {
                repeats.iter().sum::<f64>() / x
            };
            (
                customer.to_owned(),
                Summary {
                    x,
                    t_x: weeks(first, last),
                    t: weeks(first, calibration_end),
                    monetary,
                },
            )
        })
        .collect()
}

/// Gauss's hypergeometric function ₂F₁(a, b; c; z) for |z| < 1, by its series.
fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (mut term, mut sum) = (1.0, 1.0);
    for n in 0..10_000 {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() < 1e-15 * sum.abs() {
            break;
        }
    }
    sum
}

/// Minimises `f` from `start` by Nelder-Mead (the simplex method scipy's `minimize` uses by
/// default for these models), with the usual coefficients, until the simplex's values and points
/// agree (1e-7 in value, 1e-6 in the parameters' logarithms), or at most 20,000 steps.
fn nelder_mead(f: impl Fn(&[f64]) -> f64, start: &[f64]) -> Vec<f64> {
    let n = start.len();
    let mut simplex: Vec<Vec<f64>> = vec![start.to_vec()];
    for i in 0..n {
        let mut point = start.to_vec();
        point[i] += if point[i] == 0.0 {
            0.25
        } else {
            point[i] * 0.25
        };
        simplex.push(point);
    }
    let mut values: Vec<f64> = simplex.iter().map(|p| f(p)).collect();
    for _ in 0..20_000 {
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|i, j| values[*i].total_cmp(&values[*j]));
        simplex = order.iter().map(|i| simplex[*i].clone()).collect();
        values = order.iter().map(|i| values[*i]).collect();
        let spread = simplex[1..]
            .iter()
            .flat_map(|p| p.iter().zip(&simplex[0]).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        if (values[n] - values[0]).abs() <= 1e-7 && spread <= 1e-6 {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|d| simplex[..n].iter().map(|p| p[d]).sum::<f64>() / n as f64)
            .collect();
        let along = |t: f64| -> Vec<f64> {
            (0..n)
                .map(|d| centroid[d] + t * (simplex[n][d] - centroid[d]))
                .collect()
        };
        let reflected = along(-1.0);
        let fr = f(&reflected);
        if fr < values[0] {
            let expanded = along(-2.0);
            let fe = f(&expanded);
            if fe < fr {
                (simplex[n], values[n]) = (expanded, fe);
            } else {
                (simplex[n], values[n]) = (reflected, fr);
            }
        } else if fr < values[n - 1] {
            (simplex[n], values[n]) = (reflected, fr);
        } else {
            let (contracted, fc) = if fr < values[n] {
                let c = along(-0.5);
                let fc = f(&c);
                (c, fc)
            } else {
                let c = along(0.5);
                let fc = f(&c);
                (c, fc)
            };
            if fc < values[n].min(fr) {
                (simplex[n], values[n]) = (contracted, fc);
            } else {
                // Shrink towards the best point.
                for i in 1..=n {
                    let shrunk: Vec<f64> = (0..n)
                        .map(|d| simplex[0][d] + 0.5 * (simplex[i][d] - simplex[0][d]))
                        .collect();
                    values[i] = f(&shrunk);
                    simplex[i] = shrunk;
                }
            }
        }
    }
    let best = (0..=n)
        .min_by(|i, j| values[*i].total_cmp(&values[*j]))
        .expect("a simplex has points");
    simplex[best].clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two stability cases of pymc-marketing's tests.
    #[test]
    fn the_log_likelihood_is_stable_at_both_ends() {
        let model = BgNbd {
            r: 0.25,
            alpha: 4.0,
            a: 0.8,
            b: 2.5,
        };
        assert!((model.log_likelihood(0.0, 0.0, 40.0) - -0.59947382).abs() < 1e-7);
        assert!((model.log_likelihood(200.0, 38.0, 40.0) - 100.7957).abs() < 1e-4);
    }

    #[test]
    fn digamma_matches_known_values() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2, ψ(10) = H_9 − γ.
        let gamma = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + gamma).abs() < 1e-12);
        assert!((digamma(0.5) + gamma + 2.0 * 2f64.ln()).abs() < 1e-12);
        let h9: f64 = (1..=9).map(|k| 1.0 / k as f64).sum();
        assert!((digamma(10.0) - (h9 - gamma)).abs() < 1e-12);
    }

    #[test]
    fn the_gradient_is_the_log_likelihoods_slope() {
        let buyers = [
            Summary {
                x: 0.0,
                t_x: 0.0,
                t: 38.9,
                monetary: 0.0,
            },
            Summary {
                x: 2.0,
                t_x: 30.4,
                t: 38.9,
                monetary: 0.0,
            },
            Summary {
                x: 7.0,
                t_x: 35.0,
                t: 38.0,
                monetary: 0.0,
            },
            Summary {
                x: 1.0,
                t_x: 1.7,
                t: 32.0,
                monetary: 0.0,
            },
        ];
        let groups = Groups::of(&buyers);
        let at = [-0.9, 1.2, -0.3, 0.8];
        let model = |p: [f64; 4]| BgNbd {
            r: p[0].exp(),
            alpha: p[1].exp(),
            a: p[2].exp(),
            b: p[3].exp(),
        };
        let (ll, gradient) = groups.log_likelihood_and_gradient(&model(at));
        assert!((ll - groups.log_likelihood(&model(at))).abs() < 1e-10);
        for i in 0..4 {
            let h = 1e-6;
            let (mut up, mut down) = (at, at);
            up[i] += h;
            down[i] -= h;
            let slope = (groups.log_likelihood(&model(up)) - groups.log_likelihood(&model(down)))
                / (2.0 * h);
            assert!(
                (gradient[i] - slope).abs() < 1e-5 * slope.abs().max(1.0),
                "{i}: {} vs {slope}",
                gradient[i]
            );
        }
    }

    #[test]
    fn bfgs_finds_a_quadratic_minimum() {
        let best = bfgs(
            |p| {
                let v = (p[0] - 3.0).powi(2)
                    + 10.0 * (p[1] + 1.0).powi(2)
                    + p[2].powi(2)
                    + (p[3] - 0.5).powi(2);
                (
                    v,
                    [
                        2.0 * (p[0] - 3.0),
                        20.0 * (p[1] + 1.0),
                        2.0 * p[2],
                        2.0 * (p[3] - 0.5),
                    ],
                )
            },
            [0.0; 4],
        );
        for (got, want) in best.iter().zip([3.0, -1.0, 0.0, 0.5]) {
            assert!((got - want).abs() < 1e-5, "{best:?}");
        }
    }

    #[test]
    fn nelder_mead_finds_a_quadratic_minimum() {
        let best = nelder_mead(|p| (p[0] - 3.0).powi(2) + (p[1] + 1.0).powi(2), &[0.0, 0.0]);
        assert!((best[0] - 3.0).abs() < 1e-5 && (best[1] + 1.0).abs() < 1e-5);
    }

    #[test]
    fn a_buyer_without_repeats_is_alive() {
        let model = BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        assert_eq!(model.p_alive(0.0, 0.0, 38.86), 1.0);
        assert!(model.p_alive(2.0, 30.43, 38.86) > model.p_alive(2.0, 5.0, 38.86));
    }
}
