//! The shop's catalogue over HTTP, as a buyer's browser uses it: the pages, the cart in its
//! cookie, the checkout that lands on the order's page, and what the checkout refuses.

use super::*;

/// A browser's cookie jar for the shop: the cart cookie as the server last set it.
#[derive(Default)]
struct Browser {
    cart: String,
}

impl Browser {
    fn keep(&mut self, reply: &Reply) {
        if let Some(set) = reply.headers.get("set-cookie") {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            self.cart = if set.contains("Max-Age=0") {
                String::new()
            } else {
                pair.to_owned()
            };
        }
    }

    async fn get(&mut self, app: &TestApp, path: &str) -> Reply {
        let reply = app
            .send(
                Method::GET,
                path,
                None,
                &[("authorization", ""), ("cookie", &self.cart)],
            )
            .await;
        self.keep(&reply);
        reply
    }

    async fn post(&mut self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> Reply {
        let body = serde_urlencoded::to_string(form).unwrap();
        let reply = app
            .send(
                Method::POST,
                path,
                Some(body),
                &[
                    ("authorization", ""),
                    ("cookie", &self.cart),
                    ("content-type", "application/x-www-form-urlencoded"),
                ],
            )
            .await;
        self.keep(&reply);
        reply
    }
}

/// The form id the cart page gives its checkout.
fn form_id(cart_page: &Reply) -> String {
    let html = cart_page.html();
    let at = html.find("name=\"form_id\" value=\"").expect("a form id") + 22;
    html[at..at + 32].to_owned()
}

fn checkout_form<'a>(form_id: &'a str, phone: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("form_id", form_id),
        ("website", ""),
        ("name", "Sari Wulandari"),
        ("phone", phone),
        ("street", "Jl. Melati No. 12 RT 03/RW 05"),
        ("kecamatan", "Coblong"),
        ("city", "Kota Bandung"),
        ("province", "Jawa Barat"),
        ("postcode", "40132"),
        ("payment_method", "bank_transfer"),
        ("note", "Tolong dibungkus rapi ya kak"),
    ]
}

async fn open_shop(backend: Backend) -> TestApp {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    app.put_product("KOSONG-01", 0, 50_000).await;
    let mut settings = (*app.engine.settings()).clone();
    settings.shop.enabled = true;
    settings.shop.open_orders_per_phone = 2;
    app.engine.put_settings(settings).await.unwrap();
    app
}

