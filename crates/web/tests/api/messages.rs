use super::*;

async fn an_orders_messages_and_the_manual_whatsapp_queue(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    let id = app.place("081234567890", "A", 1).await.body["id"]
        .as_i64()
        .unwrap();
    let messages = app.get(&format!("/api/v1/orders/{id}/messages")).await;
    assert_eq!(messages.status, StatusCode::OK);
    let first = messages.body[0].clone();
    assert_eq!(
        (
            first["kind"].as_str(),
            first["status"].as_str(),
            first["channel"].as_str()
        ),
        (
            Some("order_received"),
            Some("pending"),
            Some("manual_whatsapp")
        )
    );
    assert_eq!(first["to"], "+6281234567890");
    assert_eq!(first["attempts"], 0);
    assert!(
        first["body"].as_str().unwrap().starts_with("Halo Bu Sari"),
        "{first}"
    );
    assert!(
        first["link"]
            .as_str()
            .unwrap()
            .starts_with("https://wa.me/6281234567890?text=")
    );

    let queue = app.get("/api/v1/messages/manual-queue").await;
    assert_eq!(queue.body.as_array().unwrap().len(), 1);
    let message_id = first["id"].as_str().unwrap();
    let sent = app
        .post(&format!("/api/v1/messages/{message_id}/sent"), json!({}))
        .await;
    assert_eq!(
        (
            sent.status,
            sent.body["status"].as_str(),
            sent.body["sent_by"].as_str()
        ),
        (StatusCode::OK, Some("sent"), Some("api:test"))
    );
    let twice = app
        .post(&format!("/api/v1/messages/{message_id}/sent"), json!({}))
        .await;
    assert_eq!(
        (twice.status.as_u16(), twice.code()),
        (409, "invalid_message_state")
    );
    let replay = app
        .post(&format!("/api/v1/messages/{message_id}/replay"), json!({}))
        .await;
    assert_eq!(
        (replay.status.as_u16(), replay.code()),
        (409, "invalid_message_state")
    );
    assert_eq!(
        app.post("/api/v1/messages/msg_nope/sent", json!({}))
            .await
            .code(),
        "not_found"
    );
    assert!(
        app.get("/api/v1/messages/manual-queue")
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.get("/api/v1/orders/999/messages").await.code(),
        "not_found"
    );
}

async fn templates_are_previewed_against_a_real_order_and_broken_ones_are_refused_when_saved(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    let placed = app.place("081234567890", "A", 1).await;
    let due = lunas_core::messages::format_rupiah(placed.body["amount_due"].as_i64().unwrap());
    let id = placed.body["id"].as_i64().unwrap();
    let preview = app
        .post(
            "/api/v1/templates/preview",
            json!({"kind": "reminder", "order_id": id}),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{:?}", preview.body);
    let text = preview.body["body"].as_str().unwrap();
    assert!(
        text.contains("Halo Bu Sari")
            && text.contains(&due)
            && text.contains("Senin, 23 November 2026 pukul 10.00 WIB"),
        "{text}"
    );
    let custom = app.post("/api/v1/templates/preview", json!({"kind": "reminder", "order_id": id, "template": "{{ buyer.greeting }}, total {{ order.total }}"})).await;
    assert_eq!(custom.body["body"], "Bu Sari, total Rp150.000");
    for (body, code) in [
        (
            json!({"kind": "reminder", "order_id": id, "template": "{{ nope }}"}),
            "invalid_template",
        ),
        (
            json!({"kind": "reminder", "order_id": id, "template": "{% if %}"}),
            "invalid_template",
        ),
        (json!({"kind": "gossip", "order_id": id}), "invalid_kind"),
        (json!({"kind": "reminder", "order_id": 999}), "not_found"),
    ] {
        assert_eq!(
            app.post("/api/v1/templates/preview", body.clone())
                .await
                .code(),
            code,
            "{body}"
        );
    }
    for patch in [
        json!({"templates": {"id": {"reminder": "Halo {{ pembeli }}"}}}),
        json!({"templates": {"id": {"cancelled": "{% for %}"}}}),
        json!({"reminders": {"qris": {"steps": [{"after_order": "5m", "template": "{{ x.y }}"}], "max_count": 1}}}),
    ] {
        let reply = app
            .send(
                Method::PUT,
                "/api/v1/settings",
                Some(patch.to_string()),
                &[],
            )
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (422, "invalid_template"),
            "{patch}"
        );
    }
    for (patch, code) in [
        (
            json!({"reminders": {"qris": {"steps": [{"after_order": "0s"}], "max_count": 1}}}),
            "invalid_settings",
        ),
        (
            json!({"reminders": {"qris": {"steps": [{"before_deadline": "2h"}], "max_count": 1}}}),
            "invalid_settings",
        ),
        (
            json!({"quiet_hours": {"start": "25:00", "end": "08:00"}}),
            "invalid_settings",
        ),
        (json!({"language": "fr"}), "invalid_settings"),
        (
            json!({"payment_link": "ftp://pay.example"}),
            "invalid_settings",
        ),
    ] {
        let reply = app
            .send(
                Method::PUT,
                "/api/v1/settings",
                Some(patch.to_string()),
                &[],
            )
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (422, code),
            "{patch}"
        );
    }
    let saved = app
        .send(Method::PUT, "/api/v1/settings", Some(json!({"templates": {"id": {"order_received": "Siap {{ buyer.greeting }}, ditunggu ya"}}}).to_string()), &[])
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    let id = app.place("081311112222", "A", 1).await.body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/orders/{id}/messages")).await.body[0]["body"],
        "Siap Bu Sari, ditunggu ya"
    );
}

