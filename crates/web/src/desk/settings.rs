//! Signing in and out, the owner's Settings and Staff pages, and each member's own account
//! (language, password, second factor). Settings go through `Engine::update_settings`, the
//! path `PUT /api/v1/settings` takes, so the whole document is checked the same way and the
//! change lands in the audit log.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lunas_core::accounts::{Role, SESSION_LIFETIME};
use lunas_core::messages::Language;
use lunas_core::{PayWindow, PaymentMethod};
use lunas_engine::accounts::{SignIn, SignInRefused, new_totp, totp_setup};
use lunas_engine::tokens::same_secret;
use minijinja::{Value, context};
use serde_json::json;

use super::{
    Cookie, Desk, FieldErrors, FormData, PageError, Posted, Strings, cookie_value, done, i18n,
    notice, over_tls, read_form, refusal, ser, session_cookie,
};
use crate::{ApiError, AppState};

type Query_ = Query<BTreeMap<String, String>>;

const SECTIONS: [&str; 9] = [
    "general",
    "deadlines",
    "reminders",
    "messages",
    "quiet",
    "bank",
    "channels",
    "risk",
    "webhooks",
];

/// The lifecycle messages the Messages section edits, in the order a buyer meets them.
const LIFECYCLE: [(&str, &str); 4] = [
    ("order_received", "tpl_order_received"),
    ("payment_received", "tpl_payment_received"),
    ("hold_released", "tpl_hold_released"),
    ("cancelled", "tpl_cancelled"),
];

/// The payment methods that have a deadline and reminders.
const TIMED: [PaymentMethod; 4] = [
    PaymentMethod::BankTransfer,
    PaymentMethod::VirtualAccount,
    PaymentMethod::Ewallet,
    PaymentMethod::Qris,
];