async fn a_buyer_orders_from_the_catalogue_and_lands_on_the_order_page(backend: Backend) {
    let app = open_shop(backend).await;
    let mut buyer = Browser::default();
    let list = buyer.get(&app, "/shop").await;
    assert_eq!(list.status, StatusCode::OK);
    let html = list.html();
    assert!(html.contains("Katalog") && html.contains("GAMIS-01"));
    assert!(
        html.contains("Tersedia") && html.contains("Habis"),
        "{html}"
    );
    assert!(html.len() < 100 * 1024);
    let product = buyer.get(&app, "/shop/GAMIS-01").await;
    assert!(product.html().contains("Masukkan keranjang"));
    let sold_out = buyer.get(&app, "/shop/KOSONG-01").await;
    assert!(sold_out.html().contains("sedang habis"));
    assert!(!sold_out.html().contains("Masukkan keranjang"));

    let added = buyer
        .post(&app, "/shop/cart", &[("sku", "GAMIS-01"), ("qty", "2")])
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    assert_eq!(added.headers["location"], "/shop/cart?lang=id");
    assert!(buyer.cart.contains("GAMIS-01=2"), "{}", buyer.cart);
    let cart = buyer.get(&app, "/shop/cart").await;
    assert!(cart.html().contains("Rp300.000"));
    let id = form_id(&cart);

    // Fields that do not read: said beside them, nothing placed.
    let mut bad = checkout_form(&id, "12345");
    bad[6].1 = "";
    let refused = buyer.post(&app, "/shop/checkout", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html().contains("Nomor ini tidak bisa kami baca"));
    assert!(refused.html().contains("Isi kota atau kabupaten"));
    assert!(
        refused.html().contains("Jl. Melati No. 12"),
        "what was typed is kept"
    );
    assert_eq!(app.get("/api/v1/orders").await.body["items"], json!([]));

    let placed = buyer
        .post(
            &app,
            "/shop/checkout",
            &checkout_form(&id, "0812 3456 7890"),
        )
        .await;
    assert_eq!(placed.status, StatusCode::SEE_OTHER, "{}", placed.body);
    let location = placed.headers["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/o/") && location.ends_with("?lang=id"),
        "{location}"
    );
    assert!(buyer.cart.is_empty(), "the cart is emptied");
    let page = buyer.get(&app, &location).await;
    assert!(page.html().contains("Sisa waktu bayar"));

    let orders = app.get("/api/v1/orders").await;
    let order = &orders.body["items"][0];
    assert_eq!(order["status"], "awaiting_payment");
    assert_eq!(order["items"][0]["qty"], 2);
    assert_eq!(order["customer"]["phone"], "+6281234567890");
    assert_eq!(order["address"]["city"], "Kota Bandung");
    assert_eq!(order["note"], "Tolong dibungkus rapi ya kak");
    assert!(order["pay_by"].is_string() && order["unique_code"].is_i64());
    assert!(order["events"][0]["actor"] == "shop");

    // The same form sent twice (a double tap) places one order.
    buyer
        .post(&app, "/shop/cart", &[("sku", "GAMIS-01"), ("qty", "2")])
        .await;
    let again = buyer
        .post(
            &app,
            "/shop/checkout",
            &checkout_form(&id, "0812 3456 7890"),
        )
        .await;
    assert_eq!(again.headers["location"].to_str().unwrap(), location);
    let orders = app.get("/api/v1/orders").await;
    assert_eq!(orders.body["items"].as_array().unwrap().len(), 1);
    // The same form with another cart (the back button): the page comes back with a new form,
    // which then places the new cart.
    buyer
        .post(&app, "/shop/cart", &[("sku", "GAMIS-01"), ("qty", "1")])
        .await;
    let changed = buyer
        .post(
            &app,
            "/shop/checkout",
            &checkout_form(&id, "0812 3456 7890"),
        )
        .await;
    assert_eq!(changed.status, StatusCode::CONFLICT);
    assert!(changed.html().contains("Katalog baru saja berubah"));
    let fresh = form_id(&changed);
    assert_ne!(fresh, id);
    app.clock.advance(SignedDuration::from_secs(60));
    let placed = buyer
        .post(
            &app,
            "/shop/checkout",
            &checkout_form(&fresh, "0812 3456 7890"),
        )
        .await;
    assert_eq!(placed.status, StatusCode::SEE_OTHER, "{}", placed.body);
    let orders = app.get("/api/v1/orders").await;
    assert_eq!(orders.body["items"].as_array().unwrap().len(), 2);
}

