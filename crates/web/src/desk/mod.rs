//! The staff dashboard: server-rendered pages (minijinja, auto-escaped) over the same engine
//! calls and the same parsing as the JSON API, so no business rule lives here twice.
//!
//! Sign-in makes a new session (`lunas_engine::accounts`); its id travels in an `HttpOnly`,
//! `SameSite=Lax` cookie (`Secure` when served over TLS), and every form carries the session's
//! CSRF token in a hidden input, checked before anything else is read. The sign-in form itself
//! is protected by a double-submit token (a cookie and a hidden input that must match).

mod analytics;
mod audit;
mod buyers;
mod cadence_lines;
mod charts;
mod conversation_settings;
mod conversations;
mod exports;
mod fulfilment;
pub(crate) mod i18n;
mod login;
mod new_order;
mod pages;
mod photos;
mod products;
mod proofs;
mod risk;
mod settings;
mod shipping_settings;
mod shop_settings;
mod simulate;
mod staff;
mod words;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lunas_core::accounts::Session;
use lunas_core::accounts::{Role, StaffMember};
use lunas_core::messages::Language;
use minijinja::{Environment, Value};

use crate::{ApiError, AppState};

pub(crate) use i18n::Strings;
pub(crate) use login::client_ip;

/// The dashboard's cookies: the session, and the sign-in form's double-submit token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cookie {
    Session,
    Login,
}

impl Cookie {
    /// Its name: over HTTPS with the `__Host-` prefix, which browsers only accept from this
    /// host, `Secure`, on path `/` and without a `Domain` (so a neighbouring subdomain cannot
    /// plant one).
    pub(crate) fn name(self, secure: bool) -> &'static str {
        match (self, secure) {
            (Cookie::Session, false) => "lunas_session",
            (Cookie::Session, true) => "__Host-lunas_session",
            (Cookie::Login, false) => "lunas_login",
            (Cookie::Login, true) => "__Host-lunas_login",
        }
    }
}

/// A serialisable value for a template.
pub(crate) fn ser<T: serde::Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// Rows on one page of a dashboard list.
pub(crate) const LIST_LEN: usize = 50;

/// Every response of the server gets these: nothing runs but the dashboard's own script,
/// nothing frames it, no page leaks its address to wa.me or a bank.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    // A response that set its own (stricter) policy keeps it: a proof of transfer's file.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
    {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The compiled templates, shared by all requests.
pub(crate) struct Templates {
    env: Environment<'static>,
}

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates![
    "base.html",
    "macros.html",
    "login.html",
    "error.html",
    "today.html",
    "queue.html",
    "orders.html",
    "order.html",
    "order_new.html",
    "orders_export.html",
    "buyers.html",
    "buyer.html",
    "products.html",
    "product.html",
    "settings.html",
    "staff.html",
    "account.html",
    "audit.html",
    "public_base.html",
    "public_order.html",
    "public_message.html",
    "public_claim.html",
    "shop.html",
    "shop_product.html",
    "shop_cart.html",
    "packing.html",
    "packing_print.html",
    "analytics.html",
    "simulate.html",
    "conversations.html",
    "conversation.html",
    "faq.html",
];

impl Templates {
    pub(crate) fn new() -> Templates {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        // `.html` names are auto-escaped by minijinja's default callback.
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name} does not compile: {e}"));
        }
        env.add_filter("rupiah", |amount: i64| {
            lunas_core::messages::format_rupiah(amount)
        });
        Templates { env }
    }

    pub(crate) fn render(&self, name: &str, context: Value) -> Result<String, PageError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(context))
            .map_err(|e| {
                tracing::error!(template = name, error = %e, "a dashboard page did not render");
                PageError::Internal
            })
    }
}

/// A signed-in staff member's request.
pub(crate) struct Desk {
    pub state: AppState,
    pub session: Session,
    /// The session cookie's value (to sign out, or to re-authenticate this session).
    pub cookie: String,
    /// The store's time zone, looked up once per request (pages format many times).
    pub tz: jiff::tz::TimeZone,
    /// Whether the request came over TLS (the cookies' names and `Secure`).
    pub secure: bool,
}

