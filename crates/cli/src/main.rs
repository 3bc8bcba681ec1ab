//! The `lunas` binary: configuration, wiring and subcommands. Everything a test of the engine
//! could reach lives in the library crates; this file only connects them.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use lunas_engine::{Engine, SystemClock};
use lunas_store::{DatabaseUrl, OpenOptions, Store};
use tracing_subscriber::EnvFilter;

/// lunas — an order desk that ends customer hit-and-run.
#[derive(Parser)]
#[command(name = "lunas", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Database URL: sqlite://<path> (an absolute path gives sqlite:///…).
    #[arg(
        long = "db",
        env = "LUNAS_DATABASE_URL",
        default_value = "sqlite://lunas.db"
    )]
    url: String,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API and run the scheduler that releases expired holds.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on.
        #[arg(long, env = "LUNAS_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Seed a small demo store (products, buyers, orders in every state) if the database is
        /// empty, and print an API token for it.
        #[arg(long)]
        demo: bool,
    },
    /// Create the database if needed and apply pending migrations.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Run a benchmark and print its figures against their bounds.
    Bench {
        #[command(subcommand)]
        which: lunas_bench::Which,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token; it is printed once, as the last line of standard output.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// A name for the token, recorded as the actor of what it does.
        #[arg(long)]
        name: String,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("LUNAS_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { db, listen, demo } => serve(db, listen, demo).await,
        Command::Migrate { db } => {
            let url = parse_url(&db)?;
            let store = open(&url).await?;
            let (before, after) = store.migrate().await?;
            store.close().await;
            println!("{}: schema version {before} → {after}", url.redacted());
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { db, name },
        } => {
            if !lunas_engine::tokens::valid_name(&name) {
                bail!(
                    "--name must be 1 to {} printable characters",
                    lunas_engine::tokens::TOKEN_NAME_LEN_MAX
                );
            }
            let url = parse_url(&db)?;
            let store = open(&url).await?;
            let token =
                lunas_engine::tokens::create(&store, name.trim(), jiff::Timestamp::now()).await?;
            store.close().await;
            eprintln!(
                "Created API token {:?}. It is shown only now; keep it somewhere safe.",
                name.trim()
            );
            println!("{token}");
            Ok(())
        }
        Command::Bench { which } => lunas_bench::run(which).await,
    }
}

fn parse_url(db: &DbArgs) -> anyhow::Result<DatabaseUrl> {
    Ok(DatabaseUrl::parse(&db.url)?)
}

async fn open(url: &DatabaseUrl) -> anyhow::Result<Store> {
    Store::open(url, OpenOptions::default())
        .await
        .with_context(|| format!("opening {}", url.redacted()))
}

async fn serve(db: DbArgs, listen: SocketAddr, demo: bool) -> anyhow::Result<()> {
    let url = parse_url(&db)?;
    let store = open(&url).await?;
    if demo {
        match lunas_engine::demo::seed_if_empty(&store, jiff::Timestamp::now()).await? {
            Some(seeded) => {
                let token =
                    lunas_engine::tokens::create(&store, "demo", jiff::Timestamp::now()).await?;
                tracing::info!(
                    products = seeded.products,
                    orders = seeded.orders,
                    "seeded the demo store"
                );
                println!("Demo API token (shown once): {token}");
                println!(
                    "Try: curl -H 'Authorization: Bearer {token}' http://{listen}/api/v1/orders"
                );
            }
            None => tracing::info!("the database already has data; --demo seeded nothing"),
        }
    }
    let engine = Arc::new(Engine::new(store.clone(), Arc::new(SystemClock)).await?);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(database = %url.redacted(), address = %listener.local_addr()?, "lunas is serving");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let scheduler = {
        let mut stop = stop_rx.clone();
        tokio::spawn(engine.clone().run_scheduler(async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        }))
    };
    let mut stop = stop_rx.clone();
    let server = tokio::spawn(lunas_web::serve(
        listener,
        lunas_web::AppState::new(engine),
        async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        },
    ));
    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    server.await??;
    scheduler.await?;
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
