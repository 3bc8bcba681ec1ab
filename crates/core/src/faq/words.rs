//! How buyers write: informal Indonesian as it arrives in a chat ("ready kak?", "bisa cod gak",
//! "ongkir ke bdg brp", "size L msh ada?") turned into the terms the FAQ index compares —
//! abbreviations and slang written out, greetings and particles dropped, repeated letters and
//! reduplications folded, affixes stemmed (Sastrawi's algorithm over a dictionary of our own),
//! and the values a question is *about* (a city, a size, a number) replaced by what they are.

use std::collections::HashMap;
use std::sync::OnceLock;

use sastrawi::{Dictionary, Stemmer};

/// A term standing for any city or region: "ongkir ke bdg" and "ongkir ke Medan" ask the same.
pub const CITY: &str = "{kota}";
/// A term standing for a clothing or shoe size (S, M, L, XL, 38…).
pub const SIZE: &str = "{ukuran}";
/// A term standing for any other number.
pub const NUMBER: &str = "{angka}";

/// Abbreviations and slang of chat Indonesian, written out. A value of several words adds them
/// all; an empty value drops the word (a greeting, an honorific, a particle).
const SLANG: &[(&str, &str)] = &[
    // Honorifics and greetings: who is asked, not what.
    ("kak", ""),
    ("ka", ""),
    ("kk", ""),
    ("kakak", ""),
    ("kakk", ""),
    ("sis", ""),
    ("sist", ""),
    ("gan", ""),
    ("agan", ""),
    ("min", ""),
    ("mimin", ""),
    ("admin", ""),
    ("bang", ""),
    ("bro", ""),
    ("mas", ""),
    ("mba", ""),
    ("mbak", ""),
    ("mb", ""),
    ("om", ""),
    ("tante", ""),
    ("bu", ""),
    ("ibu", ""),
    ("pak", ""),
    ("bapak", ""),
    ("bund", ""),
    ("bunda", ""),
    ("say", ""),
    ("beb", ""),
    ("kaka", ""),
    ("halo", ""),
    ("hallo", ""),
    ("hai", ""),
    ("hi", ""),
    ("hello", ""),
    ("permisi", ""),
    ("assalamualaikum", ""),
    ("pagi", ""),
    ("siang", ""),
    ("sore", ""),
    ("malam", ""),
    ("selamat", ""),
    // Particles that carry tone, not meaning.
    ("ya", ""),
    ("yah", ""),
    ("yaa", ""),
    ("dong", ""),
    ("donk", ""),
    ("deh", ""),
    ("nih", ""),
    ("sih", ""),
    ("kah", ""),
    ("loh", ""),
    ("lho", ""),
    ("kok", ""),
    ("nah", ""),
    ("tuh", ""),
    ("eh", ""),
    ("wkwk", ""),
    ("hehe", ""),
    ("hihi", ""),
    ("oke", ""),
    ("ok", ""),
    ("okey", ""),
    ("okay", ""),
    ("mau", ""),
    ("tanya", ""),
    ("nanya", ""),
    ("mo", ""),
    ("pengen", ""),
    ("pingin", ""),
    ("ingin", ""),
    ("apakah", ""),
    ("kalau", ""),
    ("kalo", ""),
    ("klo", ""),
    ("kl", ""),
    ("aja", ""),
    ("aj", ""),
    ("saja", ""),
    ("ini", ""),
    ("itu", ""),
    ("yang", ""),
    ("yg", ""),
    ("nya", ""),
    ("gitu", ""),
    ("begitu", ""),
    ("soalnya", ""),
    ("saya", ""),
    ("sy", ""),
    ("aku", ""),
    ("aq", ""),
    ("gue", ""),
    ("gw", ""),
    ("gua", ""),
    ("q", ""),
    ("dan", ""),
    ("atau", ""),
    ("di", ""),
    ("ke", ""),
    ("dari", ""),
    ("dr", ""),
    ("untuk", ""),
    ("utk", ""),
    ("untk", ""),
    ("buat", ""),
    ("bwt", ""),
    ("dengan", ""),
    ("dgn", ""),
    ("dg", ""),
    ("sama", ""),
    ("sm", ""),
    ("juga", ""),
    ("jg", ""),
    ("lagi", ""),
    ("lg", ""),
    ("udah", "sudah"),
    ("udh", "sudah"),
    ("sdh", "sudah"),
    ("dah", "sudah"),
    ("blm", "belum"),
    ("belom", "belum"),
    ("blum", "belum"),
    // Negation.
    ("gk", "tidak"),
    ("gak", "tidak"),
    ("ga", "tidak"),
    ("g", "tidak"),
    ("nggak", "tidak"),
    ("ngga", "tidak"),
    ("nggk", "tidak"),
    ("enggak", "tidak"),
    ("engga", "tidak"),
    ("tdk", "tidak"),
    ("tak", "tidak"),
    ("kagak", "tidak"),
    ("ndak", "tidak"),
    // Question words.
    ("brp", "berapa"),
    ("brapa", "berapa"),
    ("berapaan", "berapa"),
    ("brpa", "berapa"),
    ("kpn", "kapan"),
    ("kapn", "kapan"),
    ("gmn", "bagaimana"),
    ("gmna", "bagaimana"),
    ("gimana", "bagaimana"),
    ("gmana", "bagaimana"),
    ("knp", "kenapa"),
    ("napa", "kenapa"),
    ("mengapa", "kenapa"),
    ("dmn", "mana"),
    ("dimana", "mana"),
    ("mana", "mana"),
    // Everyday words, shortened.
    ("bs", "bisa"),
    ("bsa", "bisa"),
    ("bisakah", "bisa"),
    ("msh", "masih"),
    ("masi", "masih"),
    ("mash", "masih"),
    ("ad", "ada"),
    ("adakah", "ada"),
    ("tp", "tapi"),
    ("tpi", "tapi"),
    ("krn", "karena"),
    ("karna", "karena"),
    ("jd", "jadi"),
    ("jdi", "jadi"),
    ("trs", "terus"),
    ("bgt", "banget"),
    ("emg", "memang"),
    ("emang", "memang"),
    ("skrg", "sekarang"),
    ("skrang", "sekarang"),
    ("sekarang", "sekarang"),
    ("hr", "hari"),
    ("hri", "hari"),
    ("tgl", "tanggal"),
    ("bln", "bulan"),
    ("mggu", "minggu"),
    ("mgg", "minggu"),
    ("sampe", "sampai"),
    ("nyampe", "sampai"),
    ("nyampai", "sampai"),
    ("smp", "sampai"),
    ("lma", "lama"),
    ("brg", "barang"),
    ("barangnya", "barang"),
    ("sblm", "sebelum"),
    ("stlh", "setelah"),
    ("sesudah", "setelah"),
    ("pke", "pakai"),
    ("pake", "pakai"),
    ("pk", "pakai"),
    ("makasih", "terima kasih"),
    ("makasi", "terima kasih"),
    ("mksh", "terima kasih"),
    ("trims", "terima kasih"),
    ("thx", "terima kasih"),
    ("thanks", "terima kasih"),
    ("tq", "terima kasih"),
    ("terimakasih", "terima kasih"),
    // Shopping words.
    ("ongkir", "ongkos kirim"),
    ("ongkirnya", "ongkos kirim"),
    ("krm", "kirim"),
    ("kirimin", "kirim"),
    ("dikirimin", "kirim"),
    ("send", "kirim"),
    ("shipping", "kirim"),
    ("byr", "bayar"),
    ("bayarin", "bayar"),
    ("payment", "bayar"),
    ("pay", "bayar"),
    ("tf", "transfer"),
    ("trf", "transfer"),
    ("trnsfr", "transfer"),
    ("rek", "rekening"),
    ("norek", "nomor rekening"),
    ("no", "nomor"),
    ("nmr", "nomor"),
    ("nomer", "nomor"),
    ("hrg", "harga"),
    ("hrga", "harga"),
    ("price", "harga"),
    ("pricelist", "harga"),
    ("pl", "harga"),
    ("uk", "ukuran"),
    ("ukr", "ukuran"),
    ("size", "ukuran"),
    ("sizenya", "ukuran"),
    ("wrn", "warna"),
    ("color", "warna"),
    ("colour", "warna"),
    ("stock", "stok"),
    ("stoknya", "stok"),
    ("stocknya", "stok"),
    ("ready", "ready"),
    ("redy", "ready"),
    ("rdy", "ready"),
    ("readystock", "ready stok"),
    ("available", "ready"),
    ("avail", "ready"),
    ("order", "pesan"),
    ("orderan", "pesan"),
    ("pesen", "pesan"),
    ("psn", "pesan"),
    ("checkout", "pesan"),
    ("co", "pesan"),
    ("disc", "diskon"),
    ("disk", "diskon"),
    ("discount", "diskon"),
    ("potongan", "diskon"),
    ("nawar", "tawar"),
    ("ditawar", "tawar"),
    ("nett", "pas"),
    ("net", "pas"),
    ("ori", "asli"),
    ("original", "asli"),
    ("kw", "tiruan"),
    ("replika", "tiruan"),
    ("bhn", "bahan"),
    ("material", "bahan"),
    ("pic", "foto"),
    ("pict", "foto"),
    ("poto", "foto"),
    ("photo", "foto"),
    ("real", "asli"),
    ("realpict", "foto asli"),
    ("tokped", "tokopedia"),
    ("shopee", "shopee"),
    ("olshop", "toko"),
    ("store", "toko"),
    ("offline", "toko"),
    ("alamt", "alamat"),
    ("almt", "alamat"),
    ("lokasi", "alamat"),
    ("refund", "uang kembali"),
    ("return", "retur"),
    ("tuker", "tukar"),
    ("nuker", "tukar"),
    ("exchange", "tukar"),
    ("garansinya", "garansi"),
    ("warranty", "garansi"),
    ("cashback", "diskon"),
    ("voucher", "diskon"),
    ("promo", "diskon"),
    ("dropship", "dropship"),
    ("dropshipper", "dropship"),
    ("ds", "dropship"),
    ("reseller", "reseller"),
    ("agen", "reseller"),
    ("grosir", "grosir"),
    ("partai", "grosir"),
    ("ecer", "satuan"),
    ("eceran", "satuan"),
    ("pcs", "satuan"),
    ("resinya", "resi"),
    ("awb", "resi"),
    ("tracking", "resi"),
    ("lacak", "resi"),
    ("cek", "cek"),
    ("ekspedisinya", "kurir"),
    ("ekspedisi", "kurir"),
    ("expedisi", "kurir"),
    ("jne", "kurir"),
    ("jnt", "kurir"),
    ("sicepat", "kurir"),
    ("anteraja", "kurir"),
    ("gosend", "kurir instan"),
    ("grab", "kurir instan"),
    ("grabexpress", "kurir instan"),
    ("instant", "instan"),
    ("sameday", "instan"),
    ("wa", "whatsapp"),
    ("whatsapp", "whatsapp"),
    ("buka", "buka"),
    ("open", "buka"),
    ("libur", "libur"),
    ("tutup", "tutup"),
];

