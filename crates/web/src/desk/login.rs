//! Signing in (with the throttle, the second factor and the double-submit cookie) and out.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lunas_core::accounts::SESSION_LIFETIME;
use lunas_core::messages::Language;
use lunas_engine::accounts::{SignIn, SignInRefused};
use lunas_engine::tokens::same_secret;
use minijinja::context;
use serde::Deserialize;

use super::pages::Query_;
use super::{
    Cookie, FieldErrors, PageError, Posted, Strings, cookie_value, done, i18n, notice, over_tls,
    read_form, ser, session_cookie,
};
use crate::AppState;

/// The client's address for the sign-in throttle: the peer, or, when the peer is a proxy on
/// this machine, the last address it added to `X-Forwarded-For`.
fn client_address(req_headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    client_ip(req_headers, peer).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// The client's address: the peer, or, when the peer is a proxy on this machine (or unknown),
/// the last address it added to `X-Forwarded-For`.
pub(crate) fn client_ip(
    req_headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<std::net::IpAddr> {
    let peer_ip = peer.map(|p| p.ip());
    if peer_ip.is_none_or(|ip| ip.is_loopback())
        && let Some(forwarded) = req_headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .and_then(|v| v.parse::<std::net::IpAddr>().ok())
    {
        return Some(forwarded);
    }
    peer_ip
}

fn login_language(query: &BTreeMap<String, String>) -> Language {
    match query.get("lang").map(String::as_str) {
        Some("en") => Language::English,
        _ => Language::Indonesian,
    }
}

/// What the sign-in page shows besides its form: an error beside a field, what was typed, the
/// second factor's field, a notice.
#[derive(Default)]
struct LoginView<'a> {
    errors: FieldErrors,
    values: BTreeMap<&'a str, &'a str>,
    totp: bool,
    notice: Option<&'a str>,
}

/// The sign-in page, with a fresh double-submit token in a cookie and in the form.
async fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    language: Language,
    status: StatusCode,
    view: LoginView<'_>,
) -> Result<Response, PageError> {
    let LoginView {
        errors,
        values,
        totp,
        notice,
    } = view;
    let first_run = state
        .engine
        .user_count()
        .await
        .map_err(PageError::from_engine)?
        == 0;
    let token = state
        .engine
        .login_token()
        .await
        .map_err(PageError::from_engine)?;
    let strings = Strings::of(language);
    let html = state.desk.render(
        "login.html",
        context! {
            t => strings.value(), lang => i18n::code(language), csrf => &token,
            errors => ser(&errors), values => ser(&values), totp => totp, first_run => first_run, notice => notice,
        },
    )?;
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session_cookie(Cookie::Login, &token, over_tls(state, headers), 3600),
    );
    Ok(response)
}

pub(crate) async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query_,
) -> Result<Response, PageError> {
    if let Some(cookie) = cookie_value(&headers, Cookie::Session, over_tls(&state, &headers))
        && state
            .engine
            .session(&cookie)
            .await
            .map_err(PageError::from_engine)?
            .is_some()
    {
        return Ok(Redirect::to("/").into_response());
    }
    let language = login_language(&query);
    let notice = notice(Strings::of(language), &query);
    let view = LoginView {
        notice,
        ..LoginView::default()
    };
    login_form(&state, &headers, language, StatusCode::OK, view).await
}

/// The sign-in form: its double-submit token, the email, the password and, once a second factor
/// is on, its code.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SignInForm {
    csrf: String,
    email: String,
    password: String,
    totp: String,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, PageError> {
    let headers = req.headers().clone();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let query: BTreeMap<String, String> = req
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let language = login_language(&query);
    let form = read_form(req).await?;
    // The double-submit pair must match, and be a token this server made: a pair made up by an
    // attacker (a cookie planted beside a form of theirs) signs nobody in.
    let secure = over_tls(&state, &headers);
    let expected = cookie_value(&headers, Cookie::Login, secure).unwrap_or_default();
    let typed: SignInForm = form.parse()?;
    if expected.is_empty()
        || !same_secret(&typed.csrf, &expected)
        || !state
            .engine
            .login_token_valid(&expected)
            .await
            .map_err(PageError::from_engine)?
    {
        return Err(PageError::Stale(language));
    }
    let strings = Strings::of(language);
    let outcome = state
        .engine
        .sign_in(SignIn {
            email: typed.email,
            password: typed.password,
            totp: Some(typed.totp),
            address: client_address(&headers, peer),
        })
        .await
        .map_err(PageError::from_engine)?;
    let refused = |status, field: &'static str, message: String, totp| {
        let values = form.values();
        let state = state.clone();
        let headers = headers.clone();
        async move {
            let view = LoginView {
                errors: FieldErrors::from([(field, message)]),
                values,
                totp,
                notice: None,
            };
            login_form(&state, &headers, language, status, view).await
        }
    };
    match outcome {
        Ok(session) => {
            // A session this browser had before is ended: one member, one live session here.
            if let Some(old) = cookie_value(&headers, Cookie::Session, secure) {
                state
                    .engine
                    .end_session(&old)
                    .await
                    .map_err(PageError::from_engine)?;
            }
            let mut response = Redirect::to("/").into_response();
            let cookies = response.headers_mut();
            cookies.append(
                header::SET_COOKIE,
                session_cookie(
                    Cookie::Session,
                    &session.cookie,
                    secure,
                    SESSION_LIFETIME.as_secs(),
                ),
            );
            cookies.append(
                header::SET_COOKIE,
                session_cookie(Cookie::Login, "", secure, 0),
            );
            Ok(response)
        }
        Err(SignInRefused::Invalid) => {
            refused(
                StatusCode::UNAUTHORIZED,
                "form",
                strings.get("err_sign_in").to_owned(),
                false,
            )
            .await
        }
        Err(SignInRefused::Throttled { until }) => {
            let tz = state.engine.settings().time_zone();
            let message = format!(
                "{} {}.",
                strings.get("err_throttled"),
                lunas_core::messages::format_short(until, &tz, language)
            );
            refused(StatusCode::TOO_MANY_REQUESTS, "form", message, false).await
        }
        Err(SignInRefused::TotpNeeded { wrong }) => {
            let key = if wrong {
                "err_totp_wrong"
            } else {
                "err_totp_needed"
            };
            refused(
                StatusCode::UNAUTHORIZED,
                "totp",
                strings.get(key).to_owned(),
                true,
            )
            .await
        }
    }
}

pub(crate) async fn logout(posted: Posted) -> Result<Response, PageError> {
    let desk = posted.desk;
    desk.state
        .engine
        .sign_out(&desk.cookie, desk.member())
        .await
        .map_err(PageError::from_engine)?;
    let mut response = done(
        &format!("/login?lang={}", i18n::code(desk.language())),
        "signed_out",
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        session_cookie(Cookie::Session, "", desk.secure, 0),
    );
    Ok(response)
}
