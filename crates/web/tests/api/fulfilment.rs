//! After the payment over HTTP: the order's steps in the API, couriers' webhooks (authenticated,
//! replayed, out of order, for unknown waybills, a dashboard's empty test), returns and their
//! refusals.

use super::*;

impl TestApp {
    /// A paid order of one unit of `sku`; its id.
    async fn paid_order(&self, phone: &str, sku: &str) -> i64 {
        let placed = self.place(phone, sku, 1).await;
        let id = placed.body["id"].as_i64().unwrap();
        let paid = self
            .post(
                &format!("/api/v1/orders/{id}/payments"),
                json!({"amount": placed.body["amount_due"]}),
            )
            .await;
        assert_eq!(paid.body["status"], "paid", "{}", paid.body);
        id
    }

    async fn courier_post(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::POST, path, Some(body.to_owned()), headers)
            .await
    }

    async fn status_of(&self, id: i64) -> Value {
        self.get(&format!("/api/v1/orders/{id}")).await.body["status"].clone()
    }
}

fn biteship(waybill: &str, status: &str, at: &str) -> String {
    json!({
        "event": "order.status", "order_id": format!("bs-{waybill}"), "courier_tracking_id": "t-1",
        "courier_waybill_id": waybill, "courier_company": "jne", "courier_type": "reg",
        "status": status, "updated_at": at
    })
    .to_string()
}

const SIGNED: (&str, &str) = ("x-biteship-signature", BITESHIP_KEY);

async fn an_order_is_packed_and_shipped_through_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let id = app.paid_order("081234567890", "GAMIS-01").await;
    let bad_label = app
        .post(&format!("/api/v1/orders/{id}/pack"), json!({"waybill": 5}))
        .await;
    assert_eq!(bad_label.body["error"]["code"], "invalid_request");
    // No body at all: packed.
    let packed = app
        .send(
            Method::POST,
            &format!("/api/v1/orders/{id}/pack"),
            None,
            &[],
        )
        .await;
    assert_eq!(packed.status, StatusCode::OK, "{}", packed.body);
    assert_eq!(packed.body["status"], "packed");
    assert!(packed.body["shipment"]["packed_at"].is_string());
    let ship = json!({"courier": "JNE", "service": "REG", "waybill": "CGK0001", "cost": 18000});
    let shipped = app.post(&format!("/api/v1/orders/{id}/ship"), ship).await;
    assert_eq!(shipped.body["status"], "shipped", "{}", shipped.body);
    assert_eq!(shipped.body["shipment"]["waybill"], "CGK0001");
    assert_eq!(shipped.body["shipment"]["cost"], 18000);
    assert_eq!(
        shipped.body["tracking_url"],
        "https://www.jne.co.id/tracking-package?resi=CGK0001"
    );
    // Bad input: refused with its code, nothing changed.
    let other = app.paid_order("081234567891", "GAMIS-01").await;
    let taken = app
        .post(
            &format!("/api/v1/orders/{other}/ship"),
            json!({"courier": "JNE", "waybill": "CGK0001"}),
        )
        .await;
    assert_eq!(
        (taken.status, taken.body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("waybill_taken"))
    );
    let blank = app
        .post(
            &format!("/api/v1/orders/{other}/ship"),
            json!({"courier": "JNE", "waybill": "  "}),
        )
        .await;
    assert_eq!(blank.body["error"]["code"], "invalid_shipment");
    let unpaid = app.place("081234567892", "GAMIS-01", 1).await;
    let unpaid_id = unpaid.body["id"].as_i64().unwrap();
    let early = app
        .post(&format!("/api/v1/orders/{unpaid_id}/pack"), json!({}))
        .await;
    assert_eq!(
        (early.status, early.body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_paid"))
    );
    let ended = app
        .post(&format!("/api/v1/orders/{id}/confirm-cod"), json!({}))
        .await;
    assert_eq!(ended.body["error"]["code"], "not_cod");
    assert_eq!(app.status_of(other).await, "paid");
    assert_eq!(app.status_of(unpaid_id).await, "awaiting_payment");
}

