//! Products as the catalogue holds them, and what adding or updating one may be refused for.
//!
//! A product may have variants (size, colour: "Hitam / L"). A variant is a product of its own —
//! its own SKU, stock and holds — that belongs to one product, its parent, and takes its name
//! ("Kaos Polos (Hitam / L)") and, unless it has one of its own, its price from it. A product
//! that has variants is sold through them: an order names the variant. Variants go one level
//! deep: a variant has no variants.

use crate::{Money, Sku};

/// Longest variant label ("Hitam / L"), in characters.
pub const VARIANT_LEN_MAX: usize = 60;

#[derive(Debug, Clone)]
pub struct ProductInput {
    pub sku: Sku,
    /// The product's name; a variant's name is made from its parent's and this is not read.
    pub name: String,
    /// The price; a variant without a price of its own (`VariantInput::own_price` false) takes
    /// its parent's and this is not read.
    pub price: Money,
    /// Units on hand, including those held by unpaid orders.
    pub stock: i64,
    /// A tip for buyers, quoted in reminders ("buyers who understand the product pay").
    pub tips: Option<String>,
    /// Set when this product is a variant of another.
    pub variant: Option<VariantInput>,
}

/// What makes a product a variant: the product it belongs to and what sets it apart.
#[derive(Debug, Clone)]
pub struct VariantInput {
    pub parent: Sku,
    /// "Hitam / L": cleaned, not empty, at most [`VARIANT_LEN_MAX`] characters.
    pub label: String,
    /// Whether `ProductInput::price` is the variant's own; otherwise it follows the parent's.
    pub own_price: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Product {
    pub sku: Sku,
    pub name: String,
    pub price: Money,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub tips: Option<String>,
    /// The product this one is a variant of, and its label ("Hitam / L").
    pub parent: Option<Sku>,
    pub variant: Option<String>,
    /// Whether a variant's price is its own (always true for a product that is not a variant).
    pub own_price: bool,
    /// How many variants this product has; one that has any is sold only through them.
    pub variants: i64,
    /// The version of the product's photo (it changes with every upload), `None` without one.
    pub photo_version: Option<i64>,
}

impl Product {
    /// A product with variants: a group, not sold by its own SKU.
    pub fn is_group(&self) -> bool {
        self.variants > 0
    }
}

/// A variant's name: its product's name and the variant's label.
pub fn variant_name(parent_name: &str, label: &str) -> String {
    format!("{parent_name} ({label})")
}

/// Whether two variant labels name the same variant ("hitam / l" is "Hitam / L").
pub fn same_variant(a: &str, b: &str) -> bool {
    let key = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    key(a) == key(b)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    /// No product has this SKU.
    #[error("no product {sku}")]
    NotFound { sku: Sku },
    #[error("stock {stock} is below the {reserved} units held by unpaid orders")]
    StockBelowReserved { stock: i64, reserved: i64 },
    /// The variant names a parent that is not in the catalogue.
    #[error("parent {parent} is not a product; add it first")]
    UnknownParent { parent: Sku },
    /// The variant names a variant as its parent; variants have no variants.
    #[error("parent {parent} is itself a variant, and variants have no variants")]
    ParentIsVariant { parent: Sku },
    /// The SKU is already a product that this request would turn into something else.
    #[error("SKU {sku} is already {what}; choose another SKU")]
    SkuTaken { sku: Sku, what: String },
    /// The parent already has a variant with this label.
    #[error("{parent} already has the variant \"{label}\" (SKU {sku})")]
    VariantTaken {
        parent: Sku,
        label: String,
        sku: Sku,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_labels_match_whatever_their_case_and_spacing() {
        assert!(same_variant("Hitam / L", "hitam  /  l"));
        assert!(same_variant("ÜBER", "über"));
        assert!(!same_variant("Hitam / L", "Hitam / XL"));
    }

    #[test]
    fn a_variant_is_named_after_its_product() {
        assert_eq!(
            variant_name("Kaos Polos", "Hitam / L"),
            "Kaos Polos (Hitam / L)"
        );
    }
}