/// Cities and regions as buyers write them (names and their usual shortenings).
const CITIES: &[&str] = &[
    "jakarta",
    "jkt",
    "jakbar",
    "jaksel",
    "jaktim",
    "jakut",
    "jakpus",
    "bandung",
    "bdg",
    "surabaya",
    "sby",
    "medan",
    "mdn",
    "semarang",
    "smg",
    "yogyakarta",
    "jogja",
    "yogya",
    "jogjakarta",
    "diy",
    "jogya",
    "solo",
    "surakarta",
    "malang",
    "mlg",
    "bekasi",
    "bks",
    "tangerang",
    "tng",
    "tangsel",
    "depok",
    "dpk",
    "bogor",
    "bgr",
    "bali",
    "denpasar",
    "dps",
    "makassar",
    "mks",
    "palembang",
    "plg",
    "pekanbaru",
    "pku",
    "batam",
    "btm",
    "balikpapan",
    "bpn",
    "samarinda",
    "smd",
    "pontianak",
    "ptk",
    "banjarmasin",
    "bjm",
    "manado",
    "mdo",
    "padang",
    "pdg",
    "lampung",
    "aceh",
    "jambi",
    "bengkulu",
    "cirebon",
    "crb",
    "tasik",
    "tasikmalaya",
    "garut",
    "cianjur",
    "sukabumi",
    "karawang",
    "purwakarta",
    "serang",
    "cilegon",
    "kediri",
    "jember",
    "madiun",
    "sidoarjo",
    "gresik",
    "mojokerto",
    "pasuruan",
    "probolinggo",
    "banyuwangi",
    "tegal",
    "pekalongan",
    "purwokerto",
    "magelang",
    "kudus",
    "jepara",
    "klaten",
    "lombok",
    "mataram",
    "kupang",
    "ambon",
    "jayapura",
    "papua",
    "kalimantan",
    "sumatra",
    "sumatera",
    "sulawesi",
    "jawa",
    "jabodetabek",
    "jabodetabek",
    "luar",
];

