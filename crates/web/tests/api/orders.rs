use super::*;

async fn healthz_and_the_openapi_document_are_public(backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app
        .send(Method::GET, "/healthz", None, &[("authorization", "")])
        .await;
    assert_eq!(health.status, StatusCode::OK);
    let doc = app
        .send(
            Method::GET,
            "/api/openapi.json",
            None,
            &[("authorization", "")],
        )
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.1.0");
    // Every route the router serves is in the document, with each method.
    for (path, methods) in [
        ("/api/v1/products", &["get"][..]),
        ("/api/v1/products/{sku}", &["get", "put"]),
        ("/api/v1/orders", &["get", "post"]),
        ("/api/v1/orders/{id}", &["get"]),
        ("/api/v1/orders/{id}/payments", &["post"]),
        ("/api/v1/orders/{id}/cancel", &["post"]),
        ("/api/v1/settings", &["get", "put"]),
        ("/api/v1/orders/{id}/messages", &["get"]),
        ("/api/v1/messages/manual-queue", &["get"]),
        ("/api/v1/messages/{id}/sent", &["post"]),
        ("/api/v1/messages/{id}/replay", &["post"]),
        ("/api/v1/templates/preview", &["post"]),
        ("/api/v1/customers/{phone}/reminders", &["get", "put"]),
        ("/api/v1/customers", &["get"]),
        ("/api/v1/customers/{phone}", &["get", "patch"]),
        ("/api/v1/customers/{phone}/band", &["post"]),
        ("/api/v1/customers/{phone}/export", &["get"]),
        ("/api/v1/customers/{phone}/erase", &["post"]),
        ("/api/v1/webhooks", &["get", "post"]),
        ("/api/v1/webhooks/{id}", &["delete"]),
        ("/healthz", &["get"]),
        ("/webhooks/whatsapp", &["get", "post"]),
    ] {
        for method in methods {
            assert!(
                doc.body["paths"][path][method].is_object(),
                "{method} {path} missing from the OpenAPI document"
            );
        }
    }
}