async fn a_buyer_can_be_opted_out_of_reminders(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    app.place("081234567890", "A", 1).await;
    let off = app
        .send(
            Method::PUT,
            "/api/v1/customers/0812-3456-7890/reminders",
            Some(json!({"enabled": false}).to_string()),
            &[],
        )
        .await;
    assert_eq!(
        (off.status, off.body["reminders_enabled"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let read = app.get("/api/v1/customers/+6281234567890/reminders").await;
    assert_eq!(read.body["reminders_enabled"], false);
    assert_eq!(
        app.get("/api/v1/customers/081399998888/reminders")
            .await
            .code(),
        "not_found"
    );
    let unknown = app
        .send(
            Method::PUT,
            "/api/v1/customers/081399998888/reminders",
            Some(json!({"enabled": false}).to_string()),
            &[],
        )
        .await;
    assert_eq!(unknown.code(), "not_found");
    let garbage = app
        .send(
            Method::PUT,
            "/api/v1/customers/halo/reminders",
            Some(json!({"enabled": false}).to_string()),
            &[],
        )
        .await;
    assert_eq!(garbage.code(), "not_found");
}

async fn webhook_endpoints_show_their_secret_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://hooks.example.com/lunas"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert!(
        created.body["secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    let id = created.body["id"].as_str().unwrap().to_owned();
    let listed = app.get("/api/v1/webhooks").await;
    assert_eq!(listed.body[0]["id"], id.as_str());
    assert!(
        listed.body[0].get("secret").is_none(),
        "the secret is never listed"
    );
    for url in [
        "ftp://hooks.example.com/",
        "http://127.0.0.1:9000/",
        "http://192.168.1.10/hook",
        "not a url",
    ] {
        assert_eq!(
            app.post("/api/v1/webhooks", json!({"url": url}))
                .await
                .code(),
            "invalid_webhook_url",
            "{url}"
        );
    }
    assert_eq!(
        app.send(Method::DELETE, &format!("/api/v1/webhooks/{id}"), None, &[])
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.send(Method::DELETE, &format!("/api/v1/webhooks/{id}"), None, &[])
            .await
            .code(),
        "not_found"
    );
    // Changes through the API are in the audit log, as the dashboard's are: once each.
    let audit = app.engine.audit_log(None, 20).await.unwrap();
    let lines: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|l| (l.action.as_str(), l.actor.as_str(), l.subject.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (
                "webhook.delete",
                "api:test",
                "https://hooks.example.com/lunas"
            ),
            ("webhook.add", "api:test", "https://hooks.example.com/lunas"),
        ],
        "{audit:?}"
    );
}

async fn whatsapp_webhooks_are_verified_and_the_buyers_messages_kept(backend: Backend) {
    use hmac::{Hmac, Mac};
    let app = spawn_app(backend).await;
    app.put_product("A", 5, 150_000).await;
    app.place("081234567890", "A", 1).await;
    let challenge = app
        .send(Method::GET, "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=vt-rahasia&hub.challenge=1158201444", None, &[("authorization", "")])
        .await;
    assert_eq!(
        (challenge.status, challenge.body.clone()),
        (StatusCode::OK, json!(1158201444))
    );
    let wrong = app
        .send(
            Method::GET,
            "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
            None,
            &[("authorization", "")],
        )
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.code()),
        (403, "invalid_verify_token")
    );

    let payload = json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [
        {"from": "6281234567890", "id": "wamid.A1", "timestamp": "1795000000", "type": "text", "text": {"body": "kak, sudah transfer ya"}}
    ]}}]}]})
    .to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"app-rahasia").unwrap();
    mac.update(payload.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let forged = app
        .send(
            Method::POST,
            "/webhooks/whatsapp",
            Some(payload.clone()),
            &[("authorization", ""), ("x-hub-signature-256", "sha256=00")],
        )
        .await;
    assert_eq!(
        (forged.status.as_u16(), forged.code()),
        (401, "invalid_signature")
    );
    let unsigned = app
        .send(
            Method::POST,
            "/webhooks/whatsapp",
            Some(payload.clone()),
            &[("authorization", "")],
        )
        .await;
    assert_eq!(
        (unsigned.status.as_u16(), unsigned.code()),
        (401, "invalid_signature")
    );
    let phone = lunas_core::Phone::parse("081234567890").unwrap();
    assert_eq!(
        app.store.last_inbound_at(phone.clone()).await.unwrap(),
        None,
        "a forged or unsigned delivery records nothing"
    );
    let real = app
        .send(
            Method::POST,
            "/webhooks/whatsapp",
            Some(payload),
            &[("authorization", ""), ("x-hub-signature-256", &signature)],
        )
        .await;
    assert_eq!(real.status, StatusCode::OK);
    assert_eq!(
        app.store
            .last_inbound_at(phone)
            .await
            .unwrap()
            .map(|t| t.as_second()),
        Some(1_795_000_000)
    );
    // A body past the limit is refused in the JSON error format, like every other route.
    let huge = app
        .send(
            Method::POST,
            "/webhooks/whatsapp",
            Some("x".repeat(lunas_web::REQUEST_BODY_BYTES_MAX + 1)),
            &[("authorization", ""), ("x-hub-signature-256", &signature)],
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.code(), "body_too_large");
}

lunas_store::on_both_backends!(
    an_orders_messages_and_the_manual_whatsapp_queue,
    templates_are_previewed_against_a_real_order_and_broken_ones_are_refused_when_saved,
    a_buyer_can_be_opted_out_of_reminders,
    webhook_endpoints_show_their_secret_once,
    whatsapp_webhooks_are_verified_and_the_buyers_messages_kept,
);
