//! `GET /api/v1/analytics/summary`: the figures of a period, current after every change, and a
//! bad period or filter refused with its code.

use super::*;

async fn pay(app: &TestApp, placed: &Reply) -> Reply {
    let id = placed.body["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/orders/{id}/payments"),
        json!({"amount": placed.body["amount_due"]}),
    )
    .await
}

async fn the_summary_counts_paid_and_run_off_orders_and_keeps_up(backend: Backend) {
    let app = spawn_app(backend).await;
    app.put_product("GAMIS-01", 20, 150_000).await;
    let first = app.place("081234567890", "GAMIS-01", 1).await;
    let second = app.place("081298765432", "GAMIS-01", 2).await;
    let _third = app.place("081311112222", "GAMIS-01", 1).await;
    assert_eq!(pay(&app, &first).await.status, StatusCode::OK);
    // Asked once before anything ends, so the next answer must come from a refresh.
    let before = app
        .get("/api/v1/analytics/summary?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(before.status, StatusCode::OK, "{:?}", before.body);
    assert_eq!(
        (before.body["placed"].as_u64(), before.body["paid"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(before.body["open"], 2);

    // Two days later the deadlines have passed: the two unpaid orders ran off.
    app.clock.advance(SignedDuration::from_hours(50));
    app.engine.tick().await.unwrap();
    let after = app
        .get("/api/v1/analytics/summary?from=2026-11-01&to=2026-11-30")
        .await;
    let s = &after.body;
    assert_eq!(
        (
            s["placed"].as_u64(),
            s["paid"].as_u64(),
            s["hit_and_run"].as_u64(),
            s["open"].as_u64()
        ),
        (Some(3), Some(1), Some(2), Some(0)),
        "{s}"
    );
    assert_eq!(s["hit_and_run_by_kind"]["expired"], 2);
    assert_eq!(s["revenue"], first.body["total"]);
    // Three units held from their placement until the tick that released them, 50 hours on.
    assert_eq!(s["stock_hours_unpaid"], 150.0);
    assert_eq!(s["by_method"][0]["key"], "bank_transfer");
    assert_eq!(s["by_source"][0]["key"], "api");
    assert_eq!(s["by_product"][0]["key"], "GAMIS-01");
    assert_eq!(s["series"]["unit"], "day");
    assert_eq!(s["series"]["points"].as_array().unwrap().len(), 30);
    assert_eq!(s["buyers"]["paying"], 1);
    assert!(second.body["id"].is_i64());

    // A narrower filter and the default period (the 30 days to today, 2026-11-24).
    let cod = app.get("/api/v1/analytics/summary?method=cod").await;
    assert_eq!(
        (cod.body["placed"].as_u64(), cod.body["to"].as_str()),
        (Some(0), Some("2026-11-24"))
    );
    let band = app
        .get("/api/v1/analytics/summary?band=normal&channel=api")
        .await;
    assert_eq!(band.body["placed"], 3, "{}", band.body);

    for (query, code) in [
        ("from=kemarin", "invalid_range"),
        ("from=2026-11-30&to=2026-11-01", "invalid_range"),
        ("from=2000-01-01&to=2026-11-01", "invalid_range"),
        ("channel=facebook", "invalid_filter"),
        ("method=cash", "invalid_filter"),
        ("band=vip", "invalid_filter"),
        ("within_hours=0", "invalid_filter"),
        ("within_hours=banyak", "invalid_filter"),
    ] {
        let reply = app.get(&format!("/api/v1/analytics/summary?{query}")).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{query}"
        );
    }
}

lunas_store::on_both_backends!(the_summary_counts_paid_and_run_off_orders_and_keeps_up);
