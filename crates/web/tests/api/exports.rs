//! `GET /api/v1/orders.csv`: orders of a range as CSV, safe to open in a spreadsheet.

use super::*;

async fn orders_of_a_range_export_as_csv_a_spreadsheet_cannot_run(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 9, 150_000).await;
    app.place("081234567890", "GAMIS-01", 1).await;
    let mut body = order_body("081298765432", "GAMIS-01", 2);
    body["customer"]["name"] = json!("=HYPERLINK(\"http://evil\")");
    body["shipping_cost"] = json!(18_000);
    app.post("/api/v1/orders", body).await;

    let reply = app
        .send(
            Method::GET,
            "/api/v1/orders.csv?from=2026-11-01&to=2026-11-30",
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(
        reply
            .headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("pesanan-2026-11-01-2026-11-30.csv")
    );
    let text = reply.body.as_str().unwrap().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("order_id,placed_at,status,buyer_name"));
    assert!(
        lines[2].contains(",\"'=HYPERLINK(\"\"http://evil\"\")\","),
        "{}",
        lines[2]
    );
    assert!(
        lines[2].contains(",318000,"),
        "items, ongkir and total: {}",
        lines[2]
    );
    // Outside the range: only the header.
    let empty = app
        .send(
            Method::GET,
            "/api/v1/orders.csv?from=2026-12-01&to=2026-12-02",
            None,
            &[],
        )
        .await;
    assert_eq!(empty.body.as_str().unwrap().lines().count(), 1);
    for (query, code) in [
        ("?from=kemarin", "invalid_range"),
        ("?from=2026-11-30&to=2026-11-01", "invalid_range"),
    ] {
        let reply = app
            .send(
                Method::GET,
                &format!("/api/v1/orders.csv{query}"),
                None,
                &[],
            )
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{query}"
        );
    }
}

lunas_store::on_both_backends!(orders_of_a_range_export_as_csv_a_spreadsheet_cannot_run);
