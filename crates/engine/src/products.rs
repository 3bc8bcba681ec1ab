//! The catalogue: products read and written, and the catalogue indexed for reading pasted
//! format orders (kept for a few seconds, and dropped at once when this process changes a
//! product).

use std::sync::Arc;

use lunas_core::Sku;
use lunas_core::catalog::{Product, ProductInput};
use lunas_core::queries::Page;

use crate::{Engine, Error};

/// How long the catalogue a pasted format order is read against is kept before it is read again
/// (another process may have changed the products; this one forgets it at once when it does).
const FORMAT_CATALOGUE_TTL_MS: i64 = 5000;
/// Most products a format order is matched against; the rest of a larger catalogue is not read.
const FORMAT_CATALOGUE_PRODUCTS_MAX: usize = 50_000;
/// Products read per query while indexing the catalogue.
const FORMAT_CATALOGUE_PAGE_LEN: usize = 1000;

impl Engine {
    /// Creates or changes a product; units it puts back on sale (more stock) go first to the
    /// buyers waiting for it, in the same transaction.
    pub async fn put_product(&self, product: ProductInput) -> Result<Product, Error> {
        let (now, messaging) = (self.now(), self.messaging());
        let seed: u128 = rand::random();
        let put = self
            .store
            .transact(move |tx| {
                let put = tx.put_product(&product, now)?;
                if let Ok(put) = &put
                    && put.available > 0
                {
                    let sku = std::slice::from_ref(&put.sku);
                    if crate::offers::offer_released(tx, sku, now, &messaging, seed)? > 0 {
                        // Read again: the units offered are held now.
                        return Ok(tx.product(&put.sku)?.ok_or(
                            lunas_core::catalog::ProductError::NotFound {
                                sku: put.sku.clone(),
                            },
                        ));
                    }
                }
                Ok(put)
            })
            .await??;
        *self.format_catalogue.write().expect("catalogue lock") = None;
        Ok(put)
    }

    /// Reads a pasted format order against the catalogue: a draft for staff to check, never an
    /// order.
    pub async fn read_format_order(
        &self,
        text: &str,
    ) -> Result<lunas_core::format_order::Draft, Error> {
        let catalogue = self.format_catalogue().await?;
        Ok(lunas_core::format_order::read(text, &catalogue))
    }

    /// A buyer's chat message read as a format order, when it is one: at least two lines, a
    /// product of the catalogue, and a name or an address. The draft waits for staff to confirm.
    pub async fn chat_order(
        &self,
        text: &str,
    ) -> Result<Option<lunas_core::format_order::Draft>, Error> {
        if text.trim().lines().filter(|l| !l.trim().is_empty()).count() < 2 {
            return Ok(None);
        }
        let draft = self.read_format_order(text).await?;
        let has_item = draft.items.iter().any(|i| i.sku.is_some());
        let has_buyer = draft.customer.name.is_some() || draft.address.is_some();
        Ok((has_item && has_buyer).then_some(draft))
    }

    /// The catalogue indexed for format orders: kept for a few seconds, read again after.
    pub(crate) async fn format_catalogue(
        &self,
    ) -> Result<Arc<lunas_core::format_order::Catalogue>, Error> {
        let now_ms = self.now().as_millisecond();
        if let Some((catalogue, read_at)) = &*self.format_catalogue.read().expect("catalogue lock")
            && now_ms.saturating_sub(*read_at) < FORMAT_CATALOGUE_TTL_MS
        {
            return Ok(catalogue.clone());
        }
        let mut products = Vec::new();
        let mut after = None;
        while products.len() < FORMAT_CATALOGUE_PRODUCTS_MAX {
            let page = self
                .store
                .products(Page {
                    after: after.clone(),
                    limit: FORMAT_CATALOGUE_PAGE_LEN,
                })
                .await?;
            let full = page.len() == FORMAT_CATALOGUE_PAGE_LEN;
            after = page.last().map(|p| p.sku.as_str().to_owned());
            // A product with variants is sold through them: a name matches the variant.
            products.extend(
                page.into_iter()
                    .filter(|p| !p.is_group())
                    .map(|p| (p.sku, p.name)),
            );
            if !full {
                break;
            }
        }
        let catalogue = Arc::new(lunas_core::format_order::Catalogue::new(products));
        *self.format_catalogue.write().expect("catalogue lock") = Some((catalogue.clone(), now_ms));
        Ok(catalogue)
    }

    pub async fn product(&self, sku: Sku) -> Result<Option<Product>, Error> {
        Ok(self.store.product(sku).await?)
    }

    pub async fn products(&self, page: Page<String>) -> Result<Vec<Product>, Error> {
        Ok(self.store.products(page).await?)
    }

    /// Products that are not variants, by SKU, each with its variants: the catalogue as the
    /// seller sees it.
    pub async fn product_groups(
        &self,
        page: Page<String>,
    ) -> Result<Vec<(Product, Vec<Product>)>, Error> {
        Ok(self.store.product_groups(page).await?)
    }

    pub async fn variants_of(&self, parent: Sku) -> Result<Vec<Product>, Error> {
        Ok(self.store.variants_of(parent).await?)
    }

    /// Replaces a product's photo with a seller's upload, kept in the catalogue's sizes (decoded
    /// and encoded off the async threads); answers the photo's new version.
    pub async fn put_product_photo(&self, sku: Sku, bytes: Vec<u8>) -> Result<i64, Error> {
        let sizes = tokio::task::spawn_blocking(move || crate::pictures::product_photo(&bytes))
            .await
            .map_err(|e| Error::Store(lunas_store::StoreError::Internal(e.to_string())))??;
        let version = self.store.put_product_photos(sku.clone(), sizes).await?;
        version.ok_or(Error::Product(
            lunas_core::catalog::ProductError::NotFound { sku },
        ))
    }

    /// One size of a product's photo (`s`, `m` or `l`): its content type and bytes.
    pub async fn product_photo(
        &self,
        sku: &str,
        size: &str,
    ) -> Result<Option<(String, Vec<u8>)>, Error> {
        let Some((size, _)) = crate::pictures::PHOTO_SIZES
            .iter()
            .find(|(s, _)| *s == size)
        else {
            return Ok(None);
        };
        Ok(self.store.product_photo(sku.to_owned(), size).await?)
    }
}
