//! Where an order goes and what it costs to get there: the recipient's address, the shipping
//! cost (`ongkir`) and the discount, and the order's total built from them.
//!
//! An address is personal data: it is part of a buyer's export and is removed by erasure.

use serde::{Deserialize, Serialize};

use crate::{Money, Phone, PhoneError};

/// Longest street line (house number, street, RT/RW, landmarks), in characters.
pub const STREET_LEN_MAX: usize = 300;
/// Longest name of a kelurahan, kecamatan, city or province, and of the recipient, in characters.
pub const AREA_LEN_MAX: usize = 100;
/// Most an order's shipping cost may be, in minor units (Rp100.000.000: a truck, not a parcel).
pub const SHIPPING_COST_MAX: i64 = 100_000_000;
/// Most an order's discount may be, in minor units; it may never exceed the order's total either.
pub const DISCOUNT_MAX: i64 = 1_000_000_000_000;

/// An Indonesian postcode: five digits, the first not zero.
pub const POSTCODE_PATTERN: &str = r"^[1-9][0-9]{4}$";

/// The recipient of an order's parcel, as the courier needs it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub recipient: String,
    /// E.164, such as `+6281234567890`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub phone: Phone,
    pub street: String,
    pub kelurahan: Option<String>,
    pub kecamatan: Option<String>,
    /// Kota or kabupaten.
    pub city: String,
    pub province: String,
    pub postcode: Option<String>,
}

/// An address as typed, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressInput<'a> {
    pub recipient: &'a str,
    pub phone: &'a str,
    pub street: &'a str,
    pub kelurahan: &'a str,
    pub kecamatan: &'a str,
    pub city: &'a str,
    pub province: &'a str,
    pub postcode: &'a str,
}

/// The part of an address that is missing or wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressField {
    Recipient,
    Phone,
    Street,
    Kelurahan,
    Kecamatan,
    City,
    Province,
    Postcode,
}

impl AddressField {
    /// The field's name in the API's `address` object.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressField::Recipient => "recipient",
            AddressField::Phone => "phone",
            AddressField::Street => "street",
            AddressField::Kelurahan => "kelurahan",
            AddressField::Kecamatan => "kecamatan",
            AddressField::City => "city",
            AddressField::Province => "province",
            AddressField::Postcode => "postcode",
        }
    }
}

/// What is wrong with one field of an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressProblem {
    #[error("must not be empty")]
    Missing,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control characters")]
    ControlCharacter,
    #[error("{0}")]
    Phone(PhoneError),
    #[error("must be five digits")]
    Postcode,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("address.{} {problem}", field.as_str())]
pub struct AddressError {
    pub field: AddressField,
    pub problem: AddressProblem,
}

