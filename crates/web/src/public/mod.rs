//! The buyer's side of the shop: pages anyone with the link may open, so every one of them is
//! treated as public and hostile. An order's page is found by its random token alone (128 bits
//! or more; an unknown and a malformed token get the same page after the same single lookup);
//! personal data on it is masked; every address has a request budget per minute (and a stricter
//! one for uploads and forms); the pages need no script and carry the same security headers as
//! the dashboard, and are not indexed. Beside the order's page: its proof of transfer
//! (`proof.rs`) and the shop's catalogue with its cart, checkout and waitlist (`shop.rs`,
//! `cart.rs`).

mod cart;
mod claim;
mod limit;
mod proof;
mod shop;
mod tracking;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use jiff::tz::TimeZone;
use lunas_core::messages::{Language, format_deadline, format_rupiah};
use lunas_core::proofs::{ProofRefusal, decide_proof};
use lunas_core::{Order, OrderStatus, PaymentMethod, Phone, Timestamp};
use minijinja::{Value, context};

use crate::AppState;
use crate::desk::i18n::{Strings, code};
use crate::desk::{JS, PageError, asset, client_ip, ser};

pub(crate) use limit::{Limiter, PER_MINUTE};
pub(crate) use proof::UPLOADS_PER_MINUTE;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/o/{token}", get(order_page))
        .route("/o/claim/{token}", get(claim::show).post(claim::claim))
        .route(
            "/o/{token}/proof",
            post(proof::upload).layer(DefaultBodyLimit::max(crate::UPLOAD_BODY_BYTES_MAX)),
        )
        .route("/o/{token}/cod", post(tracking::cod_answer))
        .route(
            "/o/{token}/return",
            post(tracking::return_request)
                .layer(DefaultBodyLimit::max(tracking::RETURN_BODY_BYTES_MAX)),
        )
        .route("/shop", get(shop::catalogue))
        .route("/shop/cart", get(shop::cart).post(shop::cart_change))
        .route("/shop/checkout", post(shop::checkout))
        .route("/shop/photos/{sku}/{size}", get(shop::photo_file))
        .route("/shop/{sku}", get(shop::product))
        .route("/shop/{sku}/waitlist", post(shop::join_waitlist))
        .route(
            "/assets/public.js",
            get(|| async { asset(JS, include_str!("../../assets/public.js")) }),
        )
}

/// The query of a buyer's page, read leniently: a query that does not read is no query.
fn query_of(req: &Request) -> BTreeMap<String, String> {
    req.uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

/// How a request to a buyer's page counts against its address's budgets.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    /// Not counted: a product photo (a page of the catalogue shows 48, and browsers keep them).
    None,
    /// A page: the address's page budget.
    Page,
    /// A form that writes or does costly work (an upload, a checkout, a claim): the page budget
    /// and the stricter budget of forms.
    Form,
}

/// A request to a buyer's page: its language (`?lang=`, else the store's), with the address's
/// budgets counted; or the page that refuses it (a response is large, and this runs once a
/// request).
#[allow(clippy::result_large_err)]
fn admit(state: &AppState, req: &Request, budget: Budget) -> Result<Language, Response> {
    let language = language(&query_of(req), state.engine.settings().language);
    let limiters: &[&Limiter] = match budget {
        Budget::None => &[],
        Budget::Page => &[&state.public],
        Budget::Form => &[&state.public, &state.uploads],
    };
    for limiter in limiters {
        if let Some(refused) = over_budget(state, limiter, req, language) {
            return Err(refused);
        }
    }
    Ok(language)
}

/// Counts a request of the caller's address against `limiter`; when the budget is spent, the
/// page that says so (429, with `Retry-After`).
fn over_budget(
    state: &AppState,
    limiter: &Limiter,
    req: &Request,
    language: Language,
) -> Option<Response> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let address = client_ip(req.headers(), peer)?;
    if limiter.allow(address, state.engine.now().as_millisecond()) {
        return None;
    }
    let mut response = message(
        state,
        StatusCode::TOO_MANY_REQUESTS,
        language,
        "pub_slow_down_title",
        "pub_slow_down",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    Some(response)
}

/// The page of a link that opens nothing: the same for an unknown and a malformed token.
fn not_found(state: &AppState, language: Language) -> Response {
    message(
        state,
        StatusCode::NOT_FOUND,
        language,
        "pub_not_found_title",
        "pub_not_found",
    )
}

/// The page's language: `?lang=` when it names one, else the store's message language (the one
/// the buyer's messages came in).
fn language(query: &BTreeMap<String, String>, store: Language) -> Language {
    match query.get("lang").map(String::as_str) {
        Some("en") => Language::English,
        Some("id") => Language::Indonesian,
        _ => store,
    }
}

