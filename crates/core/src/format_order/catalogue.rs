//! Matching a product as a buyer wrote it to the catalogue: by SKU, or by the closest name.

use std::collections::HashMap;

use serde::Serialize;

use crate::Sku;

/// Products compared in full with one line: those sharing its rarest words.
const CANDIDATES_MAX: usize = 48;

/// Largest catalogue a line that shares no word with any product is compared with whole.
const FULL_SCAN_PRODUCTS_MAX: usize = 1000;

/// How alike a line and a product name must be (0 to 1) to be taken as that product.
pub const NAME_SCORE_MIN: f64 = 0.72;

/// How a draft line found its product.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The line names the SKU itself.
    Sku,
    /// The line names the product, as close as [`NAME_SCORE_MIN`] or closer.
    Name,
}

/// The products a paste is matched against, indexed once.
#[derive(Debug, Default)]
pub struct Catalogue {
    entries: Vec<Entry>,
    /// A normalised SKU (letters and digits only) → its entry.
    by_sku: HashMap<String, usize>,
    /// A word of a normalised name → the entries whose name has it.
    by_word: HashMap<String, Vec<usize>>,
}

#[derive(Debug)]
struct Entry {
    sku: Sku,
    /// Lower case, words of letters and digits separated by one space.
    name: String,
    /// The same words in sorted order, for lines that name them in another order.
    sorted: String,
    /// The words, sorted, each once.
    words: Vec<String>,
}

impl MatchedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Sku => "sku",
            MatchedBy::Name => "name",
        }
    }
}

impl Catalogue {
    /// Indexes `products` (SKU and name, a variant's name with its variant).
    pub fn new(products: impl IntoIterator<Item = (Sku, String)>) -> Catalogue {
        let mut catalogue = Catalogue::default();
        for (sku, name) in products {
            let index = catalogue.entries.len();
            let name = normalise(&name);
            for word in name.split(' ').filter(|w| !w.is_empty()) {
                let list = catalogue.by_word.entry(word.to_owned()).or_default();
                if list.last() != Some(&index) {
                    list.push(index);
                }
            }
            catalogue.by_sku.insert(sku_key(sku.as_str()), index);
            let mut words: Vec<String> = name.split(' ').map(str::to_owned).collect();
            words.sort_unstable();
            words.dedup();
            catalogue.entries.push(Entry {
                sku,
                sorted: sorted_words(&name),
                words,
                name,
            });
        }
        catalogue
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The products' names (lower case, letters and digits).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// The product `phrase` names: by its SKU, or by the closest name at or above
    /// [`NAME_SCORE_MIN`]; with how alike they are.
    pub fn find(&self, phrase: &str) -> Option<(&Sku, MatchedBy, f64)> {
        let key = sku_key(phrase);
        if let Some(&index) = self.by_sku.get(&key) {
            return Some((&self.entries[index].sku, MatchedBy::Sku, 1.0));
        }
        // A SKU written inside the line ("GAMIS-HTM-L 2 pcs" was cut already, "kode GAMIS-HTM-L").
        for word in phrase.split_whitespace() {
            if word.len() >= 3
                && let Some(&index) = self.by_sku.get(&sku_key(word))
            {
                return Some((&self.entries[index].sku, MatchedBy::Sku, 1.0));
            }
        }
        let name = normalise(phrase);
        let words: Vec<&str> = name.split(' ').filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            return None;
        }
        // The products sharing the rarest words with the line, each word weighed by how few
        // names have it (a line's "hitam" says less than its "rayon"); only the best of them are
        // compared in full.
        let mut weight: HashMap<usize, f64> = HashMap::new();
        let mut phrase_words: Vec<&str> = words.clone();
        phrase_words.sort_unstable();
        phrase_words.dedup();
        for word in &phrase_words {
            if let Some(list) = self.by_word.get(*word) {
                let rarity = (self.entries.len() as f64 / list.len() as f64).ln() + 1.0;
                for &index in list {
                    *weight.entry(index).or_default() += rarity;
                }
            }
        }
        let candidates: Vec<usize> = if weight.is_empty() {
            // Every word misspelt: the whole catalogue, while it is small enough that a paste of
            // a hundred such lines stays cheap; a larger one leaves the line for staff to choose.
            if self.entries.len() > FULL_SCAN_PRODUCTS_MAX {
                return None;
            }
            (0..self.entries.len()).collect()
        } else {
            let mut ranked: Vec<(usize, f64)> = weight.into_iter().collect();
            ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            ranked.truncate(CANDIDATES_MAX);
            ranked.into_iter().map(|(index, _)| index).collect()
        };
        let sorted = sorted_words(&name);
        let mut best: Option<(usize, f64)> = None;
        for index in candidates {
            let entry = &self.entries[index];
            // The whole line against the whole name, in its order and sorted; and the words
            // both share against each side's whole, so that "kopi gayo" finds "Kopi Arabika
            // Gayo 250 gr". The shared words weigh most; the whole breaks ties between names
            // that share the same words (the closest in length wins).
            let whole = ratio(&name, &entry.name).max(ratio(&sorted, &entry.sorted));
            let score = 0.6 * shared_words_score(&phrase_words, &entry.words) + 0.4 * whole;
            if best.is_none_or(|(_, top)| score > top) {
                best = Some((index, score));
            }
        }
        best.filter(|(_, score)| *score >= NAME_SCORE_MIN)
            .map(|(index, score)| (&self.entries[index].sku, MatchedBy::Name, score))
    }
}

