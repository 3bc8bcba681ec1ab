//! Products as the catalogue holds them, and what adding or updating one may be refused for.

use crate::{Money, Sku};

#[derive(Debug, Clone)]
pub struct ProductInput {
    pub sku: Sku,
    pub name: String,
    pub price: Money,
    /// Units on hand, including those held by unpaid orders.
    pub stock: i64,
    /// A tip for buyers, quoted in reminders ("buyers who understand the product pay").
    pub tips: Option<String>,
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
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    #[error("stock {stock} is below the {reserved} units held by unpaid orders")]
    StockBelowReserved { stock: i64, reserved: i64 },
}