/// Sizes of clothes and shoes, written as buyers write them.
const SIZES: &[&str] = &[
    "xs", "s", "m", "l", "xl", "xxl", "xxxl", "2xl", "3xl", "4xl", "5xl", "allsize",
];

/// The root words the stemmer may strip affixes down to.
const ROOTS: &str = include_str!("roots.txt");

struct Language {
    stemmer: Stemmer<'static>,
    roots: &'static Dictionary,
    slang: HashMap<&'static str, &'static str>,
    cities: std::collections::HashSet<&'static str>,
    sizes: std::collections::HashSet<&'static str>,
}

fn language() -> &'static Language {
    static LANGUAGE: OnceLock<Language> = OnceLock::new();
    LANGUAGE.get_or_init(|| {
        static DICTIONARY: OnceLock<Dictionary> = OnceLock::new();
        let dictionary = DICTIONARY.get_or_init(|| Dictionary::custom(&root_words()));
        Language {
            stemmer: Stemmer::new(dictionary),
            roots: dictionary,
            slang: SLANG.iter().copied().collect(),
            cities: CITIES.iter().copied().collect(),
            sizes: SIZES.iter().copied().collect(),
        }
    })
}

/// The stemmer's dictionary: the roots of `roots.txt`.
pub fn root_words() -> Vec<&'static str> {
    ROOTS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// One word stemmed by Sastrawi's algorithm over lunas's roots.
