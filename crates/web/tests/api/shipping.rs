//! Orders that ship: an address, a shipping cost (ongkir) and a discount on the order.

use super::*;

fn shipped(address: Value, shipping_cost: Value, discount: Value) -> Value {
    json!({
        "customer": {"phone": "081234567890", "name": "Sari Wulandari", "honorific": "bu"},
        "items": [{"sku": "GAMIS-01", "qty": 1}, {"sku": "KERUDUNG-01", "qty": 2}],
        "payment_method": "bank_transfer",
        "address": address,
        "shipping_cost": shipping_cost,
        "discount": discount,
    })
}

fn depok() -> Value {
    json!({
        "recipient": "Sari Wulandari", "phone": "0812-3456-7890",
        "street": "Jl. Melati No. 12, RT 03/RW 05", "kelurahan": "Sukamaju",
        "kecamatan": "Cilodong", "city": "Kota Depok", "province": "Jawa Barat",
        "postcode": "16415"
    })
}

async fn an_order_carries_its_address_shipping_cost_and_discount(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    app.put_product("KERUDUNG-01", 10, 45_000).await;
    let placed = app
        .post(
            "/api/v1/orders",
            shipped(depok(), json!(18_000), json!(5_000)),
        )
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let order = &placed.body;
    assert_eq!(order["items_total"], 240_000);
    assert_eq!(order["shipping_cost"], 18_000);
    assert_eq!(order["discount"], 5_000);
    assert_eq!(order["total"], 253_000);
    // The unique code is added to the total with ongkir and discount, not to the items.
    let code = order["unique_code"].as_i64().unwrap();
    assert_eq!(order["amount_due"].as_i64().unwrap(), 253_000 + code);
    assert_eq!(order["address"]["phone"], "+6281234567890");
    assert_eq!(order["address"]["city"], "Kota Depok");
    assert_eq!(order["address"]["postcode"], "16415");

    // Read back the same, and paid by its amount due.
    let id = order["id"].as_i64().unwrap();
    let read = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(read.body["address"], order["address"]);
    assert_eq!(read.body["total"], 253_000);
    let paid = app
        .post(
            &format!("/api/v1/orders/{id}/payments"),
            json!({"amount": order["amount_due"]}),
        )
        .await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.body);

    // Personal data: in the buyer's export, gone after erasure.
    let export = app.get("/api/v1/customers/081234567890/export").await;
    assert_eq!(
        export.body["orders"][0]["address"]["street"],
        "Jl. Melati No. 12, RT 03/RW 05"
    );
    let erased = app
        .post("/api/v1/customers/081234567890/erase", json!({}))
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
    let after = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(after.body["address"], Value::Null, "{}", after.body);
    assert_eq!(after.body["total"], 253_000, "the money stays");

    // Without an address or charges the order is as before.
    let plain = app.place("081298765432", "GAMIS-01", 1).await;
    assert_eq!(plain.body["shipping_cost"], 0);
    assert_eq!(plain.body["discount"], 0);
    assert_eq!(plain.body["address"], Value::Null);
    assert_eq!(plain.body["total"], 150_000);
}

async fn bad_shipping_input_is_refused_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 5, 150_000).await;
    app.put_product("KERUDUNG-01", 10, 45_000).await;
    let mut long_city = depok();
    long_city["city"] = json!("K".repeat(101));
    let mut bad_postcode = depok();
    bad_postcode["postcode"] = json!("1641");
    let mut no_street = depok();
    no_street["street"] = json!("  ");
    let mut bad_phone = depok();
    bad_phone["phone"] = json!("12");
    for (body, status, code) in [
        (
            shipped(depok(), json!(-1), json!(0)),
            422,
            "invalid_shipping_cost",
        ),
        (
            shipped(depok(), json!(100_000_001), json!(0)),
            422,
            "invalid_shipping_cost",
        ),
        (
            shipped(depok(), json!(0), json!(-5)),
            422,
            "invalid_discount",
        ),
        // Items and ongkir are Rp258.000: a discount of that or more leaves nothing to pay.
        (
            shipped(depok(), json!(18_000), json!(258_000)),
            409,
            "discount_above_total",
        ),
        (
            shipped(depok(), json!(0), json!(1_000_000)),
            409,
            "discount_above_total",
        ),
        (
            shipped(long_city, json!(0), json!(0)),
            422,
            "invalid_address",
        ),
        (
            shipped(bad_postcode, json!(0), json!(0)),
            422,
            "invalid_address",
        ),
        (
            shipped(no_street, json!(0), json!(0)),
            422,
            "invalid_address",
        ),
        (
            shipped(bad_phone, json!(0), json!(0)),
            422,
            "invalid_address",
        ),
        (
            shipped(json!({"city": "Depok"}), json!(0), json!(0)),
            422,
            "invalid_request",
        ),
    ] {
        let reply = app.post("/api/v1/orders", body.clone()).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "{body} → {}",
            reply.body
        );
    }
    // The message names the field.
    let mut long_city = depok();
    long_city["city"] = json!("K".repeat(101));
    let reply = app
        .post("/api/v1/orders", shipped(long_city, json!(0), json!(0)))
        .await;
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("address.city"),
        "{}",
        reply.body
    );
    // Nothing was held or written.
    for sku in ["GAMIS-01", "KERUDUNG-01"] {
        let product = app.get(&format!("/api/v1/products/{sku}")).await;
        assert_eq!(product.body["reserved"], 0, "{sku}");
    }
    let orders = app.get("/api/v1/orders").await;
    assert_eq!(
        orders.body["items"].as_array().unwrap().len(),
        0,
        "{}",
        orders.body
    );
}

lunas_store::on_both_backends!(
    an_order_carries_its_address_shipping_cost_and_discount,
    bad_shipping_input_is_refused_and_writes_nothing,
);
