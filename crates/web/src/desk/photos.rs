//! A product's photo, uploaded from its page in the dashboard (`multipart/form-data`: the CSRF
//! token first, then the file) and shown back to staff. The engine keeps it in the catalogue's
//! sizes; a file that is not a picture, or too large, is said on the product's page and changes
//! nothing.

use axum::extract::{Multipart, Path};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use lunas_core::Sku;
use lunas_core::proofs::PROOF_BYTES_MAX;

use super::{Desk, PageError, done};

/// The codes a refused upload sends back to the product's page (and only these are shown).
pub(crate) const PHOTO_ERRORS: [&str; 4] = [
    "file_too_large",
    "file_type_not_accepted",
    "file_unreadable",
    "file_empty",
];

pub(crate) async fn upload(
    desk: Desk,
    Path(sku): Path<String>,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let sku = Sku::parse(&sku).map_err(|_| PageError::NotFound(desk.language()))?;
    let back = |code: &str| {
        Redirect::to(&format!(
            "/products/{}?photo_error={code}#photo",
            sku.as_str()
        ))
        .into_response()
    };
    let mut csrf_ok = false;
    let mut file = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Ok(back("file_too_large"));
            }
            Err(_) => return Err(PageError::BadForm),
        };
        match field.name() {
            Some("csrf") => {
                let token = field.text().await.map_err(|_| PageError::BadForm)?;
                csrf_ok = lunas_engine::tokens::same_secret(&token, &desk.session.csrf);
            }
            // The file is read only after the form proved it came from the dashboard.
            Some("file") if csrf_ok => {
                let mut bytes = Vec::new();
                let mut field = field;
                while let Some(chunk) = field.chunk().await.map_err(|_| PageError::BadForm)? {
                    if bytes.len() + chunk.len() > PROOF_BYTES_MAX {
                        return Ok(back("file_too_large"));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some(bytes);
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(PageError::Stale(desk.language()));
    }
    let Some(bytes) = file else {
        return Ok(back("file_empty"));
    };
    match desk
        .state
        .engine
        .put_product_photo(sku.clone(), bytes)
        .await
    {
        Ok(_) => Ok(done(&format!("/products/{}", sku.as_str()), "photo_saved")),
        Err(lunas_engine::Error::File(e)) => Ok(back(e.code())),
        Err(e) => Err(PageError::from_engine(e)),
    }
}

/// The product's photo as the catalogue's list shows it, for staff.
pub(crate) async fn show(desk: Desk, Path(sku): Path<String>) -> Result<Response, PageError> {
    let photo = desk
        .state
        .engine
        .product_photo(&sku, "m")
        .await
        .map_err(PageError::from_engine)?
        .ok_or(PageError::NotFound(desk.language()))?;
    let mut response = photo.1.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=60"),
    );
    Ok(response)
}
