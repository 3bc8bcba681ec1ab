//! lunas's stemming (Sastrawi's algorithm in `sastrawi-rs`, over lunas's own root words) against
//! PySastrawi over the same roots, on 500 words (`core/tests/data/faq/stem_words.txt`). The
//! Rust port prefers some longer roots and stems some forms PySastrawi leaves (`mengeluarkan`:
//! `luar` against `keluar`; `berrajut`: PySastrawi `rajut`); at most 10 of 500 may differ.

mod support;

#[test]
fn stems_agree_with_pysastrawi_on_500_words() {
    let core = concat!(env!("CARGO_MANIFEST_DIR"), "/../core");
    let roots = format!("{core}/src/faq/roots.txt");
    let words = format!("{core}/tests/data/faq/stem_words.txt");
    let out = std::process::Command::new(support::python::python())
        .arg(support::python::peers_dir().join("sastrawi_peer.py"))
        .args([&roots, &words])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peer: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(peer.len(), 500);
    let mut differ = Vec::new();
    for (word, theirs) in &peer {
        let ours = lunas_core::faq::words::sastrawi_stem(word);
        if &ours != theirs {
            differ.push(format!("{word}: lunas {ours}, PySastrawi {theirs}"));
        }
    }
    println!(
        "{} of 500 words stem alike; differing:\n{}",
        500 - differ.len(),
        differ.join("\n")
    );
    assert!(differ.len() <= 10, "{} words differ", differ.len());
}
