use super::*;

/// A Midtrans notification signed with the test server's key.
fn midtrans_notification(order_id: i64, status: &str, amount: i64, transaction: &str) -> String {
    let status_code = if status == "settlement" { "200" } else { "201" };
    let gross = format!("{amount}.00");
    json!({
        "transaction_status": status,
        "transaction_id": transaction,
        "status_code": status_code,
        "gross_amount": gross,
        "order_id": order_id.to_string(),
        "payment_type": "bank_transfer",
        "fraud_status": "accept",
        "signature_key": lunas_engine::gateways::midtrans_signature(
            &order_id.to_string(), status_code, &gross, MIDTRANS_KEY),
    })
    .to_string()
}

impl TestApp {
    /// Posts to a callback route as a gateway would: no API token, its own headers. What is
    /// posted to Midtrans's route, Midtrans's status API knows too (a genuine notification).
    async fn callback(&self, path: &str, body: String, headers: &[(&str, &str)]) -> Reply {
        if path == "/callbacks/midtrans" && serde_json::from_str::<Value>(&body).is_ok() {
            self.midtrans.learn(body.as_bytes());
        }
        let mut all = vec![("authorization", "")];
        all.extend_from_slice(headers);
        self.send(Method::POST, path, Some(body), &all).await
    }

    async fn statement(&self, csv: &str, query: &str) -> Reply {
        self.send(
            Method::POST,
            &format!("/api/v1/statements{query}"),
            Some(csv.to_owned()),
            &[("content-type", "text/csv")],
        )
        .await
    }
}

