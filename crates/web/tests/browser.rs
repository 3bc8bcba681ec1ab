//! The dashboard in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven
//! over WebDriver by fantoccini): sign in, Today, place and pay an order and watch it leave the
//! release list, change a cadence with its live preview, sign out; staff cannot open Settings; a
//! form without its CSRF token is refused; the sign-in throttle engages. Screenshots of the main
//! pages at phone (360 px) and desktop (1280 px) widths go to `target/screenshots/`.
//!
//! There is no skipping: without chromedriver the test fails and says what to install.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use lunas_core::accounts::Role;
use lunas_core::{Actor, Money, OrderStatus, Sku};
use lunas_engine::{Engine, ManualClock};
use lunas_store::testing::{Backend, TestDb};

const OWNER: &str = "owner@toko.id";
const STAFF: &str = "staff@toko.id";
const PASSWORD: &str = "kata sandi panjang";

fn chromedriver() -> String {
    std::env::var("LUNAS_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned())
}

fn chromium() -> String {
    std::env::var("LUNAS_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver and opens a headless Chromium session through it.
async fn browser() -> (Driver, Client) {
    let path = chromedriver();
    assert!(
        std::path::Path::new(&path).exists() && std::path::Path::new(&chromium()).exists(),
        "the browser tests need Chromium and ChromeDriver: apt-get install chromium chromium-driver \
         (or set LUNAS_CHROMEDRIVER and LUNAS_CHROMIUM)"
    );
    let port = free_port();
    let mut child = Command::new(&path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    // chromedriver says on standard output when it listens.
    let stdout = child.stdout.take().unwrap();
    let driver = Driver(child);
    tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout).lines();
        while let Some(Ok(line)) = lines.next() {
            if line.contains("started successfully") {
                // Keep draining so chromedriver never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines {});
                return;
            }
        }
        panic!("chromedriver exited before it listened");
    })
    .await
    .unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium(),
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--lang=id-ID"],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&url)
        .await
        .expect("a Chromium session");
    (driver, client)
}

struct App {
    addr: SocketAddr,
    engine: Arc<Engine>,
    _db: TestDb,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn spawn() -> App {
    let db = TestDb::new(Backend::Sqlite);
    let store = db.open().await;
    // 10:00 in Jakarta: the previewed reminders fall outside quiet hours.
    let clock = Arc::new(ManualClock::new("2026-12-01T03:00:00Z".parse().unwrap()));
    let engine = Arc::new(Engine::new(store.clone(), clock).await.unwrap());
    for (email, role) in [(OWNER, Role::Owner), (STAFF, Role::Staff)] {
        engine
            .add_user(email, role, PASSWORD.into(), Actor::system())
            .await
            .unwrap();
    }
    // A store with orders in every state, so the screenshots show real pages.
    lunas_engine::demo::seed(engine.store(), engine.now())
        .await
        .unwrap()
        .expect("seeded");
    // An API token of a connected shop, so the Staff page shows one to revoke.
    lunas_engine::tokens::create(engine.store(), "toko-online", engine.now())
        .await
        .unwrap();
    engine
        .put_product(lunas_core::catalog::ProductInput {
            sku: Sku::parse("GAMIS-01").unwrap(),
            name: "Gamis Rayon Hitam".into(),
            price: Money::price(150_000).unwrap(),
            stock: 5,
            tips: Some("Bahan adem, tidak menerawang".into()),
            variant: None,
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
        engine,
        _db: db,
        _stop: stop,
    }
}

fn screenshots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Screenshots of the page at `path` (the page shown, when empty) at phone and desktop widths.
async fn shoot(client: &Client, app: &App, path: &str, name: &str) {
    if !path.is_empty() {
        client
            .goto(&format!("http://{}{path}", app.addr))
            .await
            .unwrap();
    }
    for (width, height, label) in [(360, 780, "phone"), (1280, 900, "desktop")] {
        client.set_window_size(width, height).await.unwrap();
        // The whole page, not just the window: make the window as tall as the document.
        // The window's own frame is counted in its size, so it is added.
        let tall = client
            .execute(
                "return Math.max(document.documentElement.scrollHeight, 400)
                    + (window.outerHeight - window.innerHeight);",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(900) as u32;
        client
            .set_window_size(width, tall.min(12000))
            .await
            .unwrap();
        // At 360 px nothing may be wider than the screen.
        let overflow = client
            .execute(
                "return document.documentElement.scrollWidth > window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        // Nor may a value beside its label be squeezed into a column a few characters wide
        // (a phone number broken digit by digit).
        let squeezed = client
            .execute(
                "return [...document.querySelectorAll('dd')]
                    .filter(d => d.getBoundingClientRect().width
                        < 7 * parseFloat(getComputedStyle(d).fontSize))
                    .map(d => d.textContent.trim());",
                vec![],
            )
            .await
            .unwrap();
        // No phone number or amount of rupiah broken over two lines ("+62 812-7777-" / "8888").
        let broken = client
            .execute(
                "const found = [];
                 const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                 const number = /\\+62 \\d{3}-[\\d•]{3,4}-\\d{3,4}|Rp\\d{1,3}(\\.\\d{3})+/g;
                 while (walker.nextNode()) {
                   const node = walker.currentNode;
                   for (const m of node.data.matchAll(number)) {
                     const range = document.createRange();
                     range.setStart(node, m.index);
                     range.setEnd(node, m.index + m[0].length);
                     const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                     if (tops.size > 1) found.push(m[0]);
                   }
                 }
                 return found.slice(0, 5);",
                vec![],
            )
            .await
            .unwrap();
        if label == "phone" {
            assert_eq!(
                broken,
                serde_json::json!([]),
                "{path} breaks these numbers at 360 px"
            );
        }
        // Every id once: a label finds its field, a message its input.
        let twice = client
            .execute(
                "return [...document.querySelectorAll('[id]')].map(e => e.id)
                    .filter((id, i, all) => all.indexOf(id) !== i);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(twice, serde_json::json!([]), "{path} repeats these ids");
        if label == "phone" {
            // What sticks out, to say in the failure.
            let wide = client
                .execute(
                    "return [...document.querySelectorAll('body *')]
                        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                        .slice(0, 5)
                        .map(e => e.tagName + '.' + e.className + ': ' + e.textContent.trim().slice(0, 60));",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(
                overflow,
                serde_json::json!(false),
                "{path} scrolls sideways at 360 px: {wide}"
            );
            assert_eq!(
                squeezed,
                serde_json::json!([]),
                "{path} squeezes these values at 360 px"
            );
        }
        let png = client.screenshot().await.unwrap();
        std::fs::write(screenshots_dir().join(format!("{name}-{label}.png")), png).unwrap();
    }
    client.set_window_size(1280, 900).await.unwrap();
}

/// Clicks the submit button `id` and returns once the next page has replaced this one.
async fn submit(client: &Client, id: &str) {
    press(client, Locator::Id(id)).await;
}

/// Clicks the button `button` finds and returns once the next page has replaced this one (the
/// old page's root is gone and the new one has loaded). Bounded: a page that never comes fails.
async fn press(client: &Client, button: Locator<'_>) {
    let old = client.find(Locator::Css("html")).await.unwrap();
    client.find(button).await.unwrap().click().await.unwrap();
    for _ in 0..1000 {
        if old.tag_name().await.is_err() {
            let state = client
                .execute("return document.readyState;", vec![])
                .await
                .unwrap();
            if state == serde_json::json!("complete") {
                return;
            }
        }
        tokio::task::yield_now().await;
    }
    panic!("no page came after clicking {button:?}");
}

/// The notice a change shows once its page has loaded.
async fn notice(client: &Client) -> String {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".notice"))
        .await
        .expect("the page with the notice")
        .text()
        .await
        .unwrap()
}

/// The bank transfer's reminders set as two rows: an hour after the order, three hours before
/// the deadline; the third row emptied.
async fn two_reminders(client: &Client) {
    fill(client, "f-step_bank_transfer_0_when", "1 jam").await;
    choose(client, "f-step_bank_transfer_0_from", "pesanan").await;
    fill(client, "f-step_bank_transfer_1_when", "3 jam").await;
    choose(client, "f-step_bank_transfer_1_from", "batas_bayar").await;
    fill(client, "f-step_bank_transfer_2_when", "").await;
    fill(client, "f-max_bank_transfer", "2").await;
}

async fn choose(client: &Client, id: &str, value: &str) {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

async fn fill(client: &Client, id: &str, text: &str) {
    let field = client.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn text_of(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap(),
        Err(e) => {
            let url = client.current_url().await.unwrap();
            let source = client.source().await.unwrap_or_default();
            panic!("no {css} at {url}: {e}\n{source}");
        }
    }
}

async fn sign_in(client: &Client, app: &App, email: &str, password: &str) {
    client
        .goto(&format!("http://{}/login", app.addr))
        .await
        .unwrap();
    fill(client, "f-email", email).await;
    fill(client, "f-password", password).await;
    submit(client, "sign-in").await;
}

async fn order_of(app: &App, id: i64) -> lunas_core::Order {
    app.engine
        .order(lunas_core::OrderId(id))
        .await
        .unwrap()
        .expect("the order exists")
}

fn path_of(url: &url::Url) -> String {
    url.path().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_runs_the_shop_from_a_real_browser() {
    let app = spawn().await;
    let (_driver, client) = browser().await;
    let base = format!("http://{}", app.addr);

    // An anonymous visitor is sent to the sign-in page.
    client.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(path_of(&client.current_url().await.unwrap()), "/login");
    shoot(&client, &app, "/login", "login").await;

    // Sign in and see Today.
    sign_in(&client, &app, OWNER, PASSWORD).await;
    assert_eq!(path_of(&client.current_url().await.unwrap()), "/");
    assert_eq!(
        text_of(&client, "h1").await,
        "Yang perlu dikerjakan hari ini"
    );
    shoot(&client, &app, "/", "today").await;

    // A buyer's format order pasted from WhatsApp fills the new-order form: two lines and ongkir.
    client.goto(&format!("{base}/orders/new")).await.unwrap();
    shoot(&client, &app, "/orders/new", "order-new").await;
    client
        .find(Locator::Css("details.paste summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(
        &client,
        "f-paste",
        "Halo kak, saya mau order\nNama: Rina Marlina\nNo HP: 0812 7777 8888\n\
         Alamat: Jl. Melati No. 12, Kec. Cilodong, Kota Depok, Jawa Barat 16415\n\
         Pesanan:\n- Gamis rayon hitam 1 pcs\n- kerudung voal motif x2\nOngkir: 18.000\nPembayaran: TF",
    )
    .await;
    submit(&client, "fill-from-paste").await;
    let report = text_of(&client, "#paste-report").await;
    assert!(report.contains("Formulir terisi"), "{report}");
    let mut chosen = Vec::new();
    for select in client
        .find_all(Locator::Css("select[name=sku]"))
        .await
        .unwrap()
    {
        chosen.push(select.prop("value").await.unwrap().unwrap_or_default());
    }
    assert_eq!(chosen, ["GAMIS-01", "KRD-VOAL-MTF"]);
    let shipping = client
        .find(Locator::Id("f-shipping_cost"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(shipping.as_deref(), Some("Rp18.000"));
    // The running total follows the lines: 150.000 + 2 × 65.000 + 18.000.
    assert_eq!(text_of(&client, "#running-total").await, "Rp298.000");
    shoot(&client, &app, "", "order-new-pasted").await;
    fill(&client, "f-pay_within", "1 jam").await;
    submit(&client, "place-order").await;
    let url = client.current_url().await.unwrap();
    let id: i64 = url
        .path()
        .trim_start_matches("/orders/")
        .parse()
        .expect("the new order's page");
    assert!(notice(&client).await.contains("Pesanan dibuat"));
    let order = order_of(&app, id).await;
    assert_eq!(order.items.len(), 2);
    assert_eq!(order.total.minor_units(), 298_000);
    assert_eq!(
        order.address.as_ref().map(|a| a.city.as_str()),
        Some("Kota Depok")
    );
    // A one-hour window: it shows among the holds released within 2 hours.
    client.goto(&format!("{base}/")).await.unwrap();
    let row = format!("#releasing tr[data-order='{id}']");
    assert!(
        client.find(Locator::Css(&row)).await.is_ok(),
        "the order is on the release list"
    );

    // The amount field offers exactly what is due (with the unique code); the buyer transferred
    // the total without it, and that pays the order, the code written off.
    client.goto(&format!("{base}/orders/{id}")).await.unwrap();
    shoot(&client, &app, &format!("/orders/{id}"), "order").await;
    let offered = client
        .find(Locator::Id("f-amount"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(offered, Some(order.amount_due.minor_units().to_string()));
    fill(&client, "f-amount", "298.000").await;
    submit(&client, "record-payment").await;
    assert!(notice(&client).await.contains("Pembayaran dicatat"));
    let paid = order_of(&app, id).await;
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(
        Some(paid.written_off.minor_units()),
        order.unique_code.map(i64::abs)
    );
    shoot(&client, &app, "", "order-paid").await;
    // Packed and shipped from the order's own page.
    submit(&client, "step-pack").await;
    assert!(notice(&client).await.contains("dikemas"));
    fill(&client, "f-courier", "SiCepat").await;
    fill(&client, "f-waybill", "SCP0042").await;
    fill(&client, "f-cost", "18.000").await;
    submit(&client, "step-ship").await;
    assert!(notice(&client).await.contains("Resi disimpan"));
    let shipped = order_of(&app, id).await;
    assert_eq!(shipped.status, OrderStatus::Shipped);
    assert_eq!(shipped.shipment.cost.map(|c| c.minor_units()), Some(18_000));
    client.goto(&format!("{base}/")).await.unwrap();
    assert!(
        client.find(Locator::Css(&row)).await.is_err(),
        "a paid order leaves the release list"
    );

    // Change the bank-transfer cadence: the live preview follows the typing, then save.
    client.goto(&format!("{base}/settings")).await.unwrap();
    two_reminders(&client).await;
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(
            "#preview[data-state='fresh'] .preview-list li:nth-child(2)",
        ))
        .await
        .expect("the live preview shows two reminders");
    let preview = text_of(&client, "#preview .preview-list").await;
    assert!(preview.contains("Halo Kak Sari"), "{preview}");
    assert!(!preview.contains("{{"), "{preview}");
    shoot(&client, &app, "/settings", "settings").await;
    client.goto(&format!("{base}/settings")).await.unwrap();
    two_reminders(&client).await;
    submit(&client, "save-reminders").await;
    assert!(notice(&client).await.contains("Tersimpan"));
    let cadence = &app.engine.settings().reminders.bank_transfer;
    assert_eq!((cadence.steps.len(), cadence.max_count), (2, 2));

    // A size added to the demo's t-shirt from its page, the price left to follow the product's.
    client
        .goto(&format!("{base}/products/KAOS-OVS"))
        .await
        .unwrap();
    client
        .find(Locator::Css("details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&client, "f-v-variant", "Putih / XL").await;
    fill(&client, "f-v-sku", "KAOS-OVS-PTH-XL").await;
    fill(&client, "f-v-stock", "7").await;
    submit(&client, "add-variant").await;
    assert!(notice(&client).await.contains("Varian ditambahkan"));
    let added = app
        .engine
        .product(lunas_core::Sku::parse("KAOS-OVS-PTH-XL").unwrap())
        .await
        .unwrap()
        .expect("the variant was added");
    assert_eq!(added.name, "Kaos Oversize Katun Combed 24s (Putih / XL)");
    assert_eq!((added.on_hand, added.own_price), (7, false));
    shoot(&client, &app, "", "product-group").await;
    shoot(
        &client,
        &app,
        "/products/KAOS-OVS-HTM-XXL",
        "product-variant",
    )
    .await;
    shoot(
        &client,
        &app,
        "/products/KAOS-OVS-PTH-L",
        "product-waitlist",
    )
    .await;
    assert!(text_of(&client, "#waitlist").await.contains("Nadia"));
    // A white tee in L comes back: the first in line is offered it, and claims it on a phone.
    app.engine
        .put_product(lunas_core::catalog::ProductInput {
            sku: Sku::parse("KAOS-OVS-PTH-L").unwrap(),
            name: String::new(),
            price: Money::price(0).unwrap(),
            stock: 1,
            tips: None,
            variant: Some(lunas_core::catalog::VariantInput {
                parent: Sku::parse("KAOS-OVS").unwrap(),
                label: "Putih / L".into(),
                own_price: false,
            }),
        })
        .await
        .unwrap();
    let offer = app
        .engine
        .manual_queue(100)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.kind == lunas_core::messages::MessageKind::WaitlistOffer)
        .expect("the offer is on the manual queue");
    let at = offer.body.find("/o/claim/").expect("a claim link");
    let claim = offer.body[at..at + "/o/claim/".len() + 32].to_owned();
    shoot(&client, &app, &claim, "buyer-claim").await;
    client.set_window_size(360, 780).await.unwrap();
    press(
        &client,
        Locator::Css("form[action^='/o/claim/'] button[type='submit']"),
    )
    .await;
    let landed = client.current_url().await.unwrap();
    assert!(
        landed.path().starts_with("/o/") && !landed.path().starts_with("/o/claim/"),
        "{landed}"
    );
    shoot(&client, &app, "/queue", "queue-offer").await;

    // A buyer opens their order's page from the message: no sign-in, the time left counting
    // down, the account number to copy, the number masked.
    let open = app
        .engine
        .orders(
            Some(OrderStatus::AwaitingPayment),
            lunas_core::queries::Page {
                after: None,
                limit: 100,
            },
        )
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.payment_method == lunas_core::PaymentMethod::BankTransfer)
        .expect("the demo has a transfer awaiting payment");
    let mut settings = (*app.engine.settings()).clone();
    settings.bank_accounts = vec![lunas_core::messages::BankAccount {
        bank: "BCA".into(),
        number: "0231 5567 89".into(),
        holder: "Muri Handayani".into(),
    }];
    settings.store_whatsapp = Some("+6281311112222".into());
    settings.shop.enabled = true;
    app.engine.put_settings(settings).await.unwrap();
    let url = app
        .engine
        .public_url(&open)
        .expect("every order has a page");
    let path = url
        .split_once("/o/")
        .map(|(_, t)| format!("/o/{t}"))
        .unwrap();
    shoot(&client, &app, &path, "buyer-order").await;
    let left = text_of(&client, "[data-countdown]").await;
    assert!(
        left.contains("hari") || left.contains("jam") || left.contains("menit"),
        "{left}"
    );
    let copy = client
        .find(Locator::Css("button[data-copy]"))
        .await
        .unwrap();
    assert!(
        copy.is_displayed().await.unwrap(),
        "the copy button shows when it can copy"
    );
    let page = text_of(&client, "main").await;
    assert!(page.contains("••••"), "{page}");
    shoot(&client, &app, &format!("{path}?lang=en"), "buyer-order-en").await;
    shoot(
        &client,
        &app,
        "/o/00000000000000000000000000000000",
        "buyer-order-missing",
    )
    .await;

    // A buyer on a phone orders from the catalogue, then sends the proof of the transfer.
    shoot(&client, &app, "/shop", "shop").await;
    shoot(&client, &app, "/shop/KAOS-OVS", "shop-product").await;
    client.set_window_size(360, 780).await.unwrap();
    client
        .find(Locator::Css("label[for='v-1']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&client, "f-qty", "2").await;
    press(
        &client,
        Locator::Css("form[action^='/shop/cart'] button[type='submit']"),
    )
    .await;
    assert_eq!(path_of(&client.current_url().await.unwrap()), "/shop/cart");
    // In English on request, and it stays so from page to page.
    shoot(&client, &app, "/shop?lang=en", "shop-en").await;
    assert!(text_of(&client, "main").await.contains("Catalogue"));
    client.goto(&format!("{base}/shop/cart")).await.unwrap();
    let cart = text_of(&client, "main").await;
    assert!(
        cart.contains("Hitam / L") && cart.contains("Rp178.000"),
        "{cart}"
    );
    shoot(&client, &app, "", "shop-cart").await;
    client.set_window_size(360, 780).await.unwrap();
    for (id, text) in [
        ("f-name", "Nur Aini"),
        ("f-phone", "0813 5555 0101"),
        ("f-street", "Jl. Kenanga No. 4 RT 02/RW 01, Kel. Sukajadi"),
        ("f-city", "Kota Bandung"),
        ("f-province", "Jawa Barat"),
        ("f-postcode", "40162"),
        ("f-note", "Kirim sore ya kak"),
    ] {
        fill(&client, id, text).await;
    }
    press(
        &client,
        Locator::Css("form[action^='/shop/checkout'] button[type='submit']"),
    )
    .await;
    let landed = client.current_url().await.unwrap();
    assert!(landed.path().starts_with("/o/"), "{landed}");
    assert!(text_of(&client, "main").await.contains("Sisa waktu bayar"));
    let receipt = std::env::temp_dir().join(format!("lunas-bukti-{}.png", std::process::id()));
    let picture = image::RgbImage::from_fn(300, 600, |_, y| {
        if y < 60 {
            image::Rgb([0, 104, 74])
        } else {
            image::Rgb([250, 250, 250])
        }
    });
    picture.save(&receipt).unwrap();
    client
        .find(Locator::Id("proof-file"))
        .await
        .unwrap()
        .send_keys(receipt.to_str().unwrap())
        .await
        .unwrap();
    press(&client, Locator::Css("#proof button[type='submit']")).await;
    let _ = std::fs::remove_file(&receipt);
    let sent = text_of(&client, "main").await;
    assert!(
        sent.contains("Bukti transfer Anda sudah kami terima"),
        "{sent}"
    );
    assert!(sent.contains("Menunggu konfirmasi"), "{sent}");
    shoot(&client, &app, "", "buyer-order-proof").await;
    let heading = text_of(&client, "h1").await;
    let id: i64 = heading
        .split('#')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no order number in {heading}"));
    // The seller sees the picture on Today and confirms it: the order is paid.
    client.goto(&format!("{base}/")).await.unwrap();
    let confirm = format!("//input[@name='order_id' and @value='{id}']/../button[@type='submit']");
    press(&client, Locator::XPath(&confirm)).await;
    let order = order_of(&app, id).await;
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(order.amount_paid, order.amount_due);

    // The next morning: the packing page lists it; the seller ticks it, prints its label, pastes
    // its waybill; the buyer follows the parcel on the order's page.
    client.goto(&format!("{base}/packing")).await.unwrap();
    client
        .find(Locator::Id(&format!("pk-{id}")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    submit(&client, "pack-selected").await;
    assert!(notice(&client).await.contains("ditandai sudah dikemas"));
    assert_eq!(order_of(&app, id).await.status, OrderStatus::Packed);
    shoot(&client, &app, "", "packing").await;
    shoot(
        &client,
        &app,
        &format!("/packing/print?kind=labels&id={id}"),
        "packing-labels",
    )
    .await;
    shoot(&client, &app, "/packing/print?kind=slips", "packing-slips").await;
    client.goto(&format!("{base}/packing")).await.unwrap();
    fill(&client, "f-courier", "JNE").await;
    fill(&client, "f-lines", &format!("{id},CGK0999000111")).await;
    submit(&client, "ship-pasted").await;
    assert!(notice(&client).await.contains("dikirim"));
    let shipped = order_of(&app, id).await;
    assert_eq!(shipped.status, OrderStatus::Shipped);
    assert_eq!(shipped.shipment.waybill.as_deref(), Some("CGK0999000111"));
    shoot(&client, &app, &format!("/orders/{id}"), "order-shipped").await;
    let buyer_page = path_of(&landed);
    shoot(&client, &app, &buyer_page, "buyer-tracking").await;
    let tracking = text_of(&client, "main").await;
    assert!(
        tracking.contains("CGK0999000111") && tracking.contains("Dikirim"),
        "{tracking}"
    );
    assert!(
        client
            .find(Locator::Css("a[href^='https://www.jne.co.id/']"))
            .await
            .is_ok(),
        "the courier's own tracking page"
    );
    // A COD buyer confirms from the order's page.
    let cod = app
        .engine
        .orders(
            Some(OrderStatus::AwaitingConfirmation),
            lunas_core::queries::Page {
                after: None,
                limit: 1,
            },
        )
        .await
        .unwrap()
        .pop()
        .expect("the demo has a COD order waiting");
    let cod_path = app
        .engine
        .public_url(&cod)
        .and_then(|url| url.split_once("/o/").map(|(_, t)| format!("/o/{t}")))
        .unwrap();
    shoot(&client, &app, &cod_path, "buyer-cod").await;
    press(&client, Locator::Css("#cod button[value='yes']")).await;
    assert!(
        text_of(&client, "main")
            .await
            .contains("sudah dikonfirmasi")
    );
    assert_eq!(
        order_of(&app, cod.id.0).await.status,
        OrderStatus::Confirmed
    );

    for (path, name) in [
        ("/queue", "queue"),
        ("/orders/export", "orders-export"),
        ("/orders", "orders"),
        ("/buyers", "buyers"),
        ("/products", "products"),
        ("/audit", "audit"),
        ("/staff", "staff"),
        ("/orders/1", "order-return"),
    ] {
        shoot(&client, &app, path, name).await;
    }
    let buyer = app
        .engine
        .orders(
            None,
            lunas_core::queries::Page {
                after: None,
                limit: 1,
            },
        )
        .await
        .unwrap();
    let phone = buyer[0]
        .customer
        .phone
        .as_str()
        .trim_start_matches('+')
        .to_owned();
    shoot(&client, &app, &format!("/buyers/{phone}"), "buyer").await;

    // The keyboard reaches the skip link first.
    client.goto(&format!("{base}/")).await.unwrap();
    client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{e004}")
        .await
        .unwrap();
    let focused = client
        .execute("return document.activeElement.className;", vec![])
        .await
        .unwrap();
    assert_eq!(focused, serde_json::json!("skip"));

    // A form whose CSRF token was taken out is refused and says why; nothing changes.
    client.goto(&format!("{base}/orders/new")).await.unwrap();
    fill(&client, "f-phone", "0812 1111 0000").await;
    fill(&client, "f-name", "Tanpa Token").await;
    client
        .execute(
            "document.querySelector('#new-order input[name=csrf]').remove();",
            vec![],
        )
        .await
        .unwrap();
    let before = app.engine.store().totals().await.unwrap();
    submit(&client, "place-order").await;
    assert!(
        text_of(&client, "h1")
            .await
            .contains("Formulir ini sudah kedaluwarsa")
    );
    assert_eq!(app.engine.store().totals().await.unwrap(), before);

    // Analitik: the demo's year of imported history in figures and charts, narrowed to COD.
    client
        .goto(&format!("{base}/analytics?from=2025-12-02&to=2026-12-01"))
        .await
        .unwrap();
    assert_eq!(text_of(&client, "h1").await, "Analitik");
    let rate = text_of(&client, "#hit-and-run strong").await;
    assert!(rate.ends_with('%'), "{rate}");
    assert!(
        client
            .find(Locator::Css("#chart-series svg polyline"))
            .await
            .is_ok(),
        "the series is drawn"
    );
    assert!(
        text_of(&client, "#fading")
            .await
            .contains("Mulai menghilang"),
        "the buyers slipping away are listed"
    );
    assert!(
        text_of(&client, "#conversations")
            .await
            .contains("Yang bertanya")
    );
    shoot(&client, &app, "", "analytics").await;
    choose(&client, "analytics-method", "cod").await;
    submit(&client, "analytics-show").await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("method=cod")
    );
    assert!(text_of(&client, "#breakdowns").await.contains("COD"));
    shoot(&client, &app, "", "analytics-cod").await;
    client
        .goto(&format!("{base}/analytics?from=2026-12-05&to=2026-12-01"))
        .await
        .unwrap();
    assert!(
        text_of(&client, "#analytics-error")
            .await
            .contains("2026-12-01")
    );
    // What if the demo's year had run with two hours to pay? The simulation says, nothing saved.
    client
        .goto(&format!(
            "{base}/analytics/simulate?from=2025-12-02&to=2026-12-01"
        ))
        .await
        .unwrap();
    assert_eq!(text_of(&client, "h1").await, "Simulasi kebijakan");
    shoot(&client, &app, "", "simulate").await;
    for method in ["bank_transfer", "virtual_account", "ewallet", "qris"] {
        fill(&client, &format!("sim-win_{method}"), "2 jam").await;
    }
    fill(&client, "sim-reminders", "30 menit setelah pesanan").await;
    submit(&client, "simulate-run").await;
    let result = text_of(&client, "#simulate-result").await;
    assert!(result.contains("Pesanan lunas yang hilang"), "{result}");
    shoot(&client, &app, "", "simulate-result").await;
    fill(&client, "sim-win_qris", "sebentar").await;
    submit(&client, "simulate-run").await;
    assert!(client.find(Locator::Id("simulate-error")).await.is_ok());
    assert_eq!(
        app.engine
            .settings()
            .payment_windows
            .bank_transfer
            .seconds(),
        24 * 3600,
        "a simulation saves nothing"
    );

    // A loyal buyer of the history has an outlook on their page.
    client
        .goto(&format!("{base}/analytics?from=2025-12-02&to=2026-12-01"))
        .await
        .unwrap();
    let href = client
        .find(Locator::Css("#fading tbody a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    client.goto(&format!("{base}{href}")).await.unwrap();
    assert!(
        text_of(&client, "#outlook")
            .await
            .contains("Kemungkinan masih membeli")
    );
    shoot(&client, &app, "", "buyer-outlook").await;

    // Conversations: who waits is on Today, the bot's suggestions beside the buyer's words, a
    // correction teaches the FAQ, a reply given elsewhere is recorded.
    client.goto(&format!("{base}/")).await.unwrap();
    let waiting = text_of(&client, "#waiting").await;
    assert!(waiting.contains("menunggu terlalu lama"), "{waiting}");
    shoot(&client, &app, "", "today-waiting").await;
    client.goto(&format!("{base}/conversations")).await.unwrap();
    assert_eq!(text_of(&client, "h1").await, "Percakapan");
    assert!(
        text_of(&client, ".conversations")
            .await
            .contains("Jadi pesan")
    );
    shoot(&client, &app, "", "conversations").await;
    // A message that came by phone call is written down; the FAQ reads it.
    client
        .find(Locator::Css("#log summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&client, "f-log_phone", "bukan nomor").await;
    fill(&client, "f-log_text", "bisa cod kak?").await;
    submit(&client, "log-save").await;
    assert!(!text_of(&client, "#log .error").await.is_empty());
    fill(&client, "f-log_phone", "0813 5555 0101").await;
    submit(&client, "log-save").await;
    assert_eq!(
        path_of(&client.current_url().await.unwrap()),
        "/conversations/6281355550101"
    );
    assert!(text_of(&client, ".thread").await.contains("Bisa COD kak"));
    client
        .goto(&format!("{base}/conversations/6281399990001"))
        .await
        .unwrap();
    assert!(
        text_of(&client, "#signals")
            .await
            .contains("2 pesan di 1 hari")
    );
    let thread = text_of(&client, ".thread").await;
    assert!(thread.contains("Saran jawaban FAQ"), "{thread}");
    assert!(
        thread.contains("Bisa COD kak"),
        "the COD question is answered: {thread}"
    );
    shoot(&client, &app, "", "conversation").await;
    let first = client
        .find(Locator::Css(".thread .correct select"))
        .await
        .unwrap()
        .attr("id")
        .await
        .unwrap()
        .unwrap();
    let inbound = first.trim_start_matches("c-").to_owned();
    client
        .find(Locator::Css(".thread .correct summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    choose(&client, &first, "lama-kirim").await;
    submit(&client, &format!("correct-{inbound}")).await;
    assert!(notice(&client).await.contains("FAQ belajar"));
    let faq = app.engine.faq_entries().await.unwrap();
    let learned = faq.iter().find(|e| e.id == "lama-kirim").unwrap();
    assert!(
        learned
            .questions
            .iter()
            .any(|q| q.contains("gamis syari rayon hitam ready")),
        "{learned:?}"
    );
    fill(
        &client,
        "f-text",
        "Siap kak, sudah saya jawab lewat telepon",
    )
    .await;
    submit(&client, "reply-log").await;
    assert!(notice(&client).await.contains("Jawaban dicatat"));
    assert!(
        text_of(&client, ".thread")
            .await
            .contains("sudah saya jawab lewat telepon")
    );
    // A format order sent by chat fills the new-order form for staff to check.
    client
        .goto(&format!("{base}/conversations/6281399990004"))
        .await
        .unwrap();
    assert!(
        text_of(&client, ".chat-order")
            .await
            .contains("Kerudung Segi Empat Voal Motif")
    );
    shoot(&client, &app, "", "conversation-chat-order").await;
    press(&client, Locator::Css(".chat-order-open")).await;
    assert_eq!(
        path_of(&client.current_url().await.unwrap()),
        "/orders/new/paste"
    );
    let name = client
        .find(Locator::Id("f-name"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(name, "Dewi Lestari");
    client.goto(&format!("{base}/faq")).await.unwrap();
    fill(&client, "f-try", "bisa cod ga kak").await;
    submit(&client, "faq-try").await;
    assert!(
        text_of(&client, "#faq-tried")
            .await
            .contains("Bisa COD kak")
    );
    fill(&client, "f-questions", "halo kak").await;
    fill(&client, "f-answer", "Halo juga").await;
    submit(&client, "faq-add").await;
    assert!(
        text_of(&client, "#new")
            .await
            .contains("hanya berisi sapaan")
    );
    fill(&client, "f-questions", "bisa kirim hari minggu?").await;
    submit(&client, "faq-add").await;
    assert!(notice(&client).await.contains("Tersimpan"));
    shoot(&client, &app, "", "faq").await;
    client
        .goto(&format!("{base}/settings#conversations"))
        .await
        .unwrap();
    fill(&client, "f-waiting_alert", "60").await;
    fill(&client, "f-holidays", "2026-12-25").await;
    press(&client, Locator::Css("#conversations button[type=submit]")).await;
    assert!(notice(&client).await.contains("Tersimpan"));
    // The section alone, to be looked at (the whole page is taller than a screenshot takes).
    client
        .execute(
            "document.querySelectorAll('main section.card:not(#conversations)').forEach(e => e.remove());",
            vec![],
        )
        .await
        .unwrap();
    shoot(&client, &app, "", "settings-conversations").await;
    let settings = app.engine.settings();
    assert_eq!(settings.conversations.waiting_alert_minutes, 60);
    assert_eq!(settings.business_hours.holidays.len(), 1);

    // Sign out.
    client.goto(&format!("{base}/")).await.unwrap();
    submit(&client, "sign-out").await;
    assert_eq!(path_of(&client.current_url().await.unwrap()), "/login");
    assert!(notice(&client).await.contains("Anda sudah keluar"));
    client.goto(&format!("{base}/settings")).await.unwrap();
    assert_eq!(path_of(&client.current_url().await.unwrap()), "/login");

    // Staff cannot open Settings.
    sign_in(&client, &app, STAFF, PASSWORD).await;
    assert_eq!(path_of(&client.current_url().await.unwrap()), "/");
    assert!(
        client
            .find(Locator::Css("a[href='/settings']"))
            .await
            .is_err()
    );
    client.goto(&format!("{base}/settings")).await.unwrap();
    assert!(text_of(&client, "h1").await.contains("hanya untuk pemilik"));
    client.goto(&format!("{base}/")).await.unwrap();
    submit(&client, "sign-out").await;

    // The sign-in throttle: five wrong passwords, then even the right one waits.
    for _ in 0..5 {
        sign_in(&client, &app, OWNER, "bukan kata sandinya").await;
        assert!(
            text_of(&client, ".form-error")
                .await
                .contains("Email atau kata sandi salah")
        );
        let typed = client
            .find(Locator::Id("f-email"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(typed.as_deref(), Some(OWNER), "what was typed stays");
    }
    sign_in(&client, &app, OWNER, PASSWORD).await;
    assert_eq!(path_of(&client.current_url().await.unwrap()), "/login");
    assert!(
        text_of(&client, ".form-error")
            .await
            .contains("Terlalu banyak percobaan gagal")
    );
    shoot(&client, &app, "", "login-throttled").await;

    client.close().await.unwrap();
}