async fn a_later_deadline_moves_the_release_and_the_reminders_still_ahead(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let placed = app.place("081234567890", "GAMIS-01", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    assert_eq!(placed.body["pay_by"], "2026-11-23T03:00:00Z");
    let path = format!("/api/v1/orders/{id}/deadline");
    for (body, status, code) in [
        (
            json!({"pay_by": "2026-11-22T10:00:00+07:00", "reason": "x"}),
            409,
            "invalid_deadline",
        ),
        (
            json!({"pay_by": "2026-12-30T10:00:00+07:00", "reason": "x"}),
            409,
            "invalid_deadline",
        ),
        (
            json!({"pay_by": "besok", "reason": "x"}),
            422,
            "invalid_deadline",
        ),
        (
            json!({"pay_by": "2026-11-25T10:00:00+07:00", "reason": " "}),
            422,
            "invalid_reason",
        ),
    ] {
        let reply = app.post(&path, body.clone()).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "{body}"
        );
    }
    let reply = app
        .post(
            &path,
            json!({"pay_by": "2026-11-25T10:00:00+07:00", "reason": "gajian tanggal 25"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["pay_by"], "2026-11-25T03:00:00Z");
    let events = reply.body["events"].as_array().unwrap();
    assert!(
        events[1]["reason"]
            .as_str()
            .unwrap()
            .contains("gajian tanggal 25")
    );
    // The old deadline passes: nothing is released.
    app.clock.set("2026-11-23T03:00:01Z".parse().unwrap());
    app.engine.tick().await.unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}")).await.body["status"],
        "awaiting_payment"
    );
    // The last notice comes two hours before the new deadline, with the new deadline in it.
    let reminders = |app: &'_ TestApp| {
        let store = app.store.clone();
        async move {
            store
                .order_messages(lunas_core::OrderId(id))
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.kind == lunas_core::messages::MessageKind::Reminder)
                .collect::<Vec<_>>()
        }
    };
    let before = reminders(&app).await.len();
    app.clock.set("2026-11-25T01:00:01Z".parse().unwrap());
    app.engine.tick().await.unwrap();
    let after = reminders(&app).await;
    assert_eq!(after.len(), before + 1);
    assert!(
        after.last().unwrap().body.contains("25 November 2026"),
        "{}",
        after.last().unwrap().body
    );
    app.clock.set("2026-11-25T03:00:01Z".parse().unwrap());
    app.engine.tick().await.unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}")).await.body["status"],
        "expired"
    );
    let reply = app
        .post(
            &path,
            json!({"pay_by": "2026-11-28T10:00:00+07:00", "reason": "terlambat"}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    assert!(app.store.consistency_report().await.unwrap().is_empty());
}

async fn the_api_needs_a_valid_token(backend: Backend) {
    let app = spawn_app(backend).await;
    for auth in ["", "Bearer ", "Bearer lunas_wrong", "Basic dXNlcjpwYXNz"] {
        let reply = app
            .send(
                Method::GET,
                "/api/v1/orders",
                None,
                &[("authorization", auth)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(reply.code(), "unauthorized");
        assert_eq!(reply.headers["www-authenticate"], "Bearer");
    }
    assert_eq!(app.get("/api/v1/orders").await.status, StatusCode::OK);
}

async fn products_read_back_with_what_is_held_and_available(backend: Backend) {
    let app = spawn_app(backend).await;
    let put = app.put_product("GAMIS-01", 5, 189_000).await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(
        put.body,
        json!({"sku": "GAMIS-01", "name": "Produk GAMIS-01", "price": 189000, "on_hand": 5, "reserved": 0, "available": 5, "tips": null, "parent": null, "variant": null, "own_price": true, "variant_count": 0})
    );
    assert_eq!(
        app.place("081234567890", "GAMIS-01", 2).await.status,
        StatusCode::CREATED
    );
    for dots in [".", ".."] {
        let refused = app.put_product(dots, 1, 1000).await;
        assert_eq!(refused.code(), "invalid_sku", "{dots}: {}", refused.body);
    }
    let got = app.get("/api/v1/products/GAMIS-01").await;
    assert_eq!(
        (
            got.body["on_hand"].as_i64(),
            got.body["reserved"].as_i64(),
            got.body["available"].as_i64()
        ),
        (Some(5), Some(2), Some(3))
    );
    let below = app.put_product("GAMIS-01", 1, 189_000).await;
    assert_eq!(
        (below.status, below.code()),
        (StatusCode::CONFLICT, "stock_below_reserved")
    );
    assert_eq!(
        app.get("/api/v1/products/NOPE").await.status,
        StatusCode::NOT_FOUND
    );
    let tipped = app
        .send(Method::PUT, "/api/v1/products/KOPI", Some(json!({"name": "Kopi Gayo", "price": 85000, "stock": 3, "tips": "  Seduh dengan air 92°C. "}).to_string()), &[])
        .await;
    assert_eq!(tipped.body["tips"], "Seduh dengan air 92°C.");
    assert_eq!(
        app.get("/api/v1/products/KOPI").await.body["tips"],
        "Seduh dengan air 92°C."
    );
    let list = app.get("/api/v1/products?limit=1").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

async fn an_order_is_placed_paid_and_read_back_with_its_history(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("KOPI", 10, 85_000).await;
    let placed = app.post("/api/v1/orders", json!({
        "customer": {"phone": "+62 812-3456-7890", "name": "Rina", "email": "rina@example.com", "honorific": "kak"},
        "items": [{"sku": "KOPI", "qty": 1}, {"sku": "KOPI", "qty": 1}],
        "payment_method": "qris",
        "pay_within": "30m"
    })).await;
    assert_eq!(placed.status, StatusCode::CREATED);
    let id = placed.body["id"].as_i64().unwrap();
    assert_eq!(
        placed.headers["location"],
        format!("/api/v1/orders/{id}").as_str()
    );
    assert_eq!(placed.body["status"], "awaiting_payment");
    assert_eq!(placed.body["total"], 170_000);
    assert_eq!(placed.body["pay_by"], "2026-11-22T03:30:00Z");
    assert_eq!(placed.body["customer"]["phone"], "+6281234567890");
    assert_eq!(
        placed.body["items"].as_array().unwrap().len(),
        1,
        "repeated SKUs merge into one line"
    );
    assert_eq!(placed.body["items"][0]["qty"], 2);
    assert_eq!(placed.body["events"][0]["to"], "awaiting_payment");

    let partial = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            json!({"amount": 70000, "reference": "BCA 123"}),
        )
        .await;
    assert_eq!(
        (
            partial.status,
            partial.body["status"].as_str(),
            partial.body["balance"].as_i64()
        ),
        (StatusCode::OK, Some("awaiting_payment"), Some(100_000))
    );
    let paid = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            json!({"amount": 100000}),
        )
        .await;
    assert_eq!(paid.body["status"], "paid");
    assert_eq!(paid.body["payments"].as_array().unwrap().len(), 2);
    let got = app.get(&format!("/api/v1/orders/{id}")).await;
    let last = got.body["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            last["from"].as_str(),
            last["to"].as_str(),
            last["actor"].as_str()
        ),
        (Some("awaiting_payment"), Some("paid"), Some("api:test"))
    );
    let stock = app.get("/api/v1/products/KOPI").await;
    assert_eq!(
        (
            stock.body["on_hand"].as_i64(),
            stock.body["reserved"].as_i64()
        ),
        (Some(8), Some(0))
    );

    let again = app
        .post(
            &format!("/api/v1/orders/{id}/cancel"),
            json!({"reason": "telat"}),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    let pay_again = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            json!({"amount": 1}),
        )
        .await;
    assert_eq!(
        (pay_again.status, pay_again.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
}

async fn an_unpaid_order_expires_and_its_stock_goes_back_on_sale(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("SERUM", 2, 79_000).await;
    let id = app.place("081234567890", "SERUM", 2).await.body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.place("081311112222", "SERUM", 1).await.code(),
        "out_of_stock"
    );
    app.clock.advance(SignedDuration::from_hours(24));
    app.engine.tick().await.unwrap();
    let expired = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(expired.body["status"], "expired");
    assert_eq!(expired.body["items"][0]["hold"], "released");
    assert_eq!(app.get("/api/v1/products/SERUM").await.body["available"], 2);
    assert_eq!(
        app.place("081311112222", "SERUM", 1).await.status,
        StatusCode::CREATED
    );
    let expired_list = app.get("/api/v1/orders?status=expired").await;
    assert_eq!(expired_list.body["items"].as_array().unwrap().len(), 1);
}

async fn bad_input_gets_a_stable_code_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 10_000).await;
    let customer = json!({"phone": "081234567890", "name": "Sari"});
    let with = |patch: Value| {
        let mut body = json!({"customer": customer, "items": [{"sku": "A", "qty": 1}], "payment_method": "bank_transfer"});
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body.to_string()
    };
    let cases: Vec<(&str, String, &[(&str, &str)], u16, &str)> = vec![
        (
            "malformed JSON",
            "{\"customer\": ".into(),
            &[],
            400,
            "malformed_json",
        ),
        (
            "not JSON at all",
            "fix kak".into(),
            &[],
            400,
            "malformed_json",
        ),
        (
            "an array where the order's fields go, in their order",
            json!([customer, [{"sku": "A", "qty": 1}], "bank_transfer", null]).to_string(),
            &[],
            422,
            "invalid_request",
        ),
        (
            "wrong content type",
            with(json!({})),
            &[("content-type", "text/plain")],
            415,
            "unsupported_media_type",
        ),
        (
            "missing items",
            json!({"customer": customer, "payment_method": "qris"}).to_string(),
            &[],
            422,
            "invalid_request",
        ),
        (
            "qty as text",
            with(json!({"items": [{"sku": "A", "qty": "dua"}]})),
            &[],
            422,
            "invalid_request",
        ),
        (
            "qty fractional",
            with(json!({"items": [{"sku": "A", "qty": 1.5}]})),
            &[],
            422,
            "invalid_request",
        ),
        (
            "zero qty",
            with(json!({"items": [{"sku": "A", "qty": 0}]})),
            &[],
            422,
            "invalid_quantity",
        ),
        (
            "negative qty",
            with(json!({"items": [{"sku": "A", "qty": -3}]})),
            &[],
            422,
            "invalid_quantity",
        ),
        (
            "huge qty",
            with(json!({"items": [{"sku": "A", "qty": 10_000_000}]})),
            &[],
            422,
            "invalid_quantity",
        ),
        (
            "no items",
            with(json!({"items": []})),
            &[],
            422,
            "empty_order",
        ),
        (
            "bad SKU",
            with(json!({"items": [{"sku": "A/../B", "qty": 1}]})),
            &[],
            422,
            "invalid_sku",
        ),
        (
            "a SKU that is a path's dot",
            with(json!({"items": [{"sku": "..", "qty": 1}]})),
            &[],
            422,
            "invalid_sku",
        ),
        (
            "unknown SKU",
            with(json!({"items": [{"sku": "NOPE", "qty": 1}]})),
            &[],
            409,
            "unknown_sku",
        ),
        (
            "unknown payment method",
            with(json!({"payment_method": "bitcoin"})),
            &[],
            422,
            "invalid_payment_method",
        ),
        (
            "unparseable phone",
            with(json!({"customer": {"phone": "halo kak", "name": "Sari"}})),
            &[],
            422,
            "invalid_phone",
        ),
        (
            "too short phone",
            with(json!({"customer": {"phone": "0812", "name": "Sari"}})),
            &[],
            422,
            "invalid_phone",
        ),
        (
            "empty name",
            with(json!({"customer": {"phone": "081234567890", "name": "  "}})),
            &[],
            422,
            "invalid_name",
        ),
        (
            "bad email",
            with(json!({"customer": {"phone": "081234567890", "name": "S", "email": "sari@"}})),
            &[],
            422,
            "invalid_email",
        ),
        (
            "bad honorific",
            with(
                json!({"customer": {"phone": "081234567890", "name": "S", "honorific": "yang mulia"}}),
            ),
            &[],
            422,
            "invalid_honorific",
        ),
        (
            "zero pay_within",
            with(json!({"pay_within": "0s"})),
            &[],
            422,
            "invalid_pay_within",
        ),
        (
            "pay_within over 30 days",
            with(json!({"pay_within": "31d"})),
            &[],
            422,
            "invalid_pay_within",
        ),
        (
            "pay_within nonsense",
            with(json!({"pay_within": "besok"})),
            &[],
            422,
            "invalid_pay_within",
        ),
        (
            "pay_within on COD",
            with(json!({"payment_method": "cod", "pay_within": "1h"})),
            &[],
            422,
            "invalid_pay_within",
        ),
        (
            "oversized body",
            with(json!({"customer": {"phone": "081234567890", "name": "x".repeat(70_000)}})),
            &[],
            413,
            "body_too_large",
        ),
        (
            "bad idempotency key",
            with(json!({})),
            &[("idempotency-key", "")],
            422,
            "invalid_idempotency_key",
        ),
    ];
    for (what, body, headers, status, code) in cases {
        let reply = app
            .send(Method::POST, "/api/v1/orders", Some(body), headers)
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "{what}: {:?}",
            reply.body
        );
        assert!(
            !reply.body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .is_empty(),
            "{what} has a message"
        );
    }
    let product_cases: Vec<(Value, &str)> = vec![
        (
            json!({"name": "A", "price": -1, "stock": 1}),
            "invalid_price",
        ),
        (
            json!({"name": "A", "price": 10_000_000_000_000i64, "stock": 1}),
            "invalid_price",
        ),
        (
            json!({"name": "A", "price": 1, "stock": -1}),
            "invalid_stock",
        ),
        (json!({"name": "", "price": 1, "stock": 1}), "invalid_name"),
        (
            json!({"name": "A", "price": "mahal", "stock": 1}),
            "invalid_request",
        ),
        (
            json!({"name": "A", "price": 1, "stock": 1, "tips": "x".repeat(501)}),
            "invalid_tips",
        ),
    ];
    for (body, code) in product_cases {
        let reply = app
            .send(
                Method::PUT,
                "/api/v1/products/A",
                Some(body.to_string()),
                &[],
            )
            .await;
        assert_eq!((reply.status.as_u16(), reply.code()), (422, code), "{body}");
    }
    let bad_sku = app.put_product("bad%20sku", 1, 1).await;
    assert_eq!(bad_sku.code(), "invalid_sku");
    let order = app.place("081234567890", "A", 1).await.body["id"]
        .as_i64()
        .unwrap();
    for (body, code) in [
        (json!({"amount": 0}), "invalid_amount"),
        (json!({"amount": -5}), "invalid_amount"),
        (json!({"amount": 1_000_000_000_001i64}), "invalid_amount"),
    ] {
        let reply = app
            .post(&format!("/api/v1/orders/{order}/payments"), body)
            .await;
        assert_eq!((reply.status.as_u16(), reply.code()), (422, code));
    }
    assert_eq!(
        app.post(
            &format!("/api/v1/orders/{order}/cancel"),
            json!({"reason": ""})
        )
        .await
        .code(),
        "invalid_reason"
    );
    assert_eq!(
        app.post("/api/v1/orders/999/cancel", json!({"reason": "x"}))
            .await
            .code(),
        "not_found"
    );
    assert_eq!(app.get("/api/v1/orders/abc").await.code(), "not_found");
    assert_eq!(
        app.get("/api/v1/orders?status=lunas").await.code(),
        "invalid_query"
    );
    assert_eq!(
        app.get("/api/v1/orders?limit=1000").await.code(),
        "invalid_query"
    );
    assert_eq!(app.get("/nowhere").await.code(), "not_found");
    assert_eq!(
        app.send(Method::DELETE, "/api/v1/orders", None, &[])
            .await
            .code(),
        "method_not_allowed"
    );
    let settings = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"payment_windows": {"qris": "0s"}}).to_string()),
            &[],
        )
        .await;
    assert_eq!(settings.code(), "invalid_settings");
    let tz = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"timezone": "Mars/Olympus"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(tz.code(), "invalid_settings");

    // Nothing of the above wrote anything: one product, the one good order, its buyer.
    let totals = app.store.totals().await.unwrap();
    assert_eq!(
        (
            totals.products,
            totals.orders,
            totals.customers,
            totals.payments
        ),
        (1, 1, 1, 0)
    );
    assert_eq!(app.get("/api/v1/products/A").await.body["reserved"], 1);
}