async fn biteship_events_apply_once_in_order_and_only_when_signed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let id = app.paid_order("081234567890", "GAMIS-01").await;
    app.post(
        &format!("/api/v1/orders/{id}/ship"),
        json!({"courier": "JNE", "waybill": "WB-9"}),
    )
    .await;
    let delivered = biteship("WB-9", "delivered", "2026-11-22T12:00:00+07:00");
    // Without the signature, or with another: 401, nothing changes.
    let unsigned = app
        .courier_post("/callbacks/biteship", &delivered, &[("authorization", "")])
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    let forged = app
        .courier_post(
            "/callbacks/biteship",
            &delivered,
            &[
                ("x-biteship-signature", "biteship-uji-rahasiX"),
                ("authorization", ""),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.status_of(id).await, "shipped");
    // The dashboard's empty test is taken and changes nothing.
    let test = app
        .courier_post("/callbacks/biteship", "", &[("authorization", "")])
        .await;
    assert_eq!(test.status, StatusCode::OK, "{}", test.body);
    // Delivered, a hundred times.
    for n in 0..100 {
        let reply = app
            .courier_post(
                "/callbacks/biteship",
                &delivered,
                &[SIGNED, ("authorization", "")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let applied = if n == 0 { 1 } else { 0 };
        assert_eq!(reply.body["applied"], applied, "{}", reply.body);
    }
    // A pickup that comes after the delivery changes nothing.
    let late = app
        .courier_post(
            "/callbacks/biteship",
            &biteship("WB-9", "picked", "2026-11-22T09:00:00+07:00"),
            &[SIGNED, ("authorization", "")],
        )
        .await;
    assert_eq!(late.body["unchanged"], 1, "{}", late.body);
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["status"], "delivered");
    let delivered_messages = app
        .get(&format!("/api/v1/orders/{id}/messages"))
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "delivered")
        .count();
    assert_eq!(delivered_messages, 1);
    // A waybill nobody has: 404, kept for staff.
    let unknown = app
        .courier_post(
            "/callbacks/biteship",
            &biteship("NOPE-1", "picked", "2026-11-22T09:00:00+07:00"),
            &[SIGNED, ("authorization", "")],
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_waybill"))
    );
    let kept = app.get("/api/v1/courier-events").await;
    assert_eq!(kept.body[0]["waybill"], "NOPE-1");
    assert_eq!(kept.body[0]["outcome"], "unknown_waybill");
}