impl Address {
    /// Checks an address as typed: the recipient, phone, street, city and province are required,
    /// kelurahan, kecamatan and postcode optional; every part is one line of bounded length.
    pub fn parse(input: &AddressInput<'_>) -> Result<Address, AddressError> {
        let fail = |field, problem| AddressError { field, problem };
        // One line of at most `max` characters, without control characters (the rule of
        // `order::clean_text`, with the address's own lengths); blank is none.
        let line = |field, raw: &str, max: usize| -> Result<Option<String>, AddressError> {
            let text = raw.trim();
            if text.chars().count() > max {
                return Err(fail(field, AddressProblem::TooLong { max }));
            }
            if text.chars().any(char::is_control) {
                return Err(fail(field, AddressProblem::ControlCharacter));
            }
            Ok((!text.is_empty()).then(|| text.to_owned()))
        };
        // A street line may be longer than the other text lunas keeps.
        let street = match input.street.trim() {
            s if s.chars().count() > STREET_LEN_MAX => {
                return Err(fail(
                    AddressField::Street,
                    AddressProblem::TooLong {
                        max: STREET_LEN_MAX,
                    },
                ));
            }
            s if s.chars().any(|c| c.is_control() && c != '\n') => {
                return Err(fail(AddressField::Street, AddressProblem::ControlCharacter));
            }
            // A street pasted over several lines is kept as one.
            s => s.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        let required = |field, value: Option<String>| {
            value.ok_or_else(|| fail(field, AddressProblem::Missing))
        };
        let recipient = required(
            AddressField::Recipient,
            line(AddressField::Recipient, input.recipient, AREA_LEN_MAX)?,
        )?;
        let phone = Phone::parse(input.phone.trim()).map_err(|e| {
            if input.phone.trim().is_empty() {
                fail(AddressField::Phone, AddressProblem::Missing)
            } else {
                fail(AddressField::Phone, AddressProblem::Phone(e))
            }
        })?;
        if street.is_empty() {
            return Err(fail(AddressField::Street, AddressProblem::Missing));
        }
        let kelurahan = line(AddressField::Kelurahan, input.kelurahan, AREA_LEN_MAX)?;
        let kecamatan = line(AddressField::Kecamatan, input.kecamatan, AREA_LEN_MAX)?;
        let city = required(
            AddressField::City,
            line(AddressField::City, input.city, AREA_LEN_MAX)?,
        )?;
        let province = required(
            AddressField::Province,
            line(AddressField::Province, input.province, AREA_LEN_MAX)?,
        )?;
        let postcode = match input.postcode.trim() {
            "" => None,
            code if is_postcode(code) => Some(code.to_owned()),
            _ => return Err(fail(AddressField::Postcode, AddressProblem::Postcode)),
        };
        Ok(Address {
            recipient,
            phone,
            street,
            kelurahan,
            kecamatan,
            city,
            province,
            postcode,
        })
    }

    /// The address on lines as a courier's label has it: the recipient and number, the street,
    /// then the areas from the smallest.
    pub fn lines(&self) -> Vec<String> {
        let areas: Vec<&str> = [
            self.kelurahan.as_deref(),
            self.kecamatan.as_deref(),
            Some(self.city.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut last = self.province.clone();
        if let Some(code) = &self.postcode {
            last = format!("{last} {code}");
        }
        vec![
            format!("{} ({})", self.recipient, self.phone.international()),
            self.street.clone(),
            areas.join(", "),
            last,
        ]
    }
}

/// Whether `raw` is an Indonesian postcode ([`POSTCODE_PATTERN`]).
pub fn is_postcode(raw: &str) -> bool {
    raw.len() == 5 && raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0')
}

/// What the buyer pays on top of the items and what is taken off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Charges {
    pub shipping_cost: Money,
    pub discount: Money,
}

/// Why charges are refused before anything is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChargeError {
    #[error("shipping_cost must be a whole amount from 0 to {SHIPPING_COST_MAX}")]
    ShippingCost,
    #[error("discount must be a whole amount from 0 to {DISCOUNT_MAX}")]
    Discount,
}

impl Charges {
    /// Checks the shipping cost and the discount as given (in minor units).
    pub fn new(shipping_cost: i64, discount: i64) -> Result<Charges, ChargeError> {
        if !(0..=SHIPPING_COST_MAX).contains(&shipping_cost) {
            return Err(ChargeError::ShippingCost);
        }
        if !(0..=DISCOUNT_MAX).contains(&discount) {
            return Err(ChargeError::Discount);
        }
        Ok(Charges {
            shipping_cost: Money::from_stored(shipping_cost),
            discount: Money::from_stored(discount),
        })
    }

