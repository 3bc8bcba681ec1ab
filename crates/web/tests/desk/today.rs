use super::*;

async fn payments_to_review_are_resolved_from_today(backend: Backend) {
    let app = spawn(backend).await;
    let id = app.place("081234567890", "").await;
    let csv = "date,description,amount,balance\n2026-12-01,TRSF DARI SARI W,100000,\n2026-12-01,TRSF TANPA NAMA,5000,\n";
    app.engine
        .import_statement(csv, false, Actor::system())
        .await
        .unwrap();
    let reviews = app.engine.reviews(false, 0, 10).await.unwrap();
    assert_eq!(reviews.len(), 2);
    let mut jar = app.sign_in(STAFF).await;
    let today = app.get(&mut jar, "/").await;
    assert!(today.has("TRSF DARI SARI W") && today.has("Rp100.000"));
    // A number that names no order: Today says so beside the item.
    let item = format!("/reviews/{}/resolve", reviews[0].id);
    let page = app
        .submit(&mut jar, "/", &item, &[("order_id", "99999"), ("note", "")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        app.get(&mut jar, page.location())
            .await
            .has("Tidak ditemukan")
    );
    // An address cannot put words of its own on the page.
    let forged = app
        .get(
            &mut jar,
            &format!("/?review={}&error=Transfer+ke+rekening+lain", reviews[0].id),
        )
        .await;
    assert!(!forged.has("Transfer ke rekening lain"));
    // The money goes to the order Sari named.
    let page = app
        .submit(
            &mut jar,
            "/",
            &item,
            &[("order_id", &format!("#{id}")), ("note", "")],
        )
        .await;
    assert_eq!(page.location(), "/?done=resolved");
    let order = app.engine.order(id).await.unwrap().unwrap();
    assert_eq!(order.amount_paid.minor_units(), 100_000);
    // The other is closed with a note.
    let other = format!("/reviews/{}/resolve", reviews[1].id);
    let page = app
        .submit(
            &mut jar,
            "/",
            &other,
            &[("order_id", ""), ("note", "salah kirim, dikembalikan")],
        )
        .await;
    assert_eq!(page.location(), "/?done=resolved");
    assert!(app.engine.reviews(false, 0, 10).await.unwrap().is_empty());
    assert!(
        app.engine
            .store()
            .consistency_report()
            .await
            .unwrap()
            .is_empty()
    );
}

async fn proofs_of_transfer_are_seen_and_confirmed_from_today(backend: Backend) {
    let app = spawn(backend).await;
    let id = app.place("081234567890", "").await;
    let order = app.engine.order(id).await.unwrap().unwrap();
    let token = order.public_token.clone().unwrap();
    let picture = image::RgbImage::from_pixel(30, 20, image::Rgb([10, 120, 40]));
    let mut png = Vec::new();
    picture
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    app.engine.submit_proof(&token, png).await.unwrap();
    let review = &app.engine.reviews(false, 0, 10).await.unwrap()[0];
    let proof = review.detail["proof_id"].as_i64().unwrap();
    let file = format!("/proofs/{proof}");

    // Not to anyone without a session.
    let mut nobody = Jar::default();
    let refused = app.get(&mut nobody, &file).await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert!(refused.location().starts_with("/login"));

    let mut jar = app.sign_in(STAFF).await;
    let today = app.get(&mut jar, "/").await;
    assert!(today.has("Bukti transfer dari pembeli"));
    assert!(
        today.has(&format!("src=\"&#x2f;proofs&#x2f;{proof}\"")),
        "{}",
        today.body
    );
    assert!(today.has("Konfirmasi lunas") && today.has("Tolak"));
    let shown = app.get(&mut jar, &file).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.headers["content-type"], "image/png");
    assert_eq!(shown.headers["cache-control"], "private, no-store");
    assert!(
        shown.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    let order_page = app.get(&mut jar, &format!("/orders/{}", id.0)).await;
    assert!(
        order_page.has(&format!("href=\"&#x2f;proofs&#x2f;{proof}\"")),
        "{}",
        order_page.body
    );
    assert_eq!(
        app.get(&mut jar, "/proofs/999999").await.status,
        StatusCode::NOT_FOUND
    );

    // Confirmed: the order is paid with what the buyer was asked for.
    let page = app
        .submit(
            &mut jar,
            "/",
            &format!("/reviews/{}/resolve", review.id),
            &[("order_id", &id.0.to_string())],
        )
        .await;
    assert_eq!(page.location(), "/?done=resolved");
    let order = app.engine.order(id).await.unwrap().unwrap();
    assert_eq!(order.status, lunas_core::OrderStatus::Paid);
    assert_eq!(order.amount_paid, order.amount_due);
}

async fn manual_messages_are_sent_from_today_and_webhooks_need_the_password(backend: Backend) {
    let app = spawn(backend).await;
    let id = app.place("081234567890", "").await;
    let queued = app.engine.manual_queue(10).await.unwrap();
    let message = queued.iter().find(|m| m.order_id == Some(id)).unwrap();
    let mut jar = app.sign_in(STAFF).await;
    let today = app.get(&mut jar, "/").await;
    // (minijinja escapes `/` in attributes as `&#x2f;`; the browser reads it back.)
    assert!(
        today.has(r#"href="https:&#x2f;&#x2f;wa.me&#x2f;6281234567890?text="#),
        "one tap to WhatsApp"
    );
    let page = app
        .submit(
            &mut jar,
            "/",
            &format!("/messages/{}/sent", message.id),
            &[("back", "/")],
        )
        .await;
    assert_eq!(page.location(), "/?done=sent");
    assert!(
        app.engine
            .manual_queue(10)
            .await
            .unwrap()
            .iter()
            .all(|m| m.id != message.id)
    );
    let sent = app.engine.order_messages(id).await.unwrap();
    let sent = sent.iter().find(|m| m.id == message.id).unwrap();
    assert_eq!(sent.sent_by.as_deref(), Some("staff:staff@toko.id"));
    // The return path goes back to the dashboard's own pages only: never off site (a tab or a
    // backslash a browser drops), never a 500 for a newline.
    let order_page = format!("/orders/{id}");
    for (back, to) in [
        ("/\t/evil.example", "/?done=sent"),
        ("/\n/evil.example", "/?done=sent"),
        ("//evil.example", "/?done=sent"),
        ("/\\evil.example", "/?done=sent"),
        ("https://evil.example/", "/?done=sent"),
        ("/orders/1/../../x", "/?done=sent"),
        (order_page.as_str(), "ORDER"),
    ] {
        let page = app
            .submit(
                &mut jar,
                "/",
                &format!("/messages/{}/sent", message.id),
                &[("back", back)],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{back:?}: {}",
            page.body
        );
        let expected = if to == "ORDER" {
            format!("{order_page}?done=sent")
        } else {
            to.to_owned()
        };
        assert_eq!(page.location(), expected, "{back:?}");
    }

    // A webhook URL is a sensitive change: the owner's password again.
    let mut owner = app.sign_in(OWNER).await;
    app.clock.advance(SignedDuration::from_mins(11));
    let url = "https://hooks.example.com/lunas";
    let page = app
        .submit(
            &mut owner,
            "/settings",
            "/settings/webhooks",
            &[("url", url)],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.engine.webhooks().await.unwrap().is_empty());
    let page = app
        .submit(
            &mut owner,
            "/settings",
            "/settings/webhooks",
            &[("url", url), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let hooks = app.engine.webhooks().await.unwrap();
    assert_eq!(hooks.len(), 1);
    app.clock.advance(SignedDuration::from_mins(11));
    let delete = [("id", hooks[0].id.as_str())];
    let page = app
        .submit(&mut owner, "/settings", "/settings/webhook-delete", &delete)
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut delete = delete.to_vec();
    delete.push(("password", PASSWORD));
    let page = app
        .submit(&mut owner, "/settings", "/settings/webhook-delete", &delete)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(app.engine.webhooks().await.unwrap().is_empty());
    let audit = app.audit_actions().await;
    assert!(
        audit.contains(&"webhook.add".to_owned()) && audit.contains(&"webhook.delete".to_owned())
    );
}

async fn today_shows_the_next_few_of_the_queue_and_staff_skip_from_the_whole_queue(
    backend: Backend,
) {
    let app = spawn(backend).await;
    // Seven orders, seven "pesanan diterima" waiting to be sent by hand (stock 5 + restock).
    app.engine
        .put_product(lunas_core::catalog::ProductInput {
            sku: Sku::parse("GAMIS-01").unwrap(),
            name: "Gamis Rayon".into(),
            price: Money::price(150_000).unwrap(),
            stock: 20,
            tips: None,
            variant: None,
        })
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(app.place(&format!("08123456780{n}"), "").await);
    }
    let mut jar = app.sign_in(STAFF).await;
    let today = app.get(&mut jar, "/").await;
    assert_eq!(
        today.body.matches("data-message=").count(),
        5,
        "the next five"
    );
    assert!(today.has(r#"id="queue-all""#) && today.has("Lihat seluruh antrean (7)"));
    let queue = app.get(&mut jar, "/queue").await;
    assert_eq!(queue.status, StatusCode::OK);
    assert_eq!(queue.body.matches("data-message=").count(), 7);
    let waiting = app.engine.manual_queue(10).await.unwrap();
    let page = app
        .submit(
            &mut jar,
            "/queue",
            &format!("/messages/{}/skip", waiting[0].id),
            &[("back", "/queue")],
        )
        .await;
    assert_eq!(page.location(), "/queue?done=skipped");
    let queue = app.get(&mut jar, page.location()).await;
    assert!(queue.has("Pesan dilewati"));
    assert_eq!(queue.body.matches("data-message=").count(), 6);
    // Paying an order takes its "pesanan diterima" off the queue by itself.
    let paid = waiting[1].order_id.expect("an order's message");
    let due = app.engine.order(paid).await.unwrap().unwrap().amount_due;
    app.engine
        .record_payment(paid, due, None, Actor::system())
        .await
        .unwrap();
    let left = app.engine.manual_queue(10).await.unwrap();
    assert!(
        left.iter().all(|m| m.order_id != Some(paid)
            || m.kind != lunas_core::messages::MessageKind::OrderReceived)
    );
    // The order's page says what became of each.
    let order = app
        .get(
            &mut jar,
            &format!("/orders/{}", waiting[0].order_id.unwrap()),
        )
        .await;
    assert!(order.has("dilewati"), "{}", order.body);
    let order = app.get(&mut jar, &format!("/orders/{paid}")).await;
    assert!(order.has("tidak perlu dikirim lagi"), "{}", order.body);
}

async fn today_shows_the_sales_and_orders_download_as_a_spreadsheet(backend: Backend) {
    let app = spawn(backend).await;
    let paid = app.place("081234567890", "").await;
    app.place("081298765432", "").await;
    let due = app.engine.order(paid).await.unwrap().unwrap().amount_due;
    app.engine
        .record_payment(paid, due, None, Actor::system())
        .await
        .unwrap();
    let mut jar = app.sign_in(STAFF).await;
    let today = app.get(&mut jar, "/").await;
    let omzet = lunas_core::messages::format_rupiah(due.minor_units());
    for (period, text) in [("today", &omzet), ("month", &omzet)] {
        let card = today
            .body
            .split(&format!(r#"data-sales="{period}""#))
            .nth(1)
            .and_then(|rest| rest.split("</div>").next())
            .expect("a sales card");
        assert!(card.contains(text.as_str()), "{period}: {card}");
        assert!(card.contains("<strong>2</strong> pesanan masuk"), "{card}");
        assert!(card.contains("<strong>1</strong> lunas"), "{card}");
    }

    let page = app.get(&mut jar, "/orders/export").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.has(r#"value="2026-12-01""#),
        "this month by default: {}",
        page.body
    );
    let file = app
        .get(&mut jar, "/orders/export.csv?from=2026-12-01&to=2026-12-01")
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(
        file.body
            .starts_with("no_pesanan,dipesan,status,nama_pembeli"),
        "{}",
        file.body
    );
    assert_eq!(file.body.lines().count(), 3);
    assert!(
        file.body.contains(",'+6281234567890,"),
        "numbers stay text: {}",
        file.body
    );
    let refused = app
        .get(&mut jar, "/orders/export.csv?from=2026-12-02&to=2026-12-01")
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.has("tanggal akhir tidak boleh sebelum tanggal awal"));
}

lunas_store::on_both_backends!(
    today_shows_the_sales_and_orders_download_as_a_spreadsheet,
    today_shows_the_next_few_of_the_queue_and_staff_skip_from_the_whole_queue,
    payments_to_review_are_resolved_from_today,
    proofs_of_transfer_are_seen_and_confirmed_from_today,
    manual_messages_are_sent_from_today_and_webhooks_need_the_password,
);
