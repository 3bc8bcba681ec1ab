//! Request extractors whose rejections are `ApiError`s with stable codes, instead of axum's
//! plain-text defaults.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON object body, parsed with `serde_json`, plus its parsed value (for idempotency hashing).
pub struct ApiJson<T> {
    pub value: T,
    pub canonical: serde_json::Value,
}

/// Any JSON value as the body, for an endpoint that judges its shape itself (the settings patch).
pub struct ApiValue(pub serde_json::Value);

/// Reads a body that should be JSON: the content type, if given, must be JSON.
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    if let Some(content_type) = req.headers().get(header::CONTENT_TYPE) {
        let is_json = content_type
            .to_str()
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
    }
    Ok(RawBody::from_request(req, state).await?.0)
}

/// The bytes of a JSON body parsed.
fn parse(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    })
}

/// Reads a JSON body: the content type, if given, must be JSON, and the bytes must parse.
async fn read_json<S: Send + Sync>(req: Request, state: &S) -> Result<serde_json::Value, ApiError> {
    parse(&read_body(req, state).await?)
}

impl<S: Send + Sync> FromRequest<S> for ApiValue {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiValue(read_json(req, state).await?))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let canonical = read_json(req, state).await?;
        let value = fit(&canonical)?;
        Ok(ApiJson { value, canonical })
    }
}

/// Reads `canonical` as `T`. Every request body of this API is an object; serde would also read
/// a struct from an array (`[null, null]` as a patch of nothing), which the document does not
/// allow.
fn fit<T: DeserializeOwned>(canonical: &serde_json::Value) -> Result<T, ApiError> {
    if !canonical.is_object() {
        return Err(ApiError::unprocessable(
            "invalid_request",
            "the body must be a JSON object",
        ));
    }
    T::deserialize(canonical).map_err(|e| {
        ApiError::unprocessable("invalid_request", format!("the request does not fit: {e}"))
    })
}

/// A JSON body that may be left out: none (or `null`) is `None`; anything else is read as
/// `ApiJson` reads it.
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        let canonical = parse(&bytes)?;
        Ok(OptionalJson(
            (!canonical.is_null())
                .then(|| fit(&canonical))
                .transpose()?,
        ))
    }
}

/// A body of any type, read whole; its limit is the route's (`DefaultBodyLimit`).
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(inner)
                if inner.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the body is larger than this endpoint takes",
                )
            }
            other => ApiError::new(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                other.body_text(),
            ),
        })?;
        Ok(RawBody(bytes))
    }
}

/// Reads an integer field as JSON Schema counts integers: `12` and also `12.0` (a number whose
/// fraction is zero, as some clients write every number), but not `12.5` nor a string.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(n) = number.as_i64() {
        return Ok(n);
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(serde::de::Error::custom(format!(
            "invalid value: {number}, expected a whole number"
        ))),
    }
}

/// [`whole_number`] for a field that may be absent or `null`.
pub fn whole_number_or_null<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|w| w.0))
}
