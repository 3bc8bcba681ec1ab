use super::*;

async fn buyers_have_a_reliability_record_a_band_and_staff_can_pin_and_note_them(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS", 10, 150_000).await;
    assert_eq!(
        app.place("0812-3456-7890", "GAMIS", 1).await.status,
        StatusCode::CREATED
    );

    // Any way the number is written.
    let buyer = app.get("/api/v1/customers/+62%20812%203456%207890").await;
    assert_eq!(buyer.status, StatusCode::OK, "{}", buyer.body);
    assert_eq!(buyer.body["phone"], "+6281234567890");
    let reliability = &buyer.body["reliability"];
    assert_eq!(reliability["band"], "normal");
    assert_eq!(reliability["orders_placed"], 1);
    assert_eq!(reliability["orders_paid"], 0);
    assert_eq!(reliability["orders_expired"], 0);
    assert_eq!(reliability["reason"], "usual");
    assert!(reliability["score"].as_f64().unwrap() > 0.5);
    assert_eq!(
        reliability["explanation"],
        "Pembeli baru: belum ada pesanan yang selesai"
    );

    // A path that is not a phone number names no buyer.
    assert_eq!(
        app.get("/api/v1/customers/0899").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/customers/081299998888").await.status,
        StatusCode::NOT_FOUND
    );

    // Pins need a reason and a real band; nothing changes otherwise.
    let no_reason = app
        .post(
            "/api/v1/customers/081234567890/band",
            json!({"band": "watch"}),
        )
        .await;
    assert_eq!(no_reason.code(), "invalid_reason");
    let bad_band = app
        .post(
            "/api/v1/customers/081234567890/band",
            json!({"band": "suspicious", "reason": "x"}),
        )
        .await;
    assert_eq!(bad_band.code(), "invalid_band");
    let pinned = app
        .post(
            "/api/v1/customers/081234567890/band",
            json!({"band": "trusted", "reason": "langganan sejak 2021"}),
        )
        .await;
    assert_eq!(pinned.status, StatusCode::OK, "{}", pinned.body);
    assert_eq!(pinned.body["reliability"]["band"], "trusted");
    assert_eq!(pinned.body["reliability"]["pinned"], true);
    assert_eq!(
        pinned.body["reliability"]["pin_reason"],
        "langganan sejak 2021"
    );

    // Notes and tags.
    let noted = app
        .send(
            Method::PATCH,
            "/api/v1/customers/081234567890",
            Some(
                json!({"notes": "suka warna hitam", "tags": ["VIP", "reseller", "vip"]})
                    .to_string(),
            ),
            &[],
        )
        .await;
    assert_eq!(noted.status, StatusCode::OK, "{}", noted.body);
    assert_eq!(noted.body["tags"], json!(["vip", "reseller"]));
    assert_eq!(noted.body["notes"], "suka warna hitam");
    let bad_tag = app
        .send(
            Method::PATCH,
            "/api/v1/customers/081234567890",
            Some(json!({"tags": ["bad tag!"]}).to_string()),
            &[],
        )
        .await;
    assert_eq!(bad_tag.code(), "invalid_tags");
    // A patch is an object: an array of nulls is not "change nothing".
    let not_an_object = app
        .send(
            Method::PATCH,
            "/api/v1/customers/081234567890",
            Some("[null, null]".into()),
            &[],
        )
        .await;
    assert_eq!(
        (not_an_object.status.as_u16(), not_an_object.code()),
        (422, "invalid_request")
    );
    assert_eq!(
        app.get("/api/v1/customers/081234567890").await.body["tags"],
        json!(["vip", "reseller"]),
        "a refused change changes nothing"
    );

    // A number blocked before it ever ordered: its orders get 403 without detail.
    let blocked = app
        .post(
            "/api/v1/customers/0813-0000-1111/band",
            json!({"band": "blocked", "reason": "prank berulang"}),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::OK, "{}", blocked.body);
    let refused = app.place("081300001111", "GAMIS", 1).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "customer_blocked");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        !message.contains("block") && !message.contains("prank"),
        "{message}"
    );
    let listed = app.get("/api/v1/customers?band=blocked").await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["items"][0]["phone"], "+6281300001111");
    assert_eq!(
        app.get("/api/v1/customers?band=nope").await.code(),
        "invalid_band"
    );

    // The order response says which policy applied.
    let placed = app.place("081234567890", "GAMIS", 1).await;
    assert_eq!(placed.body["policy"]["band"], "trusted");
    assert_eq!(placed.body["policy"]["pinned"], true);
    assert_eq!(
        placed.body["policy"]["reason"],
        "Ditetapkan oleh staf: langganan sejak 2021"
    );
}

