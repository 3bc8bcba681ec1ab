//! Products: creating and updating them (and their variants) with their stock counters, reading
//! and listing.

use std::collections::HashMap;

use lunas_core::{Money, Sku, Timestamp};

use crate::repo::*;
use crate::sql::{Db, DbResult, Row, params};
use lunas_core::catalog::{
    Product, ProductError, ProductInput, VariantInput, same_variant, variant_name,
};
use lunas_core::queries::Page;

pub(crate) fn put_product(
    db: &mut dyn Db,
    input: &ProductInput,
    now: Timestamp,
) -> DbResult<Result<Product, ProductError>> {
    // Rows are locked parent first (a parent's update writes its variants' rows too), so two
    // writers of one group never wait on each other in a cycle.
    let written = match &input.variant {
        None => {
            let existing = product_for_update(db, &input.sku)?;
            put_plain(db, input, existing.as_ref(), now)?
        }
        Some(variant) => put_variant(db, input, variant, now)?,
    };
    if let Err(refused) = written {
        return Ok(Err(refused));
    }
    Ok(Ok(
        product_row(db, &input.sku)?.expect("the product was just written")
    ))
}

fn check_stock(input: &ProductInput, existing: Option<&Product>) -> Result<(), ProductError> {
    let reserved = existing.map_or(0, |p| p.reserved);
    if input.stock < reserved {
        return Err(ProductError::StockBelowReserved {
            stock: input.stock,
            reserved,
        });
    }
    Ok(())
}

/// A product that is not a variant; its variants follow its name and (unless they have their
/// own) its price.
fn put_plain(
    db: &mut dyn Db,
    input: &ProductInput,
    existing: Option<&Product>,
    now: Timestamp,
) -> DbResult<Result<(), ProductError>> {
    if let Some(parent) = existing.and_then(|p| p.parent.as_ref()) {
        return Ok(Err(ProductError::SkuTaken {
            sku: input.sku.clone(),
            what: format!("a variant of {parent} (send its parent to update it)"),
        }));
    }
    if let Err(refused) = check_stock(input, existing) {
        return Ok(Err(refused));
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
    if existing.is_some_and(Product::is_group) {
        for (sku, label) in variant_labels(db, &input.sku)? {
            db.execute(
                "UPDATE products SET name = ?2,
                     price = CASE WHEN inherits_price THEN ?3 ELSE price END, updated_at = ?4
                 WHERE sku = ?1",
                params![
                    sku.as_str(),
                    &variant_name(&input.name, &label),
                    input.price.minor_units(),
                    millis(now)
                ],
            )?;
        }
    }
    Ok(Ok(()))
}

fn put_variant(
    db: &mut dyn Db,
    input: &ProductInput,
    variant: &VariantInput,
    now: Timestamp,
) -> DbResult<Result<(), ProductError>> {
    // A SKU named as its own parent is refused below: as missing, or as taken.
    let parent_sku = &variant.parent;
    let Some(parent) = product_for_update(db, parent_sku)? else {
        return Ok(Err(ProductError::UnknownParent {
            parent: parent_sku.clone(),
        }));
    };
    if parent.parent.is_some() {
        return Ok(Err(ProductError::ParentIsVariant {
            parent: parent_sku.clone(),
        }));
    }
    let existing = product_for_update(db, &input.sku)?;
    let existing = existing.as_ref();
    if let Some(existing) = existing
        && existing.parent.as_ref() != Some(parent_sku)
    {
        let what = match &existing.parent {
            Some(other) => format!("a variant of {other}"),
            None if existing.is_group() => {
                format!("the product \"{}\", which has variants", existing.name)
            }
            None => format!("the product \"{}\"", existing.name),
        };
        return Ok(Err(ProductError::SkuTaken {
            sku: input.sku.clone(),
            what,
        }));
    }
    if let Some((sku, label)) = variant_labels(db, parent_sku)?
        .into_iter()
        .find(|(sku, label)| *sku != input.sku && same_variant(label, &variant.label))
    {
        return Ok(Err(ProductError::VariantTaken {
            parent: parent_sku.clone(),
            label,
            sku,
        }));
    }
    if let Err(refused) = check_stock(input, existing) {
        return Ok(Err(refused));
    }
    let price = if variant.own_price {
        input.price
    } else {
        parent.price
    };
    db.execute(
        "INSERT INTO products (sku, name, price, on_hand, reserved, tips, parent, variant,
                               inherits_price, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?6, ?7, ?8, ?9, ?5, ?5)
         ON CONFLICT (sku) DO UPDATE
         SET name = excluded.name, price = excluded.price, on_hand = excluded.on_hand,
             tips = excluded.tips, variant = excluded.variant,
             inherits_price = excluded.inherits_price, updated_at = excluded.updated_at",
        params![
            input.sku.as_str(),
            &variant_name(&parent.name, &variant.label),
            price.minor_units(),
            input.stock,
            millis(now),
            &input.tips,
            parent_sku.as_str(),
            &variant.label,
            !variant.own_price
        ],
    )?;
    if existing.is_none() {
        db.execute(
            "UPDATE products SET variants = variants + 1 WHERE sku = ?1",
            params![parent_sku.as_str()],
        )?;
    }
    Ok(Ok(()))
}

