//! An address as buyers write it, split into street, kelurahan, kecamatan, city, province and
//! postcode.

use std::sync::LazyLock;

use regex::Regex;

use super::DraftAddress;
use super::catalogue::normalise;

/// The pieces of an address as they arrive: the `Alamat:` lines, and the parts named on lines
/// of their own.
#[derive(Default)]
pub(super) struct AddressParts {
    pub(super) lines: Vec<String>,
    pub(super) kelurahan: Option<String>,
    pub(super) kecamatan: Option<String>,
    pub(super) city: Option<String>,
    pub(super) province: Option<String>,
    pub(super) postcode: Option<String>,
}

impl AddressParts {
    /// Splits the address lines into street, areas, province and postcode: parts named by their
    /// prefix (`Kel.`, `Kec.`, `Kab.`, `Kota`), the province and the postcode by what they are,
    /// and the unnamed parts before the province taken as city, kecamatan and kelurahan from the
    /// right, as Indonesian addresses are written.
    pub(super) fn finish(mut self) -> Option<DraftAddress> {
        let joined = self.lines.join(", ");
        let mut segments: Vec<String> = Vec::new();
        for segment in joined.split([',', ';', '\n']) {
            let mut segment = segment.trim().trim_end_matches('.').trim().to_owned();
            if let Some(code) = trailing_postcode(&segment) {
                if self.postcode.is_none() {
                    self.postcode = Some(code.to_owned());
                }
                segment = segment[..segment.len() - code.len()]
                    .trim()
                    .trim_end_matches(['-', ',', '.'])
                    .trim()
                    .to_owned();
            }
            if !segment.is_empty() {
                segments.push(segment);
            }
        }
        // A province written at the end of the last part without a comma ("… kab. sumedang jawa
        // barat") is a part of its own.
        // (Only after a street or an area: "Bandar Lampung" is a city.)
        if let Some(last) = segments.last_mut()
            && province_of(last).is_none()
            && let Some((rest, province)) = trailing_province(last)
            && (looks_like_street(&rest.to_lowercase())
                || ["kab", "kota ", "kec"]
                    .iter()
                    .any(|w| rest.to_lowercase().contains(w)))
        {
            *last = rest;
            segments.push(province);
        }
        // The province is the last part that names one. A city that shares its province's name
        // (Yogyakarta, Jambi, Bengkulu…) written last with no other city is the city.
        let province_at = segments.iter().rposition(|s| province_of(s).is_some());
        let named_city = segments.iter().any(|s| {
            let lower = s.to_lowercase();
            lower.starts_with("kota ") || lower.starts_with("kab")
        });
        let province_at = province_at.filter(|&at| {
            let shared = ["yogyakarta", "jambi", "bengkulu", "gorontalo"];
            let bare = normalise(&segments[at]);
            !(shared.contains(&bare.as_str())
                && !named_city
                && self.city.is_none()
                && at + 1 == segments.len()
                && segments[..at]
                    .iter()
                    .filter(|s| province_of(s).is_none())
                    .count()
                    <= 1)
        });
        let mut street: Vec<String> = Vec::new();
        let mut unnamed: Vec<String> = Vec::new();
        for (at, segment) in segments.into_iter().enumerate() {
            let lower = segment.to_lowercase();
            if let Some(rest) = strip_any(
                &lower,
                &segment,
                &["kelurahan ", "kel. ", "kel ", "desa ", "ds. ", "ds "],
            ) {
                self.kelurahan.get_or_insert(rest);
            } else if let Some(rest) = strip_any(&lower, &segment, &["kecamatan ", "kec. ", "kec "])
            {
                self.kecamatan.get_or_insert(rest);
            } else if lower.starts_with("kota ") || lower.starts_with("kab") {
                self.city.get_or_insert(city_words(&segment));
            } else if Some(at) == province_at {
                let province = province_of(&segment).expect("the part names a province");
                self.province.get_or_insert(province);
            } else if province_of(&segment).is_some() && !street.is_empty() {
                unnamed.push(segment);
            } else if street.is_empty()
                || looks_like_street(&lower)
                || !unnamed.is_empty() && looks_like_street(&lower)
            {
                if unnamed.is_empty() {
                    street.push(segment);
                } else {
                    unnamed.push(segment);
                }
            } else {
                unnamed.push(segment);
            }
        }
        // The unnamed parts, from the right: city, kecamatan, kelurahan; anything more is street.
        let slots = [&mut self.city, &mut self.kecamatan, &mut self.kelurahan];
        let mut slot = 0;
        while let Some(part) = unnamed.pop() {
            while slot < slots.len() && slots[slot].is_some() {
                slot += 1;
            }
            if slot < slots.len() {
                *slots[slot] = Some(part);
                slot += 1;
            } else {
                unnamed.push(part);
                break;
            }
        }
        street.extend(unnamed);
        let address = DraftAddress {
            street: (!street.is_empty()).then(|| street.join(", ")),
            kelurahan: self.kelurahan,
            kecamatan: self.kecamatan,
            city: self.city,
            province: self.province,
            postcode: self.postcode,
        };
        (address != DraftAddress::default()).then_some(address)
    }
}