/// A buyer's page: the shared layout, the words of `language`, and `context`.
fn page(
    state: &AppState,
    status: StatusCode,
    language: Language,
    name: &str,
    context: Value,
) -> Response {
    let strings = Strings::of(language);
    let settings = state.engine.settings();
    let common = context! {
        t => strings.value(),
        lang => code(language),
        store_name => &settings.store_name,
    };
    match state.desk.render(name, context! { ..context, ..common }) {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response.headers_mut().insert(
                "x-robots-tag",
                HeaderValue::from_static("noindex, nofollow"),
            );
            response
        }
        Err(e) => e.into_response(),
    }
}

/// A page that says one thing: a link that opens nothing, or a budget spent.
fn message(
    state: &AppState,
    status: StatusCode,
    language: Language,
    title: &str,
    text: &str,
) -> Response {
    let strings = Strings::of(language);
    page(
        state,
        status,
        language,
        "public_message.html",
        context! { title => strings.get(title), text => strings.get(text) },
    )
}

async fn order_page(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    req: Request,
) -> Result<Response, PageError> {
    // A path that does not even decode is looked up like any unknown token.
    let token = token.map(|Path(token)| token).unwrap_or_default();
    let language = match admit(&state, &req, Budget::Page) {
        Ok(language) => language,
        Err(refused) => return Ok(refused),
    };
    let query = query_of(&req);
    let Some(order) = state
        .engine
        .order_by_token(&token)
        .await
        .map_err(PageError::from_engine)?
    else {
        return Ok(not_found(&state, language));
    };
    // What the buyer just did, said once at the top (a path of ours set these).
    let notice = [
        ("proof", "sent", "pub_proof_sent"),
        ("cod", "confirmed", "trk_cod_thanks"),
        ("cod", "cancelled", "trk_cod_cancelled"),
        ("return", "sent", "trk_return_sent"),
    ]
    .into_iter()
    .find(|(key, value, _)| query.get(*key).map(String::as_str) == Some(*value))
    .map(|(_, _, words)| words);
    Ok(show_order(
        &state,
        &order,
        language,
        &token,
        StatusCode::OK,
        Shown {
            notice,
            ..Shown::default()
        },
    ))
}

/// What the order's page says beside the order: a notice, or a form's refusal with what was
/// typed (`pub_*` and `trk_*` words, and the refusals' codes).
#[derive(Default)]
pub(crate) struct Shown<'a> {
    pub notice: Option<&'a str>,
    pub proof_error: Option<&'a str>,
    pub return_error: Option<&'a str>,
    pub return_reason: Option<String>,
}

/// The order's page, with what `shown` says.
fn show_order(
    state: &AppState,
    order: &Order,
    language: Language,
    token: &str,
    status: StatusCode,
    shown: Shown<'_>,
) -> Response {
    let settings = state.engine.settings();
    let strings = Strings::of(language);
    let tz = settings.time_zone();
    let now = state.engine.now();
    let context = order_context(order, &settings, language, &tz, now, token);
    let tracking = tracking::tracking_context(order, &settings, language, &tz, now, token);
    let extra = context! {
        notice => shown.notice.map(|key| strings.get(key)),
        proof_error => shown.proof_error.map(|code| strings.get(&format!("pub_proof_{code}"))),
        return_error => shown.return_error.map(|code| strings.get(&format!("trk_error_{code}"))),
        return_reason => shown.return_reason,
    };
    page(
        state,
        status,
        language,
        "public_order.html",
        context! { ..extra, ..tracking, ..context },
    )
}

/// Time left as people say it: `1 hari 4 jam`, `4 jam 12 menit`, `12 menit`.
fn time_left(seconds: i64, strings: &Strings) -> String {
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} {}", strings.get("pub_day")));
    }
    if hours > 0 {
        parts.push(format!("{hours} {}", strings.get("pub_hour")));
    }
    if days == 0 {
        parts.push(format!("{minutes} {}", strings.get("pub_minute")));
    }
    parts.join(" ")
}

