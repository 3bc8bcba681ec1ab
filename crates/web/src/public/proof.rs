//! `POST /o/{token}/proof`: a buyer sends a proof of transfer from the order's page, as
//! `multipart/form-data` with one file field `file`. The file is read up to its limit and no
//! further, checked by its content and kept by the engine; the buyer lands back on the page with
//! a notice, or sees it again with what was wrong. Nothing is written for a refused file.

use axum::extract::multipart::MultipartError;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lunas_core::proofs::PROOF_BYTES_MAX;
use lunas_engine::pictures::FileError;

use super::{Budget, Shown, admit, not_found, show_order};
use crate::desk::PageError;
use crate::desk::i18n::code;
use crate::{ApiError, AppState};

/// Uploads one address may send in a minute.
pub(crate) const UPLOADS_PER_MINUTE: u32 = 5;

/// Why an upload's body did not give a file.
enum Unread {
    TooLarge,
    NoFile,
}

/// Reads the field `file` of the form, refusing it once it passes `PROOF_BYTES_MAX`.
async fn read_file(mut form: Multipart) -> Result<Vec<u8>, Unread> {
    let too_large = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Unread::TooLarge
        } else {
            Unread::NoFile
        }
    };
    while let Some(mut field) = form.next_field().await.map_err(too_large)? {
        if field.name() != Some("file") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(too_large)? {
            if bytes.len() + chunk.len() > PROOF_BYTES_MAX {
                return Err(Unread::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes);
    }
    Err(Unread::NoFile)
}

pub(crate) async fn upload(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    req: Request,
) -> Result<Response, PageError> {
    let token = token.map(|Path(token)| token).unwrap_or_default();
    let language = match admit(&state, &req, Budget::Form) {
        Ok(language) => language,
        Err(refused) => return Ok(refused),
    };
    let Some(order) = state
        .engine
        .order_by_token(&token)
        .await
        .map_err(PageError::from_engine)?
    else {
        return Ok(not_found(&state, language));
    };
    let refused = |status: StatusCode, code: &str| {
        Ok(show_order(
            &state,
            &order,
            language,
            &token,
            status,
            Shown {
                proof_error: Some(code),
                ..Shown::default()
            },
        ))
    };
    let bytes = match Multipart::from_request(req, &state).await {
        Err(_) => return refused(StatusCode::BAD_REQUEST, "file_missing"),
        Ok(form) => match read_file(form).await {
            Ok(bytes) => bytes,
            Err(Unread::TooLarge) => {
                return refused(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large");
            }
            Err(Unread::NoFile) => return refused(StatusCode::BAD_REQUEST, "file_missing"),
        },
    };
    match state.engine.submit_proof(&token, bytes).await {
        // Back to the page (a path of ours, with the token that just found the order).
        Ok(_) => Ok(
            Redirect::to(&format!("/o/{token}?lang={}&proof=sent", code(language))).into_response(),
        ),
        Err(lunas_engine::Error::File(e)) => {
            let status = ApiError::from(lunas_engine::Error::File(e)).status;
            let order = match e {
                // The order changed meanwhile (paid, or another proof came first): show it now.
                FileError::Refused(_) => state
                    .engine
                    .order_by_token(&token)
                    .await
                    .map_err(PageError::from_engine)?
                    .unwrap_or(order),
                _ => order,
            };
            Ok(show_order(
                &state,
                &order,
                language,
                &token,
                status,
                Shown {
                    proof_error: Some(e.code()),
                    ..Shown::default()
                },
            ))
        }
        Err(e) => Err(PageError::from_engine(e)),
    }
}