impl Desk {
    pub fn member(&self) -> &StaffMember {
        &self.session.member
    }

    pub fn language(&self) -> Language {
        self.session.member.language
    }

    pub fn strings(&self) -> &'static Strings {
        Strings::of(self.language())
    }

    pub fn actor(&self) -> lunas_core::Actor {
        lunas_engine::accounts::staff_actor(self.member())
    }

    /// Owner-only pages refuse staff.
    pub fn require_owner(&self) -> Result<(), PageError> {
        if self.member().role == Role::Owner {
            Ok(())
        } else {
            Err(PageError::Forbidden)
        }
    }

    /// Formats a time in the store's time zone for this member's language.
    pub fn when(&self, at: lunas_core::Timestamp) -> String {
        lunas_core::messages::format_short(at, &self.tz, self.language())
    }

    /// Renders `name` with `context` plus what every page needs (strings, the member, the CSRF
    /// token, the store's name, which page is open).
    pub fn page(&self, name: &str, nav: &str, context: Value) -> Result<Response, PageError> {
        self.page_with_status(StatusCode::OK, name, nav, context)
    }

    pub fn page_with_status(
        &self,
        status: StatusCode,
        name: &str,
        nav: &str,
        context: Value,
    ) -> Result<Response, PageError> {
        let settings = self.state.engine.settings();
        let member = self.member();
        let common = minijinja::context! {
            t => self.strings().value(),
            lang => i18n::code(self.language()),
            me => minijinja::context! {
                email => member.email.as_str(),
                owner => member.role == Role::Owner,
                role => member.role.as_str(),
            },
            csrf => &self.session.csrf,
            store_name => &settings.store_name,
            nav => nav,
        };
        let html = self
            .state
            .desk
            .render(name, minijinja::context! { ..context, ..common })?;
        Ok((status, Html(html)).into_response())
    }
}

fn cookie_value(headers: &HeaderMap, cookie: Cookie, secure: bool) -> Option<String> {
    let name = cookie.name(secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

impl FromRequestParts<AppState> for Desk {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Desk, PageError> {
        let secure = over_tls(state, &parts.headers);
        let Some(cookie) =
            cookie_value(&parts.headers, Cookie::Session, secure).filter(|c| c.len() <= 128)
        else {
            return Err(PageError::SignIn);
        };
        let session = state
            .engine
            .session(&cookie)
            .await
            .map_err(PageError::from_engine)?
            .ok_or(PageError::SignIn)?;
        Ok(Desk {
            state: state.clone(),
            session,
            cookie,
            tz: state.engine.settings().time_zone(),
            secure,
        })
    }
}

/// A submitted form's fields, in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct FormData {
    pairs: Vec<(String, String)>,
    raw: axum::body::Bytes,
}

impl FormData {
    /// The form read as `T`, a struct naming the fields a handler takes (each `#[serde(default)]`
    /// so an absent field reads as empty, and fields the struct does not name — the CSRF token
    /// — ignored). A form that does not read as `T` (a field sent twice) is a bad form.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, PageError> {
        serde_urlencoded::from_bytes(&self.raw).map_err(|_| PageError::BadForm)
    }

    /// The CSRF token the form carries, checked before anything else is read.
    fn csrf(&self) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of a field a form repeats (an order's lines), in the order sent.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// What the user typed, to show again beside the errors.
    pub fn values(&self) -> BTreeMap<&str, &str> {
        self.pairs
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "csrf" | "password" | "new_password" | "confirm_password"
                )
            })
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// Largest dashboard form (a settings section with its templates).
const FORM_BYTES_MAX: usize = 64 * 1024;

async fn read_form(req: Request) -> Result<FormData, PageError> {
    let bytes = axum::body::to_bytes(req.into_body(), FORM_BYTES_MAX)
        .await
        .map_err(|_| PageError::BadForm)?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::BadForm)?;
    Ok(FormData { pairs, raw: bytes })
}

/// A form posted by a signed-in member, its CSRF token checked.
pub(crate) struct Posted {
    pub desk: Desk,
    pub form: FormData,
}

