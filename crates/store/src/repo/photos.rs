//! The rows of product photos: each size as encoded by the engine, and the product's
//! `photo_version`, which changes with every upload so that a cached copy is never shown for a
//! new photo.

use lunas_core::Sku;

use crate::sql::{Db, DbResult, params};

/// Replaces a product's photo with these sizes (name, JPEG bytes); answers the photo's new
/// version, or `None` when there is no such product (nothing written).
pub(crate) fn put_photos(
    db: &mut dyn Db,
    sku: &Sku,
    sizes: &[(&str, Vec<u8>)],
) -> DbResult<Option<i64>> {
    let version = db.row(
        "UPDATE products SET photo_version = COALESCE(photo_version, 0) + 1 WHERE sku = ?1
         RETURNING photo_version",
        params![sku.as_str()],
        |row| row.int(0),
    )?;
    let Some(version) = version else {
        return Ok(None);
    };
    db.execute(
        "DELETE FROM product_photos WHERE sku = ?1",
        params![sku.as_str()],
    )?;
    for (size, body) in sizes {
        db.execute(
            "INSERT INTO product_photos (sku, size, content_type, body) VALUES (?1, ?2, 'image/jpeg', ?3)",
            params![sku.as_str(), *size, body.as_slice()],
        )?;
    }
    Ok(Some(version))
}

/// One size of a product's photo: its content type and bytes.
pub(crate) fn photo(db: &mut dyn Db, sku: &str, size: &str) -> DbResult<Option<(String, Vec<u8>)>> {
    db.row(
        "SELECT content_type, body FROM product_photos WHERE sku = ?1 AND size = ?2",
        params![sku, size],
        |row| Ok((row.text(0)?, row.bytes(1)?)),
    )
}