/// The client's address for the sign-in throttle: the peer, or, when the peer is a proxy on
/// this machine, the last address it added to `X-Forwarded-For`.
fn client_address(req_headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let peer_ip = peer.map(|p| p.ip());
    if peer_ip.is_none_or(|ip| ip.is_loopback())
        && let Some(forwarded) = req_headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .and_then(|v| v.parse::<std::net::IpAddr>().ok())
    {
        return forwarded.to_string();
    }
    peer_ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
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
    if expected.is_empty()
        || !same_secret(form.get("csrf"), &expected)
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
            email: form.get("email").to_owned(),
            password: form.get("password").to_owned(),
            totp: Some(form.get("totp").to_owned()),
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

/// The languages a select offers, each named in itself.
fn language_options(strings: &Strings) -> [(&'static str, &'static str); 2] {
    [
        ("id", strings.get("lang_id")),
        ("en", strings.get("lang_en")),
    ]
}

/// A sensitive change needs the password: typed in this form, or in this session within the
/// last ten minutes.
/// `Ok(Some(error))` is a refusal to show beside its field.
async fn reauthenticate(
    desk: &Desk,
    form: &FormData,
) -> Result<Option<(&'static str, String)>, PageError> {
    let password = form.get("password");
    if password.is_empty() {
        if desk.state.engine.recently_authenticated(&desk.session) {
            return Ok(None);
        }
        return Ok(Some((
            "password",
            desk.strings().get("err_required").to_owned(),
        )));
    }
    match desk
        .state
        .engine
        .reauthenticate(&desk.cookie, desk.member(), password.to_owned())
        .await
    {
        Ok(()) => Ok(None),
        Err(e) => refusal(desk.strings(), ApiError::from(e)).map(Some),
    }
}

/// What the Settings page shows in each section's fields, from the current settings.
fn current_values(settings: &lunas_core::Settings) -> BTreeMap<&'static str, Value> {
    let window = |w: PayWindow| {
        serde_json::to_value(w)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let mut deadlines = BTreeMap::new();
    let mut reminders = BTreeMap::new();
    for method in TIMED {
        let m = method.as_str();
        if let Some(w) = settings.payment_windows.for_method(method) {
            deadlines.insert(format!("window_{m}"), window(w));
        }
        if let Some(cadence) = settings.reminders.for_method(method) {
            let lines: Vec<String> = cadence
                .steps
                .iter()
                .map(|step| match step.anchor {
                    lunas_core::reminders::Anchor::AfterOrder(d) => {
                        format!("after_order {}", window(d))
                    }
                    lunas_core::reminders::Anchor::BeforeDeadline(d) => {
                        format!("before_deadline {}", window(d))
                    }
                })
                .collect();
            reminders.insert(format!("cadence_{m}"), lines.join("\n"));
            reminders.insert(format!("max_{m}"), cadence.max_count.to_string());
        }
    }
    let templates = match settings.language {
        Language::Indonesian => &settings.templates.id,
        Language::English => &settings.templates.en,
    };
    reminders.insert(
        "template".to_owned(),
        templates.reminder.clone().unwrap_or_default(),
    );
    let mut messages = BTreeMap::new();
    let lifecycle = [
        (&templates.order_received, settings.messages.order_received),
        (
            &templates.payment_received,
            settings.messages.payment_received,
        ),
        (&templates.hold_released, settings.messages.hold_released),
        (&templates.cancelled, settings.messages.cancelled),
    ];
    for ((kind, field), (source, sent)) in LIFECYCLE.iter().zip(lifecycle) {
        messages.insert(field.to_string(), json!(source.clone().unwrap_or_default()));
        messages.insert(format!("send_{kind}"), json!(sent));
    }
    let hhmm = |t: jiff::civil::Time| format!("{:02}:{:02}", t.hour(), t.minute());
    let banks: Vec<String> = settings
        .bank_accounts
        .iter()
        .map(|a| format!("{} | {} | {}", a.bank, a.number, a.holder))
        .collect();
    BTreeMap::from([
        (
            "general",
            ser(json!({
                "store_name": settings.store_name,
                "store_link": settings.store_link.clone().unwrap_or_default(),
                "language": i18n::code(settings.language),
                "timezone": settings.timezone,
            })),
        ),
        ("deadlines", ser(&deadlines)),
        ("reminders", ser(&reminders)),
        ("messages", ser(&messages)),
        (
            "quiet",
            ser(json!({
                "quiet_start": settings.quiet_hours.map(|q| hhmm(q.start)).unwrap_or_default(),
                "quiet_end": settings.quiet_hours.map(|q| hhmm(q.end)).unwrap_or_default(),
            })),
        ),
        ("bank", ser(json!({ "bank_accounts": banks.join("\n") }))),
        (
            "channels",
            ser(json!({
                "whatsapp": settings.channels.whatsapp, "email": settings.channels.email,
            })),
        ),
        (
            "risk",
            ser(json!({
                "risk": serde_json::to_string_pretty(&settings.risk).unwrap_or_default(),
            })),
        ),
        ("webhooks", ser(json!({}))),
    ])
}

/// The Settings page; `failed` is a section whose form did not go through, with its errors and
/// what was typed.
async fn settings_view(
    desk: &Desk,
    status: StatusCode,
    failed: Option<(&str, FieldErrors, BTreeMap<&str, &str>)>,
    preview: Vec<Value>,
    preview_error: Option<String>,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    desk.require_owner()?;
    let engine = &desk.state.engine;
    let settings = engine.settings();
    let mut values = current_values(&settings);
    let preview_for = failed
        .as_ref()
        .map_or("", |(section, _, _)| *section)
        .to_owned();
    let mut errors: BTreeMap<&str, Value> = SECTIONS
        .iter()
        .map(|s| (*s, ser(FieldErrors::new())))
        .collect();
    if let Some((section, section_errors, typed)) = failed
        && let Some(slot) = SECTIONS.iter().find(|s| **s == section)
    {
        errors.insert(slot, ser(&section_errors));
        values.insert(slot, ser(&typed));
    }
    let webhooks = engine.webhooks().await.map_err(PageError::from_engine)?;
    desk.page_with_status(
        status,
        "settings.html",
        "settings",
        context! {
            notice => notice,
            sections => ser(SECTIONS),
            methods => TIMED.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            lifecycle => LIFECYCLE.iter().map(|(kind, _)| *kind).collect::<Vec<_>>(),
            v => ser(&values),
            e => ser(&errors),
            languages => ser(language_options(desk.strings())),
            webhooks => webhooks.iter().map(|w| context! { id => &w.id, url => &w.url }).collect::<Vec<_>>(),
            preview => preview,
            preview_error => preview_error,
            preview_for => preview_for,
        },
    )
}

pub(crate) async fn settings_page(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let notice = notice(desk.strings(), &query);
    settings_view(&desk, StatusCode::OK, None, Vec::new(), None, notice).await
}

/// A section's form as a settings patch, or the errors of its fields.
fn section_patch(
    strings: &Strings,
    section: &str,
    form: &FormData,
    current: &lunas_core::Settings,
) -> Result<serde_json::Value, FieldErrors> {
    let mut errors = FieldErrors::new();
    let text_or_null = |raw: &str| {
        let raw = raw.trim();
        if raw.is_empty() {
            serde_json::Value::Null
        } else {
            json!(raw)
        }
    };
    let patch = match section {
        "general" => json!({
            "store_name": form.get("store_name").trim(),
            "store_link": text_or_null(form.get("store_link")),
            "language": form.get("language"),
            "timezone": form.get("timezone").trim(),
        }),
        "deadlines" => {
            let mut windows = serde_json::Map::new();
            for method in TIMED {
                let name = field_name(TimedField::Window, method);
                let raw = form.get(name).trim();
                match PayWindow::parse(raw) {
                    Ok(_) => {
                        windows.insert(method.as_str().to_owned(), json!(raw));
                    }
                    Err(e) => {
                        errors.insert(name, e.to_string());
                    }
                }
            }
            json!({ "payment_windows": windows })
        }
        "reminders" => {
            let mut cadences = serde_json::Map::new();
            for method in TIMED {
                let name = field_name(TimedField::Cadence, method);
                let mut steps = Vec::new();
                let existing = current.reminders.for_method(method);
                for (n, line) in form
                    .get(name)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .enumerate()
                {
                    let mut parts = line.split_whitespace();
                    let (anchor, duration) =
                        (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    let ok = matches!(anchor, "after_order" | "before_deadline")
                        && parts.next().is_none()
                        && PayWindow::parse(duration).is_ok();
                    if !ok {
                        errors.insert(
                            name,
                            format!("{} ({line})", strings.get("err_cadence_line")),
                        );
                        continue;
                    }
                    let mut step = json!({ anchor: duration });
                    // A step keeps its own template when it stays where it was.
                    if let Some(template) = existing
                        .and_then(|c| c.steps.get(n))
                        .and_then(|s| s.template.clone())
                    {
                        step["template"] = json!(template);
                    }
                    steps.push(step);
                }
                let max_name = field_name(TimedField::Max, method);
                let max = match form.get(max_name).trim().parse::<usize>() {
                    Ok(max) => max,
                    Err(_) => {
                        errors.insert(max_name, strings.get("err_number").to_owned());
                        0
                    }
                };
                cadences.insert(
                    method.as_str().to_owned(),
                    json!({ "steps": steps, "max_count": max }),
                );
            }
            let language = i18n::code(current.language);
            json!({
                "reminders": cadences,
                "templates": { language: { "reminder": text_or_null(form.get("template")) } },
            })
        }
        "quiet" => {
            let (start, end) = (form.get("quiet_start").trim(), form.get("quiet_end").trim());
            match (start.is_empty(), end.is_empty()) {
                (true, true) => json!({ "quiet_hours": null }),
                (false, false) if is_hhmm(start) && is_hhmm(end) => {
                    json!({ "quiet_hours": { "start": &start[..5], "end": &end[..5] } })
                }
                _ => {
                    errors.insert("quiet_start", strings.get("err_time").to_owned());
                    json!({})
                }
            }
        }
        "bank" => {
            let mut accounts = Vec::new();
            for line in form
                .get("bank_accounts")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
            {
                let parts: Vec<&str> = line.split('|').map(str::trim).collect();
                match parts.as_slice() {
                    [bank, number, holder]
                        if !bank.is_empty() && !number.is_empty() && !holder.is_empty() =>
                    {
                        accounts.push(json!({ "bank": bank, "number": number, "holder": holder }));
                    }
                    _ => {
                        errors.insert(
                            "bank_accounts",
                            format!("{} ({line})", strings.get("err_bank_line")),
                        );
                    }
                }
            }
            json!({ "bank_accounts": accounts })
        }
        "messages" => {
            let language = i18n::code(current.language);
            let mut templates = serde_json::Map::new();
            let mut sent = serde_json::Map::new();
            for (kind, field) in LIFECYCLE {
                templates.insert(kind.to_owned(), text_or_null(form.get(field)));
                sent.insert(kind.to_owned(), json!(form.has(&format!("send_{kind}"))));
            }
            json!({ "templates": { language: templates }, "messages": sent })
        }
        "channels" => json!({
            "channels": { "whatsapp": form.has("whatsapp"), "email": form.has("email") },
        }),
        "risk" => match serde_json::from_str::<serde_json::Value>(form.get("risk")) {
            Ok(risk) => json!({ "risk": risk }),
            Err(e) => {
                errors.insert("risk", format!("{} {e}", strings.get("err_json")));
                json!({})
            }
        },
        _ => json!({}),
    };
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(errors)
    }
}

fn is_hhmm(raw: &str) -> bool {
    raw.len() >= 5
        && raw.is_char_boundary(5)
        && jiff::civil::Time::strptime("%H:%M", &raw[..5]).is_ok()
}

/// The per-method fields of the Deadlines and Reminders sections.
#[derive(Debug, Clone, Copy)]
enum TimedField {
    Window,
    Cadence,
    Max,
}

/// A per-method field's name, as templates and errors use it. Every method is named (COD has no
/// such fields on the page, but a new method is a compile error here, never a silent default).
fn field_name(field: TimedField, method: PaymentMethod) -> &'static str {
    use PaymentMethod as M;
    use TimedField as F;
    match (field, method) {
        (F::Window, M::BankTransfer) => "window_bank_transfer",
        (F::Window, M::VirtualAccount) => "window_virtual_account",
        (F::Window, M::Ewallet) => "window_ewallet",
        (F::Window, M::Qris) => "window_qris",
        (F::Window, M::Cod) => "window_cod",
        (F::Cadence, M::BankTransfer) => "cadence_bank_transfer",
        (F::Cadence, M::VirtualAccount) => "cadence_virtual_account",
        (F::Cadence, M::Ewallet) => "cadence_ewallet",
        (F::Cadence, M::Qris) => "cadence_qris",
        (F::Cadence, M::Cod) => "cadence_cod",
        (F::Max, M::BankTransfer) => "max_bank_transfer",
        (F::Max, M::VirtualAccount) => "max_virtual_account",
        (F::Max, M::Ewallet) => "max_ewallet",
        (F::Max, M::Qris) => "max_qris",
        (F::Max, M::Cod) => "max_cod",
    }
}

