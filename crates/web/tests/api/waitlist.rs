//! A product's waitlist: joining over the API and from the shop's page, the line in order, and
//! what it refuses.

use super::*;

async fn buyers_wait_in_line_for_a_sold_out_product(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 0, 150_000).await;
    app.put_product("ADA-01", 3, 50_000).await;
    for (phone, name) in [
        ("081234567890", Some("Sari")),
        ("081298765432", None),
        ("081311112222", Some("Rina")),
    ] {
        let mut body = json!({"phone": phone});
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        let joined = app.post("/api/v1/products/GAMIS-01/waitlist", body).await;
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
        assert_eq!(joined.body["status"], "waiting");
    }
    // A number already in line keeps its place.
    let again = app
        .post(
            "/api/v1/products/GAMIS-01/waitlist",
            json!({"phone": "+6281298765432"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["position"], 2);
    let list = app.get("/api/v1/products/GAMIS-01/waitlist").await;
    let line: Vec<(&str, i64, &str)> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["phone"].as_str().unwrap(),
                e["position"].as_i64().unwrap(),
                e["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        line,
        [
            ("+6281234567890", 1, "waiting"),
            ("+6281298765432", 2, "waiting"),
            ("+6281311112222", 3, "waiting"),
        ]
    );
    assert_eq!(list.body[0]["name"], "Sari");

    // Refusals, nothing written.
    for (path, body, status, code) in [
        (
            "/api/v1/products/ADA-01/waitlist",
            json!({"phone": "081234567890"}),
            StatusCode::CONFLICT,
            "in_stock",
        ),
        (
            "/api/v1/products/NOPE-1/waitlist",
            json!({"phone": "081234567890"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/products/GAMIS-01/waitlist",
            json!({"phone": "12"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_phone",
        ),
        (
            "/api/v1/products/GAMIS-01/waitlist",
            json!({"phone": "081234567890", "name": " "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
        ),
        (
            "/api/v1/products/GAMIS-01/waitlist",
            json!({"phone": "081234567890", "x": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ] {
        let refused = app.post(path, body).await;
        assert_eq!(refused.status, status, "{path}: {}", refused.body);
        if status != StatusCode::UNPROCESSABLE_ENTITY || code != "invalid_body" {
            assert_eq!(refused.code(), code, "{path}");
        }
    }
    assert_eq!(
        app.get("/api/v1/products/ADA-01/waitlist").await.body,
        json!([])
    );
    assert_eq!(
        app.get("/api/v1/products/NOPE-1/waitlist").await.status,
        StatusCode::NOT_FOUND
    );

    // Erasing a buyer takes them off every line.
    app.place("081311112222", "ADA-01", 1).await;
    let erased = app
        .post("/api/v1/customers/+6281311112222/erase", json!({}))
        .await;
    assert!(erased.status.is_success(), "{}", erased.body);
    let list = app.get("/api/v1/products/GAMIS-01/waitlist").await;
    assert_eq!(list.body.as_array().unwrap().len(), 2);
}

async fn a_buyer_asks_to_be_told_from_the_shop(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 0, 150_000).await;
    let mut settings = (*app.engine.settings()).clone();
    settings.shop.enabled = true;
    app.engine.put_settings(settings).await.unwrap();
    let page = app
        .send(
            Method::GET,
            "/shop/GAMIS-01",
            None,
            &[("authorization", "")],
        )
        .await;
    assert!(page.html().contains("Kabari saya"));
    let send = |form: &'static str| {
        let app = &app;
        async move {
            app.send(
                Method::POST,
                "/shop/GAMIS-01/waitlist",
                Some(form.to_owned()),
                &[
                    ("authorization", ""),
                    ("content-type", "application/x-www-form-urlencoded"),
                ],
            )
            .await
        }
    };
    let bad = send("phone=123&name=Sari&website=").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html().contains("Nomor ini tidak bisa kami baca"));
    let joined = send("phone=0812+3456+7890&name=Sari&website=").await;
    assert_eq!(joined.status, StatusCode::OK);
    let told = "Nomor Anda sudah masuk daftar tunggu";
    assert!(joined.html().contains(told));
    // The same words for a number already in line, and for a bot, which is not kept.
    let again = send("phone=081234567890&name=&website=").await;
    assert!(again.html().contains(told));
    let bot = send("phone=081298765432&name=x&website=https%3A%2F%2Fspam.example").await;
    assert!(bot.html().contains(told));
    let list = app.get("/api/v1/products/GAMIS-01/waitlist").await;
    assert_eq!(list.body.as_array().unwrap().len(), 1, "{}", list.body);
    assert_eq!(list.body[0]["phone"], "+6281234567890");
}

/// A buyer's claim of the offer at `link`, paid by `method`, as the claim page's form sends it.
async fn claim(app: &TestApp, link: &str, method: &str) -> Reply {
    app.send(
        Method::POST,
        link,
        Some(format!("payment_method={method}")),
        &[
            ("authorization", ""),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
    )
    .await
}

/// The claim links the manual queue holds for `phone`, oldest first.
async fn offers_to(app: &TestApp, phone: &str) -> Vec<String> {
    let queue = app.get("/api/v1/messages/manual-queue").await;
    queue
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "waitlist_offer" && m["to"] == phone)
        .map(|m| {
            let body = m["body"].as_str().unwrap();
            let at = body.find("/o/claim/").expect("a claim link") + "/o/claim/".len();
            format!("/o/claim/{}", &body[at..at + 32])
        })
        .collect()
}

async fn a_released_unit_goes_to_the_line_first_and_lapses_to_the_next(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 1, 150_000).await;
    let first = app.place("081200000001", "GAMIS-01", 1).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let (a, b, c) = ("+6281300000001", "+6281300000002", "+6281300000003");
    for phone in [a, b, c] {
        let joined = app
            .post(
                "/api/v1/products/GAMIS-01/waitlist",
                json!({"phone": phone, "name": "Nadia Putri"}),
            )
            .await;
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    }
    // The order expires: its unit is offered to the first in line, and is not on open sale.
    app.clock.advance(SignedDuration::from_hours(25));
    app.engine.tick().await.unwrap();
    let line = app.get("/api/v1/products/GAMIS-01/waitlist").await;
    let statuses: Vec<&str> = line
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["offered", "waiting", "waiting"]);
    let product = app.get("/api/v1/products/GAMIS-01").await;
    assert_eq!(
        (
            product.body["reserved"].as_i64(),
            product.body["available"].as_i64()
        ),
        (Some(1), Some(0))
    );
    let links = offers_to(&app, a).await;
    assert_eq!(links.len(), 1, "one offer, in the manual queue");
    let queue = app.get("/api/v1/messages/manual-queue").await;
    let offer = queue
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "waitlist_offer")
        .unwrap();
    assert_eq!(offer["order_id"], Value::Null);
    let text = offer["body"].as_str().unwrap();
    assert!(
        text.starts_with("Halo Kak Nadia, kabar baik dari Toko Kami!"),
        "{text}"
    );
    assert!(text.contains("https://toko.example/o/claim/"), "{text}");
    assert!(
        app.store.consistency_report().await.unwrap().is_empty(),
        "an offer's unit is held"
    );
    let someone_else = app.place("081200000009", "GAMIS-01", 1).await;
    assert_eq!(
        someone_else.code(),
        "out_of_stock",
        "the unit is held for the line"
    );

    // Its page, no sign-in: the product and until when.
    let page = app
        .send(Method::GET, &links[0], None, &[("authorization", "")])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html().contains("Ambil sekarang") && page.html().contains("+62 813-••••-0001"));
    let english = app
        .send(
            Method::GET,
            &format!("{}?lang=en", links[0]),
            None,
            &[("authorization", "")],
        )
        .await;
    assert!(english.html().contains("Claim it now") && english.html().contains("Bahasa Indonesia"));

    // Half an hour later, unclaimed: it lapses and the unit goes to the second.
    app.clock.advance(SignedDuration::from_mins(31));
    app.engine.tick().await.unwrap();
    let line = app.get("/api/v1/products/GAMIS-01/waitlist").await;
    let states: Vec<(&str, &str)> = line
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["phone"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [(b, "offered"), (c, "waiting"), (a, "lapsed")]);
    assert!(
        offers_to(&app, a).await.is_empty(),
        "a lapsed offer leaves the queue"
    );
    let lapsed = claim(&app, &links[0], "bank_transfer").await;
    assert_eq!(lapsed.status, StatusCode::CONFLICT);
    assert!(lapsed.html().contains("Penawaran sudah lewat"));

    // The second claims it: an order of that unit, on the order's page.
    let link = offers_to(&app, b).await.pop().unwrap();
    let claimed = claim(&app, &link, "qris").await;
    assert_eq!(claimed.status, StatusCode::SEE_OTHER, "{}", claimed.body);
    let landed = claimed.headers["location"].to_str().unwrap().to_owned();
    assert!(landed.starts_with("/o/"), "{landed}");
    let orders = app.get("/api/v1/orders?status=awaiting_payment").await;
    let order = orders.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["customer"]["phone"] == b)
        .cloned()
        .expect("the claim's order");
    assert_eq!(order["payment_method"], "qris");
    assert_eq!(order["items"][0]["sku"], "GAMIS-01");
    let product = app.get("/api/v1/products/GAMIS-01").await;
    assert_eq!(
        (
            product.body["reserved"].as_i64(),
            product.body["available"].as_i64()
        ),
        (Some(1), Some(0))
    );
    let line = app.get("/api/v1/products/GAMIS-01/waitlist").await;
    assert_eq!(line.body[0]["phone"], c);
    assert_eq!(line.body[0]["status"], "waiting");
    assert!(app.store.consistency_report().await.unwrap().is_empty());
    assert!(
        offers_to(&app, b).await.is_empty(),
        "a claimed offer leaves the queue"
    );
    // Claimed once: the link says so.
    let again = claim(&app, &link, "qris").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let unknown = app
        .send(
            Method::GET,
            "/o/claim/00000000000000000000000000000000",
            None,
            &[("authorization", "")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // Staff raise the stock by one: it goes to the third, not on open sale.
    let put = app.put_product("GAMIS-01", 2, 150_000).await;
    assert_eq!(put.body["available"], 0, "{}", put.body);
    assert_eq!(offers_to(&app, c).await.len(), 1);
}

async fn two_hundred_claims_and_checkouts_for_five_released_units_make_five_orders(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let mut settings = (*app.engine.settings()).clone();
    settings.shop.enabled = true;
    app.engine.put_settings(settings).await.unwrap();
    for n in 0..5 {
        let held = app.place(&format!("08120000{n:04}"), "GAMIS-01", 1).await;
        assert_eq!(held.status, StatusCode::CREATED);
    }
    for n in 0..10 {
        let joined = app
            .post(
                "/api/v1/products/GAMIS-01/waitlist",
                json!({"phone": format!("08130000{n:04}")}),
            )
            .await;
        assert_eq!(joined.status, StatusCode::CREATED);
    }
    app.clock.advance(SignedDuration::from_hours(25));
    app.engine.tick().await.unwrap();
    let mut links = Vec::new();
    for n in 0..5 {
        links.extend(offers_to(&app, &format!("+628130000{n:04}")).await);
    }
    assert_eq!(
        links.len(),
        5,
        "the five released units are offered to the first five"
    );
    let app = std::sync::Arc::new(app);
    let mut requests = Vec::new();
    for n in 0..200usize {
        let app = app.clone();
        let link = links[n % 5].clone();
        requests.push(tokio::spawn(async move {
            let from = format!("198.51.{}.{}", n / 250, n % 250 + 1);
            let (path, body, cookie) = if n % 2 == 0 {
                (
                    link,
                    "payment_method=bank_transfer".to_owned(),
                    String::new(),
                )
            } else {
                let form = serde_urlencoded::to_string([
                    ("name", "Pembeli Kilat"),
                    ("phone", &format!("08150000{n:04}")),
                    ("street", "Jl. Mawar 1"),
                    ("city", "Kota Bandung"),
                    ("province", "Jawa Barat"),
                    ("payment_method", "bank_transfer"),
                ])
                .unwrap();
                (
                    "/shop/checkout".to_owned(),
                    form,
                    "lunas_cart=GAMIS-01=1".to_owned(),
                )
            };
            let reply = app
                .send(
                    Method::POST,
                    &path,
                    Some(body),
                    &[
                        ("authorization", ""),
                        ("content-type", "application/x-www-form-urlencoded"),
                        ("cookie", &cookie),
                        ("x-forwarded-for", &from),
                    ],
                )
                .await;
            (n % 2 == 0, reply.status)
        }));
    }
    let mut placed = 0;
    for request in requests {
        let (is_claim, status) = request.await.unwrap();
        match status {
            StatusCode::SEE_OTHER => {
                assert!(is_claim, "a checkout got a unit held for the line");
                placed += 1;
            }
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(placed, 5, "one order per offer");
    let product = app.get("/api/v1/products/GAMIS-01").await;
    assert_eq!(product.body["reserved"], 5);
    assert_eq!(product.body["available"], 0);
    let open = app.get("/api/v1/orders?status=awaiting_payment").await;
    assert_eq!(open.body["items"].as_array().unwrap().len(), 5);
}

lunas_store::on_both_backends!(
    two_hundred_claims_and_checkouts_for_five_released_units_make_five_orders,
    a_released_unit_goes_to_the_line_first_and_lapses_to_the_next,
    buyers_wait_in_line_for_a_sold_out_product,
    a_buyer_asks_to_be_told_from_the_shop,
);
