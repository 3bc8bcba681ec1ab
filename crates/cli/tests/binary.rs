//! The `lunas` binary end to end: `migrate`, `token create`, `serve` (with and without `--demo`),
//! driven as a user would, over real HTTP.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{LUNAS, Server, free_port, http};

fn db_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("lunas.db").display())
}

/// `lunas token create` on `db`; returns the token it printed.
fn create_token(db: &str) -> String {
    let created = Command::new(LUNAS)
        .args(["token", "create", "--db", db, "--name", "toko"])
        .output()
        .unwrap();
    assert!(created.status.success());
    String::from_utf8(created.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

/// Starts `lunas serve` on the SQLite file in `dir`; returns its stdout lines so far when `--demo`
/// printed a token.
fn serve(dir: &tempfile::TempDir, port: u16, demo: bool) -> (Server, Vec<String>) {
    let extra: &[&str] = if demo { &["--demo"] } else { &[] };
    support::serve(&db_url(dir), port, extra, if demo { 3 } else { 0 })
}

#[test]
fn migrate_token_create_and_serve_work_together() {
    let dir = tempfile::tempdir().unwrap();
    let migrated = Command::new(LUNAS)
        .args(["migrate", "--db", &db_url(&dir)])
        .output()
        .unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("schema version 0 → 23"));

    let created = Command::new(LUNAS)
        .args(["token", "create", "--db", &db_url(&dir), "--name", "toko"])
        .output()
        .unwrap();
    assert!(created.status.success());
    let stdout = String::from_utf8(created.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_owned();
    assert!(token.starts_with("lunas_") && token.len() > 40, "{token}");

    let port = free_port();
    let (_server, _) = serve(&dir, port, false);
    assert_eq!(http(port, "GET", "/api/v1/orders", None, None).0, 401);
    let (status, body) = http(
        port,
        "PUT",
        "/api/v1/products/BATIK-L",
        Some(&token),
        Some(r#"{"name":"Kemeja Batik (L)","price":145000,"stock":3}"#),
    );
    assert_eq!(status, 200, "{body}");
    let order = r#"{"customer":{"phone":"0812-3456-7890","name":"Dimas"},"items":[{"sku":"BATIK-L","qty":2}],"payment_method":"bank_transfer","pay_within":"5s"}"#;
    let (status, body) = http(port, "POST", "/api/v1/orders", Some(&token), Some(order));
    assert_eq!(status, 201, "{body}");
    let placed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(placed["customer"]["phone"], "+6281234567890");
    assert_eq!(placed["events"][0]["actor"], "api:toko");
    let (_, body) = http(port, "GET", "/api/v1/products/BATIK-L", Some(&token), None);
    let product: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (product["reserved"].as_i64(), product["available"].as_i64()),
        (Some(2), Some(1))
    );

    // Tokens are listed by name and revoked by name; a revoked one is refused at once.
    let lunas = |args: &[&str]| {
        Command::new(LUNAS)
            .args(args)
            .args(["--db", &db_url(&dir)])
            .output()
            .unwrap()
    };
    let again = lunas(&["token", "create", "--name", "toko"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already a token named \"toko\""));
    let listed = lunas(&["token", "list"]);
    assert!(listed.status.success());
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.starts_with("toko\tcreated "), "{listed}");
    assert!(!listed.contains(&token), "a token is never shown again");
    let revoked = lunas(&["token", "revoke", "toko"]);
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    assert_eq!(
        http(port, "GET", "/api/v1/orders", Some(&token), None).0,
        401,
        "revoked at once, in the server that was already running"
    );
    let unknown = lunas(&["token", "revoke", "toko"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no API token is named \"toko\""));
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(LUNAS)
        .args(["serve", "--db", &db_url(&dir), "--listen"])
        .arg(format!("127.0.0.1:{}", free_port()))
        .env("LUNAS_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let _server = Server(child);
    let mut logged = String::new();
    while !logged.contains("lunas is serving") {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "{logged}");
        logged.push_str(&line);
    }
    assert!(logged.contains(" INFO "), "{logged}");
    assert!(
        !logged.contains('\u{1b}'),
        "ANSI escapes in a pipe: {logged:?}"
    );
}

#[test]
fn payments_confirm_themselves_from_a_gateway_callback_and_an_imported_statement() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(&dir);
    let token = create_token(&db);
    let port = free_port();
    let key = "SB-Mid-server-binary";
    // Midtrans's status API, which lunas asks before it records a notification's money.
    let midtrans = lunas_engine::testing::FakeMidtrans::start(key);
    let (_server, _) = support::serve(
        &db,
        port,
        &[
            "--midtrans-server-key",
            key,
            "--midtrans-status-api-base",
            midtrans.base(),
        ],
        0,
    );
    let (status, _) = http(
        port,
        "PUT",
        "/api/v1/products/GAMIS",
        Some(&token),
        Some(r#"{"name":"Gamis","price":150000,"stock":5}"#),
    );
    assert_eq!(status, 200);
    let place = || {
        let (status, body) = http(
            port,
            "POST",
            "/api/v1/orders",
            Some(&token),
            Some(
                r#"{"customer":{"phone":"0812-3456-7890","name":"Sari"},"items":[{"sku":"GAMIS","qty":1}],"payment_method":"bank_transfer"}"#,
            ),
        );
        assert_eq!(status, 201, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    let order_status = |id: i64| {
        let (_, body) = http(
            port,
            "GET",
            &format!("/api/v1/orders/{id}"),
            Some(&token),
            None,
        );
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["status"].clone()
    };
    // Midtrans tells lunas the first order is settled.
    let first = place();
    let (id, due) = (
        first["id"].as_i64().unwrap(),
        first["amount_due"].as_i64().unwrap(),
    );
    let gross = format!("{due}.00");
    let signature = lunas_engine::gateways::midtrans_signature(&id.to_string(), "200", &gross, key);
    let notification = serde_json::json!({
        "order_id": id.to_string(), "status_code": "200", "gross_amount": gross,
        "signature_key": signature, "transaction_status": "settlement", "transaction_id": "tx-bin-1"
    })
    .to_string();
    midtrans.learn(notification.as_bytes());
    let (status, body) = http(
        port,
        "POST",
        "/callbacks/midtrans",
        None,
        Some(&notification),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(order_status(id), "paid");
    // The second is paid by a transfer on the statement the seller imports.
    let second = place();
    let (id, due) = (
        second["id"].as_i64().unwrap(),
        second["amount_due"].as_i64().unwrap(),
    );
    let good = dir.path().join("mutasi.csv");
    std::fs::write(
        &good,
        format!("date,description,amount,balance\n2026-11-22,TRSF E-BANKING CR SARI,{due},\n"),
    )
    .unwrap();
    let bad = dir.path().join("rusak.csv");
    std::fs::write(
        &bad,
        format!(
            "date,description,amount,balance\n2026-11-22,TRSF SARI,{due},\n2026-11-22,RUSAK,abc,\n"
        ),
    )
    .unwrap();
    let refused = Command::new(LUNAS)
        .args(["import", "statement", "--db", &db, bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("rusak.csv:3:"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(order_status(id), "awaiting_payment");
    for (expected_stdout, times) in [("1 matched", 1), ("1 duplicates", 2)] {
        let imported = Command::new(LUNAS)
            .args(["import", "statement", "--db", &db, good.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            imported.status.success(),
            "{}",
            String::from_utf8_lossy(&imported.stderr)
        );
        let stdout = String::from_utf8_lossy(&imported.stdout);
        assert!(stdout.contains(expected_stdout), "import {times}: {stdout}");
    }
    assert_eq!(order_status(id), "paid");
}

#[test]
fn serve_demo_seeds_a_store_with_orders_in_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (_server, lines) = serve(&dir, port, true);
    let token = lines[0].trim().rsplit(' ').next().unwrap().to_owned();
    assert!(token.starts_with("lunas_"), "{lines:?}");
    for status in [
        "awaiting_payment",
        "awaiting_confirmation",
        "paid",
        "delivered",
        "expired",
        "cancelled",
    ] {
        let (code, body) = http(
            port,
            "GET",
            &format!("/api/v1/orders?status={status}"),
            Some(&token),
            None,
        );
        assert_eq!(code, 200);
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(
            !page["items"].as_array().unwrap().is_empty(),
            "no {status} order in the demo"
        );
    }
    let (_, body) = http(
        port,
        "GET",
        "/api/v1/products?limit=100",
        Some(&token),
        None,
    );
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        11,
        "six products, one in four sizes"
    );
    // Bu Sari's transfer came in on an imported statement; a transfer nobody can place waits
    // for staff.
    let (_, body) = http(port, "GET", "/api/v1/orders/1", Some(&token), None);
    let sari: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sari["status"], "delivered");
    assert_eq!(sari["payments"][0]["source"], "statement");
    // Her parcel went with JNE, the courier said it arrived, and she asked for a return.
    assert_eq!(sari["shipment"]["waybill"], "CGK0126473819");
    assert_eq!(sari["return_request"]["status"], "requested");
    let (_, body) = http(port, "GET", "/api/v1/payments/review", Some(&token), None);
    let review: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(review["items"][0]["kind"], "unmatched", "{review}");
    // The demo's owner signs in to the dashboard with the password printed once.
    let dashboard = lines[2].trim();
    assert!(dashboard.starts_with("Dashboard: "), "{lines:?}");
    let password = dashboard.rsplit(' ').next().unwrap();
    let email = dashboard
        .split("sign in as ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let session = support::sign_in(port, email, password).expect("the demo owner signs in");
    let today = support::raw_http(
        port,
        &format!(
            "GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncookie: {session}\r\n\r\n"
        ),
    );
    assert!(today.starts_with("HTTP/1.1 200"), "{today}");
    assert!(today.contains("Antrean WhatsApp manual"));
}

#[test]
fn user_add_reads_the_password_from_stdin_and_the_first_run_says_how() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(&dir);
    // An empty store explains how to create the owner.
    let port = free_port();
    let mut child = Command::new(LUNAS)
        .args([
            "serve",
            "--db",
            &db,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("LUNAS_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(
        line.contains("no staff account yet") && line.contains("lunas user add"),
        "{line}"
    );
    let first_run = Server(child);
    support::wait_ready(port);
    let (code, body) = http(port, "GET", "/login", None, None);
    assert_eq!(code, 200);
    assert!(
        body.contains("Belum ada akun"),
        "the sign-in page says it too"
    );
    drop(first_run);

    let add = |email: &str, role: &str, password: &str| {
        let mut child = Command::new(LUNAS)
            .args([
                "user",
                "add",
                "--db",
                &db,
                "--email",
                email,
                "--role",
                role,
                "--password-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let short = add("owner@toko.id", "owner", "pendek");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("10 to 256 characters"));
    let added = add("Owner@Toko.id", "owner", "kata sandi panjang");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert!(String::from_utf8_lossy(&added.stdout).contains("owner account owner@toko.id"));
    let again = add("owner@toko.id", "staff", "kata sandi panjang");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already an account"));
    let bad_role = Command::new(LUNAS)
        .args([
            "user",
            "add",
            "--db",
            &db,
            "--email",
            "x@toko.id",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .output()
        .unwrap();
    assert!(!bad_role.status.success());
    // The password is never an argument: there is no flag that takes one.
    let help = Command::new(LUNAS)
        .args(["user", "add", "--help"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&help.stdout).contains("--password "));

    let port = free_port();
    let (_server, _) = support::serve(&db, port, &[], 0);
    assert!(support::sign_in(port, "owner@toko.id", "salah salah salah").is_none());
    let session = support::sign_in(port, "owner@toko.id", "kata sandi panjang").unwrap();
    let settings = support::raw_http(
        port,
        &format!(
            "GET /settings HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncookie: {session}\r\n\r\n"
        ),
    );
    assert!(settings.starts_with("HTTP/1.1 200"), "{settings}");
}

#[test]
fn bad_database_urls_and_token_names_are_refused_clearly() {
    let unknown = Command::new(LUNAS)
        .args(["migrate", "--db", "mysql://root:hunter2@localhost/x"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(stderr.contains("unknown database URL scheme"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");

    let dir = tempfile::tempdir().unwrap();
    let missing_dir = format!("sqlite://{}/no/such/dir/lunas.db", dir.path().display());
    let unopenable = Command::new(LUNAS)
        .args(["migrate", "--db", &missing_dir])
        .output()
        .unwrap();
    assert!(!unopenable.status.success());
    assert!(String::from_utf8_lossy(&unopenable.stderr).contains("cannot open"));

    for (url, from) in [
        ("gopher://toko:hunter2@mail.example", "toko@example.co.id"),
        ("smtps://toko:hunter2@mail.example:465", "not an address"),
    ] {
        let bad_smtp = Command::new(LUNAS)
            .args([
                "serve",
                "--db",
                &db_url(&dir),
                "--listen",
                "127.0.0.1:0",
                "--smtp-url",
                url,
                "--smtp-from",
                from,
            ])
            .output()
            .unwrap();
        assert!(!bad_smtp.status.success());
        let stderr = String::from_utf8_lossy(&bad_smtp.stderr);
        assert!(stderr.contains("LUNAS_SMTP_"), "{stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "the SMTP password leaked: {stderr}"
        );
    }
    let help = Command::new(LUNAS)
        .args(["serve", "--help"])
        .env("LUNAS_SMTP_URL", "smtps://toko:hunter2@mail.example")
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&help.stdout).contains("hunter2"),
        "--help shows the secret"
    );

    let empty_name = Command::new(LUNAS)
        .args(["token", "create", "--db", &db_url(&dir), "--name", " "])
        .output()
        .unwrap();
    assert!(!empty_name.status.success());
}

#[path = "../../engine/tests/support/python.rs"]
mod python;

#[test]
fn serve_sends_email_to_buyers_through_the_configured_smtp_server() {
    // A real SMTP server that writes what it accepts, decoded, as JSON.
    let outbox_dir = tempfile::tempdir().unwrap();
    let smtp_port = free_port();
    let mut smtp = Command::new(python::python())
        .arg(python::peers_dir().join("smtp_peer.py"))
        .args([
            smtp_port.to_string(),
            outbox_dir.path().display().to_string(),
            "accept".to_owned(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(smtp.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");
    let _smtp = Server(smtp);

    let dir = tempfile::tempdir().unwrap();
    let token = create_token(&db_url(&dir));
    let port = free_port();
    let child = Command::new(LUNAS)
        .args([
            "serve",
            "--db",
            &db_url(&dir),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("LUNAS_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
        .env("LUNAS_SMTP_FROM", "Toko Kami <toko@example.co.id>")
        .env("LUNAS_LOG", "warn")
        .spawn()
        .unwrap();
    let _server = Server(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "lunas serve did not start"
        );
        std::thread::yield_now();
    }
    http(
        port,
        "PUT",
        "/api/v1/products/KOPI",
        Some(&token),
        Some(r#"{"name":"Kopi Gayo 250 g","price":85000,"stock":5}"#),
    );
    let order = r#"{"customer":{"phone":"0812-3456-7890","name":"Sari Wulandari","email":"sari@example.co.id","honorific":"bu"},"items":[{"sku":"KOPI","qty":2}],"payment_method":"bank_transfer"}"#;
    let (status, body) = http(port, "POST", "/api/v1/orders", Some(&token), Some(order));
    assert_eq!(status, 201, "{body}");

    // The sender looks for due messages every second; wait (bounded) for the email to arrive.
    let received = loop {
        let found: Vec<_> = std::fs::read_dir(outbox_dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .collect();
        if let Some(entry) = found.first() {
            break serde_json::from_str::<serde_json::Value>(
                &std::fs::read_to_string(entry.path()).unwrap(),
            )
            .unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no email arrived"
        );
        std::thread::yield_now();
    };
    assert_eq!(received["to"], serde_json::json!(["sari@example.co.id"]));
    assert_eq!(received["subject"], "Pesanan diterima #1");
    let text = received["body"].as_str().unwrap();
    assert!(
        text.starts_with("Halo Bu Sari") && text.contains("Rp170.000"),
        "{text}"
    );
    let (_, messages) = http(port, "GET", "/api/v1/orders/1/messages", Some(&token), None);
    let messages: serde_json::Value = serde_json::from_str(&messages).unwrap();
    assert_eq!(messages[0]["channel"], "email");
}

/// `lunas analytics fit` on the CDNOW sample (core's fixture, written as the documented CSV)
/// prints the published BG/NBD and Gamma-Gamma estimates; a file with bad rows is refused whole.
#[test]
fn analytics_fit_prints_the_published_cdnow_estimates() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/fixtures/cdnow/CDNOW_sample.txt"
    ))
    .unwrap();
    let mut csv = String::from("customer,date,amount\n");
    for line in sample.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let d = f[2];
        csv.push_str(&format!(
            "{},{}-{}-{},{}\n",
            f[1],
            &d[..4],
            &d[4..6],
            &d[6..],
            f[4]
        ));
    }
    let path = dir.path().join("cdnow.csv");
    std::fs::write(&path, &csv).unwrap();
    let out = Command::new(LUNAS)
        .args(["analytics", "fit", "--csv"])
        .arg(&path)
        .args(["--calibration-end", "1997-09-30"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let near = |v: &serde_json::Value, published: f64, tolerance: f64| {
        (v.as_f64().unwrap() - published).abs() <= tolerance
    };
    assert!(near(&fit["bgnbd"]["r"], 0.243, 0.0005), "{fit}");
    assert!(near(&fit["bgnbd"]["alpha"], 4.414, 0.0005), "{fit}");
    assert!(near(&fit["bgnbd"]["a"], 0.793, 0.0005), "{fit}");
    assert!(near(&fit["bgnbd"]["b"], 2.426, 0.0005), "{fit}");
    assert!(
        near(&fit["bgnbd"]["log_likelihood"], -9582.4, 0.05),
        "{fit}"
    );
    assert!(near(&fit["gamma_gamma"]["p"], 6.25, 0.005), "{fit}");
    assert!(near(&fit["gamma_gamma"]["q"], 3.74, 0.005), "{fit}");
    assert!(near(&fit["gamma_gamma"]["v"], 15.44, 0.005), "{fit}");

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "customer,date,amount\n1,1997-01-01,10\n2,01/02/1997,5\n3,1997-01-03,-4\n",
    )
    .unwrap();
    let refused = Command::new(LUNAS)
        .args(["analytics", "fit", "--csv"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("line 3") && said.contains("line 4") && said.contains("2 row(s)"),
        "{said}"
    );
}

/// `lunas import orders` on a Shopee Seller Centre workbook: a dry run writes nothing, the import
/// creates the finished orders (masked numbers as anonymous buyers, the open one left out), a
/// second import creates nothing, and a CSV of another shop's columns is refused with why.
#[test]
fn import_orders_reads_a_shopee_workbook_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(&dir);
    let workbook = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/shopee_orders.xlsx"
    );
    let run = |extra: &[&str]| {
        let out = Command::new(LUNAS)
            .args(["import", "orders", "--db", &db, workbook])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, dry, err) = run(&["--dry-run"]);
    assert!(ok, "{err}");
    assert!(
        dry.contains(
            "Shopee Seller Centre export, 5 rows: 3 orders (dry run: nothing written); 3 created"
        ),
        "{dry}"
    );
    assert!(
        dry.contains("3 new buyers, 2 new products; 1 left out"),
        "{dry}"
    );
    let (ok, done, err) = run(&[]);
    assert!(ok, "{err}");
    assert!(done.contains("3 created, 0 already imported"), "{done}");
    let (ok, again, err) = run(&[]);
    assert!(ok, "{err}");
    assert!(again.contains("0 created, 3 already imported"), "{again}");

    let other = dir.path().join("invoices.csv");
    std::fs::write(&other, "Invoice,Tanggal,Pembeli\nINV/1,2024-01-01,Sari\n").unwrap();
    let refused = Command::new(LUNAS)
        .args(["import", "orders", "--db", &db])
        .arg(&other)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("the header is not one lunas knows"), "{said}");

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "order_id,placed_at,status,phone,name,product,qty,unit_price\nB-1,2024-02-01 10:00,paid,081234567890,Sari,Gamis Rayon Hitam,1,150000\nB-2,2099-01-01 10:00,paid,081234567890,Sari,Gamis Rayon Hitam,1,-1\n",
    )
    .unwrap();
    let refused = Command::new(LUNAS)
        .args(["import", "orders", "--db", &db])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains(":3: ")
            && said.contains("future_time")
            && said.contains("nothing was imported"),
        "{said}"
    );

    // A file past 100 MB is refused before it is read (a sparse file: no disk is written).
    let huge = dir.path().join("huge.csv");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(200 * 1024 * 1024)
        .unwrap();
    let refused = Command::new(LUNAS)
        .args(["import", "orders", "--db", &db])
        .arg(&huge)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("200 MB") && said.contains("at most 100 MB"),
        "{said}"
    );

    // What if the imported orders had had two hours to pay? `lunas simulate` says.
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[payment_windows]\nbank_transfer = \"2 jam\"\newallet = \"2 jam\"\n\n\
         [reminders.bank_transfer]\nsteps = [{ after_order = \"30 menit\" }]\nmax_count = 1\n\n\
         [reminders.ewallet]\nsteps = [{ after_order = \"30 menit\" }]\nmax_count = 1\n",
    )
    .unwrap();
    let simulated = Command::new(LUNAS)
        .args([
            "simulate",
            "--db",
            &db,
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-31",
            "--policy",
        ])
        .arg(&policy)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&simulated.stdout);
    assert!(
        simulated.status.success(),
        "{}",
        String::from_utf8_lossy(&simulated.stderr)
    );
    assert!(said.contains("3 finished orders"), "{said}");
    assert!(
        said.contains("orders paid") && said.contains("stock-hours held by never-paid orders"),
        "{said}"
    );
    std::fs::write(&policy, "[payment_windows]\nbank_transfer = \"sebentar\"\n").unwrap();
    let refused = Command::new(LUNAS)
        .args(["simulate", "--db", &db, "--policy"])
        .arg(&policy)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("policy.toml") && said.contains("not a duration"),
        "{said}"
    );
}
