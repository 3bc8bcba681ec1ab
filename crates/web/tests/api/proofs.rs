//! Proofs of transfer from the buyer's order page: `POST {public_url}/proof` with a file, the
//! review list, the pause of reminders and of the release, staff confirming or rejecting.

use super::order_pages::page_path;
use super::*;

const BOUNDARY: &str = "----lunasproof7MA4YWxkTrZu0gW";

/// A small PNG picture, as a phone's screenshot would be.
pub(super) fn png() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut body = Vec::new();
    picture
        .write_to(
            &mut std::io::Cursor::new(&mut body),
            image::ImageFormat::Png,
        )
        .unwrap();
    body
}

/// A multipart form with one field `name` carrying `file`.
fn form_with(name: &str, filename: &str, file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

impl TestApp {
    /// Sends `file` as the proof of the order whose page is `path`, as a browser would.
    async fn send_proof(&self, path: &str, file: &[u8]) -> Reply {
        self.send_form(path, form_with("file", "bukti.png", file))
            .await
    }

    async fn send_form(&self, path: &str, body: Vec<u8>) -> Reply {
        let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
        self.send_bytes(
            Method::POST,
            &format!("{path}/proof"),
            Some(body),
            &[("content-type", &content_type), ("authorization", "")],
        )
        .await
    }

    async fn open_reviews(&self) -> Vec<Value> {
        let list = self.get("/api/v1/payments/review").await;
        list.body["items"].as_array().unwrap().clone()
    }
}

async fn a_buyer_sends_proof_and_staff_confirm_it(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let placed = app.place("081234567890", "GAMIS-01", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let due = placed.body["amount_due"].as_i64().unwrap();
    let path = page_path(&placed.body);
    // The page offers the form before anything is sent.
    let page = app.get(&path).await;
    assert!(page.html().contains("enctype=\"multipart/form-data\""));
    assert!(page.html().contains("Saya sudah bayar"));

    let sent = app.send_proof(&path, &png()).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(
        sent.headers["location"],
        format!("{path}?lang=id&proof=sent")
    );
    let page = app.get(&format!("{path}?proof=sent")).await;
    assert!(
        page.html()
            .contains("Bukti transfer Anda sudah kami terima")
    );
    assert!(page.html().contains("Menunggu konfirmasi"));

    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["proof"]["status"], "submitted");
    assert_eq!(order.body["proof"]["count"], 1);
    let reviews = app.open_reviews().await;
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    let review = &reviews[0];
    assert_eq!(review["kind"], "proof_of_transfer");
    assert_eq!(review["order_id"], id);
    assert_eq!(review["amount"], due, "what the buyer was asked to pay");
    assert_eq!(review["assignable"], true);
    assert_eq!(review["detail"]["content_type"], "image/png");

    // The first reminder (two hours in) is not sent while the proof waits.
    app.clock.advance(SignedDuration::from_hours(2));
    app.engine.tick().await.unwrap();
    let messages = app.get(&format!("/api/v1/orders/{id}/messages")).await;
    let kinds: Vec<&str> = messages
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["order_received"],
        "no reminder while the proof waits"
    );

    // Staff see the money in the bank and confirm: the order is paid.
    let review_id = review["id"].as_i64().unwrap();
    let resolved = app
        .post(
            &format!("/api/v1/payments/review/{review_id}/resolve"),
            json!({"order_id": id}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["status"], "paid");
    assert_eq!(order.body["amount_paid"], due);
    assert_eq!(order.body["proof"]["status"], "confirmed");
    assert!(app.open_reviews().await.is_empty());
    let page = app.get(&path).await;
    assert!(page.html().contains("Pembayaran sudah kami terima"));
    assert!(
        !page.html().contains("multipart/form-data"),
        "no more proofs"
    );
}

async fn refused_files_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let placed = app.place("081234567890", "GAMIS-01", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let path = page_path(&placed.body);
    let gif = b"GIF89a\x01\0\x01\0\0\0\0;".to_vec();
    let html = b"<html><script>alert(1)</script>".to_vec();
    let broken = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRbroken".to_vec();
    let huge = vec![0xFF; lunas_core::proofs::PROOF_BYTES_MAX + 1];
    for (file, status, says) in [
        (
            &gif,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Jenis berkas ini tidak bisa kami terima",
        ),
        (
            &html,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Jenis berkas ini tidak bisa kami terima",
        ),
        (
            &broken,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Gambarnya tidak bisa dibuka",
        ),
        (
            &huge,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Berkasnya terlalu besar",
        ),
        (
            &Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Berkasnya kosong",
        ),
    ] {
        let reply = app.send_proof(&path, file).await;
        assert_eq!(reply.status, status, "{says}");
        assert!(reply.html().contains(says), "{says}: {}", reply.html());
        assert!(
            reply.html().contains(&format!("Pesanan #{id}")),
            "the page again"
        );
    }
    // Five uploads a minute from one address, refused ones too (each costs a decode).
    let over = app.send_proof(&path, &png()).await;
    assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(SignedDuration::from_secs(60));
    // A form without the field, and a body that is no form.
    let other_field = app
        .send_form(&path, form_with("photo", "bukti.png", &png()))
        .await;
    assert_eq!(other_field.status, StatusCode::BAD_REQUEST);
    assert!(other_field.html().contains("Belum ada berkas yang dipilih"));
    let not_a_form = app
        .send_bytes(
            Method::POST,
            &format!("{path}/proof"),
            Some(b"file=abc".to_vec()),
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", ""),
            ],
        )
        .await;
    assert_eq!(not_a_form.status, StatusCode::BAD_REQUEST);
    // An unknown order's link answers like its page.
    let unknown = app
        .send_proof("/o/6fc578a5513c11446355dfea8e2af05b", &png())
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.html().contains("Pesanan tidak ditemukan"));

    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["proof"], Value::Null, "nothing was written");
    assert!(app.open_reviews().await.is_empty());

    // Three proofs are taken; a fourth is refused on the page.
    app.clock.advance(SignedDuration::from_secs(60));
    for _ in 0..3 {
        let sent = app.send_proof(&path, &png()).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER);
    }
    let fourth = app.send_proof(&path, &png()).await;
    assert_eq!(fourth.status, StatusCode::CONFLICT);
    assert!(fourth.html().contains("sudah cukup banyak terkirim"));
    assert_eq!(app.open_reviews().await.len(), 3);

    // A COD order is paid to the courier: it offers no form and takes no proof.
    app.clock.advance(SignedDuration::from_secs(60));
    let cod = app
        .post(
            "/api/v1/orders",
            json!({"customer": {"phone": "081298765432", "name": "Rina"}, "items": [{"sku": "GAMIS-01", "qty": 1}], "payment_method": "cod"}),
        )
        .await;
    let cod_path = page_path(&cod.body);
    assert!(
        !app.get(&cod_path)
            .await
            .html()
            .contains("multipart/form-data")
    );
    let refused = app.send_proof(&cod_path, &png()).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.html().contains("dibayar ke kurir"));
}