/// The preview of the reminders a patch would give: each step's time and text, or why the
/// settings would not be accepted.
fn preview_of(desk: &Desk, patch: &serde_json::Value) -> Result<Vec<Value>, String> {
    desk.state
        .engine
        .preview_reminders(patch, PaymentMethod::BankTransfer)
        .map(|steps| {
            steps
                .into_iter()
                .map(|(due, text)| context! { when => desk.when(due), text => text })
                .collect()
        })
        .map_err(|e| desk.strings().error(&ApiError::from(e)))
}

/// The live preview (`?section=reminders`, the default, or `?section=messages`): what the
/// section's form would make of the sample order, as JSON `{steps: [{when, text}], error}`.
pub(crate) async fn preview(Query(query): Query_, posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    desk.require_owner()?;
    let settings = desk.state.engine.settings();
    let section = match query.get("section").map(String::as_str) {
        Some("messages") => "messages",
        _ => "reminders",
    };
    let body = match section_patch(desk.strings(), section, &form, &settings) {
        Err(errors) => {
            json!({ "steps": [], "error": errors.values().cloned().collect::<Vec<_>>().join(" ") })
        }
        Ok(patch) => match preview_section(&desk, section, &patch) {
            Ok(steps) => json!({ "steps": steps, "error": null }),
            Err(error) => json!({ "steps": [], "error": error }),
        },
    };
    Ok(axum::Json(body).into_response())
}

