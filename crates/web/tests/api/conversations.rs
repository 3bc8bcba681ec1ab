//! Conversations: WhatsApp's messages of every kind and lunas's own messages webhook, each kept
//! once however often it is delivered, read back with what lunas sent; signatures computed by
//! Python's `hmac`, so the server is checked against an implementation that is not its own.

use super::*;

/// `python3 -c <script> <args…>`'s output, trimmed (the standard library only: `hmac`).
fn python(script: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// WhatsApp's `X-Hub-Signature-256` of `body` under the app secret.
fn hub_signature(secret: &str, body: &str) -> String {
    python(
        "import hmac, hashlib, sys; print('sha256=' + hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())",
        &[secret, body],
    )
}

/// Standard Webhooks' `webhook-signature` of `body` sent as `id` at `timestamp`.
/// Delivers `body` to the WhatsApp webhook with `signature` (`sha256=…`, as Meta signs it).
async fn post_whatsapp(app: &TestApp, body: &str, signature: &str) -> Reply {
    app.send(
        Method::POST,
        "/webhooks/whatsapp",
        Some(body.to_owned()),
        &[("authorization", ""), ("x-hub-signature-256", signature)],
    )
    .await
}

/// One delivery to lunas's own messages webhook, signed with the test secret as Standard Webhooks
/// sign it (or carrying `signature` when given).
async fn post_message(
    app: &TestApp,
    id: &str,
    at: i64,
    body: &str,
    signature: Option<String>,
) -> Reply {
    let signature = signature.unwrap_or_else(|| standard_signature(MESSAGES_SECRET, id, at, body));
    app.send(
        Method::POST,
        "/webhooks/messages",
        Some(body.to_owned()),
        &[
            ("authorization", ""),
            ("webhook-id", id),
            ("webhook-timestamp", &at.to_string()),
            ("webhook-signature", &signature),
        ],
    )
    .await
}

fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    python(
        "import hmac, hashlib, base64, sys\n\
         key = base64.b64decode(sys.argv[1].removeprefix('whsec_'))\n\
         signed = f'{sys.argv[2]}.{sys.argv[3]}.{sys.argv[4]}'.encode()\n\
         print('v1,' + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode())",
        &[secret, id, &timestamp.to_string(), body],
    )
}

async fn whatsapp_messages_of_every_kind_appear_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let payload = json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {
        "messages": [
            {"from": "6281234567890", "id": "wamid.A", "timestamp": "1795000000", "type": "text", "text": {"body": "ready kak?"}},
            {"from": "6281234567890", "id": "wamid.B", "timestamp": "1795000060", "type": "interactive",
             "interactive": {"type": "list_reply", "list_reply": {"id": "r1", "title": "Size L", "description": "Hitam"}}},
            {"from": "6281234567890", "id": "wamid.C", "timestamp": "1795000120", "type": "image", "image": {"id": "m", "caption": "yg ini msh ada?"}},
            {"from": "6281234567890", "id": "wamid.D", "timestamp": "1795000180", "type": "order", "order": {}},
            {"from": "12", "id": "wamid.E", "timestamp": "1795000240", "type": "text", "text": {"body": "halo"}}
        ],
        "statuses": [{"id": "wamid.OUT", "status": "read", "timestamp": "1795000200", "recipient_id": "6281234567890"}]
    }}]}]})
    .to_string();
    let signature = hub_signature("app-rahasia", &payload);
    for _ in 0..3 {
        let sent = post_whatsapp(&app, &payload, &signature).await;
        assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.body);
    }
    let conversation = app.get("/api/v1/conversations/0812-3456-7890").await;
    assert_eq!(conversation.status, StatusCode::OK);
    let messages = conversation.body["messages"].as_array().unwrap();
    let seen: Vec<(&str, &str, Option<&str>)> = messages
        .iter()
        .map(|m| {
            (
                m["direction"].as_str().unwrap(),
                m["kind"].as_str().unwrap(),
                m["text"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("in", "text", Some("ready kak?")),
            ("in", "choice", Some("Size L — Hitam")),
            ("in", "image", Some("yg ini msh ada?")),
            ("in", "unknown", None),
        ]
    );
    assert_eq!(messages[0]["at"], "2026-11-18T11:06:40Z");
    assert!(messages.iter().all(|m| m["answered_by"].is_null()));
    // The number that does not read is kept too, under the digits it came with.
    let list = app.get("/api/v1/conversations").await;
    let phones: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["phone"].as_str().unwrap())
        .collect();
    assert_eq!(phones, vec!["+12", "+6281234567890"], "newest first");
    assert_eq!(list.body["items"][1]["inbound"], 4);
    // A bad signature keeps nothing.
    let forged = payload
        .replace("ready kak?", "gratis kak?")
        .replace("wamid.A", "wamid.Z");
    let refused = post_whatsapp(&app, &forged, &signature).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNAUTHORIZED, "invalid_signature")
    );
    assert_eq!(
        app.get("/api/v1/conversations").await.body["items"][1]["inbound"],
        4
    );
}