impl FromRequest<AppState> for Posted {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Posted, PageError> {
        let (mut parts, body) = req.into_parts();
        // A form posted after its session ended is a stale form: say so, rather than sending
        // the member to sign in with what they typed lost without a word.
        let desk = match Desk::from_request_parts(&mut parts, state).await {
            Err(PageError::SignIn) => return Err(PageError::Stale(Language::Indonesian)),
            other => other?,
        };
        let form = read_form(Request::from_parts(parts, body)).await?;
        if !lunas_engine::tokens::same_secret(form.csrf(), &desk.session.csrf) {
            return Err(PageError::Stale(desk.language()));
        }
        Ok(Posted { desk, form })
    }
}

/// Field errors of a form: field name → message in the member's language.
pub(crate) type FieldErrors = BTreeMap<&'static str, String>;

/// What a page answers when it cannot show what was asked.
#[derive(Debug)]
pub(crate) enum PageError {
    /// Not signed in (or the session ended): to the sign-in page.
    SignIn,
    NotFound(Language),
    /// An owner-only page opened by staff.
    Forbidden,
    /// A form whose CSRF token is missing or no longer the session's.
    Stale(Language),
    /// A form body that is not a form (or too large).
    BadForm,
    Unavailable,
    Internal,
}

impl PageError {
    pub fn from_engine(e: lunas_engine::Error) -> PageError {
        let api = ApiError::from(e);
        match api.status {
            StatusCode::SERVICE_UNAVAILABLE => PageError::Unavailable,
            StatusCode::NOT_FOUND => PageError::NotFound(Language::Indonesian),
            _ => PageError::Internal,
        }
    }
}

static ERROR_TEMPLATES: std::sync::OnceLock<Templates> = std::sync::OnceLock::new();

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, key, language) = match self {
            PageError::SignIn => return Redirect::to("/login").into_response(),
            PageError::NotFound(l) => (StatusCode::NOT_FOUND, "err_not_found", l),
            PageError::Forbidden => (StatusCode::FORBIDDEN, "err_forbidden", Language::Indonesian),
            PageError::Stale(l) => (StatusCode::FORBIDDEN, "err_stale", l),
            PageError::BadForm => (
                StatusCode::BAD_REQUEST,
                "err_bad_form",
                Language::Indonesian,
            ),
            PageError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "err_unavailable",
                Language::Indonesian,
            ),
            PageError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "err_internal",
                Language::Indonesian,
            ),
        };
        let strings = Strings::of(language);
        let templates = ERROR_TEMPLATES.get_or_init(Templates::new);
        let html = templates
            .render(
                "error.html",
                minijinja::context! {
                    t => strings.value(),
                    lang => i18n::code(language),
                    message => strings.get(key),
                    status => status.as_u16(),
                },
            )
            .unwrap_or_else(|_| strings.get(key).to_owned());
        (status, Html(html)).into_response()
    }
}

/// A cookie for `value`; `max_age` zero removes it.
fn session_cookie(which: Cookie, value: &str, secure: bool, max_age_s: i64) -> HeaderValue {
    let cookie = cookie::Cookie::build((which.name(secure), value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_s))
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("cookie values are hex")
}

