//! Variants: a product's sizes and colours, each with its own SKU and stock, grouped under it.

use super::*;

impl TestApp {
    async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body.to_string()), &[])
            .await
    }
}

async fn a_product_lists_its_variants_which_take_its_name_and_price(backend: Backend) {
    let app = spawn_app(backend).await;
    let kaos = app
        .put(
            "/api/v1/products/KAOS",
            json!({"name": "Kaos Polos", "price": 75_000, "stock": 0}),
        )
        .await;
    assert_eq!(kaos.status, StatusCode::OK, "{}", kaos.body);
    let black_l = app
        .put(
            "/api/v1/products/KAOS-HITAM-L",
            json!({"parent": "KAOS", "variant": "Hitam / L", "stock": 5}),
        )
        .await;
    assert_eq!(black_l.status, StatusCode::OK, "{}", black_l.body);
    assert_eq!(black_l.body["name"], "Kaos Polos (Hitam / L)");
    assert_eq!(black_l.body["price"], 75_000);
    assert_eq!(black_l.body["own_price"], false);
    assert_eq!(black_l.body["parent"], "KAOS");
    assert_eq!(black_l.body["variant"], "Hitam / L");
    let black_xl = app
        .put(
            "/api/v1/products/KAOS-HITAM-XL",
            json!({"parent": "KAOS", "variant": "Hitam  /  XL", "stock": 2, "price": 80_000}),
        )
        .await;
    assert_eq!(black_xl.body["variant"], "Hitam / XL", "spaces are tidied");
    assert_eq!(black_xl.body["price"], 80_000);

    // The product lists its variants; renaming and repricing it carries to those that follow.
    app.put(
        "/api/v1/products/KAOS",
        json!({"name": "Kaos Katun", "price": 70_000, "stock": 0}),
    )
    .await;
    let group = app.get("/api/v1/products/KAOS").await;
    assert_eq!(group.body["variant_count"], 2);
    let variants = group.body["variants"].as_array().unwrap();
    let names: Vec<_> = variants.iter().map(|v| v["name"].clone()).collect();
    assert_eq!(
        names,
        [
            json!("Kaos Katun (Hitam / L)"),
            json!("Kaos Katun (Hitam / XL)")
        ]
    );
    let prices: Vec<_> = variants.iter().map(|v| v["price"].clone()).collect();
    assert_eq!(prices, [json!(70_000), json!(80_000)], "an own price stays");
    // A variant has no variants to list.
    let variant = app.get("/api/v1/products/KAOS-HITAM-L").await;
    assert!(variant.body.get("variants").is_none(), "{}", variant.body);
    // A plain product lists none.
    app.put_product("TOPI", 3, 50_000).await;
    assert_eq!(
        app.get("/api/v1/products/TOPI").await.body["variants"],
        json!([])
    );

    // Orders name the variant, which holds its own stock; the product itself is not sold.
    let placed = app.place("081234567890", "KAOS-HITAM-L", 2).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(placed.body["items"][0]["name"], "Kaos Katun (Hitam / L)");
    assert_eq!(placed.body["total"], 140_000);
    let held = app.get("/api/v1/products/KAOS-HITAM-L").await;
    assert_eq!(held.body["reserved"], 2);
    for items in [
        json!([{"sku": "KAOS", "qty": 1}]),
        json!([{"sku": "KAOS-HITAM-XL", "qty": 1}, {"sku": "KAOS", "qty": 1}]),
    ] {
        let refused = app
            .post(
                "/api/v1/orders",
                json!({"customer": {"phone": "081298765432", "name": "Budi"}, "items": items, "payment_method": "bank_transfer"}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        assert_eq!(refused.body["error"]["code"], "variant_required");
    }
    assert_eq!(
        app.get("/api/v1/products/KAOS-HITAM-XL").await.body["reserved"],
        0,
        "a refused order holds nothing"
    );
}

async fn colliding_or_malformed_variants_are_refused_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put(
        "/api/v1/products/KAOS",
        json!({"name": "Kaos Polos", "price": 75_000, "stock": 0}),
    )
    .await;
    app.put(
        "/api/v1/products/KAOS-HITAM-L",
        json!({"parent": "KAOS", "variant": "Hitam / L", "stock": 5}),
    )
    .await;
    app.put_product("TOPI", 3, 50_000).await;
    let before = app.get("/api/v1/products?limit=100").await.body;
    for (sku, body, status, code) in [
        // The same label under another SKU, whatever its case and spacing.
        (
            "KAOS-HL2",
            json!({"parent": "KAOS", "variant": "hitam /  l", "stock": 1}),
            409,
            "variant_taken",
        ),
        // A SKU that is already another product, or a variant of it updated as a product.
        (
            "TOPI",
            json!({"parent": "KAOS", "variant": "Merah / M", "stock": 1}),
            409,
            "sku_taken",
        ),
        (
            "KAOS-HITAM-L",
            json!({"name": "Lain", "price": 1, "stock": 1}),
            409,
            "sku_taken",
        ),
        (
            "KAOS",
            json!({"parent": "TOPI", "variant": "Besar", "stock": 1}),
            409,
            "sku_taken",
        ),
        // Parents: missing, a variant, itself, not a SKU.
        (
            "X-1",
            json!({"parent": "NOPE", "variant": "A", "stock": 1}),
            409,
            "unknown_parent",
        ),
        (
            "X-2",
            json!({"parent": "KAOS-HITAM-L", "variant": "A", "stock": 1}),
            409,
            "parent_is_variant",
        ),
        (
            "X-3",
            json!({"parent": "X-3", "variant": "A", "stock": 1}),
            409,
            "unknown_parent",
        ),
        (
            "TOPI",
            json!({"parent": "TOPI", "variant": "A", "stock": 1}),
            409,
            "sku_taken",
        ),
        (
            "X-4",
            json!({"parent": "bukan sku!", "variant": "A", "stock": 1}),
            422,
            "invalid_parent",
        ),
        // Labels: missing, blank, too long, without a parent.
        (
            "X-5",
            json!({"parent": "KAOS", "stock": 1}),
            422,
            "invalid_variant",
        ),
        (
            "X-6",
            json!({"parent": "KAOS", "variant": "  ", "stock": 1}),
            422,
            "invalid_variant",
        ),
        (
            "X-7",
            json!({"parent": "KAOS", "variant": "L".repeat(61), "stock": 1}),
            422,
            "invalid_variant",
        ),
        (
            "X-8",
            json!({"variant": "A", "name": "A", "price": 1, "stock": 1}),
            422,
            "invalid_variant",
        ),
        // A product without its name or price.
        ("X-9", json!({"price": 1, "stock": 1}), 422, "invalid_name"),
        (
            "X-10",
            json!({"name": "A", "stock": 1}),
            422,
            "invalid_price",
        ),
        (
            "X-11",
            json!({"parent": "KAOS", "variant": "A", "stock": -1}),
            422,
            "invalid_stock",
        ),
    ] {
        let reply = app
            .put(&format!("/api/v1/products/{sku}"), body.clone())
            .await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{sku} {body}: {}",
            reply.body
        );
        assert_eq!(reply.body["error"]["code"], code, "{sku} {body}");
    }
    assert_eq!(app.get("/api/v1/products?limit=100").await.body, before);
    assert_eq!(
        app.get("/api/v1/products/KAOS").await.body["variant_count"],
        1
    );
}

