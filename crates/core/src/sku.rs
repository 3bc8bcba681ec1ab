//! Stock keeping units: the seller's own product codes.

use serde::{Deserialize, Serialize};

/// Longest SKU accepted, in bytes.
pub const SKU_LEN_MAX: usize = 64;
/// SKUs for the API document: those starting with a letter or a digit, which [`Sku::parse`] all
/// takes. (It also takes `.5` or `-x`, but a pattern that said so would also describe `.`.)
pub const SKU_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

/// A product code: 1 to 64 characters of ASCII letters, digits, `-`, `_` and `.`, at least one
/// of them a letter or a digit, so that it can sit in a URL path without escaping (and is never
/// `.` or `..`, which a path would read as "here" and "up"). Case is kept as the seller typed
/// it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sku(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkuError {
    #[error("SKU must not be empty")]
    Empty,
    #[error("SKU must be at most {SKU_LEN_MAX} characters")]
    TooLong,
    #[error("SKU may contain only letters, digits, '-', '_' and '.'")]
    BadCharacter,
    #[error("SKU must contain a letter or a digit")]
    NoLetterOrDigit,
}

impl Sku {
    pub fn parse(raw: &str) -> Result<Sku, SkuError> {
        if raw.is_empty() {
            return Err(SkuError::Empty);
        }
        if raw.len() > SKU_LEN_MAX {
            return Err(SkuError::TooLong);
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(SkuError::BadCharacter);
        }
        if !raw.bytes().any(|b| b.is_ascii_alphanumeric()) {
            return Err(SkuError::NoLetterOrDigit);
        }
        Ok(Sku(raw.to_owned()))
    }

    /// Wraps a SKU read back from storage, where it was validated on the way in.
    pub fn from_stored(raw: String) -> Sku {
        Sku(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Sku {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_accepts_url_safe_codes_only() {
        assert!(Sku::parse("GAMIS-01.L_hitam").is_ok());
        assert_eq!(Sku::parse(""), Err(SkuError::Empty));
        assert_eq!(Sku::parse("a b"), Err(SkuError::BadCharacter));
        assert_eq!(Sku::parse("a/b"), Err(SkuError::BadCharacter));
        assert_eq!(Sku::parse(&"x".repeat(65)), Err(SkuError::TooLong));
        for path_like in [".", "..", "...", "-", "_.-"] {
            assert_eq!(
                Sku::parse(path_like),
                Err(SkuError::NoLetterOrDigit),
                "{path_like}"
            );
        }
        assert!(Sku::parse(".5").is_ok());
    }

    proptest::proptest! {
        #[test]
        fn every_sku_the_document_describes_is_taken(
            raw in proptest::string::string_regex(&SKU_PATTERN[1..SKU_PATTERN.len() - 1]).unwrap()
        ) {
            proptest::prop_assert!(Sku::parse(&raw).is_ok(), "{raw:?}");
        }
    }

    #[test]
    fn the_document_never_describes_a_sku_without_a_letter_or_digit() {
        let pattern = regex::Regex::new(SKU_PATTERN).unwrap();
        for path_like in [".", "..", "-", "_.-"] {
            assert!(!pattern.is_match(path_like), "{path_like}");
        }
    }
}
