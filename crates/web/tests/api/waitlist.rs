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

lunas_store::on_both_backends!(
    buyers_wait_in_line_for_a_sold_out_product,
    a_buyer_asks_to_be_told_from_the_shop,
);