/// Whether this request came over TLS (directly, or through a proxy that says so), so cookies
/// get `Secure`.
fn over_tls(state: &AppState, headers: &HeaderMap) -> bool {
    state.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// After a change, the page to show (303, so a reload does not post again), with a notice.
pub(crate) fn done(to: &str, notice: &str) -> Response {
    let (path, fragment) = match to.split_once('#') {
        Some((path, fragment)) => (path, format!("#{fragment}")),
        None => (to, String::new()),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    let to = format!("{path}{sep}done={notice}{fragment}");
    // Every caller passes a path of its own making; one that is not a valid header (a control
    // character) goes to Today rather than failing after the change was made.
    match HeaderValue::from_str(&to) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => Redirect::to("/").into_response(),
    }
}

/// The notice a `?done=` names, in the member's language (unknown names show nothing).
pub(crate) fn notice(strings: &Strings, query: &BTreeMap<String, String>) -> Option<&'static str> {
    let key = query.get("done")?;
    strings.notice(key)
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::login_page).post(login::login))
        .route("/logout", post(login::logout))
        .route("/", get(pages::today))
        .route("/orders", get(pages::orders))
        .route(
            "/orders/new",
            get(new_order::new_order).post(new_order::place_order),
        )
        .route("/orders/new/paste", post(new_order::paste))
        .route("/orders/export", get(exports::export_page))
        .route("/orders/export.csv", get(exports::export_csv))
        .route("/orders/{id}", get(pages::order))
        .route("/orders/{id}/pay", post(pages::pay))
        .route("/orders/{id}/cancel", post(pages::cancel))
        .route("/orders/{id}/accept", post(pages::accept))
        .route("/orders/{id}/deadline", post(pages::extend))
        .route("/messages/{id}/sent", post(pages::mark_sent))
        .route("/messages/{id}/skip", post(pages::skip))
        .route("/queue", get(pages::queue))
        .route("/reviews/{id}/resolve", post(pages::resolve_review))
        .route("/orders/{id}/step/{step}", post(fulfilment::step))
        .route("/orders/{id}/return", post(fulfilment::request_return))
        .route("/returns/{id}/photos/{n}", get(fulfilment::return_photo))
        .route("/returns/{id}/{step}", post(fulfilment::return_step))
        .route("/analytics", get(analytics::analytics_page))
        .route("/analytics.csv", get(analytics::analytics_csv))
        .route("/analytics/simulate", get(simulate::simulate_page))
        .route("/packing", get(fulfilment::packing))
        .route("/packing/pack", post(fulfilment::bulk_pack))
        .route("/packing/ship", post(fulfilment::bulk_ship))
        .route("/packing/print", get(fulfilment::print))
        .route("/proofs/{id}", get(proofs::proof_file))
        .route("/conversations", get(conversations::conversations))
        .route("/conversations/log", post(conversations::log))
        .route("/conversations/{phone}", get(conversations::conversation))
        .route("/conversations/{phone}/reply", post(conversations::reply))
        .route(
            "/conversations/{phone}/messages/{id}/{action}",
            post(conversations::suggestion),
        )
        .route(
            "/faq",
            get(conversations::faq).post(conversations::add_entry),
        )
        .route("/faq/{id}", post(conversations::edit_entry))
        .route("/faq/{id}/delete", post(conversations::delete_entry))
        .route("/buyers", get(buyers::buyers))
        .route("/buyers/{phone}", get(buyers::buyer))
        .route("/buyers/{phone}/notes", post(buyers::buyer_notes))
        .route("/buyers/{phone}/band", post(buyers::buyer_band))
        .route("/buyers/{phone}/export", get(buyers::buyer_export))
        .route("/buyers/{phone}/erase", post(buyers::buyer_erase))
        .route(
            "/products",
            get(products::products).post(products::put_product),
        )
        .route(
            "/products/{sku}",
            get(products::product).post(products::edit_product),
        )
        .route("/products/{sku}/variants", post(products::add_variant))
        .route(
            "/products/{sku}/photo",
            get(photos::show)
                .post(photos::upload)
                .layer(DefaultBodyLimit::max(crate::UPLOAD_BODY_BYTES_MAX)),
        )
        .route("/settings", get(settings::settings_page))
        .route("/settings/preview", post(settings::preview))
        .route("/settings/{section}", post(settings::save_section))
        .route("/staff", get(staff::staff_page).post(staff::add_staff))
        .route("/staff/{id}/{action}", post(staff::staff_action))
        .route("/tokens/revoke", post(staff::revoke_token))
        .route("/account", get(staff::account_page))
        .route("/account/{action}", post(staff::account_action))
        .route("/audit", get(audit::audit))
        .route(
            "/assets/desk.css",
            get(|| async { asset(CSS, include_str!("../../assets/desk.css")) }),
        )
        .route(
            "/assets/print.css",
            get(|| async { asset(CSS, include_str!("../../assets/print.css")) }),
        )
        .route(
            "/assets/desk.js",
            get(|| async { asset(JS, include_str!("../../assets/desk.js")) }),
        )
}