async fn settings_change_the_deadline_of_new_orders(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 10_000).await;
    // A 2 h window leaves the default 14 h check-in beyond the deadline: refused, nothing changes.
    let refused = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"payment_windows": {"bank_transfer": "2h"}}).to_string()),
            &[],
        )
        .await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (422, "invalid_settings")
    );
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reminders.bank_transfer")
    );
    let patch = json!({"payment_windows": {"bank_transfer": "2h"}, "reminders": {"bank_transfer": {"steps": [{"after_order": "30m"}], "max_count": 1}}});
    let put = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(patch.to_string()),
            &[],
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    // A partial document merges: everything not given stays.
    assert_eq!(put.body["payment_windows"]["qris"], "1h");
    assert_eq!(
        put.body["quiet_hours"],
        json!({"start": "21:00", "end": "08:00"})
    );
    let placed = app.place("081234567890", "A", 1).await;
    assert_eq!(placed.body["pay_by"], "2026-11-22T05:00:00Z");
    assert_eq!(
        app.get("/api/v1/settings").await.body["timezone"],
        "Asia/Jakarta"
    );
    // A value set earlier survives a later patch of another field.
    let named = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"store_name": "Razha & Co"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(named.body["payment_windows"]["bank_transfer"], "2h");
    assert_eq!(named.body["reminders"]["bank_transfer"]["max_count"], 1);
    for not_an_object in [json!([]), json!("x"), json!(null)] {
        let refused = app
            .send(
                Method::PUT,
                "/api/v1/settings",
                Some(not_an_object.to_string()),
                &[],
            )
            .await;
        assert_eq!(refused.code(), "invalid_settings", "{not_an_object}");
    }
    assert_eq!(
        app.get("/api/v1/settings").await.body["store_name"],
        "Razha & Co"
    );
    let no_quiet = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"quiet_hours": null, "language": "en"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(
        (
            no_quiet.body["quiet_hours"].clone(),
            no_quiet.body["language"].clone()
        ),
        (Value::Null, json!("en"))
    );
}

