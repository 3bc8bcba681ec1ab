//! Buyer phone numbers, the key of a buyer's record.
//!
//! Indonesian buyers write the same number as `0812…`, `62812…`, `+62 812-…` or `(0812) …`; all of
//! these are one buyer. Parsing and validation use `phonenumber`, a port of Google's
//! libphonenumber, with Indonesia as the default region, and the stored form is E.164 (`+62812…`).
//! The common shapes of Indonesian numbers are checked against the same metadata's patterns
//! compiled once (`indonesia`), which is several times faster than the crate's shared cache.

use serde::{Deserialize, Serialize};

mod indonesia;

/// Longest raw input considered; longer strings are rejected before the parser sees them.
pub const PHONE_INPUT_LEN_MAX: usize = 40;

/// The numbers the API document promises to take: Indonesian mobile numbers, written `+62…` or
/// `08…`, as libphonenumber's metadata lays them out (`8[1-35-9]` and 9 to 12 digits after the
/// trunk). The server takes more (spaces, dashes, `62…`, other countries); a test checks that
/// every string this pattern describes is a number [`Phone::parse`] accepts.
pub const PHONE_PATTERN: &str = r"^(\+62|0)8[1-35-9][0-9]{7,10}$";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number is too long")]
    TooLong,
    #[error("not a valid phone number")]
    Invalid,
}

impl Phone {
    /// Parses a number as a buyer would type it, assuming Indonesia when no country code is given.
    pub fn parse(raw: &str) -> Result<Phone, PhoneError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(PhoneError::Empty);
        }
        if raw.len() > PHONE_INPUT_LEN_MAX {
            return Err(PhoneError::TooLong);
        }
        // The common case first: an Indonesian number as buyers write it, checked against
        // libphonenumber's own patterns compiled here once (see `indonesia`).
        if let Some(e164) = indonesia::valid_e164(raw) {
            return Ok(Phone(e164));
        }
        if let Some(phone) = parse_valid(raw) {
            return Ok(phone);
        }
        // `62812…` without the plus is how many buyers copy their own number out of WhatsApp.
        // libphonenumber reads it as a national number, so try it once more as international.
        if raw.starts_with("62")
            && let Some(phone) = parse_valid(&format!("+{raw}"))
        {
            return Ok(phone);
        }
        Err(PhoneError::Invalid)
    }

    /// Loads libphonenumber's metadata, which its first use reads and compiles (about a tenth of
    /// a second, once per process): `lunas serve` calls it before it listens, so the first buyers
    /// after a start — a flash sale's first second — do not all wait behind it.
    pub fn warm_up() {
        let _ = parse_valid("+6281234567890");
        indonesia::warm_up();
    }

    /// Wraps a number read back from storage, where it was normalised on the way in.
    pub fn from_stored(e164: String) -> Phone {
        Phone(e164)
    }

    /// The E.164 form, such as `+6281234567890`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as people read it, grouped the way its country writes it:
    /// `+62 812-3456-7890`. A stored number libphonenumber no longer reads stays as stored.
    pub fn international(&self) -> String {
        phonenumber::parse(None, &self.0)
            .map(|number| {
                number
                    .format()
                    .mode(phonenumber::Mode::International)
                    .to_string()
            })
            .unwrap_or_else(|_| self.0.clone())
    }
}

impl Phone {
    /// The number as a public page may show it: grouped as people read it, with all but the
    /// first group after the country code and the last four digits hidden
    /// (`+62 812-••••-7890`).
    pub fn masked(&self) -> String {
        let grouped = self.international();
        let digits = grouped.chars().filter(char::is_ascii_digit).count();
        // The country code and the first group stay, as do the last four digits.
        let first_group_end = grouped
            .char_indices()
            .filter(|(_, c)| *c == ' ' || *c == '-')
            .nth(1)
            .map_or(0, |(i, _)| i);
        let mut seen = 0;
        grouped
            .char_indices()
            .map(|(i, c)| {
                if !c.is_ascii_digit() {
                    return c;
                }
                seen += 1;
                if i < first_group_end || seen > digits.saturating_sub(4) {
                    c
                } else {
                    '•'
                }
            })
            .collect()
    }

    /// The digits `wa.me` links take: the E.164 form without its `+`.
    pub fn wa_digits(&self) -> &str {
        self.0.trim_start_matches('+')
    }
}

fn parse_valid(raw: &str) -> Option<Phone> {
    let number = phonenumber::parse(Some(phonenumber::country::Id::ID), raw).ok()?;
    if !phonenumber::is_valid(&number) {
        return None;
    }
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    Some(Phone(e164))
}

impl std::fmt::Display for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_number_the_document_describes_is_taken(
            // proptest generates from the pattern without its anchors.
            raw in proptest::string::string_regex(&PHONE_PATTERN[1..PHONE_PATTERN.len() - 1]).unwrap()
        ) {
            prop_assert!(Phone::parse(&raw).is_ok(), "{raw}");
        }
    }

    fn check(input: &str, expected: Result<&str, PhoneError>) {
        let got = Phone::parse(input);
        assert_eq!(
            got.as_ref().map(Phone::as_str).map_err(Clone::clone),
            expected,
            "input {input:?}"
        );
    }

    #[test]
    fn a_masked_number_shows_its_start_and_its_last_four_digits_only() {
        let masked = |raw: &str| Phone::parse(raw).unwrap().masked();
        assert_eq!(masked("081234567890"), "+62 812-••••-7890");
        assert_eq!(masked("0878-1234-5678"), "+62 878-••••-5678");
        assert!(!masked("081234567890").contains("3456"));
        assert_eq!(
            Phone::parse("0812-3456-7890").unwrap().wa_digits(),
            "6281234567890"
        );
    }

    #[test]
    fn indonesian_numbers_in_every_common_spelling_are_one_buyer() {
        check("081234567890", Ok("+6281234567890"));
        check("6281234567890", Ok("+6281234567890"));
        check("+62 812-3456-7890", Ok("+6281234567890"));
        check("(0812) 3456 7890", Ok("+6281234567890"));
        check("  +6281234567890 ", Ok("+6281234567890"));
    }

    #[test]
    fn foreign_numbers_keep_their_country() {
        check("+60 12-345 6789", Ok("+60123456789"));
    }

    #[test]
    fn garbage_is_rejected() {
        check("", Err(PhoneError::Empty));
        check("halo kak", Err(PhoneError::Invalid));
        check("0812", Err(PhoneError::Invalid));
        check(
            "12345678901234567890123456789012345678901",
            Err(PhoneError::TooLong),
        );
    }

    #[test]
    fn numbers_are_shown_grouped_as_their_country_writes_them() {
        for (stored, shown) in [
            ("+6281234567890", "+62 812-3456-7890"),
            ("+6281277778888", "+62 812-7777-8888"),
            ("+6221345678", "+62 21 345678"),
            ("+60123456789", "+60 12-345 6789"),
            ("not a number", "not a number"),
        ] {
            assert_eq!(
                Phone::from_stored(stored.into()).international(),
                shown,
                "{stored}"
            );
        }
    }
}
