//! The buyer's own order page, `/o/{token}`: found by its token alone, masked, budgeted.

use super::*;

impl Reply {
    pub(super) fn html(&self) -> &str {
        self.body
            .as_str()
            .unwrap_or_else(|| panic!("not HTML: {}", self.body))
    }
}

/// The path of an order's page from its JSON, checking the link is ours and unguessable.
pub(super) fn page_path(order: &Value) -> String {
    let url = order["public_url"].as_str().expect("public_url");
    let token = url
        .strip_prefix("https://toko.example/o/")
        .unwrap_or_else(|| panic!("{url} is not under the configured base"));
    assert!(
        token.len() >= 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token}: at least 128 random bits"
    );
    format!("/o/{token}")
}

async fn every_order_has_a_page_its_messages_link_to(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let mut settings = (*app.engine.settings()).clone();
    settings.bank_accounts = vec![lunas_core::messages::BankAccount {
        bank: "BCA".into(),
        number: "0231 5567 89".into(),
        holder: "Muri Handayani".into(),
    }];
    settings.store_whatsapp = Some("+6281311112222".into());
    let reply = app
        .send(
            Method::PUT,
            "/api/v1/settings",
            Some(serde_json::to_string(&settings).unwrap()),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let placed = app.place("081234567890", "GAMIS-01", 1).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let path = page_path(&placed.body);
    // Read back, the order has the same page; another order has another.
    let id = placed.body["id"].as_i64().unwrap();
    let read = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(read.body["public_url"], placed.body["public_url"]);
    let other = app.place("081298765432", "GAMIS-01", 1).await;
    assert_ne!(page_path(&other.body), path);

    // No sign-in: the page is opened without a token.
    let page = app
        .send(Method::GET, &path, None, &[("authorization", "")])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    let due = lunas_core::messages::format_rupiah(placed.body["amount_due"].as_i64().unwrap());
    for shown in [
        format!("Pesanan #{id}"),
        "Menunggu bayar".to_owned(),
        format!("Transfer tepat {due}"),
        "0231 5567 89".to_owned(),
        "Sisa waktu bayar".to_owned(),
        "1 hari".to_owned(),
        "+62 812-••••-7890".to_owned(),
        "https:&#x2f;&#x2f;wa.me&#x2f;6281311112222?text=Halo+Toko+Kami%2C+saya+mau+tanya+tentang+pesanan+%23".to_owned(),
    ] {
        assert!(html.contains(&shown), "{shown} not in {html}");
    }
    assert!(
        !html.contains("3456-7890") && !html.contains("81234567890"),
        "the number is masked"
    );
    assert!(html.len() < 100 * 1024, "{} bytes", html.len());
    assert_eq!(page.headers["x-robots-tag"], "noindex, nofollow");
    assert!(
        page.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(page.headers["cache-control"], "no-store");
    // In English on request.
    let english = app.get(&format!("{path}?lang=en")).await;
    assert!(english.html().contains(&format!("Order #{id}")));
    assert!(english.html().contains("Time left to pay"));

    // The buyer's messages carry the link.
    let messages = app.get(&format!("/api/v1/orders/{id}/messages")).await;
    let body = messages.body[0]["body"].as_str().unwrap().to_owned();
    assert!(
        body.contains(&format!(
            "Lihat pesanan & cara bayar: https://toko.example{path}"
        )),
        "{body}"
    );

    // Paid: the page says so and asks for nothing more.
    let paid = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            json!({"amount": placed.body["amount_due"]}),
        )
        .await;
    assert_eq!(paid.body["status"], "paid");
    let page = app.get(&path).await;
    assert!(page.html().contains("Pembayaran sudah kami terima"));
    assert!(!page.html().contains("Cara bayar"));
}

async fn unknown_and_malformed_links_get_the_same_page(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let placed = app.place("081234567890", "GAMIS-01", 1).await;
    let path = page_path(&placed.body);
    let mut near = path.clone();
    near.pop();
    near.push(if path.ends_with('0') { '1' } else { '0' });
    let long = format!("/o/{}", "a".repeat(5000));
    let mut bodies = Vec::new();
    for path in [
        near.as_str(),
        "/o/x",
        "/o/%00%ff",
        "/o/..%2F..%2Fetc",
        long.as_str(),
        "/o/6fc578a5513c11446355dfea8e2af05b",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        bodies.push(page.html().to_owned());
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "one page for every miss"
    );
    assert!(bodies[0].contains("Pesanan tidak ditemukan"));
}

async fn each_address_has_a_budget_of_requests(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    let placed = app.place("081234567890", "GAMIS-01", 1).await;
    let path = page_path(&placed.body);
    // Behind a proxy on this machine, the address is the one it forwards.
    let from = |ip: &'static str| [("x-forwarded-for", ip)];
    for n in 0..60 {
        let page = app
            .send(Method::GET, &path, None, &from("203.0.113.7"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "request {n}");
    }
    let refused = app
        .send(Method::GET, &path, None, &from("203.0.113.7"))
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers["retry-after"], "60");
    assert!(refused.html().contains("Terlalu banyak permintaan"));
    // Misses count too, so guessing tokens is as slow as reading.
    let guess = app
        .send(Method::GET, "/o/abc", None, &from("203.0.113.7"))
        .await;
    assert_eq!(guess.status, StatusCode::TOO_MANY_REQUESTS);
    let other = app
        .send(Method::GET, &path, None, &from("203.0.113.8"))
        .await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "another address is not held back"
    );
    // A minute later the budget is back.
    app.clock.advance(SignedDuration::from_secs(60));
    let again = app
        .send(Method::GET, &path, None, &from("203.0.113.7"))
        .await;
    assert_eq!(again.status, StatusCode::OK);
}

lunas_store::on_both_backends!(
    every_order_has_a_page_its_messages_link_to,
    unknown_and_malformed_links_get_the_same_page,
    each_address_has_a_budget_of_requests,
);
