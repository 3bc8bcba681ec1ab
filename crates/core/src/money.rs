//! Money as an integer count of the currency's smallest unit in use.
//!
//! For rupiah that unit is one rupiah: the sen exists in ISO 4217 but nobody pays with it, so
//! `Money::new(150_000)` is Rp150.000. No floating point is ever used for amounts.

use serde::{Deserialize, Serialize};

/// The largest amount lunas accepts for one price or one payment: Rp1.000.000.000.000 (one
/// trillion). Anything larger is a typo or an attack, and keeping amounts this small means a total
/// of `ITEMS_PER_ORDER_MAX` lines of `QUANTITY_MAX` units can never overflow an `i64`.
pub const AMOUNT_MAX: i64 = 1_000_000_000_000;

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount must be a whole number of at least 0")]
    Negative,
    #[error("amount must be greater than 0")]
    Zero,
    #[error("amount must not exceed {AMOUNT_MAX}")]
    TooLarge,
}

impl Money {
    pub const ZERO: Money = Money(0);

    /// A price: zero (a free gift) up to `AMOUNT_MAX`.
    pub fn price(amount: i64) -> Result<Money, MoneyError> {
        if amount < 0 {
            return Err(MoneyError::Negative);
        }
        if amount > AMOUNT_MAX {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money(amount))
    }

    /// A payment: strictly positive, up to `AMOUNT_MAX`.
    pub fn payment(amount: i64) -> Result<Money, MoneyError> {
        if amount == 0 {
            return Err(MoneyError::Zero);
        }
        Money::price(amount)
    }

    /// Wraps an amount read back from storage, where it was validated on the way in.
    pub const fn from_stored(amount: i64) -> Money {
        Money(amount)
    }

    pub const fn minor_units(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_mul(self, qty: i64) -> Option<Money> {
        self.0.checked_mul(qty).map(Money)
    }
}

/// The store's currency. Only rupiah is offered today; the type exists so that amounts are never
/// shown without knowing what they count.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Currency {
    #[default]
    IDR,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::IDR => "IDR",
        }
    }
}

/// Reads an amount of rupiah as sellers type it: `158248`, `158.248`, `Rp158.248`, `Rp 158.248`,
/// `158.248,00` or `158 248` (dots and spaces group thousands; a comma starts cents, which must be
/// zero). `None` when it is not an amount written that way.
pub fn read_rupiah(typed: &str) -> Option<i64> {
    let mut rest = typed.trim();
    for prefix in ["Rp.", "Rp", "rp.", "rp", "RP", "IDR"] {
        if let Some(stripped) = rest.strip_prefix(prefix) {
            rest = stripped.trim_start();
            break;
        }
    }
    let (whole, cents) = match rest.split_once(',') {
        Some((whole, cents)) => (whole, Some(cents)),
        None => (rest, None),
    };
    if cents.is_some_and(|c| c.is_empty() || !c.bytes().all(|b| b == b'0')) {
        return None;
    }
    let digits: String = whole.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
    let negative = digits.starts_with('-');
    let body = digits.strip_prefix('-').unwrap_or(&digits);
    if body.is_empty() || body.len() > 15 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = body.parse().ok()?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {

    #[test]
    fn rupiah_read_as_sellers_type_them() {
        let check = |typed: &str, expect: Option<i64>| {
            assert_eq!(super::read_rupiah(typed), expect, "{typed:?}");
        };
        check("158248", Some(158_248));
        check("158.248", Some(158_248));
        check("Rp158.248", Some(158_248));
        check("Rp 158.248", Some(158_248));
        check("Rp. 158.248", Some(158_248));
        check("158.248,00", Some(158_248));
        check("158 248", Some(158_248));
        check("IDR 1.000.000", Some(1_000_000));
        check("-5.000", Some(-5_000));
        check("158.248,50", None);
        check("158,", None);
        check("seratus", None);
        check("", None);
        check("Rp", None);
        check("12e3", None);
    }
    use super::*;

    #[test]
    fn price_accepts_zero_and_rejects_negative_and_absurd_amounts() {
        assert_eq!(Money::price(0), Ok(Money::ZERO));
        assert_eq!(Money::price(150_000).map(Money::minor_units), Ok(150_000));
        assert_eq!(Money::price(-1), Err(MoneyError::Negative));
        assert_eq!(Money::price(AMOUNT_MAX + 1), Err(MoneyError::TooLarge));
    }

    #[test]
    fn payment_must_be_positive() {
        assert_eq!(Money::payment(0), Err(MoneyError::Zero));
        assert_eq!(Money::payment(-5), Err(MoneyError::Negative));
        assert!(Money::payment(1).is_ok());
    }
}
