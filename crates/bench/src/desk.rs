//! The staff dashboard's pages against their bounds: each page renders in under 50 ms at p95
//! (server time) and weighs under 100 KB, for a store of 100,000 orders and 10,000 buyers.
//!
//! The store is generated through the engine, as a shop would fill it: over 60 days, orders
//! placed every day by 10,000 buyers; most are paid, some cancelled, the rest expire at their
//! deadline; the last day's orders still await payment, some due within two hours. A few
//! unmatched transfers wait for review and every message sits in the manual WhatsApp queue (no
//! automatic channel is configured). Each page is then asked for one request at a time, over
//! loopback HTTP with a signed-in session; the time from sending the request to reading the
//! last byte bounds the server time from above. `/healthz` is measured the same way, as the
//! floor of the HTTP round trip.

use std::sync::Arc;
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use jiff::SignedDuration;
use lunas_core::accounts::Role;
use lunas_core::placing::NewOrderLine;
use lunas_core::{
    Actor, CustomerInfo, Money, OrderId, PayWindow, PaymentMethod, Phone, Quantity, Sku,
};
use lunas_engine::accounts::SignIn;
use lunas_engine::{Engine, ManualClock, PlaceOrder};

const P95_MS_MAX: f64 = 50.0;
const PAGE_BYTES_MAX: usize = 100 * 1024;
const DAYS: usize = 60;
const PASSWORD: &str = "kata sandi bench panjang";

fn buyer(i: usize, buyers: usize) -> CustomerInfo {
    let n = i % buyers;
    CustomerInfo {
        phone: Phone::parse(&format!("+62813{:08}", 10_000_000 + n))
            .expect("bench phones are valid"),
        name: format!("Pembeli {n} Wulandari"),
        email: None,
        honorific: None,
    }
}

fn request(i: usize, buyers: usize, pay_within: Option<PayWindow>) -> PlaceOrder {
    PlaceOrder {
        address: None,
        charges: Default::default(),
        customer: buyer(i, buyers),
        lines: vec![NewOrderLine {
            sku: Sku::parse(&crate::sku(i)).expect("bench SKUs are valid"),
            qty: Quantity::new(1).expect("1 is a quantity"),
        }],
        payment_method: PaymentMethod::BankTransfer,
        pay_within,
        actor: Actor::from_stored("bench".into()),
        idempotency: None,
        note: None,
    }
}

