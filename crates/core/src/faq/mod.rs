//! Answers to the questions buyers ask a hundred times a day. The seller keeps entries —
//! question variants, an answer, optionally a product — and a buyer's message is matched against
//! them by retrieval: its terms (`words::terms`: slang written out, stemmed, cities, sizes and
//! numbers as their kind) ranked against every variant by BM25, and the best variant's
//! confidence in 0..1 the idf-weighted overlap of the two (what share of the message's weight and
//! of the variant's weight they have in common). Below the shop's threshold nothing is answered:
//! the message waits for a person.

pub mod words;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// One FAQ entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaqEntry {
    pub id: String,
    /// The ways buyers ask it (at least one).
    pub questions: Vec<String>,
    /// What is answered; `{nama}`, `{harga}` and `{stok}` are filled from the product.
    pub answer: String,
    /// The product the entry is about, if any.
    pub sku: Option<String>,
}

/// Most entries a shop keeps, variants per entry, and characters of a question or an answer.
pub const ENTRIES_MAX: usize = 5_000;
pub const QUESTIONS_MAX: usize = 50;
pub const QUESTION_CHARS_MAX: usize = 300;
pub const ANSWER_CHARS_MAX: usize = 1_000;
/// Longest reply staff may write in a conversation.
pub const REPLY_CHARS_MAX: usize = 4_096;

/// The confidence below which a message waits for a person (the shop may raise or lower it):
/// at 0.5 nine in ten of the answers of the held-out test set are right.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// The placeholders an answer may use, filled from the entry's (or the message's) product.
pub const PLACEHOLDERS: [&str; 3] = ["{nama}", "{harga}", "{stok}"];

/// Why an entry cannot be kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaqError {
    #[error("an entry's id is 1 to 64 letters, digits, '-' or '_'")]
    BadId,
    #[error(
        "an entry needs 1 to {QUESTIONS_MAX} questions of 1 to {QUESTION_CHARS_MAX} characters"
    )]
    BadQuestions,
    #[error("the question {0:?} has no words to match (only greetings or particles)")]
    EmptyQuestion(String),
    #[error("the answer must be 1 to {ANSWER_CHARS_MAX} characters")]
    BadAnswer,
    #[error("the answer uses {0}, which is not one of {{nama}}, {{harga}}, {{stok}}")]
    UnknownPlaceholder(String),
    #[error("no product has the SKU {0:?}")]
    UnknownSku(String),
    #[error("a shop keeps at most {ENTRIES_MAX} FAQ entries")]
    TooMany,
    #[error("no such FAQ entry or message")]
    NotFound,
    #[error("a reply is 1 to {REPLY_CHARS_MAX} characters")]
    BadReply,
    #[error("WhatsApp did not take the reply: {0}")]
    NotSent(String),
    #[error("the message has no suggestion waiting")]
    NothingToSettle,
    #[error("the answer names a product and the message names none")]
    NeedsProduct,
}

impl FaqError {
    /// The stable code of the error in the API and on the dashboard.
    pub fn code(&self) -> &'static str {
        match self {
            FaqError::BadId
            | FaqError::BadQuestions
            | FaqError::EmptyQuestion(_)
            | FaqError::BadAnswer
            | FaqError::UnknownPlaceholder(_) => "invalid_faq",
            FaqError::UnknownSku(_) => "unknown_sku",
            FaqError::TooMany => "too_many_faq_entries",
            FaqError::NotFound => "not_found",
            FaqError::BadReply => "invalid_reply",
            FaqError::NotSent(_) => "reply_not_sent",
            FaqError::NothingToSettle => "nothing_to_settle",
            FaqError::NeedsProduct => "needs_product",
        }
    }
}

impl FaqEntry {
    /// Checks an entry as the seller wrote it, trimming its texts and dropping repeated
    /// questions.
    pub fn checked(mut self) -> Result<FaqEntry, FaqError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !id_ok {
            return Err(FaqError::BadId);
        }
        let mut questions: Vec<String> = Vec::new();
        for q in &self.questions {
            let q = q.trim();
            if q.is_empty() || q.chars().count() > QUESTION_CHARS_MAX || q.contains('\0') {
                return Err(FaqError::BadQuestions);
            }
            if words::terms(q).is_empty() {
                return Err(FaqError::EmptyQuestion(q.to_owned()));
            }
            if !questions.iter().any(|have| have.eq_ignore_ascii_case(q)) {
                questions.push(q.to_owned());
            }
        }
        if questions.is_empty() || questions.len() > QUESTIONS_MAX {
            return Err(FaqError::BadQuestions);
        }
        self.questions = questions;
        self.answer = self.answer.trim().to_owned();
        if self.answer.is_empty()
            || self.answer.chars().count() > ANSWER_CHARS_MAX
            || self.answer.contains('\0')
        {
            return Err(FaqError::BadAnswer);
        }
        let mut rest = self.answer.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
            let placeholder = &rest[open..close];
            if !PLACEHOLDERS.contains(&placeholder) {
                return Err(FaqError::UnknownPlaceholder(placeholder.to_owned()));
            }
            rest = &rest[close..];
        }
        self.sku = self
            .sku
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        Ok(self)
    }

    /// Whether the answer needs a product to be said.
    pub fn needs_product(&self) -> bool {
        PLACEHOLDERS.iter().any(|p| self.answer.contains(p))
    }
}