async fn concurrent_orders_for_the_last_units_through_http_never_oversell(backend: Backend) {
    let app = Arc::new(spawn_app(backend).await);
    const UNITS: i64 = 10;
    const BUYERS: usize = 60;
    app.put_product("LAST", UNITS, 50_000).await;
    let mut tasks = Vec::new();
    for i in 0..BUYERS {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.place(&format!("+62812{:08}", 10_000_000 + i), "LAST", 1)
                .await
        }));
    }
    let (mut created, mut refused) = (0, 0);
    for task in tasks {
        let reply = task.await.unwrap();
        match (reply.status, reply.code()) {
            (StatusCode::CREATED, _) => created += 1,
            (StatusCode::CONFLICT, "out_of_stock") => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((created, refused), (UNITS, BUYERS as i64 - UNITS));
    let product = app.get("/api/v1/products/LAST").await;
    assert_eq!(
        (
            product.body["available"].as_i64(),
            product.body["reserved"].as_i64()
        ),
        (Some(0), Some(UNITS))
    );
    assert!(app.store.consistency_report().await.unwrap().is_empty());
}

async fn idempotency_key_returns_the_first_response_and_creates_nothing_new(backend: Backend) {
    let app = Arc::new(spawn_app(backend).await);
    app.put_product("A", 50, 10_000).await;
    let body = order_body("081234567890", "A", 2).to_string();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (app, body) = (app.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            app.send(
                Method::POST,
                "/api/v1/orders",
                Some(body),
                &[("idempotency-key", "order-7f3a")],
            )
            .await
        }));
    }
    let mut bodies = Vec::new();
    let mut replayed = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, StatusCode::CREATED);
        replayed += usize::from(reply.headers.get("idempotent-replayed").is_some());
        bodies.push(reply.body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every response is the first one"
    );
    assert_eq!(replayed, 11);
    assert_eq!(app.store.totals().await.unwrap().orders, 1);
    // The same content with keys in another order is the same request.
    let reordered = r#"{"payment_method":"bank_transfer","items":[{"qty":2,"sku":"A"}],"customer":{"honorific":"bu","name":"Sari Wulandari","phone":"081234567890"}}"#;
    let same = app
        .send(
            Method::POST,
            "/api/v1/orders",
            Some(reordered.into()),
            &[("idempotency-key", "order-7f3a")],
        )
        .await;
    assert_eq!(same.body, bodies[0]);
    let different = app
        .send(
            Method::POST,
            "/api/v1/orders",
            Some(order_body("081234567890", "A", 3).to_string()),
            &[("idempotency-key", "order-7f3a")],
        )
        .await;
    assert_eq!(
        (different.status.as_u16(), different.code()),
        (422, "idempotency_key_reused")
    );
    assert_eq!(app.store.totals().await.unwrap().orders, 1);
}

