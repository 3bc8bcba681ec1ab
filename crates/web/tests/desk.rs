//! The staff dashboard through a real HTTP server on port 0, on both backends, with a manual
//! clock: sign-in, sessions, CSRF, the throttle, the second factor, roles, every page and form.
//! (The browser flows are in `browser.rs`.)

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use jiff::SignedDuration;
use lunas_core::accounts::Role;
use lunas_core::{Actor, Money, OrderStatus, Sku};
use lunas_engine::{Engine, ManualClock};
use lunas_store::testing::{Backend, TestDb};

const OWNER: &str = "owner@toko.id";
const STAFF: &str = "staff@toko.id";
const PASSWORD: &str = "kata sandi panjang";

struct App {
    addr: SocketAddr,
    clock: Arc<ManualClock>,
    engine: Arc<Engine>,
    client: Client<HttpConnector, Full<Bytes>>,
    _db: TestDb,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// One browser's worth of cookies.
#[derive(Default, Clone)]
struct Jar(HashMap<String, String>);

struct Page {
    status: StatusCode,
    headers: hyper::HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The first CSRF token of the page's forms.
    fn csrf(&self) -> String {
        let start = self
            .body
            .find(r#"name="csrf" value=""#)
            .unwrap_or_else(|| panic!("no CSRF input in {}", self.body))
            + r#"name="csrf" value=""#.len();
        self.body[start..start + 64].to_owned()
    }

    fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }
}

async fn spawn(backend: Backend) -> App {
    let db = TestDb::new(backend);
    let store = db.open().await;
    let clock = Arc::new(ManualClock::new("2026-12-01T03:00:00Z".parse().unwrap()));
    let engine = Arc::new(Engine::new(store.clone(), clock.clone()).await.unwrap());
    for (email, role) in [(OWNER, Role::Owner), (STAFF, Role::Staff)] {
        engine
            .add_user(email, role, PASSWORD.into(), Actor::system())
            .await
            .unwrap();
    }
    engine
        .put_product(lunas_core::catalog::ProductInput {
            sku: Sku::parse("GAMIS-01").unwrap(),
            name: "Gamis Rayon".into(),
            price: Money::price(150_000).unwrap(),
            stock: 5,
            tips: None,
        })
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(lunas_web::serve(
        listener,
        lunas_web::AppState::new(engine.clone()),
        async {
            let _ = stopped.await;
        },
    ));
    App {
        addr,
        clock,
        engine,
        client: Client::builder(hyper_util::rt::TokioExecutor::new()).build_http(),
        _db: db,
        _stop: stop,
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

impl App {
    async fn send(
        &self,
        jar: &mut Jar,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Page {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        if !jar.0.is_empty() {
            let cookies: Vec<String> = jar.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", cookies.join("; "));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if body.is_some() {
            request = request.header("content-type", "application/x-www-form-urlencoded");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .unwrap();
        let response = self.client.request(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for cookie in headers.get_all("set-cookie") {
            let cookie = cookie.to_str().unwrap();
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                jar.0.remove(name);
            } else {
                jar.0.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    async fn get(&self, jar: &mut Jar, path: &str) -> Page {
        self.send(jar, Method::GET, path, None, &[]).await
    }

    async fn post(&self, jar: &mut Jar, path: &str, pairs: &[(&str, &str)]) -> Page {
        self.send(jar, Method::POST, path, Some(form(pairs)), &[])
            .await
    }

    /// Posts a form of the page at `from` with its CSRF token.
    async fn submit(&self, jar: &mut Jar, from: &str, to: &str, pairs: &[(&str, &str)]) -> Page {
        let csrf = self.get(jar, from).await.csrf();
        let mut pairs = pairs.to_vec();
        pairs.push(("csrf", &csrf));
        self.post(jar, to, &pairs).await
    }

    /// Signs in from the sign-in page with `headers` on both requests (a proxy's).
    async fn try_sign_in_with(
        &self,
        jar: &mut Jar,
        email: &str,
        password: &str,
        headers: &[(&str, &str)],
    ) -> Page {
        let login = self.send(jar, Method::GET, "/login", None, headers).await;
        let body = form(&[
            ("email", email),
            ("password", password),
            ("csrf", &login.csrf()),
        ]);
        self.send(jar, Method::POST, "/login", Some(body), headers)
            .await
    }

    async fn try_sign_in(&self, jar: &mut Jar, email: &str, password: &str, totp: &str) -> Page {
        self.submit(
            jar,
            "/login",
            "/login",
            &[("email", email), ("password", password), ("totp", totp)],
        )
        .await
    }

    async fn sign_in(&self, email: &str) -> Jar {
        let mut jar = Jar::default();
        let page = self.try_sign_in(&mut jar, email, PASSWORD, "").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), "/");
        jar
    }

    async fn audit_actions(&self) -> Vec<String> {
        self.engine
            .audit_log(None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.action)
            .collect()
    }

    async fn place(&self, phone: &str, window: &str) -> lunas_core::OrderId {
        let mut jar = self.sign_in(STAFF).await;
        let page = self
            .submit(
                &mut jar,
                "/orders/new",
                "/orders/new",
                &[
                    ("phone", phone),
                    ("name", "Sari Wulandari"),
                    ("honorific", "kak"),
                    ("email", ""),
                    ("sku", "GAMIS-01"),
                    ("qty", "1"),
                    ("payment_method", "bank_transfer"),
                    ("pay_within", window),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let id = page
            .location()
            .trim_start_matches("/orders/")
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        lunas_core::OrderId(id)
    }
}

const PAGES: &[&str] = &[
    "/",
    "/orders",
    "/orders/new",
    "/buyers",
    "/products",
    "/settings",
    "/staff",
    "/account",
    "/audit",
];

fn assert_security_headers(page: &Page, path: &str) {
    let h = |name: &str| {
        page.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path}: no {name}"))
            .to_owned()
    };
    let csp = h("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{path}");
    assert_eq!(h("x-frame-options"), "DENY", "{path}");
}

async fn anonymous_visitors_are_sent_to_sign_in_and_every_page_has_security_headers(
    backend: Backend,
) {
    let app = spawn(backend).await;
    let mut anonymous = Jar::default();
    for path in PAGES {
        let page = app.get(&mut anonymous, path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location(), "/login", "{path}");
        assert_security_headers(&page, path);
    }
    let login = app.get(&mut anonymous, "/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.has("Masuk"), "Indonesian by default");
    assert_security_headers(&login, "/login");
    let mut owner = app.sign_in(OWNER).await;
    for path in PAGES {
        let page = app.get(&mut owner, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert_security_headers(&page, path);
        assert_eq!(
            page.headers.get("cache-control").unwrap(),
            "no-store",
            "{path}"
        );
    }
    for path in [
        "/assets/desk.css",
        "/assets/desk.js",
        "/healthz",
        "/api/openapi.json",
    ] {
        let page = app.get(&mut owner, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_security_headers(&page, path);
    }
}

async fn signing_in_starts_a_new_session_and_signing_out_ends_it_on_the_server(backend: Backend) {
    let app = spawn(backend).await;
    // A session id planted before sign-in is not the one sign-in gives.
    let mut jar = Jar::default();
    jar.0.insert("lunas_session".into(), "a".repeat(64));
    assert_eq!(app.get(&mut jar, "/").await.location(), "/login");
    let page = app.try_sign_in(&mut jar, OWNER, PASSWORD, "").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("lunas_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let id = jar.0["lunas_session"].clone();
    assert_ne!(id, "a".repeat(64));
    assert_eq!(id.len(), 64, "256 bits, hex");
    assert_eq!(app.get(&mut jar, "/").await.status, StatusCode::OK);

    // Over TLS (a proxy says so), cookies are Secure and carry the __Host- prefix.
    let mut tls = Jar::default();
    let page = app
        .try_sign_in_with(&mut tls, OWNER, PASSWORD, &[("x-forwarded-proto", "https")])
        .await;
    assert!(
        page.headers.get_all("set-cookie").iter().any(|c| c
            .to_str()
            .unwrap()
            .starts_with("__Host-lunas_session=")
            && c.to_str().unwrap().contains("Secure"))
    );

    // Signing out ends the session on the server: the old cookie opens nothing.
    let mut kept = jar.clone();
    let out = app.submit(&mut jar, "/", "/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.location().starts_with("/login"));
    assert_eq!(app.get(&mut kept, "/").await.location(), "/login");
    assert!(
        app.audit_actions()
            .await
            .contains(&"auth.logout".to_owned())
    );

    // A session ends after 12 idle hours.
    let mut idle = app.sign_in(STAFF).await;
    app.clock.advance(SignedDuration::from_hours(13));
    assert_eq!(app.get(&mut idle, "/").await.location(), "/login");
}

async fn failed_sign_ins_are_throttled_per_account_and_per_address_and_audited(backend: Backend) {
    let app = spawn(backend).await;
    let mut jar = Jar::default();
    for _ in 0..5 {
        let page = app
            .try_sign_in(&mut jar, OWNER, "salah salah salah", "")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.has("Email atau kata sandi salah"));
        assert!(page.has(r#"value="owner@toko.id""#), "what was typed stays");
    }
    // The sixth try is refused even with the right password, and says until when.
    let page = app.try_sign_in(&mut jar, OWNER, PASSWORD, "").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert!(page.has("Terlalu banyak percobaan gagal"));
    let failed = app
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "auth.login_failed")
        .count();
    assert_eq!(failed, 5);
    // Other accounts are not locked by it…
    app.sign_in(STAFF).await;
    // …and the account opens again once the window has passed.
    app.clock.advance(SignedDuration::from_mins(16));
    app.sign_in(OWNER).await;

    // Twenty failures from one address lock the address, whatever the account.
    for n in 0..20 {
        let email = format!("tebak{n}@toko.id");
        let page = app
            .try_sign_in(&mut jar, &email, "salah salah salah", "")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "try {n}");
    }
    let page = app.try_sign_in(&mut jar, STAFF, PASSWORD, "").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // Another address (through the local proxy) is not.
    let mut other = Jar::default();
    let page = app
        .try_sign_in_with(
            &mut other,
            STAFF,
            PASSWORD,
            &[("x-forwarded-for", "203.0.113.9")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

/// Sends `count` sign-ins at once for the accounts `email(n)`, the last one with the right
/// password, all from one browser's sign-in form; returns how many of each status came back.
async fn burst_of_sign_ins(
    app: &Arc<App>,
    count: usize,
    email: impl Fn(usize) -> String,
) -> HashMap<StatusCode, usize> {
    let mut jar = Jar::default();
    let csrf = app.get(&mut jar, "/login").await.csrf();
    let mut tries = tokio::task::JoinSet::new();
    for n in 0..count {
        let (app, mut jar, csrf, email) = (app.clone(), jar.clone(), csrf.clone(), email(n));
        let password = if n + 1 == count {
            PASSWORD
        } else {
            "salah salah salah"
        };
        tries.spawn(async move {
            let pairs = [
                ("email", email.as_str()),
                ("password", password),
                ("csrf", &csrf),
            ];
            app.post(&mut jar, "/login", &pairs).await.status
        });
    }
    let mut statuses = HashMap::new();
    while let Some(status) = tries.join_next().await {
        *statuses.entry(status.unwrap()).or_default() += 1;
    }
    statuses
}

async fn a_burst_of_sign_ins_gets_no_more_guesses_than_the_throttle_allows(backend: Backend) {
    let app = Arc::new(spawn(backend).await);
    // 40 at once for one account, the right password last: at most five are checked at all.
    let statuses = burst_of_sign_ins(&app, 40, |_| OWNER.to_owned()).await;
    let checked = statuses
        .get(&StatusCode::UNAUTHORIZED)
        .copied()
        .unwrap_or(0)
        + statuses.get(&StatusCode::SEE_OTHER).copied().unwrap_or(0);
    assert!(checked <= 5, "{statuses:?}");
    assert_eq!(
        statuses
            .get(&StatusCode::TOO_MANY_REQUESTS)
            .copied()
            .unwrap_or(0),
        40 - checked,
        "{statuses:?}"
    );
    assert!(
        app.engine
            .store()
            .consistency_report()
            .await
            .unwrap()
            .is_empty()
    );

    // 60 at once from one address, each for another account: at most twenty are checked.
    app.clock.advance(SignedDuration::from_mins(16));
    let statuses = burst_of_sign_ins(&app, 60, |n| format!("tebak{n}@toko.id")).await;
    let checked = statuses
        .get(&StatusCode::UNAUTHORIZED)
        .copied()
        .unwrap_or(0);
    assert!(checked <= 20, "{statuses:?}");
    assert_eq!(
        statuses
            .get(&StatusCode::TOO_MANY_REQUESTS)
            .copied()
            .unwrap_or(0),
        60 - checked,
        "{statuses:?}"
    );
    let failed = app
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "auth.login_failed")
        .count();
    assert!(failed <= 25, "{failed} failures audited");
}

async fn the_sign_in_form_takes_only_tokens_this_server_made(backend: Backend) {
    let app = spawn(backend).await;
    // A pair an attacker made up (a planted cookie beside their own form) signs nobody in.
    for made_up in ["a", &"ab".repeat(32)] {
        let mut jar = Jar(HashMap::from([(
            "lunas_login".to_owned(),
            made_up.to_owned(),
        )]));
        let page = app
            .post(
                &mut jar,
                "/login",
                &[("email", OWNER), ("password", PASSWORD), ("csrf", made_up)],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{made_up}");
        assert!(!jar.0.keys().any(|k| k.contains("session")));
    }
    // A token this server made works for an hour or two, not for ever.
    let mut jar = Jar::default();
    let csrf = app.get(&mut jar, "/login").await.csrf();
    app.clock.advance(SignedDuration::from_hours(2));
    let page = app
        .post(
            &mut jar,
            "/login",
            &[("email", OWNER), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    // Over HTTPS the cookies carry the __Host- prefix (only this host can set them), and a
    // cookie without it is not read there.
    let https = [("x-forwarded-proto", "https")];
    let mut jar = Jar::default();
    let page = app
        .try_sign_in_with(&mut jar, OWNER, PASSWORD, &https)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let set: Vec<&str> = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        set.iter().any(|c| c.starts_with("__Host-lunas_session=")
            && c.contains("Secure")
            && c.contains("Path=/")),
        "{set:?}"
    );
    let today = app.send(&mut jar, Method::GET, "/", None, &https).await;
    assert_eq!(today.status, StatusCode::OK);
    let session = jar.0["__Host-lunas_session"].clone();
    let mut unprefixed = Jar(HashMap::from([("lunas_session".to_owned(), session)]));
    let page = app
        .send(&mut unprefixed, Method::GET, "/", None, &https)
        .await;
    assert_eq!(page.location(), "/login");
}

async fn owners_revoke_api_tokens_from_the_staff_page(backend: Backend) {
    let app = spawn(backend).await;
    lunas_engine::tokens::create(app.engine.store(), "toko-online", jiff::Timestamp::now())
        .await
        .unwrap();
    let mut staff = app.sign_in(STAFF).await;
    let page = app
        .submit(
            &mut staff,
            "/",
            "/tokens/revoke",
            &[("name", "toko-online"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let mut owner = app.sign_in(OWNER).await;
    let page = app.get(&mut owner, "/staff").await;
    assert!(
        page.has("Token API") && page.has("toko-online"),
        "{}",
        page.body
    );
    let page = app
        .submit(
            &mut owner,
            "/staff",
            "/tokens/revoke",
            &[("name", "toko-online"), ("password", "salah salah salah")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.engine.api_tokens().await.unwrap().len(), 1);
    let page = app
        .submit(
            &mut owner,
            "/staff",
            "/tokens/revoke",
            &[("name", "toko-online"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.location(), "/staff?done=token_revoked");
    assert!(app.engine.api_tokens().await.unwrap().is_empty());
    let page = app.get(&mut owner, "/staff?done=token_revoked").await;
    assert!(page.has("Token dicabut") && page.has("Belum ada token API"));
    assert!(
        app.audit_actions()
            .await
            .contains(&"token.revoke".to_owned())
    );
}

async fn a_second_factor_is_asked_once_enabled(backend: Backend) {
    let app = spawn(backend).await;
    let mut jar = app.sign_in(OWNER).await;
    let setup = app
        .submit(&mut jar, "/account", "/account/totp-setup", &[])
        .await;
    assert_eq!(setup.status, StatusCode::OK);
    let start = setup.body.find(r#"id="totp-secret">"#).unwrap() + r#"id="totp-secret">"#.len();
    let secret = setup.body[start..start + 32].to_owned();
    let csrf = setup.csrf();
    let wrong = app
        .post(
            &mut jar,
            "/account/totp-on",
            &[("csrf", &csrf), ("secret", &secret), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.has("Kode autentikator salah"));
    let code = lunas_engine::accounts::totp_code(&secret, app.engine.now()).unwrap();
    let on = app
        .post(
            &mut jar,
            "/account/totp-on",
            &[("csrf", &csrf), ("secret", &secret), ("code", &code)],
        )
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER, "{}", on.body);

    let mut next = Jar::default();
    let used = app.try_sign_in(&mut next, OWNER, PASSWORD, &code).await;
    assert_eq!(
        used.status,
        StatusCode::UNAUTHORIZED,
        "the code that turned it on is used up"
    );
    let asked = app.try_sign_in(&mut next, OWNER, PASSWORD, "").await;
    assert_eq!(asked.status, StatusCode::UNAUTHORIZED);
    assert!(asked.has(r#"name="totp""#));
    assert!(!next.0.contains_key("lunas_session"));
    let refused = app.try_sign_in(&mut next, OWNER, PASSWORD, "123456").await;
    assert!(refused.has("Kode autentikator salah"));
    app.clock.advance(SignedDuration::from_mins(5));
    let code = lunas_engine::accounts::totp_code(&secret, app.engine.now()).unwrap();
    let page = app.try_sign_in(&mut next, OWNER, PASSWORD, &code).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(
        app.audit_actions()
            .await
            .contains(&"auth.totp_on".to_owned())
    );
}

async fn forms_without_the_sessions_csrf_token_change_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let id = app.place("081234567890", "").await;
    let mut jar = app.sign_in(STAFF).await;
    for csrf in [None, Some("0".repeat(64))] {
        let mut pairs = vec![("amount", "150000")];
        if let Some(csrf) = &csrf {
            pairs.push(("csrf", csrf));
        }
        let page = app
            .post(&mut jar, &format!("/orders/{id}/pay"), &pairs)
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.has("Formulir ini sudah kedaluwarsa"), "{}", page.body);
    }
    let order = app.engine.order(id).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::AwaitingPayment);
    assert!(order.payments.is_empty());
    // A token of an earlier session is stale too.
    let old = app.get(&mut jar, "/").await.csrf();
    app.submit(&mut jar, "/", "/logout", &[]).await;
    let mut jar = app.sign_in(STAFF).await;
    let page = app
        .post(
            &mut jar,
            &format!("/orders/{id}/cancel"),
            &[("csrf", &old), ("cancel_reason", "x")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The sign-in form without its token.
    let mut fresh = Jar::default();
    let page = app
        .post(
            &mut fresh,
            "/login",
            &[("email", OWNER), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.engine.order(id).await.unwrap().unwrap().status,
        OrderStatus::AwaitingPayment
    );
}

async fn staff_cannot_open_owner_pages(backend: Backend) {
    let app = spawn(backend).await;
    let mut staff = app.sign_in(STAFF).await;
    for path in ["/settings", "/staff", "/audit"] {
        let page = app.get(&mut staff, path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.has("hanya untuk pemilik"));
    }
    let today = app.get(&mut staff, "/").await;
    assert!(
        !today.has(r#"href="/settings""#),
        "no link to what staff cannot open"
    );
    let before = app.engine.settings();
    let page = app
        .submit(
            &mut staff,
            "/",
            "/settings/general",
            &[("store_name", "Diambil alih")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(app.engine.settings(), before);
    let page = app
        .submit(
            &mut staff,
            "/",
            "/staff",
            &[
                ("email", "x@y.id"),
                ("role", "owner"),
                ("new_password", PASSWORD),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(app.engine.users().await.unwrap().len(), 2);
}

async fn orders_are_placed_paid_and_extended_from_the_dashboard(backend: Backend) {
    let app = spawn(backend).await;
    let soon = app.place("081234567890", "1h").await;
    let later = app.place("081298765432", "").await;
    let mut jar = app.sign_in(STAFF).await;
    let today = app.get(&mut jar, "/").await;
    assert!(
        today.has(&format!(r#"data-order="{soon}""#)),
        "released within 2 h"
    );
    assert!(!today.has(&format!(r#"data-order="{later}""#)), "24 h away");

    // Paying the exact amount takes it off the release list.
    let order = app.engine.order(soon).await.unwrap().unwrap();
    let amount = order.amount_due.minor_units().to_string();
    let page = app
        .submit(
            &mut jar,
            &format!("/orders/{soon}"),
            &format!("/orders/{soon}/pay"),
            &[("amount", &amount), ("reference", "BCA 0112")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let detail = app.get(&mut jar, page.location()).await;
    assert!(detail.has("Pembayaran dicatat"));
    assert!(detail.has("Lunas"));
    assert_eq!(
        app.engine.order(soon).await.unwrap().unwrap().status,
        OrderStatus::Paid
    );
    assert!(
        !app.get(&mut jar, "/")
            .await
            .has(&format!(r#"data-order="{soon}""#))
    );

    // A later deadline (in the store's local time) moves the release.
    let page = app
        .submit(
            &mut jar,
            &format!("/orders/{later}"),
            &format!("/orders/{later}/deadline"),
            &[
                ("pay_by", "2026-12-03T17:00"),
                ("reason", "gajian tanggal 3"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let order = app.engine.order(later).await.unwrap().unwrap();
    assert_eq!(order.pay_by, Some("2026-12-03T10:00:00Z".parse().unwrap()));
    app.clock.advance(SignedDuration::from_hours(25));
    app.engine.tick().await.unwrap();
    assert_eq!(
        app.engine.order(later).await.unwrap().unwrap().status,
        OrderStatus::AwaitingPayment
    );
    app.clock.set("2026-12-03T10:00:01Z".parse().unwrap());
    app.engine.tick().await.unwrap();
    assert_eq!(
        app.engine.order(later).await.unwrap().unwrap().status,
        OrderStatus::Expired
    );

    // Cancelling, by the buyer, from the detail page (a new session: two days went by).
    let mut jar = app.sign_in(STAFF).await;
    let third = app.place("081311112222", "").await;
    let page = app
        .submit(
            &mut jar,
            &format!("/orders/{third}"),
            &format!("/orders/{third}/cancel"),
            &[("cancel_reason", "salah ukuran"), ("by", "buyer")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.engine.order(third).await.unwrap().unwrap().status,
        OrderStatus::Cancelled
    );
    assert!(
        app.engine
            .store()
            .consistency_report()
            .await
            .unwrap()
            .is_empty()
    );

    // Search by number, by phone and by name.
    for q in [
        format!("%23{soon}"),
        "0812-9876-5432".into(),
        "wulan".into(),
    ] {
        let page = app.get(&mut jar, &format!("/orders?q={q}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.has("/orders/"), "{q}");
    }
    let none = app.get(&mut jar, "/orders?q=tidak+ada+orangnya").await;
    assert!(none.has("Tidak ada pesanan"));
}

async fn bad_input_is_shown_beside_its_field_and_what_was_typed_stays(backend: Backend) {
    let app = spawn(backend).await;
    let mut jar = app.sign_in(STAFF).await;
    let page = app
        .submit(
            &mut jar,
            "/orders/new",
            "/orders/new",
            &[
                ("phone", "12"),
                ("name", "Budi <b>"),
                ("sku", "GAMIS-01"),
                ("qty", "1"),
                ("payment_method", "bank_transfer"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.has(r#"id="e-phone""#),
        "the error is beside the phone field"
    );
    assert!(page.has("Budi &lt;b&gt;"), "typed text stays, escaped");
    assert!(!page.has("Budi <b>"));
    let page = app
        .submit(
            &mut jar,
            "/orders/new",
            "/orders/new",
            &[
                ("phone", "081234567890"),
                ("name", "Budi"),
                ("sku", "GAMIS-01"),
                ("qty", "banyak"),
                ("payment_method", "bank_transfer"),
            ],
        )
        .await;
    assert!(page.has(r#"id="e-qty""#));
    let page = app
        .submit(
            &mut jar,
            "/orders/new",
            "/orders/new",
            &[
                ("phone", "081234567890"),
                ("name", "Budi"),
                ("sku", "GAMIS-01"),
                ("qty", "9"),
                ("payment_method", "bank_transfer"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.has("Stok tidak cukup"), "{}", page.body);

    let id = app.place("081234567890", "").await;
    let path = format!("/orders/{id}");
    for (pairs, field) in [
        (vec![("amount", "nol")], "e-amount"),
        (vec![("amount", "0")], "e-amount"),
    ] {
        let page = app
            .submit(&mut jar, &path, &format!("{path}/pay"), &pairs)
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.has(&format!(r#"id="{field}""#)), "{}", page.body);
    }
    for (pay_by, reason) in [
        ("besok", "x"),
        ("2026-11-30T10:00", "x"),
        ("2026-12-02T10:00", ""),
    ] {
        let page = app
            .submit(
                &mut jar,
                &path,
                &format!("{path}/deadline"),
                &[("pay_by", pay_by), ("reason", reason)],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{pay_by}");
    }
    let page = app
        .submit(
            &mut jar,
            &path,
            &format!("{path}/cancel"),
            &[("cancel_reason", "  ")],
        )
        .await;
    assert!(page.has(r#"id="e-cancel_reason""#));
    let page = app
        .submit(
            &mut jar,
            "/products",
            "/products",
            &[
                ("sku", "ada spasi"),
                ("name", "X"),
                ("price", "1000"),
                ("stock", "1"),
            ],
        )
        .await;
    assert!(page.has(r#"id="e-sku""#));
    let order = app.engine.order(id).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::AwaitingPayment);
    assert!(order.payments.is_empty());
    assert_eq!(order.events.len(), 1);
}

async fn settings_change_through_the_api_rules_with_a_preview_and_an_audit_line(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    let csrf = app.get(&mut owner, "/settings").await.csrf();
    let cadence = [
        ("csrf", csrf.as_str()),
        (
            "cadence_bank_transfer",
            "after_order 1h\nbefore_deadline 3h",
        ),
        ("max_bank_transfer", "2"),
        ("cadence_virtual_account", "after_order 2h"),
        ("max_virtual_account", "1"),
        ("cadence_ewallet", "after_order 15m"),
        ("max_ewallet", "1"),
        ("cadence_qris", "after_order 15m"),
        ("max_qris", "1"),
        (
            "template",
            "Halo {{ buyer.greeting }}, pesanan #{{ order.id }} ditunggu ya.",
        ),
    ];
    let preview = app.post(&mut owner, "/settings/preview", &cadence).await;
    assert_eq!(preview.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&preview.body).unwrap();
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{json}");
    assert_eq!(
        steps[0]["text"],
        "Halo Kak Sari, pesanan #1042 ditunggu ya."
    );
    assert_eq!(
        app.engine.settings().reminders.bank_transfer.steps.len(),
        3,
        "a preview saves nothing"
    );
    // The preview of a template that does not compile says so, and saves nothing.
    let mut broken = cadence.to_vec();
    broken[9] = ("template", "Halo {{ buyer.greeting ");
    let preview = app.post(&mut owner, "/settings/preview", &broken).await;
    let json: serde_json::Value = serde_json::from_str(&preview.body).unwrap();
    assert!(
        json["error"].as_str().unwrap().contains("template"),
        "{json}"
    );
    let page = app.post(&mut owner, "/settings/reminders", &broken).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.has("after_order 1h"), "what was typed stays");

    let page = app.post(&mut owner, "/settings/reminders", &cadence).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let saved = app.engine.settings();
    assert_eq!(saved.reminders.bank_transfer.steps.len(), 2);
    assert!(
        app.audit_actions()
            .await
            .contains(&"settings.update".to_owned())
    );

    // A cadence step past the deadline is refused by the same check as the API's.
    let mut late = cadence.to_vec();
    late[1] = ("cadence_bank_transfer", "after_order 30h");
    let page = app.post(&mut owner, "/settings/reminders", &late).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.has("form-error"));
    let page = app
        .post(
            &mut owner,
            "/settings/deadlines",
            &[
                ("csrf", &csrf),
                ("window_bank_transfer", "sehari"),
                ("window_virtual_account", "24h"),
                ("window_ewallet", "1h"),
                ("window_qris", "1h"),
            ],
        )
        .await;
    assert!(page.has(r#"id="e-window_bank_transfer""#));
    assert_eq!(app.engine.settings(), saved);

    // Bank accounts need the password again (not typed in this session for 10 minutes).
    app.clock.advance(SignedDuration::from_mins(11));
    let bank = [
        ("csrf", csrf.as_str()),
        ("bank_accounts", "BCA | 1234567890 | Sari Wulandari"),
    ];
    let page = app.post(&mut owner, "/settings/bank", &bank).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut wrong = bank.to_vec();
    wrong.push(("password", "bukan kata sandinya"));
    assert_eq!(
        app.post(&mut owner, "/settings/bank", &wrong).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(app.engine.settings().bank_accounts.is_empty());
    let mut right = bank.to_vec();
    right.push(("password", PASSWORD));
    assert_eq!(
        app.post(&mut owner, "/settings/bank", &right).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.engine.settings().bank_accounts[0].bank, "BCA");
    // Within ten minutes of typing it, the next sensitive change does not ask again.
    let page = app
        .post(
            &mut owner,
            "/settings/bank",
            &[
                ("csrf", &csrf),
                (
                    "bank_accounts",
                    "BCA | 1234567890 | Sari W\nBRI | 0987654321 | Sari W",
                ),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(app.engine.settings().bank_accounts.len(), 2);
    let audit = app.audit_actions().await;
    assert!(audit.contains(&"auth.reauth_failed".to_owned()));

    // The messages to buyers: each previewed against the sample order, then saved.
    let messages = [
        ("csrf", csrf.as_str()),
        ("send_order_received", "on"),
        (
            "tpl_order_received",
            "Terima kasih {{ buyer.greeting }}, pesanan #{{ order.id }} kami catat.",
        ),
        ("send_payment_received", "on"),
        ("tpl_payment_received", ""),
        ("send_hold_released", "on"),
        ("tpl_hold_released", ""),
        ("tpl_cancelled", ""),
    ];
    let preview = app
        .post(&mut owner, "/settings/preview?section=messages", &messages)
        .await;
    let json: serde_json::Value = serde_json::from_str(&preview.body).unwrap();
    let shown = json["steps"].as_array().unwrap();
    assert_eq!(shown.len(), 4, "{json}");
    assert_eq!(shown[0]["when"], "Pesanan diterima");
    assert_eq!(
        shown[0]["text"],
        "Terima kasih Kak Sari, pesanan #1042 kami catat."
    );
    assert!(
        shown[1]["text"].as_str().unwrap().contains("Kak Sari"),
        "the default text"
    );
    let page = app.post(&mut owner, "/settings/messages", &messages).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let saved = app.engine.settings();
    assert!(!saved.messages.cancelled && saved.messages.order_received);
    assert!(
        saved
            .templates
            .id
            .order_received
            .as_deref()
            .unwrap()
            .starts_with("Terima kasih")
    );
    assert_eq!(saved.templates.id.payment_received, None);
    let page = app.get(&mut owner, "/settings").await;
    assert!(
        page.has(r#"id="f-send_cancelled" name="send_cancelled" value="on">"#),
        "unticked"
    );

    // Quiet hours, channels, the store's name, risk as JSON.
    assert_eq!(
        app.post(
            &mut owner,
            "/settings/quiet",
            &[
                ("csrf", &csrf),
                ("quiet_start", "22:00"),
                ("quiet_end", "07:00")
            ]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post(
            &mut owner,
            "/settings/channels",
            &[("csrf", &csrf), ("whatsapp", "on")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert!(!app.engine.settings().channels.email);
    assert_eq!(
        app.post(
            &mut owner,
            "/settings/general",
            &[
                ("csrf", &csrf),
                ("store_name", "Toko Sari"),
                ("store_link", ""),
                ("language", "id"),
                ("timezone", "Asia/Makassar")
            ]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.engine.settings().timezone, "Asia/Makassar");
    let page = app
        .post(
            &mut owner,
            "/settings/general",
            &[
                ("csrf", &csrf),
                ("store_name", "Toko Sari"),
                ("language", "id"),
                ("timezone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = app
        .post(
            &mut owner,
            "/settings/risk",
            &[("csrf", &csrf), ("risk", "{ bukan json")],
        )
        .await;
    assert!(page.has(r#"id="e-risk""#));
    assert_eq!(app.engine.settings().timezone, "Asia/Makassar");
}

async fn wrong_passwords_on_sensitive_forms_count_against_the_account(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    let csrf = app.get(&mut owner, "/settings").await.csrf();
    app.clock.advance(SignedDuration::from_mins(11));
    let bank = |password: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("bank_accounts", "BCA | 1234567890 | Sari".to_owned()),
            ("password", password.to_owned()),
        ]
    };
    let post = |pairs: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        serde_urlencoded::to_string(pairs).unwrap()
    };
    for _ in 0..5 {
        let page = app
            .send(
                &mut owner,
                Method::POST,
                "/settings/bank",
                Some(post(bank("bukan sandinya"))),
                &[],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.has("Kata sandi salah"));
    }
    let page = app
        .send(
            &mut owner,
            Method::POST,
            "/settings/bank",
            Some(post(bank(PASSWORD))),
            &[],
        )
        .await;
    assert!(page.has("Terlalu banyak kata sandi salah"), "{}", page.body);
    assert!(app.engine.settings().bank_accounts.is_empty());
    // The account's sign-in is locked too.
    let mut other = Jar::default();
    let page = app.try_sign_in(&mut other, OWNER, PASSWORD, "").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // A form posted after its session ended explains itself and changes nothing.
    app.clock.advance(SignedDuration::from_hours(13));
    let page = app
        .send(
            &mut owner,
            Method::POST,
            "/settings/bank",
            Some(post(bank(PASSWORD))),
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.has("Formulir ini sudah kedaluwarsa"));
    assert!(app.engine.settings().bank_accounts.is_empty());
}

async fn payments_to_review_are_resolved_from_today(backend: Backend) {
    let app = spawn(backend).await;
    let id = app.place("081234567890", "").await;
    let csv = "date,description,amount,balance\n2026-12-01,TRSF DARI SARI W,100000,\n2026-12-01,TRSF TANPA NAMA,5000,\n";
    app.engine
        .import_statement(csv, false, Actor::system())
        .await
        .unwrap();
    let reviews = app.engine.reviews(false, 0, 10).await.unwrap();
    assert_eq!(reviews.len(), 2);
    let mut jar = app.sign_in(STAFF).await;
    let today = app.get(&mut jar, "/").await;
    assert!(today.has("TRSF DARI SARI W") && today.has("Rp100.000"));
    // A number that names no order: Today says so beside the item.
    let item = format!("/reviews/{}/resolve", reviews[0].id);
    let page = app
        .submit(&mut jar, "/", &item, &[("order_id", "99999"), ("note", "")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        app.get(&mut jar, page.location())
            .await
            .has("Tidak ditemukan")
    );
    // An address cannot put words of its own on the page.
    let forged = app
        .get(
            &mut jar,
            &format!("/?review={}&error=Transfer+ke+rekening+lain", reviews[0].id),
        )
        .await;
    assert!(!forged.has("Transfer ke rekening lain"));
    // The money goes to the order Sari named.
    let page = app
        .submit(
            &mut jar,
            "/",
            &item,
            &[("order_id", &format!("#{id}")), ("note", "")],
        )
        .await;
    assert_eq!(page.location(), "/?done=resolved");
    let order = app.engine.order(id).await.unwrap().unwrap();
    assert_eq!(order.amount_paid.minor_units(), 100_000);
    // The other is closed with a note.
    let other = format!("/reviews/{}/resolve", reviews[1].id);
    let page = app
        .submit(
            &mut jar,
            "/",
            &other,
            &[("order_id", ""), ("note", "salah kirim, dikembalikan")],
        )
        .await;
    assert_eq!(page.location(), "/?done=resolved");
    assert!(app.engine.reviews(false, 0, 10).await.unwrap().is_empty());
    assert!(
        app.engine
            .store()
            .consistency_report()
            .await
            .unwrap()
            .is_empty()
    );
}

async fn manual_messages_are_sent_from_today_and_webhooks_need_the_password(backend: Backend) {
    let app = spawn(backend).await;
    let id = app.place("081234567890", "").await;
    let queued = app.engine.manual_queue(10).await.unwrap();
    let message = queued.iter().find(|m| m.order_id == id).unwrap();
    let mut jar = app.sign_in(STAFF).await;
    let today = app.get(&mut jar, "/").await;
    // (minijinja escapes `/` in attributes as `&#x2f;`; the browser reads it back.)
    assert!(
        today.has(r#"href="https:&#x2f;&#x2f;wa.me&#x2f;6281234567890?text="#),
        "one tap to WhatsApp"
    );
    let page = app
        .submit(
            &mut jar,
            "/",
            &format!("/messages/{}/sent", message.id),
            &[("back", "/")],
        )
        .await;
    assert_eq!(page.location(), "/?done=sent");
    assert!(
        app.engine
            .manual_queue(10)
            .await
            .unwrap()
            .iter()
            .all(|m| m.id != message.id)
    );
    let sent = app.engine.order_messages(id).await.unwrap();
    let sent = sent.iter().find(|m| m.id == message.id).unwrap();
    assert_eq!(sent.sent_by.as_deref(), Some("staff:staff@toko.id"));
    // The return path goes back to the dashboard's own pages only: never off site (a tab or a
    // backslash a browser drops), never a 500 for a newline.
    let order_page = format!("/orders/{id}");
    for (back, to) in [
        ("/\t/evil.example", "/?done=sent"),
        ("/\n/evil.example", "/?done=sent"),
        ("//evil.example", "/?done=sent"),
        ("/\\evil.example", "/?done=sent"),
        ("https://evil.example/", "/?done=sent"),
        ("/orders/1/../../x", "/?done=sent"),
        (order_page.as_str(), "ORDER"),
    ] {
        let page = app
            .submit(
                &mut jar,
                "/",
                &format!("/messages/{}/sent", message.id),
                &[("back", back)],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{back:?}: {}",
            page.body
        );
        let expected = if to == "ORDER" {
            format!("{order_page}?done=sent")
        } else {
            to.to_owned()
        };
        assert_eq!(page.location(), expected, "{back:?}");
    }

    // A webhook URL is a sensitive change: the owner's password again.
    let mut owner = app.sign_in(OWNER).await;
    app.clock.advance(SignedDuration::from_mins(11));
    let url = "https://hooks.example.com/lunas";
    let page = app
        .submit(
            &mut owner,
            "/settings",
            "/settings/webhooks",
            &[("url", url)],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.engine.webhooks().await.unwrap().is_empty());
    let page = app
        .submit(
            &mut owner,
            "/settings",
            "/settings/webhooks",
            &[("url", url), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let hooks = app.engine.webhooks().await.unwrap();
    assert_eq!(hooks.len(), 1);
    app.clock.advance(SignedDuration::from_mins(11));
    let delete = [("id", hooks[0].id.as_str())];
    let page = app
        .submit(&mut owner, "/settings", "/settings/webhook-delete", &delete)
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut delete = delete.to_vec();
    delete.push(("password", PASSWORD));
    let page = app
        .submit(&mut owner, "/settings", "/settings/webhook-delete", &delete)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(app.engine.webhooks().await.unwrap().is_empty());
    let audit = app.audit_actions().await;
    assert!(
        audit.contains(&"webhook.add".to_owned()) && audit.contains(&"webhook.delete".to_owned())
    );
}

async fn owners_manage_staff_and_pinning_a_band_is_audited(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    let page = app
        .submit(
            &mut owner,
            "/staff",
            "/staff",
            &[
                ("email", "baru@toko.id"),
                ("role", "staff"),
                ("new_password", "pendek"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(page.has(r#"id="e-new_password""#), "{}", page.body);
    let page = app
        .submit(
            &mut owner,
            "/staff",
            "/staff",
            &[
                ("email", "baru@toko.id"),
                ("role", "staff"),
                ("new_password", "sandi baru yang panjang"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let mut new = Jar::default();
    assert_eq!(
        app.try_sign_in(&mut new, "baru@toko.id", "sandi baru yang panjang", "")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let id = app
        .engine
        .users()
        .await
        .unwrap()
        .iter()
        .find(|u| u.email.as_str() == "baru@toko.id")
        .unwrap()
        .id;
    let page = app
        .submit(
            &mut owner,
            "/staff",
            &format!("/staff/{id}/disable"),
            &[("disabled", "yes"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&mut new, "/").await.location(),
        "/login",
        "disabling ends the sessions"
    );
    // The last owner stays.
    let owner_id = app.engine.users().await.unwrap()[0].id;
    let page = app
        .submit(
            &mut owner,
            "/staff",
            &format!("/staff/{owner_id}/disable"),
            &[("disabled", "yes"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A buyer: pin, notes, export, erase.
    app.place("081234567890", "").await;
    let buyer = "/buyers/6281234567890";
    assert_eq!(app.get(&mut owner, buyer).await.status, StatusCode::OK);
    let page = app
        .submit(
            &mut owner,
            buyer,
            &format!("{buyer}/band"),
            &[("band", "watch"), ("reason", "")],
        )
        .await;
    assert!(page.has(r#"id="e-reason""#));
    let page = app
        .submit(
            &mut owner,
            buyer,
            &format!("{buyer}/band"),
            &[("band", "watch"), ("reason", "dua kali tidak bayar")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(app.get(&mut owner, buyer).await.has("b-watch"));
    let page = app
        .submit(
            &mut owner,
            buyer,
            &format!("{buyer}/notes"),
            &[("notes", "suka tanya dulu"), ("tags", "reseller, VIP")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let export = app.get(&mut owner, &format!("{buyer}/export")).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export
            .headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let json: serde_json::Value = serde_json::from_str(&export.body).unwrap();
    assert_eq!(
        json["customer"]["tags"],
        serde_json::json!(["reseller", "vip"])
    );
    let page = app
        .submit(&mut owner, buyer, &format!("{buyer}/erase"), &[])
        .await;
    assert!(
        page.has(r#"id="e-confirm""#),
        "erasing needs the box ticked"
    );
    let page = app
        .submit(
            &mut owner,
            buyer,
            &format!("{buyer}/erase"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&mut owner, buyer).await.status,
        StatusCode::NOT_FOUND
    );
    let audit = app.audit_actions().await;
    assert!(audit.contains(&"customer.band".to_owned()), "{audit:?}");
    let page = app.get(&mut owner, "/audit").await;
    // Actions and their detail in words, never codes or JSON.
    assert!(
        page.has("Status pembeli disematkan") && page.has("Staf ditambahkan") && page.has("Masuk"),
        "{}",
        page.body
    );
    assert!(!page.has("customer.band") && !page.has("auth.login") && !page.has("{&quot;"));
    assert!(
        page.has("Peran: staff") || page.has("Peran: owner"),
        "{}",
        page.body
    );
    assert!(page.has("<td>owner@toko.id</td>") && !page.has("staff:owner@toko.id"));
}

/// Every page of a store with orders in every state, in both languages: it renders (no key
/// missing in a language, no 500) and weighs under 100 KB.
async fn every_page_renders_in_both_languages_under_100_kb(backend: Backend) {
    let app = spawn(backend).await;
    lunas_engine::demo::seed(app.engine.store(), app.engine.now())
        .await
        .unwrap();
    let mut owner = app.sign_in(OWNER).await;
    for language in ["en", "id"] {
        let page = app
            .submit(
                &mut owner,
                "/account",
                "/account/language",
                &[("language", language)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let orders = app
            .engine
            .orders(
                None,
                lunas_core::queries::Page {
                    after: None,
                    limit: 100,
                },
            )
            .await
            .unwrap();
        let mut paths: Vec<String> = PAGES.iter().map(|p| p.to_string()).collect();
        for order in &orders {
            paths.push(format!("/orders/{}", order.id));
            paths.push(format!(
                "/buyers/{}",
                order.customer.phone.as_str().trim_start_matches('+')
            ));
        }
        for status in OrderStatus::ALL {
            paths.push(format!("/orders?status={}", status.as_str()));
        }
        for band in ["trusted", "normal", "watch", "blocked"] {
            paths.push(format!("/buyers?band={band}"));
        }
        for path in &paths {
            let page = app.get(&mut owner, path).await;
            assert_eq!(
                page.status,
                StatusCode::OK,
                "{language} {path}: {}",
                page.body
            );
            assert!(
                page.body.len() < 100 * 1024,
                "{path}: {} bytes",
                page.body.len()
            );
            assert!(page.has(&format!(r#"<html lang="{language}">"#)), "{path}");
        }
        let today = app.get(&mut owner, "/").await;
        let word = if language == "en" {
            "Manual WhatsApp queue"
        } else {
            "Antrean WhatsApp manual"
        };
        assert!(today.has(word));
    }
}

async fn junk_never_answers_500(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    for path in [
        "/orders/abc",
        "/orders/0",
        "/orders/99999999",
        "/orders/-1",
        "/buyers/xyz",
        "/buyers/6289999999999",
        "/orders?status=bogus&q=%00%ff",
        "/orders?after=zz",
        "/buyers?band=x&after=-5",
        "/audit?before=x",
        "/products?after=%20",
        "/nothing/here",
    ] {
        let page = app.get(&mut owner, path).await;
        assert!(!page.status.is_server_error(), "{path}: {}", page.status);
    }
    let csrf = app.get(&mut owner, "/").await.csrf();
    for path in [
        "/orders/abc/pay",
        "/orders/99999/pay",
        "/orders/99999/cancel",
        "/orders/99999/deadline",
        "/messages/nope/sent",
        "/reviews/x/resolve",
        "/reviews/999/resolve",
        "/buyers/x/band",
        "/buyers/6289999999999/notes",
        "/buyers/6289999999999/erase",
        "/settings/nothing",
        "/staff/x/disable",
        "/account/nothing",
        "/products",
        "/orders/new",
        "/settings/preview",
    ] {
        for body in [
            vec![("csrf", csrf.as_str())],
            vec![
                ("csrf", csrf.as_str()),
                ("amount", "99999999999999999999"),
                ("order_id", "abc"),
                ("note", "\u{0}"),
                ("pay_by", "9999-99-99T99:99"),
                ("qty", "-1"),
                ("price", "x"),
            ],
        ] {
            let page = app.post(&mut owner, path, &body).await;
            assert!(
                !page.status.is_server_error(),
                "{path}: {} {}",
                page.status,
                page.body
            );
        }
    }
    // A body that is not a form.
    let page = app
        .send(
            &mut owner,
            Method::POST,
            "/orders/new",
            Some("%%%=&&&\u{ff}".into()),
            &[],
        )
        .await;
    assert!(!page.status.is_server_error());
}

lunas_store::on_both_backends!(
    anonymous_visitors_are_sent_to_sign_in_and_every_page_has_security_headers,
    signing_in_starts_a_new_session_and_signing_out_ends_it_on_the_server,
    failed_sign_ins_are_throttled_per_account_and_per_address_and_audited,
    a_burst_of_sign_ins_gets_no_more_guesses_than_the_throttle_allows,
    the_sign_in_form_takes_only_tokens_this_server_made,
    owners_revoke_api_tokens_from_the_staff_page,
    a_second_factor_is_asked_once_enabled,
    forms_without_the_sessions_csrf_token_change_nothing,
    staff_cannot_open_owner_pages,
    orders_are_placed_paid_and_extended_from_the_dashboard,
    bad_input_is_shown_beside_its_field_and_what_was_typed_stays,
    settings_change_through_the_api_rules_with_a_preview_and_an_audit_line,
    owners_manage_staff_and_pinning_a_band_is_audited,
    payments_to_review_are_resolved_from_today,
    manual_messages_are_sent_from_today_and_webhooks_need_the_password,
    wrong_passwords_on_sensitive_forms_count_against_the_account,
    every_page_renders_in_both_languages_under_100_kb,
    junk_never_answers_500,
);