/// The preview of a section: the reminders with their times, or each lifecycle message under
/// its name.
fn preview_section(
    desk: &Desk,
    section: &str,
    patch: &serde_json::Value,
) -> Result<Vec<Value>, String> {
    if section != "messages" {
        return preview_of(desk, patch);
    }
    let strings = desk.strings();
    desk.state
        .engine
        .preview_messages(patch)
        .map(|messages| {
            messages
                .into_iter()
                .map(|(kind, text)| {
                    context! { when => strings.get(&format!("kind_{}", kind.as_str())), text => text }
                })
                .collect()
        })
        .map_err(|e| strings.error(&ApiError::from(e)))
}

pub(crate) async fn save_section(
    Path(section): Path<String>,
    Query(query): Query_,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    desk.require_owner()?;
    let section = SECTIONS
        .iter()
        .copied()
        .chain(["webhook-delete"])
        .find(|s| *s == section)
        .ok_or(PageError::NotFound(desk.language()))?;
    let fail = |errors: FieldErrors| {
        let shown = if section == "webhook-delete" {
            "webhooks"
        } else {
            section
        };
        (shown, errors, form.values())
    };
    if matches!(section, "bank" | "webhooks" | "webhook-delete")
        && let Some((field, message)) = reauthenticate(&desk, &form).await?
    {
        let shown = if section == "webhook-delete" {
            "webhooks"
        } else {
            section
        };
        return settings_view(
            &desk,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some((shown, FieldErrors::from([(field, message)]), form.values())),
            Vec::new(),
            None,
            None,
        )
        .await;
    }
    let engine = &desk.state.engine;
    match section {
        "webhooks" => {
            return match engine
                .create_webhook(form.get("url").trim(), desk.actor())
                .await
            {
                Ok(_) => Ok(done("/settings#webhooks", "saved")),
                Err(e) => {
                    let (field, message) = refusal(desk.strings(), ApiError::from(e))?;
                    settings_view(
                        &desk,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(fail(FieldErrors::from([(field, message)]))),
                        Vec::new(),
                        None,
                        None,
                    )
                    .await
                }
            };
        }
        "webhook-delete" => {
            let id = form.get("id").to_owned();
            engine
                .delete_webhook(id, desk.actor())
                .await
                .map_err(PageError::from_engine)?;
            return Ok(done("/settings#webhooks", "saved"));
        }
        _ => {}
    }
    let settings = engine.settings();
    let patch = match section_patch(desk.strings(), section, &form, &settings) {
        Ok(patch) => patch,
        Err(errors) => {
            return settings_view(
                &desk,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(fail(errors)),
                Vec::new(),
                None,
                None,
            )
            .await;
        }
    };
    if matches!(section, "reminders" | "messages")
        && (query.contains_key("preview") || form.has("preview"))
    {
        let (preview, error) = match preview_section(&desk, section, &patch) {
            Ok(steps) => (steps, None),
            Err(error) => (Vec::new(), Some(error)),
        };
        return settings_view(
            &desk,
            StatusCode::OK,
            Some(fail(FieldErrors::new())),
            preview,
            error,
            None,
        )
        .await;
    }
    match engine.update_settings(patch, desk.actor()).await {
        Ok(_) => Ok(done(&format!("/settings#{section}"), "saved")),
        Err(e) => {
            let (_, message) = refusal(desk.strings(), ApiError::from(e))?;
            let errors = FieldErrors::from([("form", message)]);
            settings_view(
                &desk,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(fail(errors)),
                Vec::new(),
                None,
                None,
            )
            .await
        }
    }
}

