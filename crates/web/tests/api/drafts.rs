//! `POST /api/v1/orders/parse`: a pasted format order read as a draft, never an order.

use super::*;

async fn a_pasted_format_order_is_read_as_a_draft_against_the_catalogue(backend: Backend) {
    let app = spawn_app(backend).await;
    app.send(
        Method::PUT,
        "/api/v1/products/GAMIS-HTM-L",
        Some(json!({"name": "Gamis Rayon Hitam L", "price": 150_000, "stock": 5}).to_string()),
        &[],
    )
    .await;
    app.send(
        Method::PUT,
        "/api/v1/products/KRD-VOAL-MOCCA",
        Some(json!({"name": "Kerudung Voal Mocca", "price": 45_000, "stock": 9}).to_string()),
        &[],
    )
    .await;
    let text = "*FORMAT ORDER*\n\
        👤 Nama : Sari Wulandari\n\
        📱 HP/WA : 0812-3456-7890\n\
        🏠 Alamat : Jl. Melati No. 12 RT 03/RW 05, Kel. Sukamaju, Kec. Cilodong, Kota Depok, Jawa Barat 16415\n\
        🛍️ Pesanan :\n\
        • gamis rayon hitam uk L 2 pcs\n\
        • KRD-VOAL-MOCCA x1\n\
        Ongkir : 18rb\n\
        Pembayaran : TF BCA\n";
    let reply = app
        .post("/api/v1/orders/parse", json!({"text": text}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let draft = &reply.body;
    assert_eq!(draft["customer"]["name"], "Sari Wulandari");
    assert_eq!(draft["customer"]["phone"], "+6281234567890");
    assert_eq!(draft["address"]["street"], "Jl. Melati No. 12 RT 03/RW 05");
    assert_eq!(draft["address"]["kelurahan"], "Sukamaju");
    assert_eq!(draft["address"]["kecamatan"], "Cilodong");
    assert_eq!(draft["address"]["city"], "Kota Depok");
    assert_eq!(draft["address"]["province"], "Jawa Barat");
    assert_eq!(draft["address"]["postcode"], "16415");
    assert_eq!(
        draft["items"],
        json!([
            {"sku": "GAMIS-HTM-L", "qty": 2, "matched_by": "name", "text": "gamis rayon hitam uk L"},
            {"sku": "KRD-VOAL-MOCCA", "qty": 1, "matched_by": "sku", "text": "KRD-VOAL-MOCCA"},
        ])
    );
    assert_eq!(draft["shipping_cost"], 18_000);
    assert_eq!(draft["payment_method"], "bank_transfer");
    assert_eq!(draft["unparsed"], json!([]));
    assert_eq!(draft["confidence"], 1.0);
    assert_eq!(draft["message"], Value::Null);

    // A product added a moment ago is in the catalogue at once.
    app.put_product("MADU-500", 3, 95_000).await;
    let reply = app
        .post(
            "/api/v1/orders/parse",
            json!({"text": "Pesanan: madu-500 3 botol"}),
        )
        .await;
    assert_eq!(reply.body["items"][0]["sku"], "MADU-500", "{}", reply.body);
    assert_eq!(reply.body["items"][0]["qty"], 3);

    // A product sold in sizes: the buyer's words match the variant, never the product itself.
    for (sku, body) in [
        (
            "KAOS-OVS",
            json!({"name": "Kaos Oversize Katun", "price": 89_000, "stock": 0}),
        ),
        (
            "KAOS-OVS-HTM-L",
            json!({"parent": "KAOS-OVS", "variant": "Hitam / L", "stock": 4}),
        ),
        (
            "KAOS-OVS-PTH-M",
            json!({"parent": "KAOS-OVS", "variant": "Putih / M", "stock": 4}),
        ),
    ] {
        let put = app
            .send(
                Method::PUT,
                &format!("/api/v1/products/{sku}"),
                Some(body.to_string()),
                &[],
            )
            .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    }
    let reply = app
        .post(
            "/api/v1/orders/parse",
            json!({"text": "Order: kaos oversize katun putih M 2pcs\nkaos oversize hitam L x1"}),
        )
        .await;
    let skus: Vec<_> = reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| (item["sku"].clone(), item["qty"].clone()))
        .collect();
    assert_eq!(
        skus,
        [
            (json!("KAOS-OVS-PTH-M"), json!(2)),
            (json!("KAOS-OVS-HTM-L"), json!(1))
        ],
        "{}",
        reply.body
    );
}

async fn a_paste_with_nothing_recognisable_is_all_unparsed_and_places_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    // Blank is a draft of nothing too.
    let blank = app
        .post("/api/v1/orders/parse", json!({"text": "  \n "}))
        .await;
    assert_eq!(blank.status, StatusCode::OK);
    assert_eq!(blank.body["confidence"], 0.0);
    assert!(blank.body["message"].is_string());
    let reply = app
        .post(
            "/api/v1/orders/parse",
            json!({"text": "asdf qwerty\nlorem ipsum dolor\n🙂"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["unparsed"],
        json!(["asdf qwerty", "lorem ipsum dolor"])
    );
    assert_eq!(reply.body["items"], json!([]));
    assert_eq!(reply.body["address"], Value::Null);
    assert_eq!(reply.body["confidence"], 0.0);
    assert!(reply.body["message"].as_str().unwrap().contains("nothing"));
    for (text, code) in [
        (json!(""), "invalid_text"),
        (json!("x".repeat(8001)), "text_too_long"),
        (json!(12), "invalid_request"),
    ] {
        let reply = app
            .post("/api/v1/orders/parse", json!({"text": text}))
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{text}"
        );
    }
    let orders = app.get("/api/v1/orders").await;
    assert_eq!(orders.body["items"], json!([]), "a draft is never an order");
    let product = app.get("/api/v1/products/GAMIS-01").await;
    assert_eq!(product.body["reserved"], 0);
}

lunas_store::on_both_backends!(
    a_pasted_format_order_is_read_as_a_draft_against_the_catalogue,
    a_paste_with_nothing_recognisable_is_all_unparsed_and_places_nothing,
);
