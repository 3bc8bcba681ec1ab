//! The FAQ matcher on a held-out set of informal Indonesian questions written for this test
//! (`tests/data/faq/questions.tsv`) against a fashion shop's entries (`entries.toml`): of what it
//! answers at the default threshold at least 90% must be the right entry. Recall is printed.

use lunas_core::faq::{DEFAULT_THRESHOLD, FaqEntry, Index};

/// A question's wanted entry, the matcher's best entry and confidence, and the text.
type Found<'a> = (Option<&'a str>, Option<(String, f64)>, &'a str);

#[derive(serde::Deserialize)]
struct Entries {
    entry: Vec<FaqEntry>,
}

fn load() -> (Vec<FaqEntry>, Vec<(Option<String>, String)>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/faq");
    let entries: Entries =
        toml::from_str(&std::fs::read_to_string(format!("{dir}/entries.toml")).unwrap()).unwrap();
    let entries: Vec<FaqEntry> = entries
        .entry
        .into_iter()
        .map(|e| e.checked().unwrap())
        .collect();
    let questions = std::fs::read_to_string(format!("{dir}/questions.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, text) = l.split_once('\t').expect("id<TAB>text");
            ((id != "-").then(|| id.to_owned()), text.to_owned())
        })
        .collect();
    (entries, questions)
}

#[test]
fn precision_at_the_threshold_is_at_least_nine_in_ten() {
    let (entries, questions) = load();
    let in_scope = questions.iter().filter(|(id, _)| id.is_some()).count();
    assert!(in_scope >= 200, "{in_scope} held-out questions");
    for (id, text) in &questions {
        let said = text.to_lowercase();
        assert!(
            !entries
                .iter()
                .any(|e| e.questions.iter().any(|q| q.to_lowercase() == said)),
            "{text:?} ({id:?}) is one of the entries' own questions"
        );
    }
    let index = Index::new(&entries);
    let found: Vec<Found> = questions
        .iter()
        .map(|(id, text)| {
            let best = index
                .best(text)
                .map(|m| (entries[m.entry].id.clone(), m.score));
            (id.as_deref(), best, text.as_str())
        })
        .collect();
    println!("threshold  answered  right  precision  recall");
    for threshold in [0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7] {
        let (answered, right) = tally(&found, threshold);
        println!(
            "{threshold:>9.2}  {answered:>8}  {right:>5}  {:>9.3}  {:>6.3}",
            right as f64 / answered.max(1) as f64,
            right as f64 / in_scope as f64
        );
    }
    for (want, got, text) in &found {
        if let Some((id, score)) = got
            && *score >= DEFAULT_THRESHOLD
            && Some(id.as_str()) != *want
        {
            println!("wrong: {text:?} → {id} ({score:.2}), wanted {want:?}");
        }
    }
    let (answered, right) = tally(&found, DEFAULT_THRESHOLD);
    let precision = right as f64 / answered as f64;
    let recall = right as f64 / in_scope as f64;
    println!(
        "at the default threshold {DEFAULT_THRESHOLD}: precision {precision:.3} ({right} of {answered} answered), recall {recall:.3} of {in_scope}"
    );
    assert!(precision >= 0.9, "precision {precision:.3}");
    assert!(recall >= 0.5, "recall {recall:.3}");
}

fn tally(found: &[Found], threshold: f64) -> (usize, usize) {
    let mut answered = 0;
    let mut right = 0;
    for (want, got, _) in found {
        if let Some((id, score)) = got
            && *score >= threshold
        {
            answered += 1;
            if Some(id.as_str()) == *want {
                right += 1;
            }
        }
    }
    (answered, right)
}
