//! Benchmark programs behind `lunas-bench …`. Machines here are noisy, so every figure is measured
//! beside its peer or bound in the same run and printed as a ratio.

mod analytics;
mod clv;
mod couriers;
mod desk;
mod expiry;
mod faq;
mod flash_sale;
mod format_order;
mod guard;
mod http;
mod inbound;
mod loadgen;
mod orders;
mod payments;
mod pg;
mod pg_peer;
mod reminders;
mod reputation;
mod rss;
mod statement_peer;

use std::sync::Arc;

use lunas_core::catalog::ProductInput;
use lunas_core::placing::NewOrderLine;
use lunas_core::{Actor, CustomerInfo, Money, PaymentMethod, Phone, Quantity, Sku};
use lunas_engine::{Engine, PlaceOrder};
use lunas_store::{DatabaseUrl, OpenOptions, Store};

#[derive(clap::Subcommand, Clone, Debug)]
pub enum Which {
    /// Order placement through storage and engine (no HTTP) against a raw rusqlite peer.
    Orders {
        /// Orders to place.
        #[arg(long, default_value_t = 100_000)]
        orders: usize,
        /// Concurrent placements.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
    },
    /// Order placement through the HTTP API against a minimal endpoint (the HTTP bound).
    Http {
        /// Concurrent clients, one keep-alive connection each.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Seconds of load on each side.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// The bench's 1,000 returning buyers instead of a new buyer per order.
        #[arg(long)]
        returning_buyers: bool,
    },
    /// 100,000 holds falling due at the same instant, against the 10 s bound.
    Expiry {
        #[arg(long, default_value_t = 100_000)]
        holds: usize,
        /// Timers per tick's transaction (the server's own figure when not given).
        #[arg(long)]
        batch: Option<usize>,
    },
    /// Reminders: template rendering speed, tick cost against pending reminders, lateness at
    /// 1,000 due per second.
    Reminders {
        /// Numbers of pending orders (each with three reminders) to measure a tick against.
        #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
        pending: Vec<usize>,
        /// Seconds of reminders falling due at 1,000 per second.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Reading pasted format orders against a catalogue, against the 2 ms p99 bound.
    FormatOrder {
        #[arg(long, default_value_t = 5000)]
        products: usize,
        #[arg(long, default_value_t = 2000)]
        messages: usize,
    },
    /// Idle memory of `lunas serve`.
    Rss,
    /// Peak memory of `lunas serve` through wrong sign-ins sent in bursts, against 128 MiB.
    SignIns {
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, default_value_t = 100)]
        burst: usize,
    },
    /// Buyer reliability: `reputation rebuild` over a million orders, and what judging the buyer
    /// adds to placing an order.
    Reputation {
        #[arg(long, default_value_t = 100_000)]
        buyers: usize,
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
        /// Buyers judged for the latency figures.
        #[arg(long, default_value_t = 10_000)]
        samples: usize,
    },
    /// Order placement on PostgreSQL at 64 concurrent clients, against pgbench (TPC-B).
    PgOrders {
        /// The PostgreSQL server (a database of its own is created on it and dropped).
        #[arg(long, default_value = pg::DEFAULT_PG)]
        pg: String,
        #[arg(long, default_value_t = 64)]
        clients: usize,
        #[arg(long, default_value_t = 30_000)]
        orders: usize,
        /// lunas's connection pool.
        #[arg(long, default_value_t = 16)]
        pool: usize,
        /// pgbench's scale factor (branches); at least the client count avoids contention on
        /// branch rows that would slow the peer down.
        #[arg(long, default_value_t = 64)]
        scale: u32,
        /// Seconds of pgbench.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// Timers fired by three `lunas serve` processes on PostgreSQL, against graphile-worker and a
    /// minimal SKIP LOCKED loop, with 10k and 1M timers pending.
    PgTimers {
        #[arg(long, default_value = pg::DEFAULT_PG)]
        pg: String,
        /// Due timers lunas and the minimal loop drain.
        #[arg(long, default_value_t = 500_000)]
        count: usize,
        /// Jobs graphile-worker drains (it is about a hundred times slower).
        #[arg(long, default_value_t = 20_000)]
        graphile_count: usize,
        #[arg(long, default_value_t = 3)]
        processes: usize,
        /// Timers per transaction (`--timer-batch` of lunas serve).
        #[arg(long, default_value_t = lunas_engine::TIMER_BATCH_LEN_MAX)]
        batch: usize,
        /// Unpaid orders expired by the processes, for the record.
        #[arg(long, default_value_t = 10_000)]
        expiries: usize,
    },
    /// Matching a bank statement against the open orders (100,000 lines against 100,000 orders,
    /// bound 2 s), the whole import and a re-import.
    Statement {
        #[arg(long, default_value_t = 100_000)]
        orders: usize,
    },
    /// Midtrans callbacks through lunas serve's HTTP at a steady rate, against the p99 bound.
    Callbacks {
        #[arg(long, default_value_t = 200)]
        rate: usize,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// The staff dashboard's pages for a generated store (100,000 orders, 10,000 buyers) against
    /// 50 ms p95 and 100 KB.
    Dashboard {
        #[arg(long, default_value_t = 100_000)]
        orders: usize,
        #[arg(long, default_value_t = 10_000)]
        buyers: usize,
        /// Requests per page (a tenth more are sent first to warm up).
        #[arg(long, default_value_t = 200)]
        requests: usize,
    },
    /// Couriers' webhook events through HTTP on SQLite, applied and sent again, against
    /// 10,000 events a second.
    Couriers {
        #[arg(long, default_value_t = 40_000)]
        events: usize,
        /// Events a delivery carries.
        #[arg(long, default_value_t = 100)]
        batch: usize,
        /// Concurrent senders.
        #[arg(long, default_value_t = 8)]
        clients: usize,
    },
    /// The same on PostgreSQL, against 2,000 events a second.
    PgCouriers {
        #[arg(long, default_value = pg::DEFAULT_PG)]
        pg: String,
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        #[arg(long, default_value_t = 100)]
        batch: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
    },
    /// The BG/NBD fit on the CDNOW sample against lifetimes' BetaGeoFitter (10× its speed).
    Clv,
    /// Every metric of the Analitik page over 1,000,000 orders (1 s bound), and the facts read
    /// from a SQLite store of imported orders, first whole and then refreshed.
    Analytics {
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
        /// Orders imported into the SQLite store the facts are read from.
        #[arg(long, default_value_t = 100_000)]
        stored: usize,
    },
    /// Buyers' messages through the WhatsApp and lunas's own webhooks, against 2,000 a second
    /// on SQLite.
    Inbound {
        #[arg(long, default_value_t = 20_000)]
        messages: usize,
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Without FAQ entries (the bot finds nothing to match).
        #[arg(long)]
        no_faq: bool,
    },
    /// A buyer's message matched against 1,000 FAQ entries (p99 under 1 ms).
    Faq {
        #[arg(long, default_value_t = 1_000)]
        entries: usize,
        #[arg(long, default_value_t = 200_000)]
        messages: usize,
    },
    /// A flash sale through HTTP: new buyers, each ordering one unit of one SKU within one
    /// second, for a handful of units, on one `lunas serve` on SQLite (exactly `units` orders,
    /// everyone else `out_of_stock`, p99 under 50 ms).
    FlashSale {
        #[command(flatten)]
        sale: SaleArgs,
    },
    /// The same on PostgreSQL, with several `lunas serve` processes on one database.
    PgFlashSale {
        #[arg(long, default_value = pg::DEFAULT_PG)]
        pg: String,
        #[arg(long, default_value_t = 3)]
        processes: usize,
        #[command(flatten)]
        sale: SaleArgs,
    },
    /// The CI guard: short runs of `orders` and `http`, failing when a ratio falls more than a
    /// quarter below its `guard <name> <ratio>` line in BENCHMARKS.md.
    Guard {
        /// The file the figures are recorded in.
        #[arg(long, default_value = "BENCHMARKS.md")]
        record: std::path::PathBuf,
        #[arg(long, default_value_t = 20_000)]
        orders: usize,
        /// Seconds of load on each side of `http`.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// All of the above with their defaults.
    All,
}

/// The shape of a flash sale.
#[derive(clap::Args, Clone, Debug)]
pub struct SaleArgs {
    /// Buyers, each a new number ordering one unit.
    #[arg(long, default_value_t = 10_000)]
    buyers: usize,
    /// Units in stock.
    #[arg(long, default_value_t = 100)]
    units: i64,
    /// Seconds the orders arrive over.
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
    /// Keep-alive connections to each process.
    #[arg(long, default_value_t = 64)]
    connections: usize,
}

impl SaleArgs {
    fn sale(&self) -> flash_sale::Sale {
        flash_sale::Sale {
            buyers: self.buyers,
            units: self.units,
            seconds: self.seconds,
            connections: self.connections,
        }
    }
}

/// The `lunas` binary given with `--lunas`, for the benchmarks that start server processes.
static LUNAS: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();

/// The `lunas` binary the benchmarks that need a server process start: the one given, else
/// `lunas` beside this program (both are built into the same `target/<profile>/`).
pub(crate) fn lunas_binary() -> anyhow::Result<std::path::PathBuf> {
    let path = match LUNAS.get().cloned().flatten() {
        Some(path) => path,
        None => std::env::current_exe()?
            .with_file_name(format!("lunas{}", std::env::consts::EXE_SUFFIX)),
    };
    anyhow::ensure!(
        path.is_file(),
        "no lunas binary at {} (build it with `cargo build --release -p lunas`, or give --lunas)",
        path.display()
    );
    Ok(path)
}

/// Runs one benchmark (or all); `lunas` is the server binary to measure, when not the one
/// beside this program.
pub async fn run(which: Which, lunas: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let _ = LUNAS.set(lunas);
    match which {
        Which::Orders {
            orders,
            concurrency,
        } => orders::run(orders, concurrency).await.map(drop),
        Which::Http {
            clients,
            seconds,
            returning_buyers,
        } => http::run(clients, seconds, returning_buyers)
            .await
            .map(drop),
        Which::Expiry { holds, batch } => expiry::run(holds, batch).await,
        Which::Reminders { pending, seconds } => reminders::run(&pending, seconds).await,
        Which::FormatOrder { products, messages } => format_order::run(products, messages),
        Which::Rss => rss::run().await,
        Which::SignIns { count, burst } => rss::sign_ins(count, burst).await,
        Which::Reputation {
            buyers,
            orders,
            samples,
        } => reputation::run(buyers, orders, samples).await,
        Which::PgOrders {
            pg,
            clients,
            orders,
            pool,
            scale,
            seconds,
        } => pg::orders(&pg, clients, orders, pool, scale, seconds).await,
        Which::PgTimers {
            pg,
            count,
            graphile_count,
            processes,
            batch,
            expiries,
        } => pg::timers(&pg, count, graphile_count, processes, batch, expiries).await,
        Which::Statement { orders } => payments::statement(orders).await,
        Which::Callbacks { rate, seconds } => payments::callbacks(rate, seconds).await,
        Which::Dashboard {
            orders,
            buyers,
            requests,
        } => desk::run(orders, buyers, requests).await,
        Which::Couriers {
            events,
            batch,
            clients,
        } => couriers::sqlite(events, batch, clients).await,
        Which::PgCouriers {
            pg,
            events,
            batch,
            clients,
        } => couriers::postgres(&pg, events, batch, clients).await,
        Which::Clv => clv::run(),
        Which::Analytics { orders, stored } => analytics::run(orders, stored).await,
        Which::Inbound {
            messages,
            clients,
            no_faq,
        } => inbound::run(messages, clients, !no_faq).await,
        Which::Faq { entries, messages } => faq::run(entries, messages),
        Which::Guard {
            record,
            orders,
            seconds,
        } => guard::run(&record, orders, seconds).await,
        Which::FlashSale { sale } => flash_sale::sqlite(sale.sale()).await,
        Which::PgFlashSale {
            pg,
            processes,
            sale,
        } => flash_sale::postgres(&pg, processes, sale.sale()).await,
        Which::All => {
            orders::run(100_000, 256).await?;
            http::run(64, 10, false).await?;
            expiry::run(100_000, None).await?;
            reminders::run(&[10_000, 100_000, 1_000_000], 10).await?;
            format_order::run(5000, 2000)?;
            rss::run().await?;
            rss::sign_ins(1000, 100).await?;
            reputation::run(100_000, 1_000_000, 10_000).await?;
            payments::statement(100_000).await?;
            payments::callbacks(200, 30).await?;
            desk::run(100_000, 10_000, 200).await?;
            couriers::sqlite(40_000, 100, 8).await?;
            clv::run()?;
            analytics::run(1_000_000, 100_000).await?;
            inbound::run(20_000, 16, true).await?;
            faq::run(1_000, 200_000)?;
            let sale = || flash_sale::Sale {
                buyers: 10_000,
                units: 100,
                seconds: 1.0,
                connections: 64,
            };
            flash_sale::sqlite(sale()).await?;
            flash_sale::postgres(pg::DEFAULT_PG, 3, sale()).await?;
            couriers::postgres(pg::DEFAULT_PG, 10_000, 100, 8).await?;
            pg::orders(pg::DEFAULT_PG, 64, 30_000, 16, 64, 20).await?;
            pg::timers(
                pg::DEFAULT_PG,
                500_000,
                20_000,
                3,
                lunas_engine::TIMER_BATCH_LEN_MAX,
                10_000,
            )
            .await
        }
    }
}

/// `lunas serve --db db` as a process of its own on a free loopback port (`LUNAS_LOG=log`, its
/// standard output dropped), once it answers `/healthz`.
pub(crate) async fn serve_process(
    db: &str,
    log: &str,
) -> anyhow::Result<(tokio::process::Child, std::net::SocketAddr)> {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let child = tokio::process::Command::new(lunas_binary()?)
        .args(["serve", "--db", db, "--listen", &addr.to_string()])
        .env("LUNAS_LOG", log)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let started = std::time::Instant::now();
    let health = "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    loop {
        if let Ok(answer) = exchange(addr, health).await
            && answer.starts_with("HTTP/1.1 200")
        {
            return Ok((child, addr));
        }
        anyhow::ensure!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "lunas serve did not become ready"
        );
        // Polling a starting process: nothing to be notified by.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Sends one request on a connection of its own and reads the whole answer.
pub(crate) async fn exchange(addr: std::net::SocketAddr, request: &str) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer)
}

