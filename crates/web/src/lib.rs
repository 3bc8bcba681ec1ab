//! The HTTP edge of lunas: the JSON API under `/api/v1`, its OpenAPI document, `/healthz`, the
//! payment and WhatsApp callbacks, and the staff dashboard (`desk`: server-rendered pages at `/`).
//!
//! Handlers parse requests into domain types, call the engine, and render its answers. There is no
//! SQL and no business rule here; the one `ApiError` turns every failure into a stable code, and
//! the dashboard parses its forms with the API's own functions.

mod api;
mod auth;
mod callbacks;
mod desk;
mod error;
mod extract;
mod inbound;
mod public;
mod server;

pub use error::ApiError;
pub use inbound::WhatsAppInbound;
pub use server::ConnectionLimits;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Router, middleware};
use lunas_engine::Engine;
use tokio::net::TcpListener;

/// Largest request body accepted, in bytes. An order of 100 lines is well under 16 KiB.
pub const REQUEST_BODY_BYTES_MAX: usize = 64 * 1024;

/// Largest body of an upload (a proof of transfer, a product photo): the file and its form.
pub(crate) const UPLOAD_BODY_BYTES_MAX: usize = lunas_core::proofs::PROOF_BYTES_MAX + 64 * 1024;

/// The OpenAPI 3.1 document of the v1 API, served at `/api/openapi.json`, generated from the
/// handlers' request and response types.
pub fn openapi_json() -> String {
    serde_json::to_string_pretty(&api::document()).expect("the document serialises")
}

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    whatsapp_inbound: Option<Arc<WhatsAppInbound>>,
    desk: Arc<desk::DeskState>,
    /// The request budget of each address on the buyer's pages.
    public: Arc<public::Limiter>,
    /// The budget of uploads (proofs of transfer) of each address.
    uploads: Arc<public::Limiter>,
    /// Whether the dashboard's cookies are `Secure` whatever the request says (served over TLS).
    secure_cookies: bool,
}

impl AppState {
    pub fn new(engine: Arc<Engine>) -> AppState {
        AppState {
            engine,
            whatsapp_inbound: None,
            desk: desk::new_state(),
            public: Arc::new(public::Limiter::new(public::PER_MINUTE)),
            uploads: Arc::new(public::Limiter::new(public::UPLOADS_PER_MINUTE)),
            secure_cookies: false,
        }
    }

    /// Marks the dashboard's cookies `Secure` on every response (lunas is reached over HTTPS,
    /// through a proxy that may not say so in `X-Forwarded-Proto`).
    pub fn with_secure_cookies(mut self, secure: bool) -> AppState {
        self.secure_cookies = secure;
        self
    }

    /// Receives WhatsApp webhooks at `/webhooks/whatsapp` with this verify token and app secret.
    pub fn with_whatsapp_inbound(mut self, inbound: Option<WhatsAppInbound>) -> AppState {
        self.whatsapp_inbound = inbound.map(Arc::new);
        self
    }
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/webhooks/whatsapp",
            get(inbound::verify).post(inbound::receive),
        )
        .route("/webhooks/messages", post(inbound::messages))
        .route("/callbacks/midtrans", post(callbacks::midtrans))
        .route("/callbacks/xendit", post(callbacks::xendit))
        .route("/callbacks/mutations", post(callbacks::mutations))
        .route("/callbacks/biteship", post(callbacks::biteship))
        .route("/callbacks/kiriminaja", post(callbacks::kiriminaja))
        .route("/callbacks/courier", post(callbacks::generic_courier))
        .merge(api::router(state.clone()))
        .merge(desk::router())
        .merge(public::router())
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(DefaultBodyLimit::max(REQUEST_BODY_BYTES_MAX))
        .layer(middleware::from_fn(desk::security_headers))
        .with_state(state)
}

/// Serves the application on `listener` with the default connection limits until `shutdown`
/// completes, then finishes the requests under way.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, ConnectionLimits::default(), shutdown).await
}

/// `serve` with these connection limits.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::serve(listener, router(state), limits, shutdown).await
}