/// `segment` without the first of `prefixes` it starts with (compared in `lower`), as written.
pub(super) fn strip_any(lower: &str, segment: &str, prefixes: &[&str]) -> Option<String> {
    prefixes
        .iter()
        .find(|p| lower.starts_with(*p))
        .map(|p| segment[p.len()..].trim().to_owned())
        .filter(|rest| !rest.is_empty())
}

pub(super) fn looks_like_street(lower: &str) -> bool {
    static STREET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(^|\b)(jl|jln|jalan|gg|gang|rt|rw|no|blok|perum|perumahan|komplek|kompleks|komp|dusun|dsn|lorong|lr|apartemen|tower|lantai|ruko|kp|kampung)\b|\d")
            .expect("a valid pattern")
    });
    STREET.is_match(lower)
}

/// A city as written, with `Kab.` spelt out.
pub(super) fn city_words(city: &str) -> String {
    let lower = city.to_lowercase();
    for short in ["kab. ", "kab "] {
        if lower.starts_with(short) {
            return format!("Kabupaten {}", city[short.len()..].trim());
        }
    }
    city.trim().to_owned()
}

/// The province a part of an address names, spelt as the government does; `None` when it names
/// none.
pub(super) fn province_of(part: &str) -> Option<String> {
    const PROVINCES: &[(&str, &[&str])] = &[
        ("Aceh", &["nad", "nanggroe aceh darussalam"]),
        ("Sumatera Utara", &["sumut", "sumatra utara"]),
        ("Sumatera Barat", &["sumbar", "sumatra barat"]),
        ("Riau", &[]),
        ("Kepulauan Riau", &["kepri"]),
        ("Jambi", &[]),
        ("Sumatera Selatan", &["sumsel", "sumatra selatan"]),
        ("Kepulauan Bangka Belitung", &["babel", "bangka belitung"]),
        ("Bengkulu", &[]),
        ("Lampung", &[]),
        ("DKI Jakarta", &["jakarta", "dki"]),
        ("Jawa Barat", &["jabar", "jawa barat"]),
        ("Banten", &[]),
        ("Jawa Tengah", &["jateng"]),
        (
            "DI Yogyakarta",
            &[
                "diy",
                "yogyakarta",
                "jogja",
                "jogjakarta",
                "d.i. yogyakarta",
                "daerah istimewa yogyakarta",
            ],
        ),
        ("Jawa Timur", &["jatim"]),
        ("Bali", &[]),
        ("Nusa Tenggara Barat", &["ntb"]),
        ("Nusa Tenggara Timur", &["ntt"]),
        ("Kalimantan Barat", &["kalbar"]),
        ("Kalimantan Tengah", &["kalteng"]),
        ("Kalimantan Selatan", &["kalsel"]),
        ("Kalimantan Timur", &["kaltim"]),
        ("Kalimantan Utara", &["kaltara"]),
        ("Sulawesi Utara", &["sulut"]),
        ("Gorontalo", &[]),
        ("Sulawesi Tengah", &["sulteng"]),
        ("Sulawesi Barat", &["sulbar"]),
        ("Sulawesi Selatan", &["sulsel"]),
        ("Sulawesi Tenggara", &["sultra"]),
        ("Maluku", &[]),
        ("Maluku Utara", &["malut"]),
        ("Papua", &[]),
        ("Papua Barat", &[]),
        ("Papua Barat Daya", &[]),
        ("Papua Tengah", &[]),
        ("Papua Pegunungan", &[]),
        ("Papua Selatan", &[]),
    ];
    let key = normalise(part);
    let key = key
        .strip_prefix("provinsi ")
        .or_else(|| key.strip_prefix("prov "))
        .unwrap_or(&key);
    PROVINCES
        .iter()
        .find(|(name, aliases)| {
            normalise(name) == key || aliases.iter().any(|a| normalise(a) == key)
        })
        .map(|(name, _)| (*name).to_owned())
}

/// `part` split before a province named at its end by one to three words.
pub(super) fn trailing_province(part: &str) -> Option<(String, String)> {
    let words: Vec<&str> = part.split_whitespace().collect();
    (1..=3.min(words.len().saturating_sub(1)))
        .rev()
        .find_map(|n| {
            let tail = words[words.len() - n..].join(" ");
            province_of(&tail).map(|_| (words[..words.len() - n].join(" "), tail))
        })
}

/// The five-digit postcode at the end of `segment`, if any.
pub(super) fn trailing_postcode(segment: &str) -> Option<&str> {
    let word = segment.rsplit([' ', ',', '-']).next()?;
    crate::shipping::is_postcode(word).then_some(word)
}

pub(super) fn postcode_in(value: &str) -> Option<String> {
    value
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| crate::shipping::is_postcode(w))
        .map(str::to_owned)
}
