//! A buyer's proof of transfer as staff open it from Today's review list or the order's page:
//! the file as kept (an image encoded anew by lunas, or a PDF as sent), only to signed-in staff,
//! never cached, and sandboxed so that a document cannot run anything in the dashboard's origin.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use lunas_core::proofs::ProofFormat;

use super::{Desk, PageError};

pub(crate) async fn proof_file(desk: Desk, Path(id): Path<String>) -> Result<Response, PageError> {
    let not_found = || PageError::NotFound(desk.language());
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(not_found)?;
    let proof = desk
        .state
        .engine
        .proof(id)
        .await
        .map_err(PageError::from_engine)?
        .ok_or_else(not_found)?;
    let disposition = match proof.format {
        // A PDF is downloaded, not shown in the dashboard's origin.
        ProofFormat::Pdf => format!(
            "attachment; filename=\"bukti-transfer-{}-{id}.pdf\"",
            proof.order_id.0
        ),
        _ => "inline".to_owned(),
    };
    let mut response = proof.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(proof.format.content_type()),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).expect("the disposition is ASCII"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; sandbox"),
    );
    Ok(response)
}