/// What an answer says of a product.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductFacts {
    pub name: String,
    /// The price as the buyer reads it ("Rp 149.000").
    pub price: String,
    pub available: i64,
}

/// An answer with its product's facts filled in.
pub fn render_answer(answer: &str, product: Option<&ProductFacts>) -> Option<String> {
    let needs = PLACEHOLDERS.iter().any(|p| answer.contains(p));
    match (needs, product) {
        (false, _) => Some(answer.to_owned()),
        (true, None) => None,
        (true, Some(p)) => Some(
            answer
                .replace("{nama}", &p.name)
                .replace("{harga}", &p.price)
                .replace("{stok}", &crate::messages::format_number(p.available)),
        ),
    }
}

/// The best entry for a message, and how sure the match is (0..1).
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Index of the entry in the list the index was built from.
    pub entry: usize,
    pub score: f64,
}

/// BM25's term-frequency saturation and length normalisation (the usual values).
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// How many of BM25's best variants are weighed for confidence.
const CANDIDATES: usize = 8;
/// The weight of a message's word that no question uses, as a share of the rarest word's: a
/// message about something the FAQ does not cover is less sure to be answered by it.
const UNKNOWN_SHARE: f64 = 0.6;

struct Variant {
    entry: u32,
    /// Distinct terms and their counts.
    terms: Vec<(u32, u16)>,
    len: f64,
    /// The sum of its distinct terms' idf.
    weight: f64,
}

/// An index of a shop's FAQ entries.
pub struct Index {
    terms: HashMap<String, u32>,
    idf: Vec<f64>,
    postings: Vec<Vec<(u32, u16)>>,
    variants: Vec<Variant>,
    average_len: f64,
    unknown_weight: f64,
}