    /// The order's total: the items, plus the shipping cost, less the discount. `None` when the
    /// discount takes it to zero or below: lunas takes orders that have something to pay.
    pub fn total(self, items: Money) -> Option<Money> {
        let total =
            items.minor_units() + self.shipping_cost.minor_units() - self.discount.minor_units();
        (total > 0).then(|| Money::from_stored(total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AddressInput<'static> {
        AddressInput {
            recipient: "Sari Dewi",
            phone: "0812-3456-7890",
            street: "Jl. Melati No. 12, RT 03/RW 05",
            kelurahan: "Sukamaju",
            kecamatan: "Cilodong",
            city: "Kota Depok",
            province: "Jawa Barat",
            postcode: "16415",
        }
    }

    fn check(
        change: impl FnOnce(&mut AddressInput<'static>),
        expect: Result<(), (AddressField, AddressProblem)>,
    ) {
        let mut typed = input();
        change(&mut typed);
        let got = Address::parse(&typed)
            .map(|_| ())
            .map_err(|e| (e.field, e.problem));
        assert_eq!(got, expect, "{typed:?}");
    }

    #[test]
    fn an_address_needs_its_parts_and_keeps_each_in_bounds() {
        use AddressField::{City, Province, Recipient, Street};
        use AddressProblem::{ControlCharacter, Missing, TooLong};
        check(|_| {}, Ok(()));
        check(|a| a.kelurahan = "", Ok(()));
        check(|a| a.postcode = " ", Ok(()));
        check(|a| a.recipient = "  ", Err((Recipient, Missing)));
        check(|a| a.phone = "", Err((AddressField::Phone, Missing)));
        check(|a| a.street = "", Err((Street, Missing)));
        check(|a| a.city = "", Err((City, Missing)));
        check(|a| a.province = "", Err((Province, Missing)));
        check(
            |a| a.postcode = "1641",
            Err((AddressField::Postcode, AddressProblem::Postcode)),
        );
        check(
            |a| a.postcode = "06415",
            Err((AddressField::Postcode, AddressProblem::Postcode)),
        );
        let long: &'static str = Box::leak("x".repeat(AREA_LEN_MAX + 1).into_boxed_str());
        check(
            |a| a.city = long,
            Err((City, TooLong { max: AREA_LEN_MAX })),
        );
        let street: &'static str = Box::leak("x".repeat(STREET_LEN_MAX + 1).into_boxed_str());
        check(
            |a| a.street = street,
            Err((
                Street,
                TooLong {
                    max: STREET_LEN_MAX,
                },
            )),
        );
        check(
            |a| a.province = "Jawa\u{7}Barat",
            Err((Province, ControlCharacter)),
        );
    }

    #[test]
    fn a_street_pasted_over_lines_is_one_line() {
        let mut typed = input();
        typed.street = "Jl. Melati No. 12\n  RT 03/RW 05";
        let address = Address::parse(&typed).unwrap();
        assert_eq!(address.street, "Jl. Melati No. 12 RT 03/RW 05");
        assert_eq!(address.phone.as_str(), "+6281234567890");
        assert_eq!(
            address.lines(),
            [
                "Sari Dewi (+62 812-3456-7890)",
                "Jl. Melati No. 12 RT 03/RW 05",
                "Sukamaju, Cilodong, Kota Depok",
                "Jawa Barat 16415"
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn every_postcode_the_document_describes_is_taken(
            raw in proptest::string::string_regex(&POSTCODE_PATTERN[1..POSTCODE_PATTERN.len() - 1]).unwrap()
        ) {
            proptest::prop_assert!(is_postcode(&raw), "{raw:?}");
        }

        #[test]
        fn every_street_and_area_the_document_describes_is_taken(
            raw in proptest::string::string_regex(&crate::order::TEXT_PATTERN[1..crate::order::TEXT_PATTERN.len() - 1]).unwrap()
        ) {
            proptest::prop_assume!(raw.chars().count() <= AREA_LEN_MAX);
            let mut typed = input();
            typed.street = &raw;
            typed.city = &raw;
            typed.recipient = &raw;
            typed.kelurahan = &raw;
            proptest::prop_assert!(Address::parse(&typed).is_ok(), "{raw:?}");
        }
    }

    #[test]
    fn the_total_adds_shipping_and_takes_the_discount() {
        let items = Money::from_stored(150_000);
        let charges = Charges::new(12_000, 2_000).unwrap();
        assert_eq!(charges.total(items), Some(Money::from_stored(160_000)));
        assert_eq!(Charges::new(0, 162_000).unwrap().total(items), None);
        assert_eq!(Charges::new(0, 150_000).unwrap().total(items), None);
        assert_eq!(Charges::new(-1, 0), Err(ChargeError::ShippingCost));
        assert_eq!(
            Charges::new(SHIPPING_COST_MAX + 1, 0),
            Err(ChargeError::ShippingCost)
        );
        assert_eq!(Charges::new(0, -5), Err(ChargeError::Discount));
    }
}