/// SKUs and buyers the benchmarks spread their orders over.
pub(crate) const BENCH_SKUS: usize = 100;
pub(crate) const BENCH_BUYERS: usize = 1000;

pub(crate) fn sku(i: usize) -> String {
    format!("SKU-{:03}", i % BENCH_SKUS)
}

/// The name of the bench's returning buyer `i` (one of `BENCH_BUYERS`).
pub(crate) fn buyer_name(i: usize) -> String {
    format!("Pembeli {}", i % BENCH_BUYERS)
}

pub(crate) fn phone(i: usize) -> String {
    format!("+62812{:08}", 10_000_000 + i % BENCH_BUYERS)
}

/// A fresh SQLite store in `dir` with `BENCH_SKUS` products of ample stock.
pub(crate) async fn fresh_store(dir: &std::path::Path) -> anyhow::Result<Store> {
    let url = DatabaseUrl::Sqlite(dir.join("bench.db"));
    let store = Store::open(&url, OpenOptions::default()).await?;
    let now = jiff::Timestamp::now();
    for i in 0..BENCH_SKUS {
        store
            .put_product(
                ProductInput {
                    sku: Sku::parse(&sku(i))?,
                    name: format!("Produk uji {i}"),
                    price: Money::price(50_000 + i as i64 * 1000)?,
                    stock: 1_000_000_000,
                    tips: None,
                    variant: None,
                },
                now,
            )
            .await??;
    }
    Ok(store)
}