/// Lower case, letters and digits only, words separated by one space; size letters and the
/// noise words buyers add ("uk", "ukuran", "size", "warna", "yang") dropped.
pub fn normalise(text: &str) -> String {
    const NOISE: &[&str] = &[
        "uk", "ukuran", "size", "warna", "color", "yang", "yg", "varian", "model", "motif", "isi",
        "ya", "kak", "aja", "saja", "mau", "order", "pesan", "beli",
    ];
    let mut out = String::with_capacity(text.len());
    // "250gr" is "250 gr", "20ml" is "20 ml": a number and its unit are two words.
    let mut spaced = String::with_capacity(text.len() + 8);
    let mut last: Option<char> = None;
    for c in text.chars() {
        if let Some(prev) = last
            && (prev.is_ascii_digit() && c.is_alphabetic()
                || prev.is_alphabetic() && c.is_ascii_digit())
        {
            spaced.push(' ');
        }
        spaced.push(c);
        last = Some(c);
    }
    for word in spaced
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        if NOISE.contains(&word.as_str()) {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// The token-set ratio of two sorted word lists: the words both have, compared with each side's
/// words (shared first, then its own), with `rapidfuzz`'s ratio; the best of the three.
fn shared_words_score(phrase: &[&str], name: &[String]) -> f64 {
    let shared: Vec<&str> = phrase
        .iter()
        .copied()
        .filter(|w| name.binary_search_by(|n| n.as_str().cmp(w)).is_ok())
        .collect();
    if shared.is_empty() {
        return 0.0;
    }
    let only_phrase: Vec<&str> = phrase
        .iter()
        .copied()
        .filter(|w| !shared.contains(w))
        .collect();
    let only_name: Vec<&str> = name
        .iter()
        .map(String::as_str)
        .filter(|w| !shared.contains(w))
        .collect();
    let shared_text = shared.join(" ");
    let with = |rest: &[&str]| match rest.is_empty() {
        true => shared_text.clone(),
        false => format!("{shared_text} {}", rest.join(" ")),
    };
    let (phrase_text, name_text) = (with(&only_phrase), with(&only_name));
    ratio(&shared_text, &phrase_text)
        .max(ratio(&shared_text, &name_text))
        .max(ratio(&phrase_text, &name_text))
}

/// `rapidfuzz`'s ratio (the normalised Indel similarity), from 0 to 1.
fn ratio(a: &str, b: &str) -> f64 {
    rapidfuzz::fuzz::ratio(a.chars(), b.chars())
}

fn sorted_words(normalised: &str) -> String {
    let mut words: Vec<&str> = normalised.split(' ').collect();
    words.sort_unstable();
    words.join(" ")
}

/// A SKU compared without case and punctuation: `gamis-htm-l` is `GAMIS-HTM-L` is `GAMISHTML`.
fn sku_key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}
