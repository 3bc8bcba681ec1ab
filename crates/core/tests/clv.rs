//! BG/NBD and Gamma-Gamma against the values Fader, Hardie & Lee published for the CDNOW sample
//! (fixtures in `tests/fixtures/cdnow/`, see `SOURCE.md` there).

use lunas_core::clv::{BgNbd, GammaGamma, Purchase, Summary, summarise};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cdnow");

fn close(got: f64, published: f64, tolerance: f64, what: &str) {
    assert!(
        (got - published).abs() <= tolerance,
        "{what}: {got} against the published {published}"
    );
}

fn sample_purchases() -> Vec<Purchase> {
    std::fs::read_to_string(format!("{FIXTURES}/CDNOW_sample.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            Purchase {
                customer: f[1].to_owned(),
                date: jiff::civil::Date::strptime("%Y%m%d", f[2]).unwrap(),
                amount: f[4].parse().unwrap(),
            }
        })
        .collect()
}

#[test]
fn bg_nbd_reproduces_the_published_cdnow_estimates() {
    let buyers: Vec<Summary> =
        std::fs::read_to_string(format!("{FIXTURES}/cdnow_customers_summary.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|line| {
                let f: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
                Summary {
                    x: f[1],
                    t_x: f[2],
                    t: f[3],
                    monetary: 0.0,
                }
            })
            .collect();
    assert_eq!(buyers.len(), 2357);
    let (model, ll) = BgNbd::fit(&buyers);
    close(model.r, 0.243, 0.0005, "r");
    close(model.alpha, 4.414, 0.0005, "alpha");
    close(model.a, 0.793, 0.0005, "a");
    close(model.b, 2.426, 0.0005, "b");
    close(ll, -9582.4, 0.05, "log-likelihood");
}

#[test]
fn the_summary_of_the_sample_is_the_published_summary() {
    let end = jiff::civil::date(1997, 9, 30);
    let summaries = summarise(&sample_purchases(), end);
    let published =
        std::fs::read_to_string(format!("{FIXTURES}/cdnow_customers_summary.csv")).unwrap();
    assert_eq!(summaries.len(), 2357);
    for (line, (_, s)) in published.lines().skip(1).zip(&summaries) {
        let f: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        assert_eq!(s.x, f[1], "{line}");
        close(s.t_x, f[2], 0.005, "recency");
        close(s.t, f[3], 0.005, "T");
    }
}

#[test]
fn gamma_gamma_reproduces_the_published_cdnow_estimates() {
    let end = jiff::civil::date(1997, 9, 30);
    let buyers: Vec<Summary> = summarise(&sample_purchases(), end)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(buyers.iter().filter(|s| s.x > 0.0).count(), 946);
    let (model, _) = GammaGamma::fit(&buyers);
    close(model.p, 6.25, 0.005, "p");
    close(model.q, 3.74, 0.005, "q");
    close(model.v, 15.44, 0.005, "v");
}
