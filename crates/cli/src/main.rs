//! The `lunas` binary: configuration, wiring and subcommands. Everything a test of the engine
//! could reach lives in the library crates; this file only connects them.

mod analytics;
mod config;
mod import_orders;
mod simulate;

use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use config::{CommonArgs, Config, ServeArgs};
use lunas_engine::channels::email::EmailChannel;
use lunas_engine::channels::webhooks::WebhookChannel;
use lunas_engine::channels::whatsapp::WhatsAppChannel;
use lunas_engine::outbox::Outbox;
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

// `serve`'s flags make its variant large; the command is parsed once, at start-up.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API and run the scheduler that releases expired holds.
    Serve(ServeArgs),
    /// Create the database if needed and apply pending migrations.
    Migrate {
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Copy a whole store into an empty database (e.g. from SQLite to PostgreSQL) and verify
    /// that every table's row count and the money and stock sums agree. Stop lunas first.
    MigrateData {
        /// The database to copy from; it is only read.
        #[arg(long, hide_env_values = true)]
        from: String,
        /// The database to copy into: created and migrated if needed, and it must be empty.
        #[arg(long, hide_env_values = true)]
        to: String,
    },
    /// Who comes back: customer-base models fitted to purchase histories.
    Analytics {
        #[command(subcommand)]
        command: analytics::AnalyticsCommand,
    },
    /// What if the store had run another policy: the finished orders of a period (default the
    /// last 90 days) replayed under a policy file — a partial settings document in TOML or JSON
    /// (payment_windows, reminders, quiet_hours, risk.policies; docs/analytics.md) — beside what
    /// happened: orders paid, hit-and-run, stock-hours held unpaid, paid orders lost, messages.
    Simulate {
        #[command(flatten)]
        common: CommonArgs,
        /// The policy to try.
        #[arg(long)]
        policy: std::path::PathBuf,
        /// First day of the period, YYYY-MM-DD (default: 89 days before --to).
        #[arg(long)]
        from: Option<String>,
        /// Last day of the period, YYYY-MM-DD (default: today).
        #[arg(long)]
        to: Option<String>,
        /// Print the comparison as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Buyers' reliability records.
    Reputation {
        #[command(subcommand)]
        command: ReputationCommand,
    },
    /// Import money that arrived (bank statements) and order history (marketplace exports).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage the dashboard's staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum ReputationCommand {
    /// Recompute every buyer's record from their orders and payments (the records are kept as
    /// orders change; this repairs or re-derives them) and report what changed.
    Rebuild {
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import a bank statement (CSV: the generic date,description,amount,balance layout, or a
    /// BCA, Mandiri or BRI export): credits are matched to open orders by their exact amount (and
    /// an order number in the description), the rest goes to the review list. Importing the same
    /// statement again records nothing twice.
    Statement {
        #[command(flatten)]
        common: CommonArgs,
        /// The statement file.
        file: std::path::PathBuf,
        /// Import the lines that read even when others do not (they are listed); without it a
        /// single bad line imports nothing.
        #[arg(long)]
        skip_bad_lines: bool,
    },
    /// Import order history: a Shopee Seller Centre export (xlsx), a TikTok Shop / Tokopedia
    /// export (CSV) or lunas's own CSV columns (docs/analytics.md). The orders join the store as
    /// if they had happened in lunas (buyers' records included); masked phone numbers become
    /// anonymous buyers; an order imported before is not imported again. A file with a bad row
    /// imports nothing unless --skip-bad.
    Orders {
        #[command(flatten)]
        common: CommonArgs,
        /// The export file (.xlsx or .csv).
        file: std::path::PathBuf,
        /// Read and check everything, report what would be created, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the orders that read even when some rows do not (they are listed).
        #[arg(long)]
        skip_bad: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff account. The password is read from standard input (`--password-stdin`,
    /// first line) or asked for at a prompt; it is never an argument.
    Add {
        #[command(flatten)]
        common: CommonArgs,
        /// The address the member signs in with.
        #[arg(long)]
        email: String,
        /// `owner` (settings and staff) or `staff` (orders).
        #[arg(long, value_parser = ["owner", "staff"])]
        role: String,
        /// Read the password from standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token; it is printed once, as the last line of standard output.
    Create {
        #[command(flatten)]
        common: CommonArgs,
        /// A name for the token, recorded as the actor of what it does.
        #[arg(long)]
        name: String,
    },
    /// List the API tokens by name (the tokens themselves are never stored, only their hashes).
    List {
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Revoke every token with this name; it is refused from its next request on, in every
    /// process.
    Revoke {
        #[command(flatten)]
        common: CommonArgs,
        /// The token's name, as `token list` shows it.
        name: String,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("LUNAS_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour only on a terminal: a file or a pipe (journald, a log collector) gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
        Command::Serve(args) => serve(Config::for_serve(&args)?, args.demo).await,
        Command::Migrate { common } => {
            let database = Config::for_command(&common)?;
            let url = DatabaseUrl::parse(&database.url)?;
            // A migration that rebuilds a table of a large store takes seconds, in one
            // transaction whose progress SQLite does not report: a spinner shows it is alive.
            eprintln!("migrating {}…", url.redacted());
            let spinner = import_orders::Spinner::start("migrating");
            let migrated = async {
                let store = open(&url, database.options).await?;
                let versions = store.migrate().await;
                store.close().await;
                anyhow::Ok(versions?)
            }
            .await;
            drop(spinner);
            let (before, after) = migrated?;
            println!("{}: schema version {before} → {after}", url.redacted());
            Ok(())
        }
        Command::MigrateData { from, to } => migrate_data(&from, &to).await,
        Command::Analytics { command } => analytics::run(command),
        Command::Reputation {
            command: ReputationCommand::Rebuild { common },
        } => {
            let database = Config::for_command(&common)?;
            let url = DatabaseUrl::parse(&database.url)?;
            let store = open(
                &url,
                OpenOptions {
                    statement_timeout_ms: 3_600_000,
                    ..database.options
                },
            )
            .await?;
            let before = store.reliability_records().await?;
            let started = std::time::Instant::now();
            let buyers = store.rebuild_reputation().await?;
            let took = started.elapsed();
            let after = store.reliability_records().await?;
            store.close().await;
            let changed = before.iter().zip(&after).filter(|(b, a)| b != a).count();
            println!(
                "rebuilt the records of {buyers} buyers in {:.2} s; {changed} differed from the kept ones",
                took.as_secs_f64()
            );
            Ok(())
        }
        Command::Import {
            command:
                ImportCommand::Statement {
                    common,
                    file,
                    skip_bad_lines,
                },
        } => import_statement(&common, &file, skip_bad_lines).await,
        Command::Import {
            command:
                ImportCommand::Orders {
                    common,
                    file,
                    dry_run,
                    skip_bad,
                },
        } => import_orders::run(&common, &file, dry_run, skip_bad).await,
        Command::Simulate {
            common,
            policy,
            from,
            to,
            json,
        } => simulate::run(&common, &policy, from.as_deref(), to.as_deref(), json).await,
        Command::Token { command } => token(command).await,
        Command::User {
            command:
                UserCommand::Add {
                    common,
                    email,
                    role,
                    password_stdin,
                },
        } => add_user(&common, &email, &role, password_stdin).await,
    }
}

async fn token(command: TokenCommand) -> anyhow::Result<()> {
    let (TokenCommand::Create { common, .. }
    | TokenCommand::List { common }
    | TokenCommand::Revoke { common, .. }) = &command;
    let database = Config::for_command(common)?;
    let url = DatabaseUrl::parse(&database.url)?;
    let store = open(&url, database.options).await?;
    let now = jiff::Timestamp::now();
    let result = match &command {
        TokenCommand::Create { name, .. } => {
            let name = name.trim();
            if !lunas_engine::tokens::valid_name(name) {
                bail!(
                    "--name must be 1 to {} printable characters",
                    lunas_engine::tokens::TOKEN_NAME_LEN_MAX
                );
            }
            if lunas_engine::tokens::list(&store)
                .await?
                .iter()
                .any(|t| t.name == name)
            {
                bail!(
                    "there is already a token named {name:?}: choose another name, or `lunas token revoke {name:?}` first"
                );
            }
            let token = lunas_engine::tokens::create(&store, name, now).await?;
            eprintln!("Created API token {name:?}. It is shown only now; keep it somewhere safe.");
            println!("{token}");
            Ok(())
        }
        TokenCommand::List { .. } => {
            let tokens = lunas_engine::tokens::list(&store).await?;
            if tokens.is_empty() {
                eprintln!("No API tokens. Create one with `lunas token create --name NAME`.");
            }
            for token in tokens {
                let count = if token.count > 1 {
                    format!(" ({} tokens)", token.count)
                } else {
                    String::new()
                };
                println!("{}\tcreated {}{count}", token.name, token.created_at);
            }
            Ok(())
        }
        TokenCommand::Revoke { name, .. } => {
            let revoked = lunas_engine::tokens::revoke(
                &store,
                name,
                lunas_core::Actor::from_stored("cli".to_owned()),
                now,
            )
            .await?;
            if revoked == 0 {
                Err(anyhow::anyhow!(
                    "no API token is named {:?} (see `lunas token list`)",
                    name.trim()
                ))
            } else {
                eprintln!("Revoked {revoked} token(s) named {:?}.", name.trim());
                Ok(())
            }
        }
    };
    store.close().await;
    result
}

async fn add_user(
    common: &CommonArgs,
    email: &str,
    role: &str,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let role = lunas_core::accounts::Role::parse(role).context("--role is owner or staff")?;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let again = rpassword::prompt_password("Again: ").context("reading the password")?;
        if first != again {
            bail!("the two passwords differ");
        }
        first
    };
    let database = Config::for_command(common)?;
    let url = DatabaseUrl::parse(&database.url)?;
    let store = open(&url, database.options).await?;
    let engine = Engine::new(store.clone(), Arc::new(SystemClock)).await?;
    let actor = lunas_core::Actor::from_stored("cli:user-add".to_owned());
    let result = engine.add_user(email, role, password, actor).await;
    store.close().await;
    let member = result?;
    println!(
        "created the {} account {}; sign in at /login",
        member.role.as_str(),
        member.email.as_str()
    );
    Ok(())
}

async fn import_statement(
    common: &CommonArgs,
    file: &std::path::Path,
    skip_bad_lines: bool,
) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(file).with_context(|| format!("reading the statement {}", file.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", file.display()))?;
    let database = Config::for_command(common)?;
    let url = DatabaseUrl::parse(&database.url)?;
    let store = open(&url, database.options).await?;
    let engine = Engine::new(store.clone(), Arc::new(SystemClock)).await?;
    let actor = lunas_core::Actor::from_stored("cli:import".to_owned());
    let result = engine.import_statement(&text, skip_bad_lines, actor).await;
    store.close().await;
    let import = match result {
        Ok(import) => import,
        Err(lunas_engine::Error::BadStatementLines { errors, count }) => {
            for error in &errors {
                eprintln!("{}:{}: {}", file.display(), error.line, error.message);
            }
            bail!(
                "{count} line(s) of {} did not read; nothing was imported (--skip-bad-lines imports the rest)",
                file.display()
            );
        }
        Err(other) => return Err(other.into()),
    };
    for error in &import.bad_lines {
        eprintln!(
            "{}:{}: {} (skipped)",
            file.display(),
            error.line,
            error.message
        );
    }
    let r = import.report;
    println!(
        "{} statement, {} lines: {} matched, {} to review, {} duplicates, {} ignored",
        import.format.as_str(),
        import.lines,
        r.matched,
        r.review,
        r.duplicates,
        r.ignored
    );
    Ok(())
}

async fn migrate_data(from: &str, to: &str) -> anyhow::Result<()> {
    let from = DatabaseUrl::parse(from).context("--from")?;
    let to = DatabaseUrl::parse(to).context("--to")?;
    if from == to {
        bail!("--from and --to name the same database");
    }
    // The copy reads whole tables in single statements: give them an hour, not the 5 s a
    // request gets. The source is not migrated: copying must not change it.
    let options = OpenOptions {
        statement_timeout_ms: 3_600_000,
        ..OpenOptions::default()
    };
    let source = open(
        &from,
        OpenOptions {
            migrate: false,
            ..options.clone()
        },
    )
    .await?;
    let target = open(&to, options).await?;
    let report = source
        .copy_into(&target)
        .await
        .with_context(|| format!("copying {} into {}", from.redacted(), to.redacted()))?;
    source.close().await;
    target.close().await;
    println!("{:<18} {:>10} {:>10}", "table", "source", "target");
    for (table, source_rows, target_rows) in &report.tables {
        println!("{table:<18} {source_rows:>10} {target_rows:>10}");
    }
    let (s, t) = (&report.source_totals, &report.target_totals);
    println!(
        "{:<18} {:>10} {:>10}",
        "payments (sum)", s.payments_sum, t.payments_sum
    );
    println!(
        "{:<18} {:>10} {:>10}",
        "on hand (sum)", s.on_hand_sum, t.on_hand_sum
    );
    println!(
        "{:<18} {:>10} {:>10}",
        "reserved (sum)", s.reserved_sum, t.reserved_sum
    );
    if !report.verified() {
        bail!(
            "the copy does not match its source; do not switch to {}",
            to.redacted()
        );
    }
    println!(
        "verified: {} holds everything {} held",
        to.redacted(),
        from.redacted()
    );
    Ok(())
}

async fn open(url: &DatabaseUrl, options: OpenOptions) -> anyhow::Result<Store> {
    Store::open(url, options)
        .await
        .with_context(|| format!("opening {}", url.redacted()))
}

/// The owner account `--demo` creates (its password is printed once).
const DEMO_OWNER: &str = "owner@demo.lunas.id";

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(&config.database.url)?;
    let listen = config.listen;
    let email = match &config.smtp {
        Some(smtp) => {
            Some(EmailChannel::new(&smtp.url, &smtp.from).map_err(|e| anyhow::anyhow!(e))?)
        }
        None => None,
    };
    let store = open(&url, config.database.options.clone()).await?;
    tokio::task::spawn_blocking(lunas_core::Phone::warm_up).await?;
    let whatsapp = match config.whatsapp.clone() {
        Some(whatsapp) => Some(Arc::new(
            WhatsAppChannel::new(whatsapp, store.clone()).map_err(|e| anyhow::anyhow!(e))?,
        )),
        None => None,
    };
    let mut demo_seeded = false;
    if demo {
        match lunas_engine::demo::seed_if_empty(&store, jiff::Timestamp::now()).await? {
            Some(seeded) => {
                demo_seeded = true;
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
    let clock: Arc<dyn lunas_engine::Clock> = Arc::new(SystemClock);
    let mut engine = Engine::new(store.clone(), clock.clone()).await?;
    if let Some(whatsapp) = &whatsapp {
        engine = engine.with_whatsapp_replies(whatsapp.clone());
    }
    let engine = Arc::new(
        engine
            .with_email(email.is_some())
            .with_webhooks_allow_private(config.webhooks_allow_private)
            .with_whatsapp(whatsapp.is_some())
            .with_public_base(&config.public_url)
            .with_timer_batch(config.timer_batch)
            .with_privacy_key(config.privacy_key.clone())
            .with_gateways(config.gateways.clone()),
    );
    // On PostgreSQL, hear of stock freed by any process, so that a sold-out SKU's buyers are
    // refused without a transaction each (a flash sale's thousands of refusals).
    if matches!(url, DatabaseUrl::Postgres(_)) {
        if engine.watch_sold_out().await {
            tracing::info!("listening for freed stock: sold-out SKUs are refused from memory");
        } else {
            tracing::warn!("could not listen for freed stock; every refusal goes to the database");
        }
        // Connections opened and their placement statements prepared before the first buyer: a
        // live sale right after a restart does not pay for them under a product's row lock.
        let started = std::time::Instant::now();
        let connections =
            lunas_engine::warm::CONNECTIONS.min(config.database.options.pool_size.max(1));
        match engine.warm_up(connections).await {
            Ok(readied) => tracing::info!(
                connections = readied,
                ms = started.elapsed().as_millis() as u64,
                "database connections ready for placements"
            ),
            Err(e) => tracing::warn!(error = %e, "could not ready the database connections"),
        }
    }
    if demo_seeded {
        let password = lunas_engine::accounts::random_password();
        engine
            .add_user(
                DEMO_OWNER,
                lunas_core::accounts::Role::Owner,
                password.clone(),
                lunas_core::Actor::from_stored("cli:demo".to_owned()),
            )
            .await?;
        println!("Dashboard: http://{listen}/ — sign in as {DEMO_OWNER} with password {password}");
    } else if engine.user_count().await? == 0 {
        tracing::warn!(
            "no staff account yet: create the owner with `lunas user add --db {} --email you@example.com --role owner --password-stdin`, then sign in at http://{listen}/login",
            url.redacted()
        );
    }
    // Say which payment callbacks this server takes, never with their secrets.
    for (configured, route) in [
        (config.gateways.midtrans.is_some(), "/callbacks/midtrans"),
        (config.gateways.xendit.is_some(), "/callbacks/xendit"),
        (
            config.gateways.mutation_secret.is_some(),
            "/callbacks/mutations",
        ),
        (
            config.gateways.couriers.biteship.is_some(),
            "/callbacks/biteship",
        ),
        (
            config.gateways.couriers.kiriminaja_key.is_some(),
            "/callbacks/kiriminaja",
        ),
        (
            config.gateways.couriers.generic_secret.is_some(),
            "/callbacks/courier",
        ),
    ] {
        if configured {
            tracing::info!(route, "receiving payment notifications");
        }
    }
    // Say which channels carry messages to buyers, never with their secrets.
    match (&config.whatsapp, &config.smtp) {
        (Some(whatsapp), _) => {
            tracing::info!(phone_number_id = %whatsapp.phone_number_id, "messages to buyers: WhatsApp Cloud API")
        }
        (None, Some(smtp)) => {
            tracing::info!(from = %smtp.from, "messages to buyers: email for buyers with an address, else the manual WhatsApp queue")
        }
        (None, None) => tracing::info!(
            "messages to buyers: the manual WhatsApp queue (set LUNAS_WHATSAPP_* or LUNAS_SMTP_* for automatic sending)"
        ),
    }
    if config.whatsapp_inbound.is_some() {
        tracing::info!("receiving WhatsApp webhooks at /webhooks/whatsapp");
    }
    // Webhooks always (deliveries are only written when the store has endpoints); email and
    // WhatsApp when configured.
    let mut outbox = Outbox::new(store.clone(), clock).with_channel(WebhookChannel::new(
        store.clone(),
        config.webhooks_allow_private,
    ));
    if let Some(email) = email {
        outbox = outbox.with_channel(email);
    }
    if let Some(whatsapp) = whatsapp {
        outbox = outbox.with_channel(whatsapp);
    }
    let outbox = Arc::new(outbox);
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
    let sender = {
        let mut stop = stop_rx.clone();
        tokio::spawn(outbox.run(async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        }))
    };
    let mut stop = stop_rx.clone();
    let server = tokio::spawn(lunas_web::serve_with(
        listener,
        lunas_web::AppState::new(engine)
            .with_whatsapp_inbound(config.whatsapp_inbound.clone())
            .with_secure_cookies(config.secure_cookies),
        config.connections,
        async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        },
    ));
    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    server.await??;
    scheduler.await?;
    sender.await?;
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
