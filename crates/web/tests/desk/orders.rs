use super::*;

async fn orders_are_placed_paid_and_extended_from_the_dashboard(backend: Backend) {
    let app = spawn(backend).await;
    let soon = app.place("081234567890", "1h").await;
    let later = app.place("081298765432", "").await;
    let mut jar = app.sign_in(STAFF).await;
    let today = app.get(&mut jar, "/").await;
    assert!(
        today.has(&format!(r#"data-order="{soon}""#)),
        "released within 2 h"
    );
    assert!(!today.has(&format!(r#"data-order="{later}""#)), "24 h away");

    // Paying the exact amount takes it off the release list.
    // Typed as sellers write amounts: "Rp158.573".
    let order = app.engine.order(soon).await.unwrap().unwrap();
    let amount = lunas_core::messages::format_rupiah(order.amount_due.minor_units());
    assert!(amount.starts_with("Rp") && amount.contains('.'), "{amount}");
    let page = app
        .submit(
            &mut jar,
            &format!("/orders/{soon}"),
            &format!("/orders/{soon}/pay"),
            &[("amount", &amount), ("reference", "BCA 0112")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let detail = app.get(&mut jar, page.location()).await;
    assert!(detail.has("Pembayaran dicatat"));
    assert!(detail.has("Lunas"));
    assert_eq!(
        app.engine.order(soon).await.unwrap().unwrap().status,
        OrderStatus::Paid
    );
    assert!(
        !app.get(&mut jar, "/")
            .await
            .has(&format!(r#"data-order="{soon}""#))
    );

    // A later deadline (in the store's local time) moves the release.
    let page = app
        .submit(
            &mut jar,
            &format!("/orders/{later}"),
            &format!("/orders/{later}/deadline"),
            &[
                ("pay_by", "2026-12-03T17:00"),
                ("reason", "gajian tanggal 3"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let order = app.engine.order(later).await.unwrap().unwrap();
    assert_eq!(order.pay_by, Some("2026-12-03T10:00:00Z".parse().unwrap()));
    app.clock.advance(SignedDuration::from_hours(25));
    app.engine.tick().await.unwrap();
    assert_eq!(
        app.engine.order(later).await.unwrap().unwrap().status,
        OrderStatus::AwaitingPayment
    );
    app.clock.set("2026-12-03T10:00:01Z".parse().unwrap());
    app.engine.tick().await.unwrap();
    assert_eq!(
        app.engine.order(later).await.unwrap().unwrap().status,
        OrderStatus::Expired
    );
    // Its history says both in Indonesian, the new time in the store's zone (WIB), not as the
    // API stores it (a new session: a day went by).
    let mut jar = app.sign_in(STAFF).await;
    let detail = app.get(&mut jar, &format!("/orders/{later}")).await;
    assert!(
        detail.has("Batas bayar diundur ke 3 Des 2026 17.00: gajian tanggal 3"),
        "{}",
        detail.body
    );
    assert!(detail.has("Batas bayar lewat tanpa pembayaran"));
    assert!(!detail.has("deadline moved to") && !detail.has("payment deadline passed"));

    // Cancelling, by the buyer, from the detail page (a new session: two days went by).
    let mut jar = app.sign_in(STAFF).await;
    let third = app.place("081311112222", "").await;
    let page = app
        .submit(
            &mut jar,
            &format!("/orders/{third}"),
            &format!("/orders/{third}/cancel"),
            &[("cancel_reason", "salah ukuran"), ("by", "buyer")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.engine.order(third).await.unwrap().unwrap().status,
        OrderStatus::Cancelled
    );
    // The history says who in words: the member's email, not the stored `staff:` form.
    let history = app.get(&mut jar, &format!("/orders/{third}")).await;
    assert!(history.has(STAFF), "{}", history.body);
    assert!(!history.has(&format!("staff:{STAFF}")), "{}", history.body);
    assert!(
        app.engine
            .store()
            .consistency_report()
            .await
            .unwrap()
            .is_empty()
    );

    // Search by number, by phone and by name.
    for q in [
        format!("%23{soon}"),
        "0812-9876-5432".into(),
        "wulan".into(),
    ] {
        let page = app.get(&mut jar, &format!("/orders?q={q}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.has("/orders/"), "{q}");
    }
    let none = app.get(&mut jar, "/orders?q=tidak+ada+orangnya").await;
    assert!(none.has("Tidak ada pesanan"));
}

async fn bad_input_is_shown_beside_its_field_and_what_was_typed_stays(backend: Backend) {
    let app = spawn(backend).await;
    let mut jar = app.sign_in(STAFF).await;
    let page = app
        .submit(
            &mut jar,
            "/orders/new",
            "/orders/new",
            &[
                ("phone", "12"),
                ("name", "Budi <b>"),
                ("sku", "GAMIS-01"),
                ("qty", "1"),
                ("payment_method", "bank_transfer"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.has(r#"id="e-phone""#),
        "the error is beside the phone field"
    );
    assert!(page.has("Budi &lt;b&gt;"), "typed text stays, escaped");
    assert!(!page.has("Budi <b>"));
    let page = app
        .submit(
            &mut jar,
            "/orders/new",
            "/orders/new",
            &[
                ("phone", "081234567890"),
                ("name", "Budi"),
                ("sku", "GAMIS-01"),
                ("qty", "banyak"),
                ("payment_method", "bank_transfer"),
            ],
        )
        .await;
    assert!(page.has(r#"id="e-qty""#));
    let page = app
        .submit(
            &mut jar,
            "/orders/new",
            "/orders/new",
            &[
                ("phone", "081234567890"),
                ("name", "Budi"),
                ("sku", "GAMIS-01"),
                ("qty", "9"),
                ("payment_method", "bank_transfer"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.has("Stok tidak cukup"), "{}", page.body);

    let id = app.place("081234567890", "").await;
    let path = format!("/orders/{id}");
    for (pairs, field) in [
        (vec![("amount", "nol")], "e-amount"),
        (vec![("amount", "0")], "e-amount"),
    ] {
        let page = app
            .submit(&mut jar, &path, &format!("{path}/pay"), &pairs)
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.has(&format!(r#"id="{field}""#)), "{}", page.body);
    }
    for (pay_by, reason) in [
        ("besok", "x"),
        ("2026-11-30T10:00", "x"),
        ("2026-12-02T10:00", ""),
    ] {
        let page = app
            .submit(
                &mut jar,
                &path,
                &format!("{path}/deadline"),
                &[("pay_by", pay_by), ("reason", reason)],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{pay_by}");
    }
    let page = app
        .submit(
            &mut jar,
            &path,
            &format!("{path}/cancel"),
            &[("cancel_reason", "  ")],
        )
        .await;
    assert!(page.has(r#"id="e-cancel_reason""#));
    let page = app
        .submit(
            &mut jar,
            "/products",
            "/products",
            &[
                ("sku", "ada spasi"),
                ("name", "X"),
                ("price", "1000"),
                ("stock", "1"),
            ],
        )
        .await;
    assert!(page.has(r#"id="e-sku""#));
    let order = app.engine.order(id).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::AwaitingPayment);
    assert!(order.payments.is_empty());
    assert_eq!(order.events.len(), 1);
}

async fn a_short_payment_is_accepted_as_paid_from_the_order_page(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    // The owner sets no tolerance: every rupiah must be paid (the field reads rupiah).
    let mut pairs: Vec<(&str, &str)> = lunas_core::PaymentMethod::ALL
        .iter()
        .filter(|m| **m != lunas_core::PaymentMethod::Cod)
        .map(|m| match m {
            lunas_core::PaymentMethod::BankTransfer => ("window_bank_transfer", "24 jam"),
            lunas_core::PaymentMethod::VirtualAccount => ("window_virtual_account", "24 jam"),
            lunas_core::PaymentMethod::Ewallet => ("window_ewallet", "1 jam"),
            _ => ("window_qris", "1 jam"),
        })
        .collect();
    pairs.push(("short_tolerance", "abc"));
    let page = app
        .submit(&mut owner, "/settings", "/settings/deadlines", &pairs)
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(
        page.has("Tulis jumlah rupiah dari 0 sampai Rp1.000.000"),
        "{}",
        page.body
    );
    pairs.pop();
    pairs.push(("short_tolerance", "0"));
    let page = app
        .submit(&mut owner, "/settings", "/settings/deadlines", &pairs)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(app.engine.settings().payments.short_tolerance, Some(0));

    let id = app.place("081234567890", "").await;
    let mut jar = app.sign_in(STAFF).await;
    let path = format!("/orders/{id}");
    // Nothing has arrived: there is nothing to accept yet.
    let page = app.get(&mut jar, &path).await;
    assert!(!page.has(r#"id="accept""#));
    let page = app
        .submit(
            &mut jar,
            &path,
            &format!("{path}/pay"),
            &[("amount", "150.000")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let order = app.engine.order(id).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::AwaitingPayment, "no tolerance");
    let short = order.amount_due.minor_units() - 150_000;

    let page = app.get(&mut jar, &path).await;
    assert!(page.has("Terima sebagai lunas"), "{}", page.body);
    let page = app
        .submit(
            &mut jar,
            &path,
            &format!("{path}/accept"),
            &[("accept_reason", " ")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.has(r#"id="e-accept_reason""#), "{}", page.body);
    let page = app
        .submit(
            &mut jar,
            &path,
            &format!("{path}/accept"),
            &[("accept_reason", "lupa kode unik")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let order = app.engine.order(id).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(order.written_off.minor_units(), short);
    let detail = app.get(&mut jar, page.location()).await;
    assert!(detail.has("Pesanan diterima sebagai lunas"));
    assert!(detail.has(r#"id="written-off""#), "{}", detail.body);
    assert!(
        detail.has(&format!(
            "Diterima sebagai lunas; kekurangan yang dihapuskan {}: lupa kode unik",
            lunas_core::messages::format_rupiah(short)
        )),
        "{}",
        detail.body
    );
    assert!(
        !detail.has("accepted as paid;"),
        "no stored English on the page"
    );
}

async fn buyers_are_found_by_part_of_a_name_or_a_number(backend: Backend) {
    let app = spawn(backend).await;
    app.place("081234567890", "").await;
    app.place("081298765432", "").await;
    let mut jar = app.sign_in(STAFF).await;
    let rows = |page: &Page| page.body.matches("<tr><td><a href=\"/buyers/").count();
    for (q, found) in [
        ("wulan", 2),
        ("WULAN", 2),
        ("9876", 1),
        ("0812987", 1),
        ("+62 812", 2),
        ("tidak ada", 0),
        ("%_", 0),
    ] {
        let query = serde_urlencoded::to_string([("phone", q)]).unwrap();
        let page = app.get(&mut jar, &format!("/buyers?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{q}");
        assert_eq!(rows(&page), found, "{q}: {}", page.body);
    }
    // A whole number opens the buyer's page.
    let page = app.get(&mut jar, "/buyers?phone=0812-3456-7890").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/buyers/6281234567890");
}

lunas_store::on_both_backends!(
    buyers_are_found_by_part_of_a_name_or_a_number,
    a_short_payment_is_accepted_as_paid_from_the_order_page,
    orders_are_placed_paid_and_extended_from_the_dashboard,
    bad_input_is_shown_beside_its_field_and_what_was_typed_stays,
);