async fn orders_list_newest_first_in_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 50, 10_000).await;
    // Order numbers need not be consecutive: on PostgreSQL an insert that loses its unique code
    // to another order (`ON CONFLICT DO NOTHING`) still uses up a sequence value.
    let mut placed = Vec::new();
    for _ in 0..5 {
        placed.push(
            app.place("081234567890", "A", 1).await.body["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let first = app.get("/api/v1/orders?limit=2").await;
    let ids: Vec<i64> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![placed[4], placed[3]]);
    let next = first.body["next_after"].as_i64().unwrap();
    let second = app
        .get(&format!("/api/v1/orders?limit=2&after={next}"))
        .await;
    let ids: Vec<i64> = second.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![placed[2], placed[1]]);
    let awaiting = app
        .get("/api/v1/orders?status=awaiting_payment&limit=100")
        .await;
    assert_eq!(awaiting.body["items"].as_array().unwrap().len(), 5);
    assert!(awaiting.body["next_after"].is_null());
}

lunas_store::on_both_backends!(
    healthz_and_the_openapi_document_are_public,
    a_later_deadline_moves_the_release_and_the_reminders_still_ahead,
    the_api_needs_a_valid_token,
    products_read_back_with_what_is_held_and_available,
    an_order_is_placed_paid_and_read_back_with_its_history,
    an_unpaid_order_expires_and_its_stock_goes_back_on_sale,
    bad_input_gets_a_stable_code_and_writes_nothing,
    settings_change_the_deadline_of_new_orders,
    concurrent_orders_for_the_last_units_through_http_never_oversell,
    idempotency_key_returns_the_first_response_and_creates_nothing_new,
    orders_list_newest_first_in_pages,
);