async fn a_statement_upload_pays_orders_and_lists_the_rest_for_review(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    let placed = app.place("081234567890", "A", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let code = placed.body["unique_code"].as_i64().unwrap();
    let due = placed.body["amount_due"].as_i64().unwrap();
    assert_eq!(due, 150_000 + code, "amount_due is the total plus the code");
    assert!((1..=999).contains(&code));
    assert_eq!(placed.body["balance"], due);
    let csv = format!(
        "date,description,amount,balance\n\
         22/11/2026,TRSF E-BANKING CR SARI,{due},1000000\n\
         2026-11-22,TRSF E-BANKING CR ANDI,75000,1075000\n\
         2026-11-22,BIAYA ADM,-6500,1068500\n"
    );
    let imported = app.statement(&csv, "").await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(
        (
            &imported.body["matched"],
            &imported.body["review"],
            &imported.body["duplicates"],
            &imported.body["ignored"]
        ),
        (&json!(1), &json!(1), &json!(0), &json!(1))
    );
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["status"], "paid");
    assert_eq!(order.body["payments"][0]["source"], "statement");
    let again = app.statement(&csv, "").await;
    assert_eq!(again.body["duplicates"], 2, "{}", again.body);
    let review = app.get("/api/v1/payments/review").await;
    assert_eq!(review.status, StatusCode::OK);
    let items = review.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "unmatched");
    assert_eq!(items[0]["amount"], 75_000);
    assert_eq!(items[0]["detail"]["description"], "TRSF E-BANKING CR ANDI");
    assert_eq!(items[0]["assignable"], true);
    // Staff assign it to Andi's order, which it pays in part.
    let andi = app.place("081311112222", "A", 1).await;
    let andi_id = andi.body["id"].as_i64().unwrap();
    let review_id = items[0]["id"].as_i64().unwrap();
    let bad = app
        .post(
            &format!("/api/v1/payments/review/{review_id}/resolve"),
            json!({}),
        )
        .await;
    assert_eq!(bad.code(), "invalid_resolution");
    let resolved = app
        .post(
            &format!("/api/v1/payments/review/{review_id}/resolve"),
            json!({"order_id": andi_id}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    assert_eq!(resolved.body["status"], "resolved");
    let andi = app.get(&format!("/api/v1/orders/{andi_id}")).await;
    assert_eq!(andi.body["status"], "awaiting_payment");
    assert_eq!(andi.body["amount_paid"], 75_000);
    assert_eq!(
        app.post(
            &format!("/api/v1/payments/review/{review_id}/resolve"),
            json!({"note": "sudah"})
        )
        .await
        .code(),
        "review_resolved"
    );
    assert_eq!(
        app.post("/api/v1/payments/review/99/resolve", json!({"note": "x"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        app.get("/api/v1/payments/review").await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.get("/api/v1/payments/review?all=true").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn a_statement_with_bad_lines_is_refused_whole_with_their_line_numbers(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    let placed = app.place("081234567890", "A", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let due = placed.body["amount_due"].as_i64().unwrap();
    let csv = format!(
        "date,description,amount,balance\n\
         2026-11-22,TRSF SARI,{due},\n\
         2026-02-30,TANGGAL SALAH,5000,\n"
    );
    let refused = app.statement(&csv, "").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "malformed_lines");
    assert_eq!(refused.body["error"]["lines"][0]["line"], 3);
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}")).await.body["status"],
        "awaiting_payment",
        "nothing was imported"
    );
    let skipped = app.statement(&csv, "?skip_bad_lines=true").await;
    assert_eq!(skipped.status, StatusCode::OK, "{}", skipped.body);
    assert_eq!(skipped.body["matched"], 1);
    assert_eq!(skipped.body["bad_lines"][0]["line"], 3);
    assert_eq!(
        app.statement("no header here\n", "").await.code(),
        "invalid_statement"
    );
    assert_eq!(
        app.statement(&csv, "?skip_bad_lines=maybe").await.code(),
        "invalid_query"
    );
    let not_utf8 = app
        .send(
            Method::POST,
            "/api/v1/statements",
            Some(String::from_utf8_lossy(&[0xff, 0xfe]).into_owned()),
            &[],
        )
        .await;
    assert_eq!(not_utf8.status, StatusCode::UNPROCESSABLE_ENTITY);
    let anonymous = app
        .send(
            Method::POST,
            "/api/v1/statements",
            Some(csv),
            &[("authorization", "")],
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn gateway_callbacks_are_authenticated_by_their_signature(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    let placed = app.place("081234567890", "A", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let due = placed.body["amount_due"].as_i64().unwrap();
    // A forged notification: 401, and nothing changes.
    let mut forged: Value =
        serde_json::from_str(&midtrans_notification(id, "settlement", due, "tx-1")).unwrap();
    forged["signature_key"] = json!("00".repeat(64));
    let refused = app
        .callback("/callbacks/midtrans", forged.to_string(), &[])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "invalid_signature");
    assert!(!refused.body.to_string().contains(MIDTRANS_KEY));
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}")).await.body["status"],
        "awaiting_payment"
    );
    // For an unknown order: 404, kept for review.
    let unknown = app
        .callback(
            "/callbacks/midtrans",
            midtrans_notification(4242, "settlement", 99_000, "tx-9"),
            &[],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "unknown_order");
    let review = app.get("/api/v1/payments/review").await;
    assert_eq!(review.body["items"][0]["kind"], "unknown_order");
    assert_eq!(review.body["items"][0]["source"], "midtrans");
    // Signed and right: paid. Not JSON: 400 (after the signature could not even be read: 401).
    let paid = app
        .callback(
            "/callbacks/midtrans",
            midtrans_notification(id, "settlement", due, "tx-1"),
            &[],
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(paid.body["outcome"], "recorded");
    assert_eq!(paid.body["order_status"], "paid");
    let pending = app
        .callback(
            "/callbacks/midtrans",
            midtrans_notification(id, "pending", due, "tx-1"),
            &[],
        )
        .await;
    assert_eq!(
        pending.body["order_status"], "paid",
        "out of order: stays paid"
    );
    let garbled = app.callback("/callbacks/midtrans", "{".into(), &[]).await;
    assert_eq!(garbled.code(), "malformed_notification");
    // A signed pending notification with its status rewritten: 401, nothing recorded.
    let third = app.place("081234567890", "A", 1).await;
    let third_id = third.body["id"].as_i64().unwrap();
    let third_due = third.body["amount_due"].as_i64().unwrap();
    let mut rewritten: Value = serde_json::from_str(&midtrans_notification(
        third_id, "pending", third_due, "tx-3",
    ))
    .unwrap();
    rewritten["transaction_status"] = json!("settlement");
    let refused = app
        .send(
            Method::POST,
            "/callbacks/midtrans",
            Some(rewritten.to_string()),
            &[("authorization", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "status_mismatch");
    // Midtrans's status API down: 503, so Midtrans delivers it again; kept for review meanwhile.
    app.midtrans.set_down(true);
    let unconfirmed = app
        .callback(
            "/callbacks/midtrans",
            midtrans_notification(third_id, "settlement", third_due, "tx-3"),
            &[],
        )
        .await;
    app.midtrans.set_down(false);
    assert_eq!(unconfirmed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(unconfirmed.code(), "gateway_unconfirmed");
    assert_eq!(
        app.get(&format!("/api/v1/orders/{third_id}")).await.body["status"],
        "awaiting_payment"
    );
    let review = app.get("/api/v1/payments/review").await;
    assert!(
        review.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["kind"] == "gateway_unconfirmed" && item["order_id"] == third_id),
        "{}",
        review.body
    );
    // Xendit: the callback token, compared as given.
    let second = app.place("081234567890", "A", 1).await;
    let second_id = second.body["id"].as_i64().unwrap();
    let invoice = json!({"id": "inv-77", "external_id": second_id.to_string(), "status": "PAID",
                         "paid_amount": second.body["amount_due"]})
    .to_string();
    let wrong = app
        .callback(
            "/callbacks/xendit",
            invoice.clone(),
            &[("x-callback-token", "salah")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let missing = app
        .callback("/callbacks/xendit", invoice.clone(), &[])
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let paid = app
        .callback(
            "/callbacks/xendit",
            invoice,
            &[("x-callback-token", XENDIT_TOKEN)],
        )
        .await;
    assert_eq!(paid.body["order_status"], "paid", "{}", paid.body);
    // Without a mutation secret configured the route is not there for a signed delivery; an
    // unsigned one is refused as unsigned, as the document's required header says.
    assert_eq!(
        app.callback("/callbacks/mutations", "[]".into(), &[("signature", "abc")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.callback("/callbacks/mutations", "[]".into(), &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn the_same_settlement_ten_times_concurrently_through_http_records_one_payment(
    backend: Backend,
) {
    let app = Arc::new(spawn_app(backend).await);
    app.put_product("A", 5, 150_000).await;
    let placed = app.place("081234567890", "A", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let due = placed.body["amount_due"].as_i64().unwrap();
    let body = midtrans_notification(id, "settlement", due, "tx-replayed");
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let app = app.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            app.callback("/callbacks/midtrans", body, &[]).await
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        outcomes.push(reply.body["outcome"].as_str().unwrap().to_owned());
    }
    outcomes.sort();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "recorded").count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(outcomes.iter().filter(|o| *o == "duplicate").count(), 9);
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["payments"].as_array().unwrap().len(), 1);
    assert_eq!(order.body["payments"][0]["external_id"], "tx-replayed");
    let messages = app.get(&format!("/api/v1/orders/{id}/messages")).await;
    let received = messages
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "payment_received")
        .count();
    assert_eq!(received, 1, "one payment-received message");
}

/// A local stand-in for Midtrans Snap and Xendit's invoices: answers like them and keeps what it
/// was sent.
async fn fake_gateway() -> (String, Arc<std::sync::Mutex<Vec<(String, String, Value)>>>) {
    use axum::routing::post;
    let seen: Arc<std::sync::Mutex<Vec<(String, String, Value)>>> = Default::default();
    let keep = seen.clone();
    let app = axum::Router::new()
        .route(
            "/snap/v1/transactions",
            post({
                let keep = keep.clone();
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                    let auth = headers["authorization"].to_str().unwrap().to_owned();
                    let body: Value = serde_json::from_slice(&body).unwrap();
                    keep.lock().unwrap().push(("midtrans".into(), auth, body));
                    (
                        axum::http::StatusCode::CREATED,
                        axum::Json(json!({"token": "snap-tok", "redirect_url": "https://app.sandbox.midtrans.com/snap/v4/redirection/snap-tok"})),
                    )
                }
            }),
        )
        .route(
            "/v2/invoices",
            post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                let auth = headers["authorization"].to_str().unwrap().to_owned();
                let body: Value = serde_json::from_slice(&body).unwrap();
                keep.lock().unwrap().push(("xendit".into(), auth, body));
                axum::Json(json!({"id": "inv-1", "invoice_url": "https://checkout-staging.xendit.co/web/inv-1"}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

async fn a_payment_page_is_made_at_the_gateway_and_messages_point_to_it(backend: Backend) {
    let (base, seen) = fake_gateway().await;
    let app = spawn_app_with(backend, &base).await;
    app.put_product("A", 5, 150_000).await;
    let placed = app.place("081234567890", "A", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let linked = app
        .post(
            &format!("/api/v1/orders/{id}/payment-link"),
            json!({"gateway": "midtrans"}),
        )
        .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    let url = "https://app.sandbox.midtrans.com/snap/v4/redirection/snap-tok";
    assert_eq!(linked.body["payment_url"], url);
    {
        let seen = seen.lock().unwrap();
        let (gateway, auth, body) = &seen[0];
        assert_eq!(gateway, "midtrans");
        use base64::Engine as _;
        let expected = base64::engine::general_purpose::STANDARD.encode(format!("{MIDTRANS_KEY}:"));
        assert_eq!(auth, &format!("Basic {expected}"));
        assert_eq!(body["transaction_details"]["order_id"], id.to_string());
        assert_eq!(
            body["transaction_details"]["gross_amount"],
            placed.body["amount_due"]
        );
    }
    let preview = app
        .post(
            "/api/v1/templates/preview",
            json!({"kind": "reminder", "order_id": id}),
        )
        .await;
    assert!(
        preview.body["body"].as_str().unwrap().contains(url),
        "{}",
        preview.body
    );
    // Xendit here has no secret key; an unknown gateway and a paid order are refused.
    assert_eq!(
        app.post(
            &format!("/api/v1/orders/{id}/payment-link"),
            json!({"gateway": "xendit"})
        )
        .await
        .code(),
        "gateway_not_configured"
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/orders/{id}/payment-link"),
            json!({"gateway": "paypal"})
        )
        .await
        .code(),
        "invalid_gateway"
    );
    app.post(
        &format!("/api/v1/orders/{id}/payments"),
        json!({"amount": placed.body["amount_due"]}),
    )
    .await;
    assert_eq!(
        app.post(
            &format!("/api/v1/orders/{id}/payment-link"),
            json!({"gateway": "midtrans"})
        )
        .await
        .code(),
        "nothing_to_pay"
    );
    assert_eq!(
        app.post(
            "/api/v1/orders/999/payment-link",
            json!({"gateway": "midtrans"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

lunas_store::on_both_backends!(
    a_statement_upload_pays_orders_and_lists_the_rest_for_review,
    a_statement_with_bad_lines_is_refused_whole_with_their_line_numbers,
    gateway_callbacks_are_authenticated_by_their_signature,
    the_same_settlement_ten_times_concurrently_through_http_records_one_payment,
    a_payment_page_is_made_at_the_gateway_and_messages_point_to_it,
);