async fn staff_view(
    desk: &Desk,
    status: StatusCode,
    errors: FieldErrors,
    values: BTreeMap<&str, &str>,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    desk.require_owner()?;
    let users = desk
        .state
        .engine
        .users()
        .await
        .map_err(PageError::from_engine)?;
    let tokens = desk
        .state
        .engine
        .api_tokens()
        .await
        .map_err(PageError::from_engine)?;
    let strings = desk.strings();
    let roles = [
        ("staff", strings.get("role_staff")),
        ("owner", strings.get("role_owner")),
    ];
    desk.page_with_status(
        status,
        "staff.html",
        "staff",
        context! {
            notice => notice,
            users => users.iter().map(|u| context! {
                id => u.id, email => u.email.as_str(), role => u.role.as_str(),
                totp => u.totp_enabled, disabled => u.disabled,
            }).collect::<Vec<_>>(),
            tokens => tokens.iter().enumerate().map(|(i, t)| context! {
                index => i, name => &t.name, created => desk.when(t.created_at), count => t.count,
            }).collect::<Vec<_>>(),
            roles => ser(roles), errors => ser(&errors), values => ser(&values),
        },
    )
}

pub(crate) async fn staff_page(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let notice = notice(desk.strings(), &query);
    staff_view(
        &desk,
        StatusCode::OK,
        FieldErrors::new(),
        BTreeMap::new(),
        notice,
    )
    .await
}

