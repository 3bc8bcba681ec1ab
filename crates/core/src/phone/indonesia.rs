//! Indonesian numbers as forms and API clients send them most (`+62812…`, `0812…`),
//! validated without `phonenumber`'s process-wide regex cache.
//!
//! `phonenumber` compiles its metadata's patterns into one cache of 100 regexes behind a mutex, and
//! every match looks its pattern up there by its source text: a number's validation took about
//! 25 µs on a busy server, the sixth of a flash sale's CPU (issue 21). Here the same patterns —
//! Indonesia's, read from the crate's own metadata, never written by hand — are compiled once and
//! matched as the crate matches them (the possible lengths, then a match at the start). Only a
//! number this check finds valid is answered here; every other input goes to `phonenumber`
//! whole, and a test checks that both agree on every number this path answers.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};

/// A number type's pattern, as `phonenumber::metadata::Descriptor` matches it.
struct Pattern {
    regex: Regex,
    lengths: Vec<u16>,
}

impl Pattern {
    fn of(descriptor: &phonenumber::metadata::Descriptor) -> Option<Pattern> {
        let regex = RegexBuilder::new(descriptor.national_number().as_str())
            .ignore_whitespace(true)
            .build()
            .ok()?;
        Some(Pattern {
            regex,
            lengths: descriptor.possible_length().to_vec(),
        })
    }

    fn is_match(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16)))
            && self.regex.find(national).is_some_and(|m| m.start() == 0)
    }
}

/// Indonesia's general pattern and its number types, in the order `phonenumber`'s
/// `number_type` tries them; a number is valid when the general pattern and any type match.
struct Patterns {
    general: Pattern,
    types: Vec<Pattern>,
}

/// `None` if the metadata has no Indonesia or a pattern does not compile here: every number then
/// goes to `phonenumber`.
static INDONESIA: LazyLock<Option<Patterns>> = LazyLock::new(|| {
    let metadata = phonenumber::metadata::DATABASE.by_id("ID")?;
    if metadata.country_code() != 62 || metadata.national_prefix() != Some("0") {
        return None;
    }
    let descriptors = metadata.descriptors();
    let kinds = [
        descriptors.premium_rate(),
        descriptors.toll_free(),
        descriptors.shared_cost(),
        descriptors.voip(),
        descriptors.personal_number(),
        descriptors.pager(),
        descriptors.uan(),
        descriptors.voicemail(),
        descriptors.fixed_line(),
        descriptors.mobile(),
    ];
    let mut types = Vec::new();
    for descriptor in kinds.into_iter().flatten() {
        types.push(Pattern::of(descriptor)?);
    }
    Some(Patterns {
        general: Pattern::of(descriptors.general())?,
        types,
    })
});

/// Compiles the patterns (with `phonenumber`'s metadata under them).
pub(super) fn warm_up() {
    LazyLock::force(&INDONESIA);
}

/// The E.164 form of `raw` when it is an Indonesian number written `+62…` or `0…` in digits
/// alone that is valid; `None` for anything else (spaces, dashes, `62…`, other countries),
/// which `phonenumber` then reads: where separators stand changes how it reads a number
/// (`+622-10…` is not `+62210…` to it), so this path does not guess.
pub(super) fn valid_e164(raw: &str) -> Option<String> {
    let patterns = INDONESIA.as_ref()?;
    let national = raw.strip_prefix("+62").or_else(|| raw.strip_prefix('0'))?;
    // `+620812…` and `00…` are for `phonenumber` (a trunk prefix after the country code, an
    // international call prefix).
    if national.is_empty()
        || national.starts_with('0')
        || !national.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let valid =
        patterns.general.is_match(national) && patterns.types.iter().any(|t| t.is_match(national));
    valid.then(|| format!("+62{national}"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// What `phonenumber` alone makes of `raw`.
    fn by_phonenumber(raw: &str) -> Option<String> {
        super::super::parse_valid(raw).map(|phone| phone.as_str().to_owned())
    }

    #[test]
    fn the_patterns_compile() {
        super::warm_up();
        assert!(super::INDONESIA.is_some());
    }

    #[test]
    fn common_numbers_are_answered_here_as_phonenumber_answers_them() {
        for raw in [
            "+6281234567890",
            "081234567890",
            "+6281312345678",
            "0215551234",
            "+62215551234",
        ] {
            let fast = super::valid_e164(raw);
            assert!(fast.is_some(), "{raw} is answered here");
            assert_eq!(fast, by_phonenumber(raw), "{raw}");
        }
        for raw in [
            "0812-3456-7890",
            "0812 3456 7890",
            "+62 812-3456-7890",
            "+620812345678",
            "62812345678",
            "(0812) 3456 7890",
            "+6580001234",
            "0",
            "+62",
            "00812345678",
            "081",
        ] {
            assert_eq!(super::valid_e164(raw), None, "{raw} goes to phonenumber");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        /// Whatever this path answers, `phonenumber` answers the same.
        #[test]
        fn agrees_with_phonenumber(
            prefix in prop_oneof![Just("+62"), Just("0"), Just("+62 "), Just("62"), Just("00")],
            digits in "[0-9]{1,14}",
            separator in prop_oneof![Just(""), Just(""), Just(" "), Just("-")],
            at in 0usize..14,
        ) {
            let mut raw = format!("{prefix}{digits}");
            if at < digits.len() {
                raw.insert_str(prefix.len() + at, separator);
            }
            if let Some(fast) = super::valid_e164(&raw) {
                prop_assert_eq!(Some(fast), by_phonenumber(&raw), "{}", raw);
            }
        }

        /// Mobile numbers as buyers type them: this path answers every valid one.
        #[test]
        fn answers_every_valid_mobile_number(
            prefix in prop_oneof![Just("+62"), Just("0")],
            operator in "8[1-9][0-9]",
            rest in "[0-9]{6,10}",
        ) {
            let raw = format!("{prefix}{operator}{rest}");
            prop_assert_eq!(super::valid_e164(&raw), by_phonenumber(&raw), "{}", raw);
        }
    }
}
