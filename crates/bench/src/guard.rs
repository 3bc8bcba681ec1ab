//! The CI guard against regressions on the write path: short runs of `bench orders` and `bench
//! http`, failing when a ratio falls more than a quarter below the figure recorded in
//! BENCHMARKS.md. Ratios only (each run measures its peer beside it), since the machine is noisy;
//! for the same reason a ratio below its floor is measured again, up to `ATTEMPTS` times in all,
//! and the best run counts: a real regression fails every attempt.

use std::collections::BTreeMap;
use std::path::Path;

/// A ratio may fall this far below its recorded figure.
const DROP_MAX: f64 = 0.25;
const ATTEMPTS: usize = 3;
/// The line in BENCHMARKS.md that records a guarded figure: `guard <name> <ratio>`.
const PREFIX: &str = "guard ";

/// The guarded figures recorded in `text`, by name.
fn recorded(text: &str) -> anyhow::Result<BTreeMap<String, f64>> {
    let mut figures = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix(PREFIX) else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(name), Some(value), None) = (words.next(), words.next(), words.next()) else {
            anyhow::bail!("a guard line is `guard <name> <ratio>`: {line:?}");
        };
        let value: f64 = value
            .parse()
            .map_err(|_| anyhow::anyhow!("not a ratio in {line:?}"))?;
        anyhow::ensure!(value > 0.0, "a recorded ratio is positive: {line:?}");
        figures.insert(name.to_owned(), value);
    }
    Ok(figures)
}

pub(crate) async fn run(record: &Path, orders: usize, seconds: u64) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(record)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", record.display()))?;
    let figures = recorded(&text)?;
    let figure = |name: &str| {
        figures.get(name).copied().ok_or_else(|| {
            anyhow::anyhow!(
                "{} records no `guard {name} <ratio>` line",
                record.display()
            )
        })
    };
    let (orders_recorded, http_recorded) = (figure("orders")?, figure("http")?);
    let mut failed = Vec::new();
    for (name, recorded) in [("orders", orders_recorded), ("http", http_recorded)] {
        let floor = recorded * (1.0 - DROP_MAX);
        let mut best = 0.0f64;
        for attempt in 1..=ATTEMPTS {
            let ratio = match name {
                "orders" => crate::orders::run(orders, 256).await?.full,
                _ => crate::http::run(64, seconds, false).await?,
            };
            best = best.max(ratio);
            println!(
                "guard {name}: ratio {ratio:.3} (attempt {attempt}), recorded {recorded:.3}, floor {floor:.3}"
            );
            if best >= floor {
                break;
            }
        }
        if best < floor {
            failed.push(format!(
                "{name}: best ratio {best:.3} is more than {:.0}% below the recorded {recorded:.3}",
                DROP_MAX * 100.0
            ));
        }
    }
    anyhow::ensure!(failed.is_empty(), "regression: {}", failed.join("; "));
    println!(
        "guard: orders and http within {:.0}% of their recorded ratios",
        DROP_MAX * 100.0
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_guard_lines_and_refuses_malformed_ones() {
        let figures =
            super::recorded("# x\n\n```\nguard orders 0.41\n  guard http 0.12\n```\n").unwrap();
        assert_eq!(figures["orders"], 0.41);
        assert_eq!(figures["http"], 0.12);
        assert!(super::recorded("guard orders\n").is_err());
        assert!(super::recorded("guard orders fast\n").is_err());
        assert!(super::recorded("guard orders 0\n").is_err());
    }
}
