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
    spawn_with(backend, Seed::OneProduct).await
}

/// What a test's store starts with besides its two staff accounts.
#[derive(PartialEq)]
enum Seed {
    /// One product, `GAMIS-01`.
    OneProduct,
    /// The demo store: products with variants, buyers, orders in every state.
    Demo,
}

async fn spawn_with(backend: Backend, seed: Seed) -> App {
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
    match seed {
        Seed::OneProduct => {
            engine
                .put_product(lunas_core::catalog::ProductInput {
                    sku: Sku::parse("GAMIS-01").unwrap(),
                    name: "Gamis Rayon".into(),
                    price: Money::price(150_000).unwrap(),
                    stock: 5,
                    tips: None,
                    variant: None,
                })
                .await
                .unwrap();
        }
        Seed::Demo => {
            let seeded = lunas_engine::demo::seed(engine.store(), engine.now()).await;
            assert!(seeded.unwrap().is_some(), "the demo seeds an empty store");
        }
    }
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
        self.send_bytes(jar, method, path, body.map(String::into_bytes), headers)
            .await
    }

    /// `send` with a body of any bytes (a multipart form with a file).
    async fn send_bytes(
        &self,
        jar: &mut Jar,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
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
        if body.is_some()
            && !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
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
            // A proof's picture is not text; pages are.
            body: String::from_utf8_lossy(&body).into_owned(),
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
    "/queue",
    "/orders/export",
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

mod new_order;
mod orders;
mod pages;
mod products;
mod settings;
mod sign_in;
mod staff;
mod today;
