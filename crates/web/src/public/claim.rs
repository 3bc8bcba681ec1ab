//! A waitlist offer's claim link, `/o/claim/{token}`: the page shows the unit held for the buyer
//! and until when; `POST` claims it, placing the buyer's order of that unit, and lands on the
//! order's page. An unknown token gets the order pages' 404; an offer that passed or was claimed
//! says so and writes nothing.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lunas_core::PaymentMethod;
use lunas_core::messages::{Language, format_deadline, format_rupiah};
use lunas_core::waitlist::WaitStatus;
use lunas_engine::waitlist::ClaimError;
use minijinja::context;
use serde::Deserialize;

use super::shop::METHODS;
use super::{Budget, admit, message, not_found, page};
use crate::AppState;
use crate::desk::PageError;
use crate::desk::i18n::{Strings, code};

/// The claim's page, or the page that says the offer is over.
async fn claim_page(
    state: &AppState,
    language: Language,
    token: &str,
    status: StatusCode,
) -> Response {
    let offer = match state.engine.offer(token).await {
        Ok(Some(offer)) => offer,
        Ok(None) => return not_found(state, language),
        Err(e) => return PageError::from_engine(e).into_response(),
    };
    let now = state.engine.now();
    let open = offer.status == WaitStatus::Offered && offer.offer_until.is_some_and(|u| now < u);
    if !open {
        return over(state, language);
    }
    let product = match state.engine.product(offer.sku.clone()).await {
        Ok(Some(product)) => product,
        Ok(None) => return not_found(state, language),
        Err(e) => return PageError::from_engine(e).into_response(),
    };
    let settings = state.engine.settings();
    let strings = Strings::of(language);
    let until = offer
        .offer_until
        .map(|u| format_deadline(u, &settings.time_zone(), language))
        .unwrap_or_default();
    let methods: Vec<_> = METHODS
        .iter()
        .map(|m| context! { value => m.as_str(), label => strings.get(&format!("method_{}", m.as_str())) })
        .collect();
    page(
        state,
        status,
        language,
        "public_claim.html",
        context! {
            product => &product.name, price => format_rupiah(product.price.minor_units()),
            held => strings.get("claim_held").replace("{until}", &until),
            phone => offer.phone.masked(),
            action => format!("/o/claim/{token}?lang={}", code(language)),
            methods => methods,
        },
    )
}

fn over(state: &AppState, language: Language) -> Response {
    message(
        state,
        StatusCode::CONFLICT,
        language,
        "claim_over_title",
        "claim_over",
    )
}

pub(crate) async fn show(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let token = token.map(|Path(t)| t).unwrap_or_default();
    let language = match admit(&state, &req, Budget::Page) {
        Ok(language) => language,
        Err(refused) => return refused,
    };
    claim_page(&state, language, &token, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ClaimForm {
    payment_method: String,
}

pub(crate) async fn claim(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let token = token.map(|Path(t)| t).unwrap_or_default();
    let language = match admit(&state, &req, Budget::Form) {
        Ok(language) => language,
        Err(refused) => return refused,
    };
    let body = axum::body::to_bytes(req.into_body(), 16 * 1024)
        .await
        .unwrap_or_default();
    let form: ClaimForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let method = PaymentMethod::parse(form.payment_method.trim())
        .filter(|m| METHODS.contains(m))
        .unwrap_or(PaymentMethod::BankTransfer);
    match state.engine.claim_offer(&token, method).await {
        Ok(order) => {
            let token = order.public_token.unwrap_or_default();
            Redirect::to(&format!("/o/{token}?lang={}", code(language))).into_response()
        }
        Err(lunas_engine::Error::Claim(ClaimError::NotFound)) => not_found(&state, language),
        Err(lunas_engine::Error::Claim(ClaimError::Over)) => over(&state, language),
        // The buyer's band refuses the order: the same words as the shop's, nothing written.
        Err(lunas_engine::Error::Claim(ClaimError::Refused(_))) => message(
            &state,
            StatusCode::FORBIDDEN,
            language,
            "claim_refused_title",
            "shop_refused",
        ),
        Err(e) => PageError::from_engine(e).into_response(),
    }
}
