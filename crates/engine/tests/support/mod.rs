//! Helpers shared by the engine's integration tests: a small shop on a fresh database with a
//! hand-driven clock, the buyer Bu Sari's order, and Python peers started as processes.
#![allow(dead_code)]

pub mod python;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use lunas_core::catalog::ProductInput;
use lunas_core::placing::NewOrderLine;
use lunas_core::{
    Actor, CustomerInfo, Honorific, Money, PayWindow, PaymentMethod, Phone, Quantity, Settings,
    Sku, Timestamp,
};
use lunas_engine::{Engine, ManualClock, PlaceOrder};
use lunas_store::Store;
use lunas_store::testing::{Backend, TestDb};

pub struct Shop {
    pub db: TestDb,
    pub store: Store,
    pub clock: Arc<ManualClock>,
    pub engine: Arc<Engine>,
}

/// 10:00 WIB on a Sunday: far from quiet hours.
pub fn morning() -> Timestamp {
    "2026-11-22T03:00:00Z".parse().unwrap()
}

/// "Razha & Co" on a fresh database of `backend`, the clock at `morning()`, one product `GAMIS` (Rp150.000,
/// 10 in stock, with a tip). `build` configures the engine (channels); `settings` adjusts the
/// store's settings.
pub async fn shop(
    backend: Backend,
    build: impl FnOnce(Engine) -> Engine,
    settings: impl FnOnce(&mut Settings),
) -> Shop {
    let db = TestDb::new(backend);
    let store = db.open().await;
    let clock = Arc::new(ManualClock::new(morning()));
    let engine = build(Engine::new(store.clone(), clock.clone()).await.unwrap());
    let mut patched = (*engine.settings()).clone();
    patched.store_name = "Razha & Co".into();
    settings(&mut patched);
    engine.put_settings(patched).await.unwrap();
    engine
        .put_product(ProductInput {
            sku: Sku::parse("GAMIS").unwrap(),
            name: "Gamis Rayon".into(),
            price: Money::price(150_000).unwrap(),
            stock: 10,
            tips: Some("Cuci dengan air dingin.".into()),
            variant: None,
        })
        .await
        .unwrap();
    Shop {
        db,
        store,
        clock,
        engine: Arc::new(engine),
    }
}

/// Bu Sari Wulandari orders one `GAMIS`.
pub fn order(method: PaymentMethod, within: Option<&str>, email: Option<&str>) -> PlaceOrder {
    PlaceOrder {
        address: None,
        charges: Default::default(),
        customer: CustomerInfo {
            phone: Phone::parse("081234567890").unwrap(),
            name: "Sari Wulandari".into(),
            email: email.map(str::to_owned),
            honorific: Some(Honorific::Bu),
        },
        lines: vec![NewOrderLine {
            sku: Sku::parse("GAMIS").unwrap(),
            qty: Quantity::new(1).unwrap(),
        }],
        payment_method: method,
        pay_within: within.map(|w| PayWindow::parse(w).unwrap()),
        actor: Actor::api_token("test"),
        idempotency: None,
        note: None,
    }
}

/// A Python peer from `tests/peers/`, running until dropped, writing what it receives as JSON
/// files into its own directory.
pub struct Peer {
    child: Child,
    pub dir: tempfile::TempDir,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// Starts `script` with the arguments `args(out_dir)` and waits until it prints "ready".
    pub fn start(script: &str, args: impl FnOnce(&Path) -> Vec<String>) -> Peer {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(python::python())
            .arg(python::peers_dir().join(script))
            .args(args(dir.path()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "{script} did not start");
        Peer { child, dir }
    }

    /// What the peer received so far, in order.
    pub fn received(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
