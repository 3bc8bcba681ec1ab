//! Bearer-token authentication for `/api/v1`. Tokens are looked up by their SHA-256 hash, each
//! request answered by a read that began after it arrived (requests of one token that arrive
//! together share one), so a revoked token is refused at its next request in every process; there
//! is no cache to outlive a revocation.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use lunas_core::Actor;

use crate::{ApiError, AppState};

/// The authenticated caller, available to handlers as an extension.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub token_name: String,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::api_token(&self.token_name)
    }
}

pub(crate) async fn require_token(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(lunas_engine::tokens::bearer)
        .ok_or_else(ApiError::unauthorized)?;
    let name = state
        .engine
        .api_token_name(token)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    req.extensions_mut().insert(Caller { token_name: name });
    Ok(next.run(req).await)
}