pub(crate) async fn add_staff(posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    desk.require_owner()?;
    let refuse = |field: &'static str, message: String| {
        staff_view(
            &desk,
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from([(field, message)]),
            form.values(),
            None,
        )
    };
    if let Some((field, message)) = reauthenticate(&desk, &form).await? {
        return refuse(field, message).await;
    }
    let role = Role::parse(form.get("role")).unwrap_or(Role::Staff);
    match desk
        .state
        .engine
        .add_user(
            form.get("email"),
            role,
            form.get("new_password").to_owned(),
            desk.actor(),
        )
        .await
    {
        Ok(_) => Ok(done("/staff", "staff_added")),
        Err(e) => {
            let (field, message) = refusal(desk.strings(), ApiError::from(e))?;
            let field = if field == "password" {
                "new_password"
            } else {
                field
            };
            refuse(field, message).await
        }
    }
}

/// An owner revokes the API tokens of one name (`/tokens/revoke`), with the password again.
pub(crate) async fn revoke_token(posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    desk.require_owner()?;
    let refuse = |message: String| {
        staff_view(
            &desk,
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from([("form", message)]),
            BTreeMap::new(),
            None,
        )
    };
    if let Some((_, message)) = reauthenticate(&desk, &form).await? {
        return refuse(message).await;
    }
    match desk
        .state
        .engine
        .revoke_api_token(form.get("name"), desk.actor())
        .await
    {
        Ok(0) => Err(PageError::NotFound(desk.language())),
        Ok(_) => Ok(done("/staff", "token_revoked")),
        Err(e) => {
            let (_, message) = refusal(desk.strings(), ApiError::from(e))?;
            refuse(message).await
        }
    }
}

