//! `/webhooks/whatsapp`: WhatsApp Cloud API calls this with the buyers' messages. The
//! subscription handshake answers `hub.challenge` when `hub.verify_token` matches; every delivery
//! must carry a valid `X-Hub-Signature-256` made with the app secret. The buyers' messages are
//! kept as received, and their time starts WhatsApp's 24-hour window for free-form replies.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};

use crate::extract::RawBody;
use crate::{ApiError, AppState};

/// What the server was configured with to receive WhatsApp webhooks.
#[derive(Clone)]
pub struct WhatsAppInbound {
    pub verify_token: String,
    pub app_secret: String,
}

fn configured(state: &AppState) -> Result<&WhatsAppInbound, ApiError> {
    state
        .whatsapp_inbound
        .as_deref()
        .ok_or_else(|| ApiError::not_found("resource"))
}

#[utoipa::path(
    get,
    path = "/webhooks/whatsapp",
    operation_id = "whatsappVerify",
    summary = "WhatsApp webhook subscription handshake",
    params(
        ("hub.mode" = Option<String>, Query),
        ("hub.verify_token" = Option<String>, Query),
        ("hub.challenge" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "The challenge, echoed.", body = String, content_type = "text/plain"),
        (status = 403, response = crate::api::ErrorResponse),
        (status = 404, response = crate::api::ErrorResponse),
    )
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<String, ApiError> {
    let inbound = configured(&state)?;
    let token_matches = query.get("hub.verify_token").is_some_and(|t| {
        // Compared as SHA-256 hashes, so how long the comparison takes says nothing of the token.
        let expected = lunas_engine::tokens::hash_token(&inbound.verify_token);
        lunas_engine::tokens::hash_token(t) == expected
    });
    if query.get("hub.mode").map(String::as_str) != Some("subscribe") || !token_matches {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_verify_token",
            "the verify token does not match",
        ));
    }
    Ok(query.get("hub.challenge").cloned().unwrap_or_default())
}

#[utoipa::path(
    post,
    path = "/webhooks/whatsapp",
    operation_id = "whatsappReceive",
    summary = "WhatsApp webhook: buyers' messages",
    description = "Called by WhatsApp Cloud API; must carry X-Hub-Signature-256 made with the app secret.",
    params(("X-Hub-Signature-256" = String, Header)),
    request_body = crate::callbacks::GatewayNotification,
    responses(
        (status = 200, description = "Kept."),
    )
)]
pub(crate) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<StatusCode, ApiError> {
    // Read through `RawBody`, so a body past the route's limit gets the JSON error format too.
    let body = body.0;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    // Unsigned is refused as unsigned whether or not the route is configured, as the document
    // says: the header is required. Signed, an unconfigured route is not there.
    let verified = match signature {
        None => false,
        Some(_) => {
            let inbound = configured(&state)?;
            lunas_engine::channels::whatsapp::verify_signature(
                &inbound.app_secret,
                &body,
                signature,
            )
        }
    };
    if !verified {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "the X-Hub-Signature-256 does not match",
        ));
    }
    let raw = String::from_utf8_lossy(&body).into_owned();
    let payload: serde_json::Value = serde_json::from_str(&raw).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    state.engine.record_whatsapp_inbound(&payload, &raw).await?;
    Ok(StatusCode::OK)
}

/// What a delivery of the messages webhook did.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = MessagesReceived)]
pub(crate) struct Received {
    /// Messages new to lunas (the rest had come before).
    pub kept: usize,
}

/// A buyer's message in lunas's own format (one, or `{"messages": [ … ]}`).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[schema(as = GenericInboundMessage)]
#[allow(dead_code)]
pub(crate) struct GenericInbound {
    /// The sender's identity of the message: the same one again is kept once.
    #[schema(min_length = 1, max_length = 200)]
    id: String,
    /// The buyer's number.
    #[schema(value_type = String, example = "+6281234567890")]
    from: String,
    /// What they wrote (cut at 4,096 characters).
    text: Option<String>,
    /// When they wrote it (RFC 3339); default: when it arrives.
    #[schema(format = DateTime)]
    at: Option<String>,
    /// `text` (default), `button`, `choice`, `image`, `video`, `audio`, `document`, `sticker`,
    /// `location`, `contacts`, `reaction`, `unknown`.
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[utoipa::path(
    post,
    path = "/webhooks/messages",
    operation_id = "messagesReceive",
    summary = "Buyers' messages in lunas's own format",
    description = "For a chat tool or a gateway other than WhatsApp's Cloud API: one message `{\"id\", \"from\", \"text\"?, \"at\"?, \"type\"?}` or `{\"messages\": [ … ]}` (at most 100), signed as Standard Webhooks signs (`webhook-id`, `webhook-timestamp` within five minutes, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the `whsec_` secret of `LUNAS_MESSAGES_WEBHOOK_SECRET`). Each message is kept once by its `id`; a delivery with a message that does not read (an id, a number, a time or a type) keeps nothing and is `400 malformed_notification`; a bad signature is `401 invalid_signature` and keeps nothing; without the secret configured the route is `404`.",
    params(
        ("webhook-id" = String, Header),
        ("webhook-timestamp" = String, Header, description = "Seconds since the epoch."),
        ("webhook-signature" = String, Header, description = "`v1,<base64>`, several separated by spaces."),
    ),
    request_body(content = GenericInbound, content_type = "application/json"),
    responses(
        (status = 200, description = "Kept.", body = Received),
        (status = 400, response = super::api::ErrorResponse),
        (status = 401, response = super::api::ErrorResponse),
    )
)]
pub(crate) async fn messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<axum::Json<Received>, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let kept = state
        .engine
        .receive_messages(
            [
                header("webhook-id"),
                header("webhook-timestamp"),
                header("webhook-signature"),
            ],
            &body.0,
        )
        .await?;
    Ok(axum::Json(Received { kept }))
}