async fn a_waiting_proof_keeps_the_hold_and_a_rejected_one_does_not(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let placed = app.place("081234567890", "GAMIS-01", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let path = page_path(&placed.body);
    // Sent an hour before the deadline: the hold is kept six hours from then.
    app.clock.advance(SignedDuration::from_hours(23));
    app.engine.tick().await.unwrap();
    assert_eq!(
        app.send_proof(&path, &png()).await.status,
        StatusCode::SEE_OTHER
    );
    app.clock.advance(SignedDuration::from_hours(2));
    app.engine.tick().await.unwrap();
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(
        order.body["status"], "awaiting_payment",
        "past the deadline, held"
    );
    // Staff reject it: the page says so and the order takes another.
    let review = app.open_reviews().await[0]["id"].as_i64().unwrap();
    let rejected = app
        .post(
            &format!("/api/v1/payments/review/{review}/resolve"),
            json!({"note": "tidak ada di mutasi"}),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.body);
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["proof"]["status"], "rejected");
    let page = app.get(&path).await;
    assert!(page.html().contains("belum bisa dikonfirmasi penjual"));
    assert!(page.html().contains("Kirim bukti lain"));
    // A proof confirms only its own order.
    assert_eq!(
        app.send_proof(&path, &png()).await.status,
        StatusCode::SEE_OTHER
    );
    let review = app.open_reviews().await[0]["id"].as_i64().unwrap();
    let elsewhere = app
        .post(
            &format!("/api/v1/payments/review/{review}/resolve"),
            json!({"order_id": id + 1}),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::CONFLICT, "{}", elsewhere.body);
    // Six hours after the last proof, with no answer from staff, the hold is released.
    app.clock.advance(SignedDuration::from_hours(6));
    app.engine.tick().await.unwrap();
    let order = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order.body["status"], "expired");
}

async fn a_payment_from_the_bank_closes_the_waiting_proof(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let placed = app.place("081234567890", "GAMIS-01", 1).await;
    let id = placed.body["id"].as_i64().unwrap();
    let path = page_path(&placed.body);
    assert_eq!(
        app.send_proof(&path, &png()).await.status,
        StatusCode::SEE_OTHER
    );
    let paid = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            json!({"amount": placed.body["amount_due"]}),
        )
        .await;
    assert_eq!(paid.body["status"], "paid");
    assert_eq!(paid.body["proof"]["status"], "confirmed");
    assert!(
        app.open_reviews().await.is_empty(),
        "nothing left for staff"
    );
}

lunas_store::on_both_backends!(
    a_buyer_sends_proof_and_staff_confirm_it,
    refused_files_change_nothing,
    a_waiting_proof_keeps_the_hold_and_a_rejected_one_does_not,
    a_payment_from_the_bank_closes_the_waiting_proof,
);
