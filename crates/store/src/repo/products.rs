//! Products: creating and updating them with their stock counters, reading and listing.

use lunas_core::{Money, Sku, Timestamp};

use crate::repo::*;
use crate::sql::{Db, DbResult, Row, params};
use lunas_core::catalog::{Product, ProductError, ProductInput};
use lunas_core::queries::Page;

pub(crate) fn put_product(
    db: &mut dyn Db,
    input: &ProductInput,
    now: Timestamp,
) -> DbResult<Result<Product, ProductError>> {
    let reserved = db
        .row(
            "SELECT reserved FROM products WHERE sku = ?1 FOR NO KEY UPDATE",
            params![input.sku.as_str()],
            |row| row.int(0),
        )?
        .unwrap_or(0);
    if input.stock < reserved {
        return Ok(Err(ProductError::StockBelowReserved {
            stock: input.stock,
            reserved,
        }));
    }
    db.execute(
        "INSERT INTO products (sku, name, price, on_hand, reserved, tips, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?6, ?5, ?5)
         ON CONFLICT (sku) DO UPDATE
         SET name = excluded.name, price = excluded.price, on_hand = excluded.on_hand,
             tips = excluded.tips, updated_at = excluded.updated_at",
        params![
            input.sku.as_str(),
            &input.name,
            input.price.minor_units(),
            input.stock,
            millis(now),
            &input.tips
        ],
    )?;
    Ok(Ok(
        product_row(db, &input.sku)?.expect("the product was just written")
    ))
}

pub(crate) fn products(db: &mut dyn Db, page: &Page<String>) -> DbResult<Vec<Product>> {
    db.rows(
        "SELECT sku, name, price, on_hand, reserved, tips FROM products
         WHERE sku > ?1 ORDER BY sku LIMIT ?2",
        params![page.after.as_deref().unwrap_or(""), page.limit as i64],
        read_product,
    )
}

pub(crate) fn read_product(row: &Row<'_>) -> DbResult<Product> {
    let on_hand = row.int(3)?;
    let reserved = row.int(4)?;
    Ok(Product {
        sku: Sku::from_stored(row.text(0)?),
        name: row.text(1)?,
        price: Money::from_stored(row.int(2)?),
        on_hand,
        reserved,
        available: on_hand - reserved,
        tips: row.opt_text(5)?,
    })
}

pub(crate) fn product_row(db: &mut dyn Db, sku: &Sku) -> DbResult<Option<Product>> {
    db.row(
        "SELECT sku, name, price, on_hand, reserved, tips FROM products WHERE sku = ?1",
        params![sku.as_str()],
        read_product,
    )
}

/// The product, its row locked until the transaction ends (on PostgreSQL).
pub(crate) fn product_for_update(db: &mut dyn Db, sku: &Sku) -> DbResult<Option<Product>> {
    db.row(
        "SELECT sku, name, price, on_hand, reserved, tips FROM products WHERE sku = ?1 FOR NO KEY UPDATE",
        params![sku.as_str()],
        read_product,
    )
}

/// The tips of `skus`' products, in order (`None` where there is none or no such product).
pub(crate) fn product_tips(db: &mut dyn Db, skus: &[Sku]) -> DbResult<Vec<Option<String>>> {
    skus.iter()
        .map(|sku| {
            Ok(db
                .row(
                    "SELECT tips FROM products WHERE sku = ?1",
                    params![sku.as_str()],
                    |row| row.opt_text(0),
                )?
                .flatten())
        })
        .collect()
}
