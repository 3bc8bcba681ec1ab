//! Several `lunas serve` processes on one PostgreSQL database, driven from outside as an operator
//! would: no oversold stock, every timer fired exactly once even when a process is killed, a
//! database that goes away and comes back, and a SQLite store moved to PostgreSQL.

mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lunas_core::catalog::ProductInput;
use lunas_core::placing::NewOrderLine;
use lunas_core::{
    Actor, CustomerInfo, Honorific, Money, PayWindow, PaymentMethod, Phone, Quantity, Sku,
};
use lunas_engine::{Engine, ManualClock, PlaceOrder};
use lunas_store::testing::{Backend, TestDb};
use support::{LUNAS, Proxy, Server, free_port, http};

fn lunas(args: &[&str]) -> std::process::Output {
    Command::new(LUNAS)
        .args(args)
        .env("LUNAS_LOG", "warn")
        .output()
        .unwrap()
}

fn token(db: &str) -> String {
    let out = lunas(&["token", "create", "--db", db, "--name", "toko"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Waits (bounded) until `done` holds. Each check is a query on its own connection (or an HTTP
/// request), which paces the loop; nothing here waits for time to pass.
fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

fn order_body(phone: &str, sku: &str) -> String {
    format!(
        r#"{{"customer": {{"phone": "{phone}", "name": "Pembeli"}}, "items": [{{"sku": "{sku}", "qty": 1}}], "payment_method": "bank_transfer"}}"#
    )
}

#[test]
fn three_processes_sell_exactly_the_stock_there_is() {
    let db = TestDb::new(Backend::Postgres);
    let url = db.url_arg();
    let token = token(&url);
    let ports = [free_port(), free_port(), free_port()];
    let _servers: Vec<Server> = ports
        .iter()
        .map(|port| support::serve(&url, *port, &[], 0).0)
        .collect();
    let (status, body) = http(
        ports[0],
        "PUT",
        "/api/v1/products/FLASH-1212",
        Some(&token),
        Some(r#"{"name": "Hijab Flash Sale", "price": 49000, "stock": 100}"#),
    );
    assert_eq!(status, 200, "{body}");

    // 300 buyers at once, spread over the three processes, for 100 units.
    let buyers: Vec<_> = (0..300)
        .map(|i| {
            let (port, token) = (ports[i % 3], token.clone());
            std::thread::spawn(move || {
                let phone = format!("0813{:08}", 10_000 + i);
                http(
                    port,
                    "POST",
                    "/api/v1/orders",
                    Some(&token),
                    Some(&order_body(&phone, "FLASH-1212")),
                )
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = buyers.into_iter().map(|b| b.join().unwrap()).collect();
    let sold = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(sold, 100, "exactly the stock there is");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 201) {
        assert_eq!(*status, 409, "{body}");
        assert!(body.contains("out_of_stock"), "{body}");
    }
    let (_, product) = http(
        ports[2],
        "GET",
        "/api/v1/products/FLASH-1212",
        Some(&token),
        None,
    );
    let product: serde_json::Value = serde_json::from_str(&product).unwrap();
    assert_eq!(
        (product["reserved"].as_i64(), product["available"].as_i64()),
        (Some(100), Some(0))
    );
    assert_eq!(db.pg_scalar("SELECT COUNT(*) FROM orders"), 100);
}

/// Places `count` unpaid bank-transfer orders whose one-hour deadline passed an hour ago.
async fn overdue_orders(db: &TestDb, count: usize) {
    let store = db.open().await;
    let clock = Arc::new(ManualClock::new(
        jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2),
    ));
    let engine = Arc::new(Engine::new(store.clone(), clock).await.unwrap());
    engine
        .put_product(ProductInput {
            sku: Sku::parse("GAMIS").unwrap(),
            name: "Gamis Rayon".into(),
            price: Money::price(150_000).unwrap(),
            stock: count as i64,
            tips: None,
            variant: None,
        })
        .await
        .unwrap();
    let workers: Vec<_> = (0..16)
        .map(|worker| {
            let engine = engine.clone();
            tokio::spawn(async move {
                for i in (worker..count).step_by(16) {
                    engine
                        .place_order(PlaceOrder {
                            address: None,
                            charges: Default::default(),
                            customer: CustomerInfo {
                                phone: Phone::parse(&format!("0812{:08}", i)).unwrap(),
                                name: format!("Pembeli {i}"),
                                email: None,
                                honorific: Some(Honorific::Kak),
                            },
                            lines: vec![NewOrderLine {
                                sku: Sku::parse("GAMIS").unwrap(),
                                qty: Quantity::new(1).unwrap(),
                            }],
                            payment_method: PaymentMethod::BankTransfer,
                            pay_within: Some(PayWindow::parse("1h").unwrap()),
                            actor: Actor::api_token("test"),
                            idempotency: None,
                            note: None,
                        })
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_due_timers_fire_exactly_once_across_three_processes_one_killed_midway() {
    const ORDERS: i64 = 10_000;
    let db = TestDb::new(Backend::Postgres);
    overdue_orders(&db, ORDERS as usize).await;
    let expired = || db.pg_scalar("SELECT COUNT(*) FROM order_events WHERE to_status = 'expired'");
    assert_eq!(expired(), 0);

    let url = db.url_arg();
    let mut servers: Vec<Server> = (0..3)
        .map(|_| support::serve(&url, free_port(), &["--timer-batch", "100"], 0).0)
        .collect();
    // Kill one process with SIGKILL while the work is under way: whatever it had taken and not
    // committed is rolled back by PostgreSQL and taken by the others.
    tokio::task::block_in_place(|| {
        wait_for("the first expiries", Duration::from_secs(60), || {
            expired() >= 1_000
        });
        let mut killed = servers.remove(1);
        killed.0.kill().unwrap();
        killed.0.wait().unwrap();
        let at_kill = expired();
        assert!(
            at_kill < ORDERS,
            "the kill came too late to prove anything ({at_kill})"
        );
        wait_for("every expiry", Duration::from_secs(120), || {
            expired() >= ORDERS
        });
    });

    // Exactly once: one expiry event and one release notice per order, no timer left, stock whole.
    assert_eq!(expired(), ORDERS);
    assert_eq!(
        db.pg_scalar(
            "SELECT COUNT(DISTINCT order_id) FROM order_events WHERE to_status = 'expired'"
        ),
        ORDERS
    );
    assert_eq!(
        db.pg_scalar("SELECT COUNT(*) FROM orders WHERE status = 'expired'"),
        ORDERS
    );
    assert_eq!(
        db.pg_scalar("SELECT COUNT(*) FROM messages WHERE kind = 'hold_released'"),
        ORDERS
    );
    assert_eq!(
        db.pg_scalar("SELECT COUNT(DISTINCT order_id) FROM messages WHERE kind = 'hold_released'"),
        ORDERS
    );
    assert_eq!(
        db.pg_scalar("SELECT COUNT(*) FROM timers WHERE kind = 'expire'"),
        0
    );
    assert_eq!(
        db.pg_scalar("SELECT reserved FROM products WHERE sku = 'GAMIS'"),
        0
    );
    drop(servers);
    let store = db.open().await;
    assert!(store.consistency_report().await.unwrap().is_empty());
    store.close().await;
}

#[test]
fn a_database_that_goes_away_answers_503_and_everything_resumes_when_it_returns() {
    let db = TestDb::new(Backend::Postgres);
    let direct = db.url_arg();
    let token = token(&direct);
    let proxy = Proxy::start(("127.0.0.1".into(), 5432));
    let via_proxy = direct.replacen("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port), 1);
    assert_ne!(
        via_proxy, direct,
        "the test database is reached through the proxy"
    );
    let port = free_port();
    let _server = support::serve(&via_proxy, port, &[], 0).0;
    let (status, _) = http(
        port,
        "PUT",
        "/api/v1/products/GAMIS",
        Some(&token),
        Some(r#"{"name": "Gamis", "price": 150000, "stock": 5}"#),
    );
    assert_eq!(status, 200);

    proxy.down();
    for _ in 0..3 {
        let (status, body) = http(
            port,
            "POST",
            "/api/v1/orders",
            Some(&token),
            Some(&order_body("081234567890", "GAMIS")),
        );
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("database_unavailable"), "{body}");
        assert!(
            !body.contains("5432") && !body.contains("postgres://"),
            "no detail leaks: {body}"
        );
    }
    assert_eq!(
        db.pg_scalar("SELECT COUNT(*) FROM orders"),
        0,
        "nothing half-written"
    );

    proxy.up();
    let mut placed = (0, String::new());
    wait_for(
        "the database to serve again",
        Duration::from_secs(30),
        || {
            placed = http(
                port,
                "POST",
                "/api/v1/orders",
                Some(&token),
                Some(&order_body("081234567890", "GAMIS")),
            );
            placed.0 != 503
        },
    );
    assert_eq!(placed.0, 201, "{}", placed.1);
    assert_eq!(db.pg_scalar("SELECT COUNT(*) FROM orders"), 1);
    assert_eq!(db.pg_scalar("SELECT reserved FROM products"), 1);
}

#[test]
fn start_up_errors_name_the_server_but_never_the_password() {
    let closed = format!("postgres://lunas:s3cr3t-pw@127.0.0.1:{}/test", free_port());
    let out = lunas(&["migrate", "--db", &closed]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cannot reach PostgreSQL at postgres://lunas:***@127.0.0.1:"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cr3t-pw"), "{stderr}");

    let admin = lunas_store::testing::test_postgres();
    let stranger = admin.with_credentials("lunas_no_such_role", "pw-9f8e7d");
    let out = lunas(&["migrate", "--db", stranger.expose()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("refused the credentials"), "{stderr}");
    assert!(!stderr.contains("pw-9f8e7d"), "{stderr}");

    let missing = admin.with_database("lunas_no_such_database");
    let out = lunas(&["migrate", "--db", missing.expose()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("has no such database"), "{stderr}");
}

#[test]
fn a_demo_store_moves_from_sqlite_to_postgres_and_is_verified() {
    let sqlite = TestDb::new(Backend::Sqlite);
    let from = sqlite.url_arg();
    {
        // Seed the demo store and stop the server: migrate-data copies a store nobody serves.
        let _server = support::serve(&from, free_port(), &["--demo"], 2).0;
    }
    let postgres = TestDb::new(Backend::Postgres);
    let to = postgres.url_arg();
    let out = lunas(&["migrate-data", "--from", &from, "--to", &to]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("verified:"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("orders ")), "{stdout}");
    let orders = postgres.pg_scalar("SELECT COUNT(*) FROM orders");
    assert!(orders > 0);

    // Into a database that is no longer empty: refused, and nothing changes.
    let again = lunas(&["migrate-data", "--from", &from, "--to", &to]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert!(stderr.contains("already holds data"), "{stderr}");
    assert_eq!(postgres.pg_scalar("SELECT COUNT(*) FROM orders"), orders);

    // And the moved store serves.
    let port = free_port();
    let _server = support::serve(&to, port, &[], 0).0;
    let token = token(&to);
    let (status, body) = http(port, "GET", "/api/v1/orders", Some(&token), None);
    assert_eq!(status, 200, "{body}");
}