async fn the_checkout_refuses_without_writing(backend: Backend) {
    let app = open_shop(backend).await;
    let mut buyer = Browser::default();
    // More than there is: the cart says how many are left; nothing is held.
    buyer
        .post(&app, "/shop/cart", &[("sku", "GAMIS-01"), ("qty", "9")])
        .await;
    let cart = buyer.get(&app, "/shop/cart").await;
    assert!(cart.html().contains("tersisa 5"));
    let id = form_id(&cart);
    let refused = buyer
        .post(&app, "/shop/checkout", &checkout_form(&id, "081234567890"))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.html().contains("tinggal 5"));
    // A product with variants, or one that is not sold, does not go in the cart.
    for sku in ["NOPE-1", "<script>"] {
        buyer
            .post(&app, "/shop/cart", &[("sku", sku), ("qty", "1")])
            .await;
    }
    assert!(!buyer.cart.contains("NOPE") && !buyer.cart.contains("script"));
    // A bot fills the hidden field: nothing is placed, and it is not told.
    buyer
        .post(&app, "/shop/cart", &[("sku", "GAMIS-01"), ("qty", "1")])
        .await;
    let mut bot = checkout_form(&id, "081234567890");
    bot[1].1 = "https://spam.example";
    let trapped = buyer.post(&app, "/shop/checkout", &bot).await;
    assert_eq!(trapped.status, StatusCode::SEE_OTHER);
    assert_eq!(trapped.headers["location"], "/shop?lang=id");
    assert_eq!(app.get("/api/v1/orders").await.body["items"], json!([]));

    // Two unpaid orders per number; the third is refused in words that say nothing of the
    // number's history.
    app.clock.advance(SignedDuration::from_secs(60));
    for n in 0..2 {
        let cart = buyer.get(&app, "/shop/cart").await;
        let placed = buyer
            .post(
                &app,
                "/shop/checkout",
                &checkout_form(&form_id(&cart), "081234567890"),
            )
            .await;
        assert_eq!(placed.status, StatusCode::SEE_OTHER, "order {n}");
        buyer
            .post(&app, "/shop/cart", &[("sku", "GAMIS-01"), ("qty", "1")])
            .await;
    }
    app.clock.advance(SignedDuration::from_secs(60));
    let cart = buyer.get(&app, "/shop/cart").await;
    let capped = buyer
        .post(
            &app,
            "/shop/checkout",
            &checkout_form(&form_id(&cart), "081234567890"),
        )
        .await;
    assert_eq!(capped.status, StatusCode::FORBIDDEN);
    let capped_words = "belum bisa dibuat lewat toko online";
    assert!(capped.html().contains(capped_words));
    // A blocked number gets the same words.
    let other = app.place("081298765432", "GAMIS-01", 1).await;
    assert_eq!(other.status, StatusCode::CREATED);
    let pinned = app
        .post(
            "/api/v1/customers/+6281298765432/band",
            json!({"band": "blocked", "reason": "penipuan"}),
        )
        .await;
    assert!(pinned.status.is_success(), "{}", pinned.body);
    let refused = buyer
        .post(
            &app,
            "/shop/checkout",
            &checkout_form(&form_id(&cart), "081298765432"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.html().contains(capped_words));
    let orders = app.get("/api/v1/orders").await;
    assert_eq!(
        orders.body["items"].as_array().unwrap().len(),
        3,
        "two from the shop, one by API"
    );
}

async fn a_closed_shop_shows_nothing_of_the_catalogue(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    for path in [
        "/shop",
        "/shop/GAMIS-01",
        "/shop/cart",
        "/shop/photos/GAMIS-01/s",
    ] {
        let page = app
            .send(Method::GET, path, None, &[("authorization", "")])
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.html().contains("GAMIS"), "{path}");
    }
    let checkout = app
        .send(
            Method::POST,
            "/shop/checkout",
            Some("name=x".into()),
            &[
                ("authorization", ""),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
        )
        .await;
    assert_eq!(checkout.status, StatusCode::NOT_FOUND);
}

async fn two_hundred_checkouts_at_once_for_five_units_make_five_orders(backend: Backend) {
    let app = open_shop(backend).await;
    let mut settings = (*app.engine.settings()).clone();
    settings.shop.open_orders_per_phone = 1;
    app.engine.put_settings(settings).await.unwrap();
    let app = std::sync::Arc::new(app);
    let mut buyers = Vec::new();
    for n in 0..200u32 {
        let app = app.clone();
        buyers.push(tokio::spawn(async move {
            let phone = format!("0813{:08}", 10_000_000 + n);
            let from = format!("198.51.{}.{}", n / 250, n % 250 + 1);
            let mut form = checkout_form("", &phone);
            form.remove(0);
            let body = serde_urlencoded::to_string(&form).unwrap();
            app.send(
                Method::POST,
                "/shop/checkout",
                Some(body),
                &[
                    ("authorization", ""),
                    ("cookie", "lunas_cart=GAMIS-01=1"),
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("x-forwarded-for", &from),
                ],
            )
            .await
            .status
        }));
    }
    let mut placed = 0;
    let mut sold_out = 0;
    for buyer in buyers {
        match buyer.await.unwrap() {
            StatusCode::SEE_OTHER => placed += 1,
            StatusCode::CONFLICT => sold_out += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((placed, sold_out), (5, 195));
    let product = app.get("/api/v1/products/GAMIS-01").await;
    assert_eq!(product.body["available"], 0);
    assert_eq!(product.body["reserved"], 5);
    let orders = app.get("/api/v1/orders").await;
    assert_eq!(orders.body["items"].as_array().unwrap().len(), 5);
}

lunas_store::on_both_backends!(
    two_hundred_checkouts_at_once_for_five_units_make_five_orders,
    a_buyer_orders_from_the_catalogue_and_lands_on_the_order_page,
    the_checkout_refuses_without_writing,
    a_closed_shop_shows_nothing_of_the_catalogue,
);
