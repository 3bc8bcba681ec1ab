use super::*;

/// Every page of a store with orders in every state, in both languages: it renders (no key
/// missing in a language, no 500) and weighs under 100 KB.
async fn every_page_renders_in_both_languages_under_100_kb(backend: Backend) {
    let app = spawn_with(backend, Seed::Demo).await;
    let mut owner = app.sign_in(OWNER).await;
    for language in ["en", "id"] {
        let page = app
            .submit(
                &mut owner,
                "/account",
                "/account/language",
                &[("language", language)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let orders = app
            .engine
            .orders(
                None,
                lunas_core::queries::Page {
                    after: None,
                    limit: 100,
                },
            )
            .await
            .unwrap();
        assert!(orders.len() >= 8, "the demo's orders are visited");
        let mut paths: Vec<String> = PAGES.iter().map(|p| p.to_string()).collect();
        for order in &orders {
            paths.push(format!("/orders/{}", order.id));
            paths.push(format!(
                "/buyers/{}",
                order.customer.phone.as_str().trim_start_matches('+')
            ));
        }
        for sku in ["KAOS-OVS", "KAOS-OVS-HTM-XXL", "KOPI-GAYO-250"] {
            paths.push(format!("/products/{sku}"));
        }
        for status in OrderStatus::ALL {
            paths.push(format!("/orders?status={}", status.as_str()));
        }
        for band in ["trusted", "normal", "watch", "blocked"] {
            paths.push(format!("/buyers?band={band}"));
        }
        for path in &paths {
            let page = app.get(&mut owner, path).await;
            assert_eq!(
                page.status,
                StatusCode::OK,
                "{language} {path}: {}",
                page.body
            );
            assert!(
                page.body.len() < 100 * 1024,
                "{path}: {} bytes",
                page.body.len()
            );
            assert!(page.has(&format!(r#"<html lang="{language}">"#)), "{path}");
        }
        let today = app.get(&mut owner, "/").await;
        let word = if language == "en" {
            "Manual WhatsApp queue"
        } else {
            "Antrean WhatsApp manual"
        };
        assert!(today.has(word));
    }
}

async fn junk_never_answers_500(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    for path in [
        "/orders/abc",
        "/orders/0",
        "/orders/99999999",
        "/orders/-1",
        "/buyers/xyz",
        "/buyers/6289999999999",
        "/orders?status=bogus&q=%00%ff",
        "/orders?after=zz",
        "/buyers?band=x&after=-5",
        "/audit?before=x",
        "/products?after=%20",
        "/products/NOPE",
        "/products/bukan%20sku",
        "/products/..",
        "/nothing/here",
    ] {
        let page = app.get(&mut owner, path).await;
        assert!(!page.status.is_server_error(), "{path}: {}", page.status);
    }
    let csrf = app.get(&mut owner, "/").await.csrf();
    for path in [
        "/orders/abc/pay",
        "/orders/99999/pay",
        "/orders/99999/cancel",
        "/orders/99999/deadline",
        "/messages/nope/sent",
        "/reviews/x/resolve",
        "/reviews/999/resolve",
        "/buyers/x/band",
        "/buyers/6289999999999/notes",
        "/buyers/6289999999999/erase",
        "/settings/nothing",
        "/staff/x/disable",
        "/account/nothing",
        "/products",
        "/products/NOPE",
        "/products/..",
        "/products/NOPE/variants",
        "/products/KAOS-OVS-HTM-L/variants",
        "/orders/new",
        "/settings/preview",
    ] {
        for body in [
            vec![("csrf", csrf.as_str())],
            vec![
                ("csrf", csrf.as_str()),
                ("amount", "99999999999999999999"),
                ("order_id", "abc"),
                ("note", "\u{0}"),
                ("pay_by", "9999-99-99T99:99"),
                ("qty", "-1"),
                ("price", "x"),
            ],
        ] {
            let page = app.post(&mut owner, path, &body).await;
            assert!(
                !page.status.is_server_error(),
                "{path}: {} {}",
                page.status,
                page.body
            );
        }
    }
    // A body that is not a form.
    let page = app
        .send(
            &mut owner,
            Method::POST,
            "/orders/new",
            Some("%%%=&&&\u{ff}".into()),
            &[],
        )
        .await;
    assert!(!page.status.is_server_error());
}

lunas_store::on_both_backends!(
    every_page_renders_in_both_languages_under_100_kb,
    junk_never_answers_500,
);
