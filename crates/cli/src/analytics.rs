//! `lunas analytics fit`: BG/NBD and Gamma-Gamma fitted to a transaction file of any shop
//! (`customer,date,amount`, dates `YYYY-MM-DD`), printed as one JSON object. A file with a bad
//! row is refused whole, with every bad row's line and why.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use lunas_core::clv::{BgNbd, GammaGamma, Purchase, summarise};

#[derive(Subcommand)]
pub(crate) enum AnalyticsCommand {
    /// Fit BG/NBD (how often buyers buy, and whether they still do) and Gamma-Gamma (how much
    /// they spend) to a CSV of purchases with the header `customer,date,amount`, weeks as the
    /// time unit, and print the parameters as JSON.
    Fit {
        /// The transactions: `customer,date,amount`, dates `YYYY-MM-DD`.
        #[arg(long)]
        csv: PathBuf,
        /// The end of the calibration period (inclusive), `YYYY-MM-DD`; purchases after it are
        /// left out. Default: the last date in the file.
        #[arg(long)]
        calibration_end: Option<String>,
    },
}

/// Most bad rows listed.
const BAD_ROWS_SHOWN: usize = 20;

pub(crate) fn run(command: AnalyticsCommand) -> anyhow::Result<()> {
    let AnalyticsCommand::Fit {
        csv,
        calibration_end,
    } = command;
    let purchases = read(&csv)?;
    let end = match calibration_end {
        Some(raw) => raw
            .parse::<jiff::civil::Date>()
            .with_context(|| format!("--calibration-end {raw:?} is not a date like 1997-09-30"))?,
        None => purchases
            .iter()
            .map(|p| p.date)
            .max()
            .context("the file has no purchases")?,
    };
    let buyers: Vec<_> = summarise(&purchases, end)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    if buyers.is_empty() {
        bail!("no purchases on or before {end}");
    }
    let (bgnbd, log_likelihood) = BgNbd::fit(&buyers);
    let repeat = buyers.iter().filter(|b| b.x > 0.0).count();
    let gamma_gamma = (repeat > 0).then(|| GammaGamma::fit(&buyers).0);
    let answer = serde_json::json!({
        "customers": buyers.len(),
        "customers_with_repeat_purchases": repeat,
        "calibration_end": end.to_string(),
        "time_unit": "week",
        "bgnbd": {
            "r": bgnbd.r, "alpha": bgnbd.alpha, "a": bgnbd.a, "b": bgnbd.b,
            "log_likelihood": log_likelihood,
        },
        "gamma_gamma": gamma_gamma.map(|g| serde_json::json!({"p": g.p, "q": g.q, "v": g.v})),
    });
    println!("{answer}");
    Ok(())
}

/// Reads the file whole, or says which rows are bad.
fn read(path: &PathBuf) -> anyhow::Result<Vec<Purchase>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("{} cannot be read", path.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .with_context(|| {
                format!("the header has no `{name}` column (it needs customer,date,amount)")
            })
    };
    let (customer, date, amount) = (column("customer")?, column("date")?, column("amount")?);
    let mut purchases = Vec::new();
    let mut bad = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                bad.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let field = |i: usize| record.get(i).unwrap_or("");
        let who = field(customer);
        let when = field(date).parse::<jiff::civil::Date>();
        let much = field(amount).parse::<f64>();
        match (who.is_empty(), when, much) {
            (false, Ok(date), Ok(amount)) if amount.is_finite() && amount >= 0.0 => {
                purchases.push(Purchase {
                    customer: who.to_owned(),
                    date,
                    amount,
                })
            }
            (true, _, _) => bad.push(format!("line {line}: no customer")),
            (_, Err(_), _) => bad.push(format!(
                "line {line}: the date {:?} is not YYYY-MM-DD",
                field(date)
            )),
            _ => bad.push(format!(
                "line {line}: the amount {:?} is not a number of 0 or more",
                field(amount)
            )),
        }
    }
    if !bad.is_empty() {
        let shown: Vec<&String> = bad.iter().take(BAD_ROWS_SHOWN).collect();
        bail!(
            "{} row(s) did not read; nothing was fitted:\n{}",
            bad.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    Ok(purchases)
}