pub(crate) const CSS: &str = "text/css; charset=utf-8";
pub(crate) const JS: &str = "text/javascript; charset=utf-8";

/// A stylesheet or script built into the binary, cached by browsers for an hour.
pub(crate) fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

/// State the dashboard keeps beside the API's.
pub(crate) struct DeskState {
    pub templates: Templates,
}

impl std::ops::Deref for DeskState {
    type Target = Templates;
    fn deref(&self) -> &Templates {
        &self.templates
    }
}

pub(crate) fn new_state() -> Arc<DeskState> {
    Arc::new(DeskState {
        templates: Templates::new(),
    })
}

/// A refusal to show beside its field (see `field_error`), or the page error of a failure that
/// is not the member's to fix (the database away: 503; a bug: 500).
pub(crate) fn refusal(strings: &Strings, e: ApiError) -> Result<(&'static str, String), PageError> {
    match e.status {
        StatusCode::SERVICE_UNAVAILABLE => Err(PageError::Unavailable),
        status if status.is_server_error() => Err(PageError::Internal),
        _ => Ok(field_error(strings, &e)),
    }
}

/// A whole number typed into a settings form's field `name`, within `min..=max`; `None`, with the
/// field's error noted, when it is not.
pub(crate) fn form_number(
    strings: &Strings,
    named: &BTreeMap<&str, &str>,
    errors: &mut FieldErrors,
    name: &'static str,
    (min, max): (u32, u32),
) -> Option<u32> {
    let n = named
        .get(name)
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| (min..=max).contains(n));
    if n.is_none() {
        errors.insert(
            name,
            strings
                .get("err_between")
                .replace("{min}", &min.to_string())
                .replace("{max}", &max.to_string()),
        );
    }
    n
}

/// A field error from the API's parsing: the error's code says which field it belongs to.
pub(crate) fn field_error(strings: &Strings, e: &ApiError) -> (&'static str, String) {
    let field = match e.code {
        "invalid_phone" => "phone",
        "invalid_name" => "name",
        "invalid_email" => "email",
        "invalid_honorific" => "honorific",
        "invalid_sku" | "unknown_sku" | "empty_order" | "too_many_items" | "variant_required"
        | "sku_taken" | "invalid_parent" => "sku",
        "invalid_variant" | "variant_taken" | "unknown_parent" | "parent_is_variant" => "variant",
        "invalid_shipping_cost" => "shipping_cost",
        "invalid_discount" | "discount_above_total" => "discount",
        "invalid_quantity" | "quantity_limited" => "qty",
        "invalid_payment_method" | "payment_method_not_allowed" => "payment_method",
        "invalid_pay_within" => "pay_within",
        "invalid_amount" => "amount",
        "invalid_reference" => "reference",
        "invalid_reason" => "reason",
        "invalid_deadline" => "pay_by",
        "invalid_price" => "price",
        "invalid_stock" | "stock_below_reserved" => "stock",
        "invalid_tips" => "tips",
        "invalid_notes" => "notes",
        "invalid_tags" => "tags",
        "invalid_band" => "band",
        "invalid_password" | "wrong_password" | "throttled" => "password",
        "wrong_code" => "code",
        "invalid_webhook_url" => "url",
        _ => "form",
    };
    (field, strings.error(e))
}

/// A sensitive change needs the password: typed in this form, or in this session within the
/// last ten minutes.
/// `Ok(Some(error))` is a refusal to show beside its field.
pub(super) async fn reauthenticate(
    desk: &Desk,
    form: &FormData,
) -> Result<Option<(&'static str, String)>, PageError> {
    /// The password field every sensitive form carries.
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Password {
        password: String,
    }
    let Password { password } = form.parse()?;
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
        .reauthenticate(&desk.cookie, desk.member(), password)
        .await
    {
        Ok(()) => Ok(None),
        Err(e) => refusal(desk.strings(), ApiError::from(e)).map(Some),
    }
}