async fn the_messages_webhook_keeps_each_message_once_and_shows_replies(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = app.engine.now().as_second();
    let body = json!({"messages": [
        {"id": "m-1", "from": "0812 3456 7890", "text": "bisa cod gak"},
        {"id": "m-2", "from": "0812 3456 7890", "type": "image"}
    ]})
    .to_string();
    let first = post_message(&app, "msg_1", now, &body, None).await;
    assert_eq!(
        (first.status, first.body["kept"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{:?}",
        first.body
    );
    let again = post_message(&app, "msg_1", now, &body, None).await;
    assert_eq!(again.body["kept"], 0, "delivered again: kept once");

    for (response, status, code) in [
        (
            post_message(&app, "msg_2", now, &body, Some("v1,AAAA".into())).await,
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
        ),
        (
            post_message(&app, "msg_3", now - 3_600, &body, None).await,
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
        ),
        (
            post_message(
                &app,
                "msg_4",
                now,
                &json!({"id": "m-9", "from": "12", "text": "x"}).to_string(),
                None,
            )
            .await,
            StatusCode::BAD_REQUEST,
            "malformed_notification",
        ),
        (
            post_message(&app, "msg_5", now, "not json", None).await,
            StatusCode::BAD_REQUEST,
            "malformed_notification",
        ),
    ] {
        assert_eq!(
            (response.status, response.code()),
            (status, code),
            "{:?}",
            response.body
        );
    }
    let unsigned = app
        .send(
            Method::POST,
            "/webhooks/messages",
            Some(body.clone()),
            &[("authorization", "")],
        )
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);

    // They wrote on Sunday at 10:00 in Jakarta; on Monday at 10:00 they have waited two hours of
    // business time (the shop opens at 08:00 and is closed on Sundays).
    app.clock.advance(SignedDuration::from_hours(24));
    let waiting = app.get("/api/v1/conversations").await;
    let item = &waiting.body["items"][0];
    assert_eq!(item["waiting_since"], "2026-11-22T03:00:00Z", "{item}");
    assert_eq!(item["waiting_business_minutes"], 120);
    // The buyer orders; staff send the order's first message from the manual queue: it joins
    // the conversation as a message out, after the buyer's, and answers them.
    app.put_product("A", 5, 150_000).await;
    let id = app.place("081234567890", "A", 1).await.body["id"]
        .as_i64()
        .unwrap();
    let order_messages = app.get(&format!("/api/v1/orders/{id}/messages")).await;
    let message_id = order_messages.body[0]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/messages/{message_id}/sent"), json!({}))
        .await;
    let conversation = app.get("/api/v1/conversations/+6281234567890").await;
    let seen: Vec<(&str, &str)> = conversation.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["direction"].as_str().unwrap(),
                m["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![("in", "text"), ("in", "image"), ("out", "order_received")]
    );
    assert_eq!(
        conversation.body["messages"][2]["answered_by"],
        serde_json::Value::Null
    );
    // WhatsApp says what became of it: read, then a late "delivered" that changes nothing.
    for status in ["read", "delivered"] {
        let payload = json!({"entry": [{"changes": [{"value": {"statuses": [
            {"id": "wamid.OUT1", "status": status, "timestamp": "1795000300",
             "recipient_id": "6281234567890", "biz_opaque_callback_data": message_id}
        ]}}]}]})
        .to_string();
        let signature = hub_signature("app-rahasia", &payload);
        let sent = post_whatsapp(&app, &payload, &signature).await;
        assert_eq!(sent.status, StatusCode::OK);
    }
    let conversation = app.get("/api/v1/conversations/+6281234567890").await;
    assert_eq!(conversation.body["messages"][2]["delivery"], "read");
    // A number nobody wrote from has an empty conversation; a path that is no number, none.
    let empty = app.get("/api/v1/conversations/081299998888").await;
    assert_eq!(empty.body["messages"], json!([]));
    assert_eq!(
        app.get("/api/v1/conversations/bukan-nomor").await.status,
        StatusCode::NOT_FOUND
    );
    for query in ["limit=0", "limit=", "before=", "before=kemarin"] {
        let reply = app.get(&format!("/api/v1/conversations?{query}")).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_query"),
            "{query}"
        );
    }
}