fn order_context(
    order: &Order,
    settings: &lunas_core::Settings,
    language: Language,
    tz: &TimeZone,
    now: Timestamp,
    token: &str,
) -> Value {
    let strings = Strings::of(language);
    let open = matches!(
        order.status,
        OrderStatus::AwaitingPayment | OrderStatus::AwaitingBalance
    );
    let balance = (order.amount_due.minor_units() - order.amount_paid.minor_units()).max(0);
    let deadline = order.pay_by.filter(|_| open);
    let seconds_left = deadline.map(|d| (d.as_second() - now.as_second()).max(0));
    let items: Vec<Value> = order
        .items
        .iter()
        .map(|i| {
            context! {
                name => &i.name, qty => i.qty.units(),
                subtotal => i.unit_price.minor_units() * i.qty.units(),
            }
        })
        .collect();
    // How to pay: the store's accounts for a transfer, the gateway's page for the rest.
    let pay_link = order
        .payment_url
        .clone()
        .or_else(|| settings.payment_link.clone())
        .filter(|_| order.payment_method != PaymentMethod::BankTransfer);
    let accounts: Vec<Value> = match order.payment_method {
        PaymentMethod::BankTransfer => settings
            .bank_accounts
            .iter()
            .map(|a| {
                context! {
                    bank => &a.bank, number => &a.number, holder => &a.holder,
                    digits => a.number.chars().filter(char::is_ascii_digit).collect::<String>(),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let address = order.address.as_ref().map(|a| {
        // The recipient's first name and the area; the street and the number stay private.
        let first = a.recipient.split_whitespace().next().unwrap_or("");
        let area: Vec<&str> = [
            a.kecamatan.as_deref(),
            Some(a.city.as_str()),
            Some(a.province.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        context! {
            recipient => first, phone => a.phone.masked(), area => area.join(", "),
            postcode => &a.postcode,
        }
    });
    let chat = settings
        .store_whatsapp
        .as_deref()
        .and_then(|n| Phone::parse(n).ok())
        .map(|phone| {
            let text = strings
                .get("pub_chat_text")
                .replace("{store}", &settings.store_name)
                .replace("{id}", &order.id.0.to_string());
            format!(
                "https://wa.me/{}?text={}",
                phone.wa_digits(),
                url_encode(&text)
            )
        });
    let other = match language {
        Language::Indonesian => "en",
        Language::English => "id",
    };
    // The proof of transfer: where the latest stands, and whether the order takes another.
    let proof_status = order.proof.map(|p| p.status.as_str());
    let waiting = order
        .proof
        .is_some_and(|p| p.status == lunas_core::proofs::ProofStatus::Submitted);
    let sent = order.proof.map_or(0, |p| p.count);
    let takes_proof = decide_proof(order.status, order.payment_method, sent);
    let status_key = if open && waiting {
        "pub_status_proof_waiting".to_owned()
    } else {
        format!("status_{}", order.status.as_str())
    };
    context! {
        id => order.id.0,
        status => order.status.as_str(),
        open => open,
        says => strings.get(&format!("pub_says_{}", order.status.as_str())),
        items => items,
        items_total => order.items_total().minor_units(),
        shipping_cost => order.shipping_cost.minor_units(),
        discount => order.discount.minor_units(),
        total => order.total.minor_units(),
        amount_due => order.amount_due.minor_units(),
        amount_paid => order.amount_paid.minor_units(),
        balance => balance,
        unique_code => order.unique_code.filter(|_| open),
        transfer_exactly => strings.get("pub_transfer_exactly").replace("{amount}", &format_rupiah(balance)),
        unique_code_note => order.unique_code.map(|c| strings.get("pub_unique_code").replace("{code}", &c.to_string())),
        method => order.payment_method.as_str(),
        accounts => accounts,
        pay_link => pay_link,
        deadline => deadline.map(|d| format_deadline(d, tz, language)),
        deadline_iso => deadline.map(|d| d.to_string()),
        now_iso => now.to_string(),
        time_left => seconds_left.map(|s| if s == 0 { strings.get("pub_time_over").to_owned() } else { time_left(s, strings) }),
        buyer => order.customer.name.split_whitespace().next().unwrap_or(""),
        phone => order.customer.phone.masked(),
        address => address,
        chat => chat,
        other_language => format!("/o/{token}?lang={other}"),
        status_words => ser(strings.get(&status_key)),
        proof_status => proof_status.filter(|_| open),
        proof_when => order.proof.map(|p| format_deadline(p.submitted_at, tz, language)),
        takes_proof => takes_proof.is_ok(),
        proofs_spent => takes_proof == Err(ProofRefusal::TooMany),
        proof_action => format!("/o/{token}/proof?lang={}", code(language)),
        proof_max_mb => lunas_core::proofs::PROOF_BYTES_MAX >> 20,
    }
}

/// Percent-encodes `text` for a URL's query (`wa.me`'s `text`).
fn url_encode(text: &str) -> String {
    serde_urlencoded::to_string([("t", text)])
        .map(|s| s[2..].to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_is_said_in_both_languages() {
        for language in [Language::Indonesian, Language::English] {
            let strings = Strings::of(language);
            for status in OrderStatus::ALL {
                for key in [
                    format!("pub_says_{}", status.as_str()),
                    format!("status_{}", status.as_str()),
                ] {
                    assert_ne!(strings.get(&key), "?", "{key} in {language:?}");
                }
            }
        }
    }

    #[test]
    fn time_left_is_said_as_people_say_it() {
        let strings = Strings::of(Language::Indonesian);
        assert_eq!(time_left(90_000, strings), "1 hari 1 jam");
        assert_eq!(time_left(3_720, strings), "1 jam 2 menit");
        assert_eq!(time_left(59, strings), "0 menit");
    }
}
