//! Bearer-token authentication for `/api/v1`. Tokens are looked up by their SHA-256 hash; recent
//! answers are cached for a short while so a busy API does not read the token table per request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use lunas_core::Actor;

use crate::{ApiError, AppState};

/// How long a verified token is trusted without asking the database again.
const TOKEN_CACHE_TTL: Duration = Duration::from_secs(60);
/// Most tokens remembered; the cache is emptied when it would grow past this.
const TOKEN_CACHE_LEN_MAX: usize = 1024;

#[derive(Default)]
pub(crate) struct TokenCache {
    verified: Mutex<HashMap<String, (String, Instant)>>,
}

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
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .ok_or_else(ApiError::unauthorized)?;
    let hash = lunas_engine::tokens::hash_token(token);
    let cached = {
        let cache = state.tokens.verified.lock().expect("token cache lock");
        cache
            .get(&hash)
            .filter(|(_, at)| at.elapsed() < TOKEN_CACHE_TTL)
            .map(|(name, _)| name.clone())
    };
    let name = match cached {
        Some(name) => name,
        None => {
            let name = state
                .engine
                .store()
                .api_token_name(hash.clone())
                .await?
                .ok_or_else(ApiError::unauthorized)?;
            let mut cache = state.tokens.verified.lock().expect("token cache lock");
            if cache.len() >= TOKEN_CACHE_LEN_MAX {
                cache.clear();
            }
            cache.insert(hash, (name.clone(), Instant::now()));
            name
        }
    };
    req.extensions_mut().insert(Caller { token_name: name });
    Ok(next.run(req).await)
}