async fn kiriminaja_and_the_generic_format_take_bearer_secrets(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let a = app.paid_order("081234567890", "GAMIS-01").await;
    let b = app.paid_order("081234567891", "GAMIS-01").await;
    for (id, waybill) in [(a, "KA-1"), (b, "KA-2")] {
        app.post(
            &format!("/api/v1/orders/{id}/ship"),
            json!({"courier": "sicepat", "waybill": waybill}),
        )
        .await;
    }
    let body = json!({"method": "finished_packages", "data": [{"awb": "KA-1"}, {"awb": "KA-2"}, {"awb": "KA-X"}]})
        .to_string();
    let bearer = format!("Bearer {KIRIMINAJA_KEY}");
    let wrong = app
        .courier_post(
            "/callbacks/kiriminaja",
            &body,
            &[("authorization", "Bearer nope")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let taken = app
        .courier_post(
            "/callbacks/kiriminaja",
            &body,
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.body);
    assert_eq!(
        (&taken.body["applied"], &taken.body["kept_for_review"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(app.status_of(a).await, "delivered");
    let malformed = app
        .courier_post(
            "/callbacks/kiriminaja",
            &json!({"method": "finished_packages", "data": [{"order_id": 1}]}).to_string(),
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    // lunas's own format: a parcel refused at the door comes back.
    let secret = format!("Bearer {COURIER_SECRET}");
    let returned = app
        .courier_post(
            "/callbacks/courier",
            &json!({"event_id": "r-1", "waybill": "KA-2", "status": "returned"}).to_string(),
            &[("authorization", &secret)],
        )
        .await;
    assert_eq!(returned.status, StatusCode::CONFLICT, "{}", returned.body);
    assert_eq!(
        returned.body["error"]["code"], "order_ended",
        "delivered cannot come back"
    );
    let bad = app
        .courier_post(
            "/callbacks/courier",
            &json!({"event_id": "r-2", "waybill": "KA-2", "status": "lost_in_space"}).to_string(),
            &[("authorization", &secret)],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn a_cod_order_is_confirmed_shipped_and_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("KOPI", 5, 80_000).await;
    let mut body = order_body("081234567890", "KOPI", 1);
    body["payment_method"] = json!("cod");
    body["address"] = json!({"recipient": "Agus", "phone": "081234567890", "street": "Jl. Kenanga No. 4 RT 2 RW 3", "city": "Kota Bandung", "province": "Jawa Barat", "postcode": "40115"});
    let placed = app.post("/api/v1/orders", body).await;
    assert_eq!(
        placed.body["status"], "awaiting_confirmation",
        "{}",
        placed.body
    );
    assert!(placed.body["shipment"]["confirm_by"].is_string());
    let id = placed.body["id"].as_i64().unwrap();
    let early = app
        .post(
            &format!("/api/v1/orders/{id}/ship"),
            json!({"courier": "jnt", "waybill": "JT-1"}),
        )
        .await;
    assert_eq!(early.body["error"]["code"], "cod_not_confirmed");
    let confirmed = app
        .post(&format!("/api/v1/orders/{id}/confirm-cod"), json!({}))
        .await;
    assert_eq!(confirmed.body["status"], "confirmed");
    app.post(
        &format!("/api/v1/orders/{id}/ship"),
        json!({"courier": "jnt", "waybill": "JT-1"}),
    )
    .await;
    let back = app
        .post(
            &format!("/api/v1/orders/{id}/returned-to-sender"),
            json!({"return_cost": 12000}),
        )
        .await;
    assert_eq!(back.body["status"], "returned_to_sender", "{}", back.body);
    assert_eq!(back.body["shipment"]["return_cost"], 12000);
    let buyer = app.get("/api/v1/customers/+6281234567890").await;
    assert_eq!(
        buyer.body["reliability"]["cod_refused"], 1,
        "{}",
        buyer.body
    );
    let product = app.get("/api/v1/products/KOPI").await;
    assert_eq!(product.body["available"], 5, "back on sale");
}

/// A buyer's WhatsApp reply: a reply that says more than "ya" is left to staff; a short "YA"
/// confirms their COD order; the same message delivered again does nothing more.
async fn a_whatsapp_ya_confirms_a_cod_order(backend: Backend) {
    use hmac::Mac;
    let app = spawn_app(backend).await;
    app.put_product("KOPI", 5, 80_000).await;
    let mut body = order_body("081234567890", "KOPI", 1);
    body["payment_method"] = json!("cod");
    let placed = app.post("/api/v1/orders", body).await;
    let id = placed.body["id"].as_i64().unwrap();
    let reply = |wamid: &str, text: &str| {
        let payload = json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [
            {"from": "6281234567890", "id": wamid, "timestamp": "1795000000", "type": "text", "text": {"body": text}}
        ]}}]}]})
        .to_string();
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"app-rahasia").unwrap();
        mac.update(payload.as_bytes());
        (
            payload,
            format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        )
    };
    let (payload, signature) = reply("wamid.Q1", "ya tapi ganti alamat kak");
    let sent = app
        .send(
            Method::POST,
            "/webhooks/whatsapp",
            Some(payload),
            &[("authorization", ""), ("x-hub-signature-256", &signature)],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK);
    assert_eq!(app.status_of(id).await, "awaiting_confirmation");
    let (payload, signature) = reply("wamid.Q2", "YA kak 🙏");
    for _ in 0..2 {
        app.send(
            Method::POST,
            "/webhooks/whatsapp",
            Some(payload.clone()),
            &[("authorization", ""), ("x-hub-signature-256", &signature)],
        )
        .await;
    }
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["status"], "confirmed");
    let by_buyer = order.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["to"] == "confirmed" && e["actor"] == "buyer")
        .count();
    assert_eq!(by_buyer, 1);
}

/// The buyer's return form (`POST {public_url}/return`, multipart: `reason` and `photo` files):
/// refused before delivery and for an oversized photo, writing nothing; taken with a photo.
async fn a_buyer_asks_for_a_return_with_a_photo_from_the_order_page(backend: Backend) {
    const BOUNDARY: &str = "----lunasretur42";
    fn form(reason: &str, photo: &[u8]) -> Vec<u8> {
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"reason\"\r\n\r\n{reason}\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"retur.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(photo);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        body
    }
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let id = app.paid_order("081234567890", "GAMIS-01").await;
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    let path = super::order_pages::page_path(&order.body);
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let send = |body: Vec<u8>| {
        let (path, content_type) = (path.clone(), content_type.clone());
        let app = &app;
        async move {
            app.send_bytes(
                Method::POST,
                &format!("{path}/return"),
                Some(body),
                &[("content-type", &content_type), ("authorization", "")],
            )
            .await
        }
    };
    let early = send(form("Jahitan lepas", &super::proofs::png())).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(early.html().contains("setelah paket sampai"));
    app.post(
        &format!("/api/v1/orders/{id}/ship"),
        json!({"courier": "JNE", "waybill": "RB-1"}),
    )
    .await;
    app.post(&format!("/api/v1/orders/{id}/deliver"), json!({}))
        .await;
    let page = app.get(&path).await;
    assert!(page.html().contains("Ajukan retur") && page.html().contains("RB-1"));
    let huge = send(form("Jahitan lepas", &vec![0u8; 5 * 1024 * 1024 + 1])).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert!(
        order.body["return_request"].is_null(),
        "nothing was written"
    );
    let sent = send(form("Jahitan lepas di lengan", &super::proofs::png())).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["return_request"]["status"], "requested");
    assert_eq!(order.body["return_request"]["photos"], 1);
    assert_eq!(
        order.body["return_request"]["reason"],
        "Jahitan lepas di lengan"
    );
    let page = app.get(&format!("{path}?return=sent")).await;
    assert!(page.html().contains("Pengajuan retur sudah kami terima"));
}