/// A product renamed while its variants are written and ordered, all at once: every request is
/// answered (no deadlock between the product's row and its variants'), and the names agree.
async fn a_group_written_from_many_connections_at_once_stays_consistent(backend: Backend) {
    let app = Arc::new(spawn_app(backend).await);
    app.put(
        "/api/v1/products/KAOS",
        json!({"name": "Kaos 0", "price": 10_000, "stock": 0}),
    )
    .await;
    for size in ["S", "M", "L", "XL"] {
        app.put(
            &format!("/api/v1/products/KAOS-{size}"),
            json!({"parent": "KAOS", "variant": size, "stock": 1000}),
        )
        .await;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let app = app.clone();
        tasks.spawn(async move {
            let size = ["S", "M", "L", "XL"][i % 4];
            let reply = match i % 3 {
                0 => {
                    app.put(
                        "/api/v1/products/KAOS",
                        json!({"name": format!("Kaos {i}"), "price": 10_000 + i, "stock": 0}),
                    )
                    .await
                }
                1 => {
                    app.put(
                        &format!("/api/v1/products/KAOS-{size}"),
                        json!({"parent": "KAOS", "variant": size, "stock": 1000 + i}),
                    )
                    .await
                }
                _ => {
                    app.place(&format!("08123456{i:04}"), &format!("KAOS-{size}"), 1)
                        .await
                }
            };
            assert!(
                reply.status.is_success(),
                "{i}: {} {}",
                reply.status,
                reply.body
            );
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let group = app.get("/api/v1/products/KAOS").await.body;
    for variant in group["variants"].as_array().unwrap() {
        assert_eq!(
            variant["name"],
            format!(
                "{} ({})",
                group["name"].as_str().unwrap(),
                variant["variant"].as_str().unwrap()
            )
        );
        assert_eq!(variant["price"], group["price"]);
    }
    assert_eq!(group["variant_count"], 4);
}

lunas_store::on_both_backends!(
    a_group_written_from_many_connections_at_once_stays_consistent,
    a_product_lists_its_variants_which_take_its_name_and_price,
    colliding_or_malformed_variants_are_refused_and_change_nothing,
);