/// An owner's change to another account (`/staff/{id}/{action}`): `disable` (or enable, with
/// `disabled=no`) or `totp-off` (a member who lost the phone with the authenticator). Both need
/// the owner's password again.
pub(crate) async fn staff_action(
    Path((id, action)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    desk.require_owner()?;
    let id = id
        .parse::<i64>()
        .map_err(|_| PageError::NotFound(desk.language()))?;
    if !matches!(action.as_str(), "disable" | "totp-off") {
        return Err(PageError::NotFound(desk.language()));
    }
    let refuse = |field: &'static str, message: String| {
        staff_view(
            &desk,
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from([(field, message)]),
            BTreeMap::new(),
            None,
        )
    };
    if let Some((_, message)) = reauthenticate(&desk, &form).await? {
        return refuse("form", message).await;
    }
    let engine = &desk.state.engine;
    let result = match action.as_str() {
        "totp-off" => engine.reset_totp(id, desk.actor()).await,
        _ => {
            engine
                .set_user_disabled(id, form.get("disabled") == "yes", desk.actor())
                .await
        }
    };
    match result {
        Ok(()) => Ok(done("/staff", "saved")),
        Err(e) => {
            let (_, message) = refusal(desk.strings(), ApiError::from(e))?;
            refuse("form", message).await
        }
    }
}

async fn account_view(
    desk: &Desk,
    status: StatusCode,
    errors: FieldErrors,
    setup: Option<lunas_engine::accounts::TotpSetup>,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    desk.page_with_status(
        status,
        "account.html",
        "account",
        context! {
            notice => notice,
            errors => ser(&errors),
            languages => ser(language_options(desk.strings())),
            totp_on => desk.member().totp_enabled,
            setup => setup.map(|s| context! { secret => s.secret, uri => s.uri }),
        },
    )
}

pub(crate) async fn account_page(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let notice = notice(desk.strings(), &query);
    account_view(&desk, StatusCode::OK, FieldErrors::new(), None, notice).await
}

pub(crate) async fn account_action(
    Path(action): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let engine = &desk.state.engine;
    let member = desk.member().clone();
    let refuse = |e: lunas_engine::Error, setup| {
        let e = ApiError::from(e);
        let desk = &desk;
        async move {
            let (field, message) = refusal(desk.strings(), e)?;
            account_view(
                desk,
                StatusCode::UNPROCESSABLE_ENTITY,
                FieldErrors::from([(field, message)]),
                setup,
                None,
            )
            .await
        }
    };
    match action.as_str() {
        "language" => {
            let language = if form.get("language") == "en" {
                Language::English
            } else {
                Language::Indonesian
            };
            engine
                .set_language(&member, language)
                .await
                .map_err(PageError::from_engine)?;
            Ok(done("/account", "saved"))
        }
        "password" => {
            if let Err(e) = engine
                .reauthenticate(&desk.cookie, &member, form.get("password").to_owned())
                .await
            {
                return refuse(e, None).await;
            }
            match engine
                .change_password(&desk.cookie, &member, form.get("new_password").to_owned())
                .await
            {
                Ok(()) => Ok(done("/account", "saved")),
                Err(e) => {
                    let (_, message) = refusal(desk.strings(), ApiError::from(e))?;
                    account_view(
                        &desk,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        FieldErrors::from([("new_password", message)]),
                        None,
                        None,
                    )
                    .await
                }
            }
        }
        "totp-setup" => {
            let setup = new_totp(&member.email, &engine.settings().store_name);
            account_view(&desk, StatusCode::OK, FieldErrors::new(), Some(setup), None).await
        }
        "totp-on" => {
            let secret = form.get("secret").to_owned();
            match engine
                .enable_totp(&member, secret.clone(), form.get("code"))
                .await
            {
                Ok(()) => Ok(done("/account", "totp_on")),
                Err(e) => {
                    let setup = totp_setup(&member.email, &engine.settings().store_name, secret);
                    refuse(e, Some(setup)).await
                }
            }
        }
        "totp-off" => {
            if let Err(e) = engine
                .reauthenticate(&desk.cookie, &member, form.get("password").to_owned())
                .await
            {
                return refuse(e, None).await;
            }
            engine
                .disable_totp(&member)
                .await
                .map_err(PageError::from_engine)?;
            Ok(done("/account", "totp_off"))
        }
        _ => Err(PageError::NotFound(desk.language())),
    }
}