async fn returns_follow_the_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let id = app.paid_order("081234567890", "GAMIS-01").await;
    let early = app
        .post(
            &format!("/api/v1/orders/{id}/returns"),
            json!({"reason": "rusak"}),
        )
        .await;
    assert_eq!(
        (early.status, early.body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_delivered"))
    );
    app.post(
        &format!("/api/v1/orders/{id}/ship"),
        json!({"courier": "JNE", "waybill": "R-1"}),
    )
    .await;
    app.post(&format!("/api/v1/orders/{id}/deliver"), json!({}))
        .await;
    let asked = app
        .post(
            &format!("/api/v1/orders/{id}/returns"),
            json!({"reason": "Ukuran tidak sesuai"}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.body);
    let rid = asked.body["return_request"]["id"].as_i64().unwrap();
    let list = app.get("/api/v1/returns").await;
    assert_eq!(list.body[0]["order_id"], id);
    let out_of_turn = app
        .post(
            &format!("/api/v1/returns/{rid}/refund"),
            json!({"amount": 1, "method": "BCA"}),
        )
        .await;
    assert_eq!(
        out_of_turn.body["error"]["code"],
        "invalid_return_transition"
    );
    app.post(&format!("/api/v1/returns/{rid}/approve"), json!({}))
        .await;
    let no_flag = app
        .post(&format!("/api/v1/returns/{rid}/receive"), json!({}))
        .await;
    assert_eq!(no_flag.body["error"]["code"], "resellable_required");
    let received = app
        .post(
            &format!("/api/v1/returns/{rid}/receive"),
            json!({"resellable": false}),
        )
        .await;
    assert_eq!(received.body["return_request"]["status"], "received");
    let exchanged = app
        .post(
            &format!("/api/v1/returns/{rid}/exchange"),
            json!({"note": "Ukuran M dikirim besok"}),
        )
        .await;
    assert_eq!(exchanged.body["return_request"]["status"], "exchanged");
    let unknown = app.post("/api/v1/returns/999/approve", json!({})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // Outside the window: refused, and the order completes on its timer.
    app.clock.advance(SignedDuration::from_hours(49));
    let late = app
        .post(
            &format!("/api/v1/orders/{id}/returns"),
            json!({"reason": "lagi"}),
        )
        .await;
    assert_eq!(late.body["error"]["code"], "outside_return_window");
    app.engine.tick().await.unwrap();
    assert_eq!(app.status_of(id).await, "completed");
}

/// A courier, service or waybill given through the API must say something (the dashboard's form,
/// where an empty field means none, is another path); leaving one out is how to give none.
async fn blank_shipment_fields_are_refused_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS", 10, 150_000).await;
    let id = app.paid_order("081234567890", "GAMIS").await;
    let pack = app
        .post(
            &format!("/api/v1/orders/{id}/pack"),
            json!({"courier": null, "service": null, "waybill": ""}),
        )
        .await;
    assert_eq!(
        (pack.status, pack.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_shipment")
    );
    assert_eq!(app.status_of(id).await, "paid");
    let ship = app
        .post(
            &format!("/api/v1/orders/{id}/ship"),
            json!({"courier": "JNE", "service": " ", "waybill": "CGK0000000001"}),
        )
        .await;
    assert_eq!(
        (ship.status, ship.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_shipment")
    );
    assert_eq!(app.status_of(id).await, "paid");
    let shipped = app
        .post(
            &format!("/api/v1/orders/{id}/ship"),
            json!({"courier": "JNE", "waybill": "CGK0000000001"}),
        )
        .await;
    assert_eq!(shipped.status, StatusCode::OK, "{:?}", shipped.body);
}

lunas_store::on_both_backends!(
    blank_shipment_fields_are_refused_and_change_nothing,
    an_order_is_packed_and_shipped_through_the_api,
    biteship_events_apply_once_in_order_and_only_when_signed,
    kiriminaja_and_the_generic_format_take_bearer_secrets,
    a_cod_order_is_confirmed_shipped_and_refused,
    returns_follow_the_policy,
    a_whatsapp_ya_confirms_a_cod_order,
    a_buyer_asks_for_a_return_with_a_photo_from_the_order_page,
);