/// Places orders `from..to` with 64 tasks; returns them with their amount due.
async fn place_range(
    engine: &Arc<Engine>,
    from: usize,
    to: usize,
    buyers: usize,
    last_day: bool,
) -> anyhow::Result<Vec<(OrderId, Money)>> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(from));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (engine, next) = (engine.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut placed = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= to {
                    return Ok::<_, anyhow::Error>(placed);
                }
                // On the last day windows run from 1 to 24 hours, so some holds are released
                // within two hours.
                let window = last_day
                    .then(|| PayWindow::parse(&format!("{}h", 1 + i % 24)).expect("1 to 24 hours"));
                match engine.place_order(request(i, buyers, window)).await {
                    Ok(p) => placed.push((p.order.id, p.order.amount_due)),
                    // A buyer the score put under watch may be refused a method or units: as
                    // in a real shop, the order is not placed.
                    Err(lunas_engine::Error::Policy(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(all)
}

async fn generate(
    engine: &Arc<Engine>,
    clock: &ManualClock,
    orders: usize,
    buyers: usize,
) -> anyhow::Result<()> {
    let per_day = orders.div_ceil(DAYS);
    let started = Instant::now();
    for day in 0..DAYS {
        let (from, to) = (day * per_day, ((day + 1) * per_day).min(orders));
        let last = day + 1 == DAYS;
        let placed = place_range(engine, from, to, buyers, last).await?;
        if !last {
            for (n, (id, due)) in placed.iter().enumerate() {
                match n % 20 {
                    // 75 % paid, 5 % cancelled, 20 % left to expire.
                    0..=14 => {
                        engine
                            .record_payment(*id, *due, None, Actor::from_stored("bench".into()))
                            .await?;
                    }
                    15 => {
                        engine
                            .cancel_order(
                                *id,
                                "stok habis".into(),
                                Actor::from_stored("bench".into()),
                            )
                            .await?;
                    }
                    _ => {}
                }
            }
            clock.advance(SignedDuration::from_hours(24));
            while engine.tick().await?.more {}
            engine.tick().await?;
        }
        if day % 10 == 9 {
            println!(
                "  day {}: {} orders so far ({:.0} s)",
                day + 1,
                to,
                started.elapsed().as_secs_f64()
            );
        }
    }
    // Transfers nobody can place, for the review list.
    let mut csv = String::from("date,description,amount,balance\n");
    for i in 0..30 {
        csv.push_str(&format!(
            "2026-12-01,TRSF DARI PEMBELI TANPA NAMA {i},{},\n",
            12_345 + i
        ));
    }
    engine
        .import_statement(&csv, false, Actor::from_stored("bench".into()))
        .await?;
    Ok(())
}

/// Buyers' conversations of the last day: a thousand numbers (or a tenth of the buyers) wrote
/// three messages each, and staff answered every other one, so Today and Percakapan have
/// waiting buyers to find among answered ones.
async fn conversations(
    engine: &Engine,
    store: &lunas_store::Store,
    buyers: usize,
) -> anyhow::Result<usize> {
    let wrote = (buyers / 10).clamp(1, 1_000);
    let now = engine.now();
    for n in 0..wrote {
        let phone = buyer(n, buyers).phone;
        for (m, text) in ["ready kak?", "bisa cod gak", "ongkir ke bdg brp"]
            .iter()
            .enumerate()
        {
            store
                .record_inbound(lunas_core::outbox::InboundMessage {
                    phone: phone.clone(),
                    wa_message_id: format!("bench:{n}:{m}"),
                    kind: lunas_core::conversations::InboundKind::Text,
                    body: Some((*text).to_owned()),
                    received_at: now
                        - SignedDuration::from_mins(((wrote - n) * 3 + m) as i64 % 600),
                    raw: String::new(),
                })
                .await?;
        }
        if n % 2 == 0 {
            engine
                .reply(
                    phone,
                    "Ready kak, silakan order",
                    lunas_core::conversations::ReplyChannel::Logged,
                    None,
                    Actor::from_stored("bench".into()),
                )
                .await?;
        }
    }
    Ok(wrote)
}

struct Timing {
    path: String,
    p50: f64,
    p95: f64,
    max: f64,
    bytes: usize,
}

async fn measure(
    client: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
    addr: std::net::SocketAddr,
    cookie: &str,
    path: &str,
    requests: usize,
) -> anyhow::Result<Timing> {
    let mut times = Vec::with_capacity(requests);
    let mut bytes = 0;
    for n in 0..requests + requests / 10 {
        let request = hyper::Request::get(format!("http://{addr}{path}"))
            .header("cookie", format!("lunas_session={cookie}"))
            .body(Full::new(Bytes::new()))?;
        let started = Instant::now();
        let response = client.request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let took = started.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(status == 200, "{path}: {status}");
        bytes = body.len();
        // The first tenth warms caches and is not counted.
        if n >= requests / 10 {
            times.push(took);
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    Ok(Timing {
        path: path.to_owned(),
        p50: at(0.5),
        p95: at(0.95),
        max: *times.last().expect("measured"),
        bytes,
    })
}

pub(crate) async fn run(orders: usize, buyers: usize, requests: usize) -> anyhow::Result<()> {
    println!(
        "== bench dashboard: {orders} orders of {buyers} buyers over {DAYS} days, SQLite ({})",
        crate::machine()
    );
    let dir = tempfile::tempdir()?;
    let store = crate::fresh_store(dir.path()).await?;
    let start: jiff::Timestamp =
        jiff::Timestamp::now() - SignedDuration::from_hours(24 * DAYS as i64);
    let clock = Arc::new(ManualClock::new(start));
    let engine = Arc::new(Engine::new(store.clone(), clock.clone()).await?);
    let mut settings = (*engine.settings()).clone();
    settings.payments.unique_code.max = 99_999;
    engine.put_settings(settings).await?;
    let generating = Instant::now();
    generate(&engine, &clock, orders, buyers).await?;
    let totals = store.desk_counts().await?;
    println!(
        "generated in {:.0} s: {:?}, {} payments to review, {} messages in the manual queue",
        generating.elapsed().as_secs_f64(),
        totals
            .by_status
            .iter()
            .map(|(s, n)| format!("{} {n}", s.as_str()))
            .collect::<Vec<_>>(),
        totals.reviews_open,
        totals.manual_queue
    );

    let wrote = conversations(&engine, &store, buyers).await?;
    println!("{wrote} buyers wrote in the last day (three messages each), half of them answered");

    engine
        .add_user(
            "owner@bench.lunas.id",
            Role::Owner,
            PASSWORD.into(),
            Actor::system(),
        )
        .await?;
    let session = engine
        .sign_in(SignIn {
            email: "owner@bench.lunas.id".into(),
            password: PASSWORD.into(),
            totp: None,
            address: "127.0.0.1".into(),
        })
        .await?
        .map_err(|refused| anyhow::anyhow!("the bench owner was refused: {refused:?}"))?;
    let server = crate::LocalServer::start(engine.clone()).await?;
    let addr = server.addr;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();

    let newest = store
        .orders(
            None,
            lunas_core::queries::Page {
                after: None,
                limit: 1,
            },
        )
        .await?;
    let order = newest.first().map_or(1, |o| o.id.0);
    let phone = buyer(orders / 2, buyers)
        .phone
        .as_str()
        .trim_start_matches('+')
        .to_owned();
    let paths = [
        "/".to_owned(),
        "/orders".to_owned(),
        "/orders?status=awaiting_payment".to_owned(),
        "/orders?status=expired".to_owned(),
        "/orders?q=wulandari".to_owned(),
        format!("/orders?q=%2B{phone}"),
        format!("/orders?q=%23{}", order / 2),
        format!("/orders/{order}"),
        "/orders/new".to_owned(),
        "/packing".to_owned(),
        "/packing/print?kind=labels".to_owned(),
        "/buyers".to_owned(),
        "/buyers?band=trusted".to_owned(),
        "/buyers?band=watch".to_owned(),
        "/buyers?band=blocked".to_owned(),
        format!("/buyers/{phone}"),
        "/conversations".to_owned(),
        "/conversations?waiting=1".to_owned(),
        format!(
            "/conversations/{}",
            buyer(1, buyers).phone.as_str().trim_start_matches('+')
        ),
        "/faq".to_owned(),
        "/products".to_owned(),
        "/settings".to_owned(),
        "/staff".to_owned(),
        "/account".to_owned(),
        "/audit".to_owned(),
    ];
    let floor = measure(&client, addr, &session.cookie, "/healthz", requests).await?;
    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>9} {:>10} {:>10}",
        "page", "p50 ms", "p95 ms", "max ms", "KB", "p95/50ms", "KB/100KB"
    );
    println!(
        "{:<34} {:>8.2} {:>8.2} {:>8.2} {:>9} {:>10} {:>10}",
        "/healthz (the HTTP floor)", floor.p50, floor.p95, floor.max, "-", "-", "-"
    );
    let mut worst: f64 = 0.0;
    let mut heaviest = 0;
    for path in &paths {
        let t = measure(&client, addr, &session.cookie, path, requests).await?;
        worst = worst.max(t.p95);
        heaviest = heaviest.max(t.bytes);
        println!(
            "{:<34} {:>8.2} {:>8.2} {:>8.2} {:>9.1} {:>10.2} {:>10.2}",
            t.path,
            t.p50,
            t.p95,
            t.max,
            t.bytes as f64 / 1024.0,
            t.p95 / P95_MS_MAX,
            t.bytes as f64 / PAGE_BYTES_MAX as f64
        );
    }
    println!(
        "worst p95 {worst:.2} ms against {P95_MS_MAX} ms: ratio {:.2} ({}); heaviest page {:.1} KB against 100 KB: ratio {:.2} ({})",
        worst / P95_MS_MAX,
        if worst < P95_MS_MAX { "met" } else { "NOT met" },
        heaviest as f64 / 1024.0,
        heaviest as f64 / PAGE_BYTES_MAX as f64,
        if heaviest < PAGE_BYTES_MAX {
            "met"
        } else {
            "NOT met"
        },
    );
    buyer_pages(&client, addr, &engine, &store, requests.max(1000)).await?;
    shop_pages(&client, addr, &engine, requests.max(1000)).await?;
    server.stop().await?;
    store.close().await;
    Ok(())
}

/// Bound of the buyer's order page: p95 server time at a steady 200 requests a second.
const BUYER_PAGE_P95_MS_MAX: f64 = 20.0;
const BUYER_PAGE_RATE: u64 = 200;

/// The buyer's order page (`/o/{token}`), asked at a steady 200 requests a second for pages of
/// orders across the store.
async fn buyer_pages(
    client: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
    addr: std::net::SocketAddr,
    engine: &Arc<Engine>,
    store: &lunas_store::Store,
    requests: usize,
) -> anyhow::Result<()> {
    // Pages of orders spread over the store: every hundredth order of the newest 10,000.
    let mut paths = Vec::new();
    let mut after = None;
    while paths.len() < 100 {
        let page = store
            .orders(None, lunas_core::queries::Page { after, limit: 100 })
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        paths.extend(
            page.iter()
                .take(1)
                .filter_map(|o| engine.public_url(o))
                .filter_map(|url| url.split_once("/o/").map(|(_, t)| format!("/o/{t}"))),
        );
    }
    anyhow::ensure!(!paths.is_empty(), "no order pages");
    let label = format!(
        "buyer's order page /o/{{token}} over {} orders' pages",
        paths.len()
    );
    steady(
        client,
        addr,
        &paths,
        requests,
        &label,
        BUYER_PAGE_P95_MS_MAX,
    )
    .await
}

/// Bound of the shop's pages: p95 server time at a steady 200 requests a second.
const SHOP_PAGE_P95_MS_MAX: f64 = 30.0;
/// Products the shop's bench adds: plain ones, and products with `SHOP_VARIANTS` variants each.
const SHOP_PLAIN: usize = 400;
const SHOP_GROUPS: usize = 100;
const SHOP_VARIANTS: usize = 3;

/// The shop's catalogue with 500 products (400 plain, 100 with three variants each), every one
/// with a photo: its first page, a page in the middle, and product pages, each asked at a steady
/// 200 requests a second from many addresses.
async fn shop_pages(
    client: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
    addr: std::net::SocketAddr,
    engine: &Arc<Engine>,
    requests: usize,
) -> anyhow::Result<()> {
    use lunas_core::catalog::{ProductInput, VariantInput};
    let photo = {
        let picture = image::RgbImage::from_pixel(640, 640, image::Rgb([90, 60, 120]));
        let mut jpeg = Vec::new();
        picture.write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )?;
        jpeg
    };
    let product =
        |sku: String, name: String, stock: i64, variant: Option<VariantInput>| ProductInput {
            sku: lunas_core::Sku::parse(&sku).expect("bench SKUs are valid"),
            name,
            price: lunas_core::Money::price(50_000 + (sku.len() as i64 % 7) * 5_000)
                .expect("a price"),
            stock,
            tips: None,
            variant,
        };
    for n in 0..SHOP_PLAIN + SHOP_GROUPS {
        let sku = format!("SHOP-{n:04}");
        let stock = if n % 9 == 0 { 0 } else { 20 };
        engine
            .put_product(product(
                sku.clone(),
                format!("Produk Toko Nomor {n}"),
                stock,
                None,
            ))
            .await?;
        if n >= SHOP_PLAIN {
            for v in 0..SHOP_VARIANTS {
                engine
                    .put_product(product(
                        format!("{sku}-V{v}"),
                        String::new(),
                        5,
                        Some(VariantInput {
                            parent: lunas_core::Sku::parse(&sku)?,
                            label: format!("Ukuran {v}"),
                            own_price: false,
                        }),
                    ))
                    .await?;
            }
        }
        engine
            .put_product_photo(lunas_core::Sku::parse(&sku)?, photo.clone())
            .await?;
    }
    let mut settings = (*engine.settings()).clone();
    settings.shop.enabled = true;
    engine.put_settings(settings).await?;
    let middle = format!("/shop?after=SHOP-{:04}", (SHOP_PLAIN + SHOP_GROUPS) / 2);
    for (path, what) in [
        ("/shop".to_owned(), "the catalogue's first page"),
        (middle, "a page in the middle"),
    ] {
        let label = format!("shop {what} {path}");
        steady(
            client,
            addr,
            &[path],
            requests,
            &label,
            SHOP_PAGE_P95_MS_MAX,
        )
        .await?;
    }
    let products: Vec<String> = (0..SHOP_PLAIN + SHOP_GROUPS)
        .step_by(5)
        .map(|n| format!("/shop/SHOP-{n:04}"))
        .collect();
    let label = format!(
        "shop product pages /shop/{{sku}} over {} products",
        products.len()
    );
    steady(
        client,
        addr,
        &products,
        requests,
        &label,
        SHOP_PAGE_P95_MS_MAX,
    )
    .await
}

/// Asks `paths` in turn at a steady 200 requests a second (each sent on its schedule whether or
/// not the last has been answered), each from its own address (`X-Forwarded-For`, which a
/// loopback peer may set), as buyers do, so the per-address budget does not refuse the bench;
/// prints the times against `bound` ms at the 95th percentile.
async fn steady(
    client: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
    addr: std::net::SocketAddr,
    paths: &[String],
    requests: usize,
    label: &str,
    bound: f64,
) -> anyhow::Result<()> {
    let mut tasks = Vec::with_capacity(requests);
    let mut interval = tokio::time::interval(std::time::Duration::from_micros(
        1_000_000 / BUYER_PAGE_RATE,
    ));
    let started = Instant::now();
    for n in 0..requests {
        interval.tick().await;
        let client = client.clone();
        let path = paths[n % paths.len()].clone();
        let from = format!("10.{}.{}.{}", n / 65_536 % 256, n / 256 % 256, n % 256);
        tasks.push(tokio::spawn(async move {
            let request = hyper::Request::get(format!("http://{addr}{path}"))
                .header("x-forwarded-for", from)
                .body(Full::new(Bytes::new()))?;
            let sent = Instant::now();
            let response = client.request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            anyhow::ensure!(status == 200, "{path}: {status}");
            Ok::<_, anyhow::Error>((sent.elapsed().as_secs_f64() * 1000.0, body.len()))
        }));
    }
    let mut times = Vec::with_capacity(requests);
    let mut bytes = 0;
    for task in tasks {
        let (took, len) = task.await??;
        times.push(took);
        bytes = bytes.max(len);
    }
    let rate = requests as f64 / started.elapsed().as_secs_f64();
    // The first tenth warms caches and is not counted.
    let mut times = times.split_off(requests / 10);
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    let p95 = at(0.95);
    println!(
        "{label}: {requests} requests at {rate:.0}/s: p50 {:.2} ms, p95 {p95:.2} ms, max {:.2} ms, {:.1} KB; p95 against {bound} ms: ratio {:.2} ({})",
        at(0.5),
        times.last().copied().unwrap_or(0.0),
        bytes as f64 / 1024.0,
        p95 / bound,
        if p95 < bound { "met" } else { "NOT met" },
    );
    Ok(())
}