/// The SKUs and labels of `parent`'s variants.
fn variant_labels(db: &mut dyn Db, parent: &Sku) -> DbResult<Vec<(Sku, String)>> {
    db.rows(
        "SELECT sku, variant FROM products WHERE parent = ?1 ORDER BY sku",
        params![parent.as_str()],
        |row| Ok((Sku::from_stored(row.text(0)?), row.text(1)?)),
    )
}

pub(crate) fn products(db: &mut dyn Db, page: &Page<String>) -> DbResult<Vec<Product>> {
    db.rows(
        concat!(
            "SELECT ",
            product_columns!(),
            " FROM products WHERE sku > ?1 ORDER BY sku LIMIT ?2"
        ),
        params![page.after.as_deref().unwrap_or(""), page.limit as i64],
        read_product,
    )
}

/// A page of the catalogue as sellers see it: products that are not variants, by SKU, each with
/// its variants (by SKU), paged by the last product's SKU.
pub(crate) fn product_groups(
    db: &mut dyn Db,
    page: &Page<String>,
) -> DbResult<Vec<(Product, Vec<Product>)>> {
    let after = page.after.as_deref().unwrap_or("");
    let heads = db.rows(
        concat!(
            "SELECT ",
            product_columns!(),
            " FROM products WHERE parent IS NULL AND sku > ?1 ORDER BY sku LIMIT ?2"
        ),
        params![after, page.limit as i64],
        read_product,
    )?;
    let Some(last) = heads.last() else {
        return Ok(Vec::new());
    };
    let mut by_parent: HashMap<Sku, Vec<Product>> = HashMap::new();
    for variant in db.rows(
        concat!(
            "SELECT ",
            product_columns!(),
            " FROM products WHERE parent > ?1 AND parent <= ?2 ORDER BY sku"
        ),
        params![after, last.sku.as_str()],
        read_product,
    )? {
        let parent = variant.parent.clone().expect("selected by its parent");
        by_parent.entry(parent).or_default().push(variant);
    }
    Ok(heads
        .into_iter()
        .map(|head| {
            let variants = by_parent.remove(&head.sku).unwrap_or_default();
            (head, variants)
        })
        .collect())
}

/// `parent`'s variants, by SKU.
pub(crate) fn variants_of(db: &mut dyn Db, parent: &Sku) -> DbResult<Vec<Product>> {
    db.rows(
        concat!(
            "SELECT ",
            product_columns!(),
            " FROM products WHERE parent = ?1 ORDER BY sku"
        ),
        params![parent.as_str()],
        read_product,
    )
}

/// Reads the columns of `product_columns!`.
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
        parent: row.opt_text(6)?.map(Sku::from_stored),
        variant: row.opt_text(7)?,
        own_price: !row.boolean(8)?,
        variants: row.int(9)?,
        photo_version: row.opt_int(10)?,
    })
}

pub(crate) fn product_row(db: &mut dyn Db, sku: &Sku) -> DbResult<Option<Product>> {
    db.row(
        concat!(
            "SELECT ",
            product_columns!(),
            " FROM products WHERE sku = ?1"
        ),
        params![sku.as_str()],
        read_product,
    )
}

/// The product, its row locked until the transaction ends (on PostgreSQL).
pub(crate) fn product_for_update(db: &mut dyn Db, sku: &Sku) -> DbResult<Option<Product>> {
    db.row(
        concat!(
            "SELECT ",
            product_columns!(),
            " FROM products WHERE sku = ?1 FOR NO KEY UPDATE"
        ),
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