pub(crate) fn place_request(i: usize, pay_within: Option<lunas_core::PayWindow>) -> PlaceOrder {
    PlaceOrder {
        address: None,
        charges: Default::default(),
        customer: CustomerInfo {
            phone: Phone::parse(&phone(i)).expect("bench phones are valid"),
            name: buyer_name(i),
            email: None,
            honorific: None,
        },
        lines: vec![NewOrderLine {
            sku: Sku::parse(&sku(i)).expect("bench SKUs are valid"),
            qty: Quantity::new(1).expect("1 is a quantity"),
        }],
        payment_method: PaymentMethod::BankTransfer,
        pay_within,
        actor: Actor::from_stored("bench".into()),
        idempotency: None,
        note: None,
    }
}

/// Places `count` orders with `concurrency` tasks; returns the seconds it took.
pub(crate) async fn place_concurrently(
    engine: Arc<Engine>,
    count: usize,
    concurrency: usize,
    pay_within: Option<lunas_core::PayWindow>,
) -> anyhow::Result<f64> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = std::time::Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let engine = engine.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(());
                }
                engine.place_order(place_request(i, pay_within)).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// `lunas_web` serving `engine` on a free loopback port, until `stop`.
pub(crate) struct LocalServer {
    pub addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl LocalServer {
    pub async fn start(engine: Arc<Engine>) -> anyhow::Result<LocalServer> {
        LocalServer::start_with(lunas_web::AppState::new(engine)).await
    }

    /// `start` with a configured application state (inbound webhooks, say).
    pub async fn start_with(state: lunas_web::AppState) -> anyhow::Result<LocalServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(lunas_web::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Ok(LocalServer { addr, stop, task })
    }

    /// Stops taking connections and waits for the requests under way.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}

/// One request a load test sends: its path, headers and body.
pub(crate) struct Post {
    pub path: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: hyper::body::Bytes,
}

/// Sends every request from `clients` concurrent senders over keep-alive connections, each
/// response checked by `check` (its status and body; it answers two counts, summed); returns the
/// seconds it took and the two sums.
pub(crate) async fn post_all(
    addr: std::net::SocketAddr,
    requests: Arc<Vec<Post>>,
    clients: usize,
    check: fn(hyper::StatusCode, &[u8]) -> anyhow::Result<(u64, u64)>,
) -> anyhow::Result<(f64, u64, u64)> {
    use http_body_util::{BodyExt, Full};
    let client: hyper_util::client::legacy::Client<_, Full<hyper::body::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, requests, next) = (client.clone(), requests.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut sums = (0u64, 0u64);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(post) = requests.get(i) else {
                    return Ok::<_, anyhow::Error>(sums);
                };
                let mut request = hyper::Request::post(format!("http://{addr}{}", post.path))
                    .header("content-type", "application/json");
                for (name, value) in &post.headers {
                    request = request.header(*name, value);
                }
                let response = client
                    .request(request.body(Full::new(post.body.clone()))?)
                    .await?;
                let status = response.status();
                let body = response.into_body().collect().await?.to_bytes();
                let (a, b) = check(status, &body)?;
                sums = (sums.0 + a, sums.1 + b);
            }
        }));
    }
    let mut sums = (0, 0);
    for task in tasks {
        let (a, b) = task.await??;
        sums = (sums.0 + a, sums.1 + b);
    }
    Ok((started.elapsed().as_secs_f64(), sums.0, sums.1))
}

pub(crate) fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cores} cores, {}", std::env::consts::ARCH)
}