async fn a_buyer_in_watch_cannot_choose_cod(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS", 10, 150_000).await;
    let pinned = app
        .post(
            "/api/v1/customers/081234567890/band",
            json!({"band": "watch", "reason": "dua kali tidak bayar di toko lain"}),
        )
        .await;
    assert_eq!(pinned.status, StatusCode::OK);
    let mut body = order_body("081234567890", "GAMIS", 1);
    body["payment_method"] = json!("cod");
    let refused = app.post("/api/v1/orders", body).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "payment_method_not_allowed");
    let too_many = app.place("081234567890", "GAMIS", 6).await;
    assert_eq!(
        (too_many.status, too_many.code()),
        (StatusCode::CONFLICT, "quantity_limited")
    );
    let placed = app.place("081234567890", "GAMIS", 1).await;
    assert_eq!(placed.status, StatusCode::CREATED);
    assert_eq!(placed.body["policy"]["band"], "watch");
    assert_eq!(placed.body["policy"]["pay_within"], "2h");
    assert_eq!(placed.body["deposit"], 75_000);
    assert_eq!(placed.body["policy"]["deposit"], 75_000);
    // A deposit outside 0–100 % is refused when saved, and nothing changes.
    let bad = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"risk": {"policies": {"watch": {"deposit_percent": 101}}}}).to_string()),
            &[],
        )
        .await;
    assert_eq!(bad.code(), "invalid_settings");
    assert_eq!(
        app.get("/api/v1/settings").await.body["risk"]["policies"]["watch"]["deposit_percent"],
        50
    );
    // Paying a second order's deposit moves it to awaiting_balance.
    let second = app.place("081234567890", "GAMIS", 2).await;
    let second_id = second.body["id"].as_i64().unwrap();
    let deposit = app
        .post(
            &format!("/api/v1/orders/{second_id}/payments"),
            json!({"amount": 150_000}),
        )
        .await;
    assert_eq!(deposit.status, StatusCode::OK, "{}", deposit.body);
    assert_eq!(deposit.body["status"], "awaiting_balance");
    assert_eq!(
        deposit.body["balance"].as_i64().unwrap(),
        second.body["amount_due"].as_i64().unwrap() - 150_000,
        "the balance is what is left of the amount due, unique code included"
    );
    // A buyer's own cancellation is counted; a bad `by` is refused.
    let id = placed.body["id"].as_i64().unwrap();
    let bad = app
        .post(
            &format!("/api/v1/orders/{id}/cancel"),
            json!({"reason": "x", "by": "courier"}),
        )
        .await;
    assert_eq!(bad.code(), "invalid_cancelled_by");
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{id}/cancel"),
            json!({"reason": "tidak jadi", "by": "buyer"}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let buyer = app.get("/api/v1/customers/081234567890").await;
    assert_eq!(buyer.body["reliability"]["orders_cancelled_by_buyer"], 1);
}

async fn a_buyer_can_be_exported_and_erased(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS", 10, 150_000).await;
    assert_eq!(
        app.place("081234567890", "GAMIS", 1).await.status,
        StatusCode::CREATED
    );
    // They wrote, and staff answered: both are theirs to export and to have erased.
    let phone = lunas_core::Phone::parse("081234567890").unwrap();
    app.engine
        .log_inbound(phone.clone(), "kak alamat saya di Jl. Kenanga 4 ya")
        .await
        .unwrap();
    app.engine
        .reply(
            phone.clone(),
            "Siap kak, dicatat",
            lunas_core::conversations::ReplyChannel::Logged,
            None,
            lunas_core::Actor::from_stored("user:1".into()),
        )
        .await
        .unwrap();
    let export = app.get("/api/v1/customers/081234567890/export").await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    assert_eq!(export.body["customer"]["name"], "Sari Wulandari");
    assert_eq!(export.body["orders"].as_array().unwrap().len(), 1);
    assert_eq!(
        export.body["orders"][0]["events"].as_array().unwrap().len(),
        1
    );
    assert!(!export.body["messages"].as_array().unwrap().is_empty());
    assert_eq!(
        export.body["whatsapp_messages"][0]["body"],
        "kak alamat saya di Jl. Kenanga 4 ya"
    );
    assert_eq!(export.body["replies"][0]["body"], "Siap kak, dicatat");
    assert_eq!(export.body["replies"][0]["answered_by"], "staff");

    let erased = app
        .post("/api/v1/customers/081234567890/erase", json!({}))
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
    let pseudonym = erased.body["pseudonym"].as_str().unwrap().to_owned();
    assert!(pseudonym.starts_with("erased-"), "{pseudonym}");
    assert_eq!(erased.body["reliability"]["orders_placed"], 1);
    let again = app
        .post("/api/v1/customers/+6281234567890/erase", json!({}))
        .await;
    assert_eq!(
        (again.status, again.body["pseudonym"].as_str()),
        (StatusCode::OK, Some(pseudonym.as_str()))
    );
    assert_eq!(
        app.get("/api/v1/customers/081234567890/export")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let conversation = app.get("/api/v1/conversations/081234567890").await;
    assert_eq!(
        conversation.body["messages"],
        json!([]),
        "nothing left under the number"
    );
    assert_eq!(conversation.body["signals"]["messages"], 0);
    assert!(
        app.engine
            .store()
            .chat_counts(phone)
            .await
            .unwrap()
            .is_none()
    );
    let order = app.get("/api/v1/orders/1").await;
    assert_eq!(order.body["customer"]["phone"], pseudonym.as_str());
    assert_eq!(order.body["customer"]["name"], "");
    assert_eq!(order.body["total"], 150_000, "the money stays");
    assert_eq!(
        app.post("/api/v1/customers/081299990000/erase", json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post("/api/v1/customers/0899/erase", json!({}))
            .await
            .code(),
        "not_found"
    );
}

lunas_store::on_both_backends!(
    a_buyer_can_be_exported_and_erased,
    buyers_have_a_reliability_record_a_band_and_staff_can_pin_and_note_them,
    a_buyer_in_watch_cannot_choose_cod,
);