impl Index {
    pub fn new(entries: &[FaqEntry]) -> Index {
        let mut terms: HashMap<String, u32> = HashMap::new();
        let mut postings: Vec<Vec<(u32, u16)>> = Vec::new();
        let mut entries_with: Vec<u32> = Vec::new();
        let mut last_entry_of_term: Vec<u32> = Vec::new();
        let mut variants = Vec::new();
        for (e, entry) in entries.iter().enumerate() {
            for question in &entry.questions {
                let said = words::terms(question);
                let mut counts: Vec<(u32, u16)> = Vec::new();
                for term in &said {
                    let next = terms.len() as u32;
                    let id = *terms.entry(term.clone()).or_insert(next);
                    if id == next {
                        postings.push(Vec::new());
                        entries_with.push(0);
                        last_entry_of_term.push(u32::MAX);
                    }
                    match counts.iter_mut().find(|(t, _)| *t == id) {
                        Some((_, n)) => *n = n.saturating_add(1),
                        None => counts.push((id, 1)),
                    }
                }
                let v = variants.len() as u32;
                for &(t, n) in &counts {
                    postings[t as usize].push((v, n));
                    if last_entry_of_term[t as usize] != e as u32 {
                        last_entry_of_term[t as usize] = e as u32;
                        entries_with[t as usize] += 1;
                    }
                }
                variants.push(Variant {
                    entry: e as u32,
                    len: said.len() as f64,
                    terms: counts,
                    weight: 0.0,
                });
            }
        }
        // Rarity counted by entries: an entry's many variants do not make its words common.
        let n = entries.len() as f64;
        let idf: Vec<f64> = entries_with
            .iter()
            .map(|&df| (1.0 + (n - df as f64 + 0.5) / (df as f64 + 0.5)).ln())
            .collect();
        for v in &mut variants {
            v.weight = v.terms.iter().map(|&(t, _)| idf[t as usize]).sum();
        }
        let average_len = if variants.is_empty() {
            1.0
        } else {
            variants.iter().map(|v| v.len).sum::<f64>() / variants.len() as f64
        };
        let unknown_weight = UNKNOWN_SHARE * (1.0 + (n + 0.5) / 0.5).ln();
        Index {
            terms,
            idf,
            postings,
            variants,
            average_len: average_len.max(1.0),
            unknown_weight,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.variants.is_empty()
    }

    /// The best entry for a text, or `None` when no question shares a word with it.
    pub fn best(&self, text: &str) -> Option<Match> {
        self.best_with(text, |_| false)
    }

    /// `best`, where a word of the text that no question uses and `neutral` names (a word of a
    /// product's name: "gamis rayon hitam ready?" asks what "ready kak?" asks) weighs nothing
    /// instead of counting against the match.
    pub fn best_with(&self, text: &str, neutral: impl Fn(&str) -> bool) -> Option<Match> {
        let mut query: Vec<Option<u32>> = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        let said = words::terms(text);
        for term in &said {
            if seen.contains(&term.as_str()) {
                continue;
            }
            seen.push(term);
            let known = self.terms.get(term).copied();
            if known.is_none() && neutral(term) {
                continue;
            }
            query.push(known);
        }
        let query_weight: f64 = query
            .iter()
            .map(|t| t.map_or(self.unknown_weight, |t| self.idf[t as usize]))
            .sum();
        if query_weight == 0.0 {
            return None;
        }
        // BM25 over the variants that share a term with the message.
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for &t in query.iter().flatten() {
            let idf = self.idf[t as usize];
            for &(v, tf) in &self.postings[t as usize] {
                let variant = &self.variants[v as usize];
                let tf = f64::from(tf);
                let norm = K1 * (1.0 - B + B * variant.len / self.average_len);
                *scores.entry(v).or_default() += idf * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        let mut ranked: Vec<(u32, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(CANDIDATES);
        let mut best: Option<Match> = None;
        for (v, _) in ranked {
            let variant = &self.variants[v as usize];
            let shared: f64 = variant
                .terms
                .iter()
                .filter(|(t, _)| query.contains(&Some(*t)))
                .map(|&(t, _)| self.idf[t as usize])
                .sum();
            let score = (2.0 * shared / (query_weight + variant.weight)).clamp(0.0, 1.0);
            if best.as_ref().is_none_or(|b| score > b.score) {
                best = Some(Match {
                    entry: variant.entry as usize,
                    score,
                });
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, questions: &[&str], answer: &str) -> FaqEntry {
        FaqEntry {
            id: id.into(),
            questions: questions.iter().map(|q| q.to_string()).collect(),
            answer: answer.into(),
            sku: None,
        }
    }

    #[test]
    fn a_message_finds_its_entry() {
        let entries = [
            entry("cod", &["bisa cod?", "bisa bayar di tempat?"], "Bisa kak"),
            entry(
                "ready",
                &["ready kak?", "stok masih ada?"],
                "{nama} ready {stok}",
            ),
            entry(
                "ongkir",
                &["ongkir ke kota saya berapa?"],
                "Tergantung kota",
            ),
        ];
        let index = Index::new(&entries);
        let best = index.best("bisa cod gak kak").unwrap();
        assert_eq!(best.entry, 0);
        assert!(best.score > 0.6, "{best:?}");
        assert_eq!(index.best("ongkir ke bdg brp").unwrap().entry, 2);
        assert_eq!(index.best("msh ada stoknya?").unwrap().entry, 1);
        assert!(index.best("hehe").is_none());
        // A product's name in the message is what it is about, not something else it asks.
        let about = index.best("gamis rayon hitam ready?").unwrap();
        let product_words = ["gamis", "rayon", "hitam"];
        let neutral = index
            .best_with("gamis rayon hitam ready?", |t| product_words.contains(&t))
            .unwrap();
        assert_eq!(neutral.entry, 1);
        assert!(
            neutral.score > 0.9 && about.score < 0.5,
            "{about:?} {neutral:?}"
        );
    }

    #[test]
    fn entries_are_checked() {
        let ok = entry(
            "cod-1",
            &[" bisa cod? ", "Bisa COD?", "cod bisa"],
            "Bisa {nama}",
        )
        .checked()
        .unwrap();
        assert_eq!(ok.questions, ["bisa cod?", "cod bisa"]);
        assert!(ok.needs_product());
        for (bad, error) in [
            (entry("a b", &["x"], "y"), FaqError::BadId),
            (entry("a", &[], "y"), FaqError::BadQuestions),
            (
                entry("a", &["halo kak"], "y"),
                FaqError::EmptyQuestion("halo kak".into()),
            ),
            (entry("a", &["cod"], " "), FaqError::BadAnswer),
            (
                entry("a", &["cod"], "harga {price}"),
                FaqError::UnknownPlaceholder("{price}".into()),
            ),
        ] {
            assert_eq!(bad.checked().unwrap_err(), error);
        }
    }

    #[test]
    fn answers_are_filled_from_the_product() {
        let facts = ProductFacts {
            name: "Kemeja Flanel".into(),
            price: "Rp 149.000".into(),
            available: 1200,
        };
        assert_eq!(
            render_answer("{nama} {harga}, sisa {stok}", Some(&facts)).unwrap(),
            "Kemeja Flanel Rp 149.000, sisa 1.200"
        );
        assert_eq!(render_answer("{stok}", None), None);
        assert_eq!(render_answer("Bisa", None).unwrap(), "Bisa");
    }
}