pub fn sastrawi_stem(word: &str) -> String {
    language().stemmer.stem_word(word).into_owned()
}

/// One word stemmed: its root where the dictionary knows one (`pengiriman` → `kirim`,
/// `ukurannya` → `ukur`, and the Jakarta suffix of `kirimin`), else the word.
pub fn stem(word: &str) -> String {
    let language = language();
    let stemmed = language.stemmer.stem_word(word).into_owned();
    // Jakarta's suffix -in ("kirimin", "cariin") is not Sastrawi's: strip it where a root is left.
    if stemmed == word && word.len() > 5 && word.ends_with("in") {
        let without = &word[..word.len() - 2];
        let root = language.stemmer.stem_word(without).into_owned();
        if root != without || language.roots.find(without) {
            return root;
        }
    }
    stemmed
}

/// Letters repeated three times or more ("kakkk", "bisaaa") written once, and a word doubled
/// with a 2 ("brg2", "baju2") written once.
fn fold(word: &str) -> String {
    let word = word.trim_end_matches('2');
    let word = if word.is_empty() { "2" } else { word };
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    let mut run = 0;
    for c in word.chars() {
        if Some(c) == last {
            run += 1;
        } else {
            run = 1;
            last = Some(c);
        }
        if run <= 2 || c.is_ascii_digit() {
            out.push(c);
        }
    }
    // A doubled last letter left by a longer run ("kakk", "siapp") is a run too.
    if run >= 3 && out.len() > 3 {
        out.pop();
    }
    out
}

/// The terms of a text: lowercased, split into words, slang written out, particles dropped,
/// cities, sizes and numbers replaced by their kind, and every word stemmed.
pub fn terms(text: &str) -> Vec<String> {
    let language = language();
    let mut out = Vec::new();
    let lower = text.to_lowercase();
    for raw in lower.split(|c: char| !c.is_alphanumeric()) {
        if raw.is_empty() {
            continue;
        }
        let word = fold(raw);
        push_word(language, &word, &mut out, 0);
    }
    out
}

fn push_word(language: &Language, word: &str, out: &mut Vec<String>, depth: u8) {
    if language.cities.contains(word) {
        out.push(CITY.to_owned());
        return;
    }
    if language.sizes.contains(word) {
        out.push(SIZE.to_owned());
        return;
    }
    if word.chars().all(|c| c.is_ascii_digit()) {
        // Shoe sizes are numbers too: 35–46 are read as sizes, others as numbers.
        let size = word.parse::<u32>().is_ok_and(|n| (35..=46).contains(&n));
        out.push(if size { SIZE } else { NUMBER }.to_owned());
        return;
    }
    if let Some(&written) = language.slang.get(word) {
        if written == word || depth > 0 {
            out.push(stem(written));
        } else {
            for part in written.split_whitespace() {
                push_word(language, part, out, depth + 1);
            }
        }
        return;
    }
    // A particle glued to a word ("bisakah", "adakah", "bisanya") after the slang table.
    let stemmed = stem(word);
    if stemmed != word
        && let Some(&written) = language.slang.get(stemmed.as_str())
    {
        if !written.is_empty() {
            out.push(stem(written));
        }
        return;
    }
    out.push(stemmed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_indonesian_is_written_out() {
        let cases = [
            ("ready kak?", vec!["ready"]),
            ("bisa cod gak", vec!["bisa", "cod", "tidak"]),
            ("ongkir ke bdg brp", vec!["ongkos", "kirim", CITY, "berapa"]),
            ("size L msh ada?", vec!["ukur", SIZE, "masih", "ada"]),
            ("Kakkk, pengirimannya kapan???", vec!["kirim", "kapan"]),
            ("brg2 nya ori semua?", vec!["barang", "asli", "semua"]),
            ("ukuran 39 ada?", vec!["ukur", SIZE, "ada"]),
            ("Pembayaran lewat apa saja", vec!["bayar", "lewat", "apa"]),
            ("bisakah dikirimin hari ini", vec!["bisa", "kirim", "hari"]),
        ];
        for (text, want) in cases {
            assert_eq!(terms(text), want, "{text}");
        }
    }

    #[test]
    fn folding_keeps_real_double_letters() {
        assert_eq!(fold("kakkk"), "kak");
        assert_eq!(fold("bisaaa"), "bisa");
        assert_eq!(fold("saat"), "saat");
        assert_eq!(fold("baju2"), "baju");
        assert_eq!(fold("2"), "2");
        assert_eq!(fold("100"), "100");
    }
}