async fn put_faq(app: &TestApp, id: &str, body: Value) -> Reply {
    app.send(
        Method::PUT,
        &format!("/api/v1/faq/{id}"),
        Some(body.to_string()),
        &[],
    )
    .await
}

async fn the_faq_is_kept_matched_and_refuses_what_does_not_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = put_faq(
        &app,
        "cod",
        json!({"questions": ["bisa cod?", "bisa bayar di tempat?", " bisa cod? "], "answer": "Bisa COD kak"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(
        created.body["questions"],
        json!(["bisa cod?", "bisa bayar di tempat?"])
    );
    assert!(
        app.put_product("FLANEL-L", 7, 149_000)
            .await
            .status
            .is_success()
    );
    let stock = put_faq(
        &app,
        "stok",
        json!({"questions": ["ready kak?", "stok masih ada?"], "answer": "{nama} ready {stok} pcs, {harga}", "sku": "FLANEL-L"}),
    )
    .await;
    assert_eq!(stock.status, StatusCode::CREATED, "{:?}", stock.body);
    let replaced = put_faq(
        &app,
        "cod",
        json!({"questions": ["bisa cod?", "cod bisa?"], "answer": "Bisa COD kak 😊"}),
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK);
    let listed = app.get("/api/v1/faq").await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);

    let matched = app
        .post("/api/v1/faq/match", json!({"text": "bisa cod gak kak"}))
        .await;
    assert_eq!(matched.status, StatusCode::OK);
    assert_eq!(matched.body["faq_id"], "cod");
    assert_eq!(matched.body["answer"], "Bisa COD kak 😊");
    assert!(matched.body["score"].as_f64().unwrap() >= 0.5);
    let product = app
        .post("/api/v1/faq/match", json!({"text": "msh ready kak??"}))
        .await;
    assert_eq!(product.body["faq_id"], "stok");
    assert_eq!(
        product.body["answer"],
        "Produk FLANEL-L ready 7 pcs, Rp149.000"
    );
    let nothing = app
        .post(
            "/api/v1/faq/match",
            json!({"text": "kak aku udah transfer ya"}),
        )
        .await;
    assert_eq!(nothing.status, StatusCode::OK);
    assert_eq!(nothing.body["faq_id"], Value::Null);
    assert_eq!(nothing.body["answer"], Value::Null);

    for (id, body, status, code) in [
        (
            "a%20b",
            json!({"questions": ["x"], "answer": "y"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_faq",
        ),
        (
            "x",
            json!({"questions": [], "answer": "y"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_faq",
        ),
        (
            "x",
            json!({"questions": ["halo kak"], "answer": "y"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_faq",
        ),
        (
            "x",
            json!({"questions": ["cod?"], "answer": "harga {price}"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_faq",
        ),
        (
            "x",
            json!({"questions": ["cod?"], "answer": "ok", "sku": "NOPE"}),
            StatusCode::CONFLICT,
            "unknown_sku",
        ),
    ] {
        let refused = put_faq(&app, id, body.clone()).await;
        assert_eq!((refused.status, refused.code()), (status, code), "{body}");
    }
    assert_eq!(
        app.get("/api/v1/faq").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let long = app
        .post("/api/v1/faq/match", json!({"text": "a".repeat(5000)}))
        .await;
    assert_eq!(
        (long.status, long.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_text")
    );
    let gone = app.send(Method::DELETE, "/api/v1/faq/cod", None, &[]).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let again = app.send(Method::DELETE, "/api/v1/faq/cod", None, &[]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

async fn a_buyers_question_gets_a_suggestion_and_a_correction_teaches_the_faq(backend: Backend) {
    let app = spawn_app(backend).await;
    put_faq(
        &app,
        "cod",
        json!({"questions": ["bisa cod?"], "answer": "Bisa COD kak"}),
    )
    .await;
    put_faq(
        &app,
        "ongkir",
        json!({"questions": ["ongkir ke kota saya berapa?"], "answer": "Kirim alamatnya kak"}),
    )
    .await;
    let payload = json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {
        "messages": [
            {"from": "6281234567890", "id": "wamid.Q1", "timestamp": "1795312800", "type": "text", "text": {"body": "bisa cod gak kak"}},
            {"from": "6281234567890", "id": "wamid.Q2", "timestamp": "1795312860", "type": "text", "text": {"body": "biaya antar ke bdg?"}}
        ]
    }}]}]})
    .to_string();
    let signature = hub_signature("app-rahasia", &payload);
    for _ in 0..2 {
        let sent = post_whatsapp(&app, &payload, &signature).await;
        assert_eq!(sent.status, StatusCode::OK);
    }
    let conversation = app.get("/api/v1/conversations/+6281234567890").await;
    let messages = conversation.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let signals = &conversation.body["signals"];
    assert_eq!(
        (
            signals["messages"].as_u64(),
            signals["haggles"].as_u64(),
            signals["orders_paid"].as_i64()
        ),
        (Some(2), Some(0), Some(0))
    );
    assert_eq!(signals["tire_kicker"], false);
    assert_eq!(
        (
            messages[0]["faq_id"].as_str(),
            messages[0]["faq_state"].as_str()
        ),
        (Some("cod"), Some("suggested"))
    );
    // "biaya antar" is not how the ongkir entry is asked: it waits for a person.
    assert_eq!(messages[1]["faq_state"], Value::Null);
    let listed = app.get("/api/v1/conversations").await;
    assert_eq!(listed.body["items"][0]["state"], "open");
    assert!(listed.body["items"][0]["waiting_since"].is_string());

    // Staff say the second is the ongkir question: it becomes one of its questions.
    let id = app
        .store
        .conversation(lunas_core::Phone::parse("+6281234567890").unwrap())
        .await
        .unwrap()[1]
        .inbound_id
        .unwrap();
    app.engine.correct_match(id, "ongkir").await.unwrap();
    let faq = app.get("/api/v1/faq").await;
    let ongkir = faq.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "ongkir")
        .unwrap()
        .clone();
    assert_eq!(
        ongkir["questions"],
        json!(["ongkir ke kota saya berapa?", "biaya antar ke bdg?"])
    );
    let matched = app
        .post(
            "/api/v1/faq/match",
            json!({"text": "biaya antar ke medan brp"}),
        )
        .await;
    assert_eq!(matched.body["faq_id"], "ongkir", "{:?}", matched.body);
    // Sending the suggestion answers the buyer (a wa.me link here: WhatsApp is not connected).
    let replied = app
        .engine
        .accept_suggestion(id, lunas_core::Actor::from_stored("user:1".into()))
        .await
        .unwrap();
    assert!(
        matches!(replied, lunas_engine::faq::Replied::OpenLink(ref url) if url.starts_with("https://wa.me/6281234567890?text=Kirim")),
        "{replied:?}"
    );
    let after = app.get("/api/v1/conversations/+6281234567890").await;
    let messages = after.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(
        (
            messages[2]["direction"].as_str(),
            messages[2]["answered_by"].as_str()
        ),
        (Some("out"), Some("bot"))
    );
    assert_eq!(messages[1]["faq_state"], "accepted");
    let listed = app.get("/api/v1/conversations").await;
    assert_eq!(listed.body["items"][0]["waiting_since"], Value::Null);
    assert!(
        app.engine
            .accept_suggestion(id, lunas_core::Actor::from_stored("user:1".into()))
            .await
            .is_err()
    );
    // Analitik counts the conversation: one number asked, the bot's answer was sent, its first
    // message waited for an answer that came (the bot's, sent by staff).
    let tz = app.engine.settings().time_zone();
    let today = lunas_core::analytics::local_day(app.engine.now().as_millisecond(), &tz);
    let chat = app
        .engine
        .conversation_metrics(today - 1, today)
        .await
        .unwrap();
    assert_eq!((chat.inquiries, chat.messages, chat.ordered), (1, 2, 0));
    assert_eq!((chat.bot_matched, chat.bot_answered), (2, 1));
    assert_eq!(
        chat.first_response.answered + chat.first_response.unanswered,
        1
    );
}

async fn a_format_order_by_chat_is_a_draft_and_not_a_question(backend: Backend) {
    let app = spawn_app(backend).await;
    assert!(
        app.put_product("KRD-1", 9, 65_000)
            .await
            .status
            .is_success()
    );
    put_faq(
        &app,
        "ready",
        json!({"questions": ["ready kak?"], "answer": "Ready kak"}),
    )
    .await;
    let body = json!({"id": "fo-1", "from": "081399990004",
        "text": "Nama: Dewi Lestari\nAlamat: Jl. Melati No. 5, Cimahi\nPesanan: Produk KRD-1 2 pcs\nready kak?"})
    .to_string();
    let now = app.engine.now().as_second();
    let sent = post_message(&app, "d-1", now, &body, None).await;
    assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.body);
    let conversation = app.get("/api/v1/conversations/081399990004").await;
    let message = &conversation.body["messages"][0];
    assert_eq!(message["format_order"], true, "{message}");
    assert_eq!(
        message["faq_state"],
        Value::Null,
        "the FAQ leaves an order alone"
    );
    // One line is no order, however much it names a product.
    let body = json!({"id": "fo-2", "from": "081399990004", "text": "Produk KRD-1 ready kak?"})
        .to_string();
    post_message(&app, "d-2", now, &body, None).await;
    let conversation = app.get("/api/v1/conversations/081399990004").await;
    let message = &conversation.body["messages"][1];
    assert_eq!(message["format_order"], false);
    assert_eq!(message["faq_state"], "suggested");
}

/// The subscription handshake as data: Meta's GET with `hub.mode`, `hub.verify_token` and
/// `hub.challenge`; only a subscribe with the configured token gets its challenge back.
async fn the_handshake_answers_only_the_right_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases = [
        (
            "hub.mode=subscribe&hub.verify_token=vt-rahasia&hub.challenge=1158201444",
            200,
            "1158201444",
        ),
        (
            "hub.mode=subscribe&hub.verify_token=vt-rahasia&hub.challenge=abc%20def",
            200,
            "abc def",
        ),
        (
            "hub.mode=subscribe&hub.verify_token=VT-RAHASIA&hub.challenge=1",
            403,
            "",
        ),
        (
            "hub.mode=subscribe&hub.verify_token=vt-rahasia%20&hub.challenge=1",
            403,
            "",
        ),
        (
            "hub.mode=unsubscribe&hub.verify_token=vt-rahasia&hub.challenge=1",
            403,
            "",
        ),
        ("hub.verify_token=vt-rahasia&hub.challenge=1", 403, ""),
        ("hub.mode=subscribe&hub.challenge=1", 403, ""),
    ];
    for (query, status, echoed) in cases {
        let reply = app
            .send(
                Method::GET,
                &format!("/webhooks/whatsapp?{query}"),
                None,
                &[("authorization", "")],
            )
            .await;
        assert_eq!(reply.status.as_u16(), status, "{query}");
        if status == 200 {
            let body = match &reply.body {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(body, echoed, "{query}");
        } else {
            assert_eq!(reply.code(), "invalid_verify_token", "{query}");
        }
    }
    // Signatures computed by Python's hmac over bodies of every shape: each is taken once, and
    // one flipped character of the body or of the signature is refused with nothing kept.
    let bodies = [
        json!({"entry": [{"changes": [{"value": {"messages": [{"from": "6281200000001", "id": "wamid.V1", "type": "text", "text": {"body": "ready kak? 🙏"}}]}}]}]}).to_string(),
        json!({"entry": [{"changes": [{"value": {"messages": [{"from": "6281200000002", "id": "wamid.V2", "type": "text", "text": {"body": "ongkir\nke bdg\tbrp"}}]}}]}]}).to_string(),
        json!({"entry": []}).to_string(),
    ];
    for body in &bodies {
        let signature = hub_signature("app-rahasia", body);
        let mut flipped = signature.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        let tampered = format!("{body} ");
        for (sent_body, sent_signature, want) in [
            (&tampered, &signature, 401),
            (body, &flipped, 401),
            (body, &signature, 200),
        ] {
            let reply = post_whatsapp(&app, &sent_body, sent_signature).await;
            assert_eq!(reply.status.as_u16(), want, "{sent_body}");
        }
    }
    let first = app.get("/api/v1/conversations/+6281200000001").await;
    assert_eq!(first.body["messages"].as_array().unwrap().len(), 1);
    assert_eq!(first.body["messages"][0]["text"], "ready kak? 🙏");
    let second = app.get("/api/v1/conversations/+6281200000002").await;
    assert_eq!(second.body["messages"][0]["text"], "ongkir\nke bdg\tbrp");
    // Not JSON, correctly signed: refused as malformed, never a 5xx.
    let garbage = "{\"entry\": [";
    let reply = post_whatsapp(&app, &garbage, &hub_signature("app-rahasia", garbage)).await;
    assert!(reply.status.is_client_error(), "{:?}", reply.status);
    // Larger than a request may be (64 KiB): refused before it is read, nothing kept.
    let huge = json!({"entry": [{"changes": [{"value": {"messages": [{"from": "6281200000003", "id": "wamid.BIG", "type": "text", "text": {"body": "a".repeat(70_000)}}]}}]}]}).to_string();
    let reply = post_whatsapp(&app, &huge, &hub_signature("app-rahasia", &huge)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let none = app.get("/api/v1/conversations/+6281200000003").await;
    assert_eq!(none.body["messages"], json!([]));
}

/// A number that only haggles in chat is a tire kicker; the risk policy reads it when told to.
async fn the_risk_policy_may_read_tire_kickers(backend: Backend) {
    let app = spawn_app(backend).await;
    assert!(app.put_product("A", 9, 100_000).await.status.is_success());
    let now = app.engine.now().as_second();
    for (n, text) in ["bisa kurang kak?", "nego dong", "harga pas ya?"]
        .iter()
        .enumerate()
    {
        let body =
            json!({"id": format!("h-{n}"), "from": "081399990077", "text": text}).to_string();
        let id = format!("d-h-{n}");
        let sent = post_message(&app, &id, now, &body, None).await;
        assert_eq!(sent.status, StatusCode::OK);
    }
    let conversation = app.get("/api/v1/conversations/081399990077").await;
    assert_eq!(conversation.body["signals"]["haggles"], 3);
    assert_eq!(conversation.body["signals"]["tire_kicker"], true);
    let cod = |phone: &str| {
        json!({"customer": {"phone": phone, "name": "Tono", "honorific": "pak"},
               "items": [{"sku": "A", "qty": 1}], "payment_method": "cod",
               "address": {"recipient": "Tono", "phone": phone, "street": "Jl. Kenanga No. 4 RT 2 RW 3", "city": "Kota Bandung", "province": "Jawa Barat", "postcode": "40115"}})
    };
    // Off by default: the haggler orders like anyone.
    let placed = app.post("/api/v1/orders", cod("081399990077")).await;
    assert!(placed.status.is_success(), "{:?}", placed.body);
    let put = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"risk": {"watch_tire_kickers": true}}).to_string()),
            &[],
        )
        .await;
    assert!(put.status.is_success(), "{:?}", put.body);
    let refused = app.post("/api/v1/orders", cod("081399990077")).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "payment_method_not_allowed"),
        "{:?}",
        refused.body
    );
    let customer = app.get("/api/v1/customers/081399990077").await;
    assert_eq!(
        customer.body["reliability"]["band"], "watch",
        "{:?}",
        customer.body
    );
    assert_eq!(customer.body["reliability"]["reason"], "tire_kicker");
    // A number that never wrote is not affected.
    assert!(
        app.post("/api/v1/orders", cod("081399990078"))
            .await
            .status
            .is_success()
    );
}

lunas_store::on_both_backends!(
    the_risk_policy_may_read_tire_kickers,
    the_handshake_answers_only_the_right_token,
    a_format_order_by_chat_is_a_draft_and_not_a_question,
    whatsapp_messages_of_every_kind_appear_once,
    the_messages_webhook_keeps_each_message_once_and_shows_replies,
    the_faq_is_kept_matched_and_refuses_what_does_not_read,
    a_buyers_question_gets_a_suggestion_and_a_correction_teaches_the_faq,
);
