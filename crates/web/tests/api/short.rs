//! Money that is almost right: the total without its unique code pays the order, the difference
//! written off; a larger shortfall staff may accept as paid ("terima sebagai lunas").

use super::*;

async fn put_settings(app: &TestApp, patch: Value) -> Reply {
    app.send(
        Method::PUT,
        "/api/v1/settings",
        Some(patch.to_string()),
        &[],
    )
    .await
}

async fn the_total_without_its_unique_code_pays_the_order(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let placed = app.place("081234567890", "GAMIS-01", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let code = placed.body["unique_code"].as_i64().unwrap();
    assert!(code > 0);
    let paid = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            json!({"amount": 150_000, "reference": "BCA lupa kode"}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(paid.body["status"], "paid");
    assert_eq!(paid.body["amount_paid"], 150_000);
    assert_eq!(paid.body["written_off"], code);
    assert_eq!(paid.body["balance"], 0);
    let events = paid.body["events"].as_array().unwrap();
    assert_eq!(
        events.last().unwrap()["reason"],
        format!("paid in full; {code} short, written off")
    );
    let product = app.get("/api/v1/products/GAMIS-01").await;
    assert_eq!(
        (
            product.body["on_hand"].as_i64(),
            product.body["reserved"].as_i64()
        ),
        (Some(4), Some(0))
    );

    // The seller's own tolerance: Rp1.000 lets a transfer Rp1.000 short of the amount due pay.
    assert_eq!(
        put_settings(&app, json!({"payments": {"short_tolerance": 1000}}))
            .await
            .status,
        StatusCode::OK
    );
    let placed = app.place("081298765432", "GAMIS-01", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let due = placed.body["amount_due"].as_i64().unwrap();
    let paid = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            json!({"amount": due - 1000}),
        )
        .await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.body);
    assert_eq!(paid.body["written_off"], 1000);
}

async fn a_shortfall_beyond_the_tolerance_waits_until_staff_accept_it(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    assert_eq!(
        put_settings(&app, json!({"payments": {"short_tolerance": 0}}))
            .await
            .status,
        StatusCode::OK
    );
    for bad in [json!(-1), json!(1_000_001), json!("banyak")] {
        let reply = put_settings(&app, json!({"payments": {"short_tolerance": bad}})).await;
        assert_eq!(reply.code(), "invalid_settings", "{bad}");
    }
    let placed = app.place("081234567890", "GAMIS-01", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let due = placed.body["amount_due"].as_i64().unwrap();
    let accept = format!("/api/v1/orders/{id}/accept-as-paid");

    // Nothing paid yet: accepting it would give the goods away.
    let refused = app.post(&accept, json!({"reason": "kenal baik"})).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "nothing_paid")
    );

    let partial = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            json!({"amount": 150_000}),
        )
        .await;
    assert_eq!(partial.body["status"], "awaiting_payment", "no tolerance");
    assert_eq!(partial.body["balance"], due - 150_000);

    for (body, code) in [
        (json!({"reason": "  "}), "invalid_reason"),
        (json!({}), "invalid_request"),
        (json!({"reason": "x", "amount": 1}), "invalid_request"),
    ] {
        let reply = app.post(&accept, body.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{body}"
        );
    }
    let accepted = app
        .post(&accept, json!({"reason": "pembeli lupa kode unik"}))
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(accepted.body["status"], "paid");
    assert_eq!(accepted.body["written_off"], due - 150_000);
    assert_eq!(accepted.body["balance"], 0);
    let last = accepted.body["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["reason"],
        format!(
            "accepted as paid; {} written off: pembeli lupa kode unik",
            due - 150_000
        )
    );
    // The buyer is told the payment arrived; the audit log says who let the money go.
    let messages = app.get(&format!("/api/v1/orders/{id}/messages")).await;
    assert!(
        messages
            .body
            .as_array()
            .expect("a list of messages")
            .iter()
            .any(|m| m["kind"] == "payment_received"),
        "{}",
        messages.body
    );
    let audit = app.engine.audit_log(None, 10).await.unwrap();
    let line = audit
        .iter()
        .find(|l| l.action == "order.accept_short")
        .expect("an audit line");
    assert_eq!(line.subject, format!("#{id}"));
    // Once only.
    let again = app.post(&accept, json!({"reason": "lagi"})).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
}

async fn a_statement_line_of_the_bare_total_pays_the_one_order_it_can_be(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    app.put_product("MADU-500", 5, 95_000).await;
    // Two open orders of Rp150.000 (which one a bare Rp150.000 is for, nobody can tell) and one
    // of Rp95.000.
    app.place("081234567890", "GAMIS-01", 1).await;
    app.place("081298765432", "GAMIS-01", 1).await;
    let madu = app.place("081311112222", "MADU-500", 1).await;
    let id = madu.body["id"].as_i64().unwrap();
    let code = madu.body["unique_code"].as_i64().unwrap();
    let csv = "date,description,amount,balance\n\
               2026-11-22,TRSF E-BANKING CR RINA,95000,1000000\n\
               2026-11-22,TRSF E-BANKING CR SARI,150000,1150000\n";
    let imported = app
        .send(
            Method::POST,
            "/api/v1/statements",
            Some(csv.to_owned()),
            &[("content-type", "text/csv")],
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(
        (&imported.body["matched"], &imported.body["review"]),
        (&json!(1), &json!(1)),
        "{}",
        imported.body
    );
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["status"], "paid", "{}", order.body);
    assert_eq!(order.body["written_off"], code);
}

lunas_store::on_both_backends!(
    a_statement_line_of_the_bare_total_pays_the_one_order_it_can_be,
    the_total_without_its_unique_code_pays_the_order,
    a_shortfall_beyond_the_tolerance_waits_until_staff_accept_it,
);
