//! lunas's BG/NBD and Gamma-Gamma fits against the Python `lifetimes` package (its
//! `BetaGeoFitter` and `GammaGammaFitter`, installed into the test peers' venv), on the same
//! CDNOW summary built by lunas from the raw sample.

mod support;

use lunas_core::clv::{BgNbd, GammaGamma, Purchase, summarise};

#[test]
fn the_fits_agree_with_lifetimes_on_cdnow() {
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/fixtures/cdnow/CDNOW_sample.txt"
    ))
    .unwrap();
    let purchases: Vec<Purchase> = sample
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
        .collect();
    let buyers: Vec<_> = summarise(&purchases, jiff::civil::date(1997, 9, 30))
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("summary.csv");
    let mut text = String::from("frequency,recency,T,monetary_value\n");
    for s in &buyers {
        text.push_str(&format!("{},{},{},{}\n", s.x, s.t_x, s.t, s.monetary));
    }
    std::fs::write(&csv, text).unwrap();
    let out = std::process::Command::new(support::python::python())
        .arg(support::python::peers_dir().join("lifetimes_peer.py"))
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (bgnbd, _) = BgNbd::fit(&buyers);
    let (gamma, _) = GammaGamma::fit(&buyers);
    for (name, ours) in [
        ("r", bgnbd.r),
        ("alpha", bgnbd.alpha),
        ("a", bgnbd.a),
        ("b", bgnbd.b),
        ("p", gamma.p),
        ("q", gamma.q),
        ("v", gamma.v),
    ] {
        let theirs = peer[name].as_f64().unwrap();
        assert!(
            (ours - theirs).abs() <= 1e-3 * theirs.abs().max(1.0),
            "{name}: lunas {ours}, lifetimes {theirs}"
        );
    }
}
