//! The BG/NBD fit on the CDNOW sample (2,357 buyers), lunas against the `lifetimes` package's
//! `BetaGeoFitter` (0.11.3, installed into a venv under `target/`) in the same run; the issue asks
//! for at least ten times its speed. Both fit the same summary file; each takes its best of five.

use std::time::Instant;

use lunas_core::clv::{BgNbd, Summary};

const SUMMARY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../core/tests/fixtures/cdnow/cdnow_customers_summary.csv"
);
const RUNS: usize = 5;
const SPEEDUP_MIN: f64 = 10.0;

const PEER: &str = r#"
import sys, time, json
import pandas as pd
from lifetimes import BetaGeoFitter
summary = pd.read_csv(sys.argv[1])
best = None
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    fitter = BetaGeoFitter(penalizer_coef=0.0)
    fitter.fit(summary["frequency"], summary["recency"], summary["T"])
    took = time.perf_counter() - started
    best = took if best is None else min(best, took)
p = fitter.params_
print(json.dumps({"seconds": best, "r": p["r"], "alpha": p["alpha"], "a": p["a"], "b": p["b"]}))
"#;

/// The venv with `lifetimes`, made on first use.
fn peer_python() -> anyhow::Result<std::path::PathBuf> {
    let venv =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/lifetimes-venv");
    let python = venv.join("bin/python");
    let ready = std::process::Command::new(&python)
        .args(["-c", "import lifetimes"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        println!("installing lifetimes 0.11.3 into {} …", venv.display());
        let made = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()?;
        anyhow::ensure!(made.success(), "python3 -m venv failed");
        let installed = std::process::Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "lifetimes==0.11.3", "setuptools<81"])
            .status()?;
        anyhow::ensure!(installed.success(), "pip install lifetimes failed");
    }
    Ok(python)
}

pub(crate) fn run() -> anyhow::Result<()> {
    println!(
        "== bench clv: BG/NBD fitted to the CDNOW sample (2,357 buyers), lunas against lifetimes' BetaGeoFitter, best of {RUNS} ({})",
        crate::machine()
    );
    let buyers: Vec<Summary> = std::fs::read_to_string(SUMMARY)?
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<f64> = line.split(',').map(|v| v.parse().unwrap_or(0.0)).collect();
            Summary {
                x: f[1],
                t_x: f[2],
                t: f[3],
                monetary: 0.0,
            }
        })
        .collect();
    let mut best = f64::INFINITY;
    let mut fitted = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        fitted = Some(BgNbd::fit(&buyers));
        best = best.min(started.elapsed().as_secs_f64());
    }
    let (model, ll) = fitted.expect("fitted at least once");
    println!(
        "lunas:     {:.2} ms  r {:.4} alpha {:.4} a {:.4} b {:.4} log-likelihood {ll:.2}",
        best * 1000.0,
        model.r,
        model.alpha,
        model.a,
        model.b
    );
    let out = std::process::Command::new(peer_python()?)
        .args(["-c", PEER, SUMMARY, &RUNS.to_string()])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "lifetimes failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peer: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let peer_seconds = peer["seconds"].as_f64().unwrap_or(f64::NAN);
    println!(
        "lifetimes: {:.2} ms  r {:.4} alpha {:.4} a {:.4} b {:.4}",
        peer_seconds * 1000.0,
        peer["r"].as_f64().unwrap_or(f64::NAN),
        peer["alpha"].as_f64().unwrap_or(f64::NAN),
        peer["a"].as_f64().unwrap_or(f64::NAN),
        peer["b"].as_f64().unwrap_or(f64::NAN)
    );
    let speedup = peer_seconds / best;
    println!(
        "lunas is {speedup:.1}× lifetimes — {:.2} of the {SPEEDUP_MIN}× bound {}",
        speedup / SPEEDUP_MIN,
        if speedup >= SPEEDUP_MIN {
            "OK"
        } else {
            "BELOW BOUND"
        }
    );
    Ok(())
}
