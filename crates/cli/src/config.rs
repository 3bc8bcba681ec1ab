//! One typed configuration for the process: defaults, then the configuration file, then `LUNAS_*`
//! environment variables, then flags. Secrets (the SMTP URL may hold a password) are never
//! printed: not in errors, not in `Debug`, not in `--help`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://lunas.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Flags every command takes.
#[derive(Args, Clone, Debug)]
pub struct CommonArgs {
    /// A TOML configuration file (keys: database_url, db_pool_size, db_statement_timeout_ms,
    /// timer_batch, listen, smtp_url, smtp_from, webhooks_allow_private, secure_cookies, http_*,
    /// whatsapp_*, midtrans_*, xendit_*, mutation_webhook_secret).
    #[arg(long, env = "LUNAS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://<path> (an absolute path gives sqlite:///…) or
    /// postgres://user:password@host:port/database. Default sqlite://lunas.db.
    #[arg(long = "db", env = "LUNAS_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// PostgreSQL: most connections this process opens. Default 16.
    #[arg(long, env = "LUNAS_DB_POOL_SIZE")]
    pub db_pool_size: Option<usize>,
    /// PostgreSQL: longest a statement may run or wait for a lock, in milliseconds. Default 5000.
    #[arg(long, env = "LUNAS_DB_STATEMENT_TIMEOUT_MS")]
    pub db_statement_timeout_ms: Option<u64>,
}

/// Flags of `lunas serve`.
#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Address to listen on. Default 127.0.0.1:8080.
    #[arg(long, env = "LUNAS_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Where buyers reach lunas (`https://toko.example`): the start of every order page's link
    /// in messages and in the order JSON's `public_url`. Default: `http://` and the listen address.
    #[arg(long, env = "LUNAS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// SMTP server for email to buyers: smtp://host:port, smtp://…?tls=required (STARTTLS),
    /// smtps://host:465, with optional user:password@.
    #[arg(long, env = "LUNAS_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The From address of email to buyers, e.g. "Toko Kami <toko@example.co.id>".
    #[arg(long, env = "LUNAS_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Let webhook URLs reach loopback and private networks (off by default: a webhook must not
    /// be a way into the server's own network).
    #[arg(long, env = "LUNAS_WEBHOOKS_ALLOW_PRIVATE")]
    pub webhooks_allow_private: bool,
    /// WhatsApp Cloud API access token (a secret).
    #[arg(long, env = "LUNAS_WHATSAPP_TOKEN", hide_env_values = true)]
    pub whatsapp_token: Option<String>,
    /// WhatsApp Cloud API phone number id of the shop's number.
    #[arg(long, env = "LUNAS_WHATSAPP_PHONE_NUMBER_ID")]
    pub whatsapp_phone_number_id: Option<String>,
    /// Graph API base URL. Default https://graph.facebook.com/v21.0.
    #[arg(long, env = "LUNAS_WHATSAPP_BASE_URL")]
    pub whatsapp_base_url: Option<String>,
    /// Name of an approved template with one body parameter, for messages outside the 24-hour window.
    #[arg(long, env = "LUNAS_WHATSAPP_TEMPLATE")]
    pub whatsapp_template: Option<String>,
    /// Language code of that template. Default id.
    #[arg(long, env = "LUNAS_WHATSAPP_TEMPLATE_LANGUAGE")]
    pub whatsapp_template_language: Option<String>,
    /// App secret that signs WhatsApp's webhooks to /webhooks/whatsapp (a secret).
    #[arg(long, env = "LUNAS_WHATSAPP_APP_SECRET", hide_env_values = true)]
    pub whatsapp_app_secret: Option<String>,
    /// Verify token of the WhatsApp webhook subscription (a secret).
    #[arg(long, env = "LUNAS_WHATSAPP_VERIFY_TOKEN", hide_env_values = true)]
    pub whatsapp_verify_token: Option<String>,
    /// The key of the HMACs under which erased buyers' records are kept (a secret; every process
    /// on one database needs the same). Default: a random key kept in the database.
    #[arg(long, env = "LUNAS_PRIVACY_KEY", hide_env_values = true)]
    pub privacy_key: Option<String>,
    /// How many due timers the scheduler takes in one transaction. Default 1000.
    #[arg(long, env = "LUNAS_TIMER_BATCH")]
    pub timer_batch: Option<usize>,
    /// Midtrans server key: verifies notifications to /callbacks/midtrans and creates Snap
    /// payments (a secret).
    #[arg(long, env = "LUNAS_MIDTRANS_SERVER_KEY", hide_env_values = true)]
    pub midtrans_server_key: Option<String>,
    /// Midtrans API base URL. Default https://app.midtrans.com (sandbox:
    /// https://app.sandbox.midtrans.com).
    #[arg(long, env = "LUNAS_MIDTRANS_API_BASE")]
    pub midtrans_api_base: Option<String>,
    /// Midtrans Core API base URL, asked for a transaction's status before a notification's
    /// money is recorded. Default https://api.midtrans.com (sandbox:
    /// https://api.sandbox.midtrans.com).
    #[arg(long, env = "LUNAS_MIDTRANS_STATUS_API_BASE")]
    pub midtrans_status_api_base: Option<String>,
    /// Xendit callback verification token, checked against x-callback-token on
    /// /callbacks/xendit (a secret).
    #[arg(long, env = "LUNAS_XENDIT_CALLBACK_TOKEN", hide_env_values = true)]
    pub xendit_callback_token: Option<String>,
    /// Xendit secret API key, for creating invoices (a secret).
    #[arg(long, env = "LUNAS_XENDIT_SECRET_KEY", hide_env_values = true)]
    pub xendit_secret_key: Option<String>,
    /// Xendit API base URL. Default https://api.xendit.co.
    #[arg(long, env = "LUNAS_XENDIT_API_BASE")]
    pub xendit_api_base: Option<String>,
    /// The secret a bank-mutation service signs its deliveries to /callbacks/mutations with
    /// (HMAC-SHA256 in the Signature header; a secret).
    #[arg(long, env = "LUNAS_MUTATION_WEBHOOK_SECRET", hide_env_values = true)]
    pub mutation_webhook_secret: Option<String>,
    /// The header Biteship's webhook carries its signature in. Default x-biteship-signature.
    #[arg(long, env = "LUNAS_BITESHIP_SIGNATURE_HEADER")]
    pub biteship_signature_header: Option<String>,
    /// The signature key set in Biteship's webhook settings; /callbacks/biteship is off without
    /// it (a secret).
    #[arg(long, env = "LUNAS_BITESHIP_SIGNATURE_KEY", hide_env_values = true)]
    pub biteship_signature_key: Option<String>,
    /// The KiriminAja API key its callbacks carry as a bearer token; /callbacks/kiriminaja is
    /// off without it (a secret).
    #[arg(long, env = "LUNAS_KIRIMINAJA_API_KEY", hide_env_values = true)]
    pub kiriminaja_api_key: Option<String>,
    /// The secret senders of lunas's own courier format carry as a bearer token;
    /// /callbacks/courier is off without it (a secret).
    #[arg(long, env = "LUNAS_COURIER_WEBHOOK_SECRET", hide_env_values = true)]
    pub courier_webhook_secret: Option<String>,
    /// The secret (`whsec_…`, Standard Webhooks) senders of buyers' messages to
    /// /webhooks/messages sign with; the route is off without it (a secret).
    #[arg(long, env = "LUNAS_MESSAGES_WEBHOOK_SECRET", hide_env_values = true)]
    pub messages_webhook_secret: Option<String>,
    /// Mark the dashboard's cookies `Secure` on every response: lunas is reached over HTTPS
    /// (a proxy that sets `X-Forwarded-Proto: https` gets them anyway).
    #[arg(long, env = "LUNAS_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Longest wait, in milliseconds, for a request's whole header (a keep-alive connection idle
    /// between requests is closed after it too). Default 10000.
    #[arg(long, env = "LUNAS_HTTP_HEADER_TIMEOUT_MS")]
    pub http_header_timeout_ms: Option<u64>,
    /// A connection on which nothing moves for this many milliseconds is closed. Default 60000.
    #[arg(long, env = "LUNAS_HTTP_IDLE_TIMEOUT_MS")]
    pub http_idle_timeout_ms: Option<u64>,
    /// Longest a request body may take to arrive whole, in milliseconds. Default 60000.
    #[arg(long, env = "LUNAS_HTTP_BODY_TIMEOUT_MS")]
    pub http_body_timeout_ms: Option<u64>,
    /// Most connections open at once. Default 1024.
    #[arg(long, env = "LUNAS_HTTP_CONNECTIONS_MAX")]
    pub http_connections_max: Option<usize>,
    /// Most connections open at once from one address off this machine (a reverse proxy on this
    /// machine is capped by the total only). Default 64.
    #[arg(long, env = "LUNAS_HTTP_CONNECTIONS_PER_ADDRESS_MAX")]
    pub http_connections_per_address_max: Option<usize>,
    /// Seed a small demo store (products, buyers, orders in every state) if the database is
    /// empty, and print an API token for it.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    db_pool_size: Option<usize>,
    db_statement_timeout_ms: Option<u64>,
    timer_batch: Option<usize>,
    privacy_key: Option<String>,
    listen: Option<SocketAddr>,
    public_url: Option<String>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    webhooks_allow_private: Option<bool>,
    secure_cookies: Option<bool>,
    http_header_timeout_ms: Option<u64>,
    http_idle_timeout_ms: Option<u64>,
    http_body_timeout_ms: Option<u64>,
    http_connections_max: Option<usize>,
    http_connections_per_address_max: Option<usize>,
    whatsapp_token: Option<String>,
    whatsapp_phone_number_id: Option<String>,
    whatsapp_base_url: Option<String>,
    whatsapp_template: Option<String>,
    whatsapp_template_language: Option<String>,
    whatsapp_app_secret: Option<String>,
    whatsapp_verify_token: Option<String>,
    midtrans_server_key: Option<String>,
    midtrans_api_base: Option<String>,
    midtrans_status_api_base: Option<String>,
    xendit_callback_token: Option<String>,
    xendit_secret_key: Option<String>,
    xendit_api_base: Option<String>,
    mutation_webhook_secret: Option<String>,
    biteship_signature_header: Option<String>,
    biteship_signature_key: Option<String>,
    kiriminaja_api_key: Option<String>,
    courier_webhook_secret: Option<String>,
    messages_webhook_secret: Option<String>,
}

/// Where the database is and how to use it.
pub struct Database {
    pub url: String,
    pub options: lunas_store::OpenOptions,
}

pub const DEFAULT_TIMER_BATCH: usize = lunas_engine::TIMER_BATCH_LEN_MAX;

/// The resolved configuration.
pub struct Config {
    pub database: Database,
    pub timer_batch: usize,
    pub privacy_key: Option<String>,
    pub listen: SocketAddr,
    /// Where buyers reach lunas, without a trailing `/`.
    pub public_url: String,
    pub smtp: Option<Smtp>,
    pub webhooks_allow_private: bool,
    pub secure_cookies: bool,
    pub connections: lunas_web::ConnectionLimits,
    pub whatsapp: Option<lunas_engine::channels::whatsapp::WhatsAppConfig>,
    pub whatsapp_inbound: Option<lunas_web::WhatsAppInbound>,
    pub gateways: lunas_engine::gateways::Gateways,
}

pub struct Smtp {
    pub url: String,
    pub from: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("smtp_from", &self.smtp.as_ref().map(|s| &s.from))
            .finish_non_exhaustive()
    }
}

/// `public_url` as links are built from it: an absolute `http` or `https` URL with a host and
/// nothing after its path, without the trailing `/`.
fn public_base(raw: &str) -> anyhow::Result<String> {
    let refused = || {
        anyhow::anyhow!(
            "public_url must be an absolute http or https address such as https://toko.example, without ? or #"
        )
    };
    let trimmed = raw.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(refused)?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty()
        || rest.contains(['?', '#', ' ', '@'])
        || rest.chars().any(|c| c.is_control())
    {
        return Err(refused());
    }
    Ok(trimmed.to_owned())
}

fn read_file(path: Option<&Path>) -> anyhow::Result<FileConfig> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the configuration file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        // toml's own message quotes the offending line, which may hold a password: say only
        // where and what.
        let line = e
            .span()
            .map(|span| text[..span.start].lines().count().max(1));
        match line {
            Some(line) => anyhow::anyhow!(
                "configuration file {}: line {line}: {}",
                path.display(),
                e.message()
            ),
            None => anyhow::anyhow!("configuration file {}: {}", path.display(), e.message()),
        }
    })
}

impl Config {
    pub fn for_command(common: &CommonArgs) -> anyhow::Result<Database> {
        let file = read_file(common.config.as_deref())?;
        Self::database(common, &file)
    }

    fn database(common: &CommonArgs, file: &FileConfig) -> anyhow::Result<Database> {
        let defaults = lunas_store::OpenOptions::default();
        let pool_size = common
            .db_pool_size
            .or(file.db_pool_size)
            .unwrap_or(defaults.pool_size);
        if !(1..=1000).contains(&pool_size) {
            bail!("db_pool_size must be between 1 and 1000");
        }
        let statement_timeout_ms = common
            .db_statement_timeout_ms
            .or(file.db_statement_timeout_ms)
            .unwrap_or(defaults.statement_timeout_ms);
        if !(100..=3_600_000).contains(&statement_timeout_ms) {
            bail!("db_statement_timeout_ms must be between 100 and 3600000");
        }
        Ok(Database {
            url: common
                .database_url
                .clone()
                .or_else(|| file.database_url.clone())
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            options: lunas_store::OpenOptions {
                pool_size,
                statement_timeout_ms,
                ..defaults
            },
        })
    }

    pub fn for_serve(args: &ServeArgs) -> anyhow::Result<Config> {
        let file = read_file(args.common.config.as_deref())?;
        let database = Self::database(&args.common, &file)?;
        let timer_batch = args
            .timer_batch
            .or(file.timer_batch)
            .unwrap_or(DEFAULT_TIMER_BATCH);
        if !(1..=100_000).contains(&timer_batch) {
            bail!("timer_batch must be between 1 and 100000");
        }
        let listen = args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("a valid address"));
        let public_url = match args.public_url.clone().or(file.public_url) {
            Some(url) => public_base(&url)?,
            None => format!("http://{listen}"),
        };
        let smtp = match (
            args.smtp_url.clone().or(file.smtp_url),
            args.smtp_from.clone().or(file.smtp_from),
        ) {
            (Some(url), Some(from)) => Some(Smtp { url, from }),
            (None, None) => None,
            (Some(_), None) => {
                bail!("smtp_url is set but smtp_from is not: email needs a From address")
            }
            (None, Some(_)) => bail!("smtp_from is set but smtp_url is not"),
        };
        let webhooks_allow_private =
            args.webhooks_allow_private || file.webhooks_allow_private.unwrap_or(false);
        let secure_cookies = args.secure_cookies || file.secure_cookies.unwrap_or(false);
        let defaults = lunas_web::ConnectionLimits::default();
        let connections = lunas_web::ConnectionLimits {
            header_timeout_ms: args
                .http_header_timeout_ms
                .or(file.http_header_timeout_ms)
                .unwrap_or(defaults.header_timeout_ms),
            idle_timeout_ms: args
                .http_idle_timeout_ms
                .or(file.http_idle_timeout_ms)
                .unwrap_or(defaults.idle_timeout_ms),
            body_timeout_ms: args
                .http_body_timeout_ms
                .or(file.http_body_timeout_ms)
                .unwrap_or(defaults.body_timeout_ms),
            connections_max: args
                .http_connections_max
                .or(file.http_connections_max)
                .unwrap_or(defaults.connections_max),
            connections_per_address_max: args
                .http_connections_per_address_max
                .or(file.http_connections_per_address_max)
                .unwrap_or(defaults.connections_per_address_max),
            cap_loopback: false,
        };
        for (name, ms) in [
            ("http_header_timeout_ms", connections.header_timeout_ms),
            ("http_idle_timeout_ms", connections.idle_timeout_ms),
            ("http_body_timeout_ms", connections.body_timeout_ms),
        ] {
            if !(100..=3_600_000).contains(&ms) {
                bail!("{name} must be between 100 and 3600000 (milliseconds)");
            }
        }
        if !(1..=1_000_000).contains(&connections.connections_max)
            || !(1..=connections.connections_max).contains(&connections.connections_per_address_max)
        {
            bail!(
                "http_connections_max must be between 1 and 1000000, and http_connections_per_address_max between 1 and http_connections_max"
            );
        }
        let whatsapp = match (
            args.whatsapp_token.clone().or(file.whatsapp_token),
            args.whatsapp_phone_number_id
                .clone()
                .or(file.whatsapp_phone_number_id),
        ) {
            (Some(token), Some(phone_number_id)) => {
                Some(lunas_engine::channels::whatsapp::WhatsAppConfig {
                    base_url: args
                        .whatsapp_base_url
                        .clone()
                        .or(file.whatsapp_base_url)
                        .unwrap_or_else(|| {
                            lunas_engine::channels::whatsapp::DEFAULT_BASE_URL.to_owned()
                        }),
                    token,
                    phone_number_id,
                    template: args.whatsapp_template.clone().or(file.whatsapp_template),
                    template_language: args
                        .whatsapp_template_language
                        .clone()
                        .or(file.whatsapp_template_language)
                        .unwrap_or_else(|| "id".to_owned()),
                })
            }
            (None, None) => None,
            _ => bail!("WhatsApp needs both whatsapp_token and whatsapp_phone_number_id"),
        };
        let whatsapp_inbound = match (
            args.whatsapp_verify_token
                .clone()
                .or(file.whatsapp_verify_token),
            args.whatsapp_app_secret
                .clone()
                .or(file.whatsapp_app_secret),
        ) {
            (Some(verify_token), Some(app_secret)) => Some(lunas_web::WhatsAppInbound {
                verify_token,
                app_secret,
            }),
            (None, None) => None,
            _ => bail!(
                "receiving WhatsApp webhooks needs both whatsapp_verify_token and whatsapp_app_secret"
            ),
        };
        let privacy_key = args.privacy_key.clone().or(file.privacy_key);
        if privacy_key.as_ref().is_some_and(|key| key.len() < 16) {
            bail!("privacy_key must be at least 16 characters");
        }
        let secret =
            |flag: &Option<String>, file: Option<String>, name: &str| match flag.clone().or(file) {
                Some(value) if value.trim().is_empty() => bail!("{name} must not be empty"),
                other => Ok(other),
            };
        let midtrans = secret(
            &args.midtrans_server_key,
            file.midtrans_server_key,
            "midtrans_server_key",
        )?
        .map(|server_key| lunas_engine::gateways::MidtransConfig {
            server_key,
            api_base: args
                .midtrans_api_base
                .clone()
                .or(file.midtrans_api_base.clone())
                .unwrap_or_else(|| lunas_engine::gateways::MIDTRANS_API_BASE_DEFAULT.to_owned()),
            status_api_base: args
                .midtrans_status_api_base
                .clone()
                .or(file.midtrans_status_api_base.clone())
                .unwrap_or_else(|| {
                    lunas_engine::gateways::MIDTRANS_STATUS_API_BASE_DEFAULT.to_owned()
                }),
        });
        let xendit_secret_key = secret(
            &args.xendit_secret_key,
            file.xendit_secret_key,
            "xendit_secret_key",
        )?;
        let xendit = match secret(
            &args.xendit_callback_token,
            file.xendit_callback_token,
            "xendit_callback_token",
        )? {
            Some(callback_token) => Some(lunas_engine::gateways::XenditConfig {
                callback_token,
                secret_key: xendit_secret_key,
                api_base: args
                    .xendit_api_base
                    .clone()
                    .or(file.xendit_api_base.clone())
                    .unwrap_or_else(|| lunas_engine::gateways::XENDIT_API_BASE_DEFAULT.to_owned()),
            }),
            None if xendit_secret_key.is_some() => {
                bail!(
                    "xendit_secret_key is set but xendit_callback_token is not: lunas must verify Xendit's callbacks"
                )
            }
            None => None,
        };
        let gateways = lunas_engine::gateways::Gateways {
            midtrans,
            xendit,
            mutation_secret: secret(
                &args.mutation_webhook_secret,
                file.mutation_webhook_secret,
                "mutation_webhook_secret",
            )?,
            couriers: lunas_engine::couriers::Couriers {
                biteship: secret(
                    &args.biteship_signature_key,
                    file.biteship_signature_key,
                    "biteship_signature_key",
                )?
                .map(|key| {
                    let header = args
                        .biteship_signature_header
                        .clone()
                        .or(file.biteship_signature_header)
                        .unwrap_or_else(|| "x-biteship-signature".to_owned())
                        .to_ascii_lowercase();
                    (header, key)
                }),
                kiriminaja_key: secret(
                    &args.kiriminaja_api_key,
                    file.kiriminaja_api_key,
                    "kiriminaja_api_key",
                )?,
                generic_secret: secret(
                    &args.courier_webhook_secret,
                    file.courier_webhook_secret,
                    "courier_webhook_secret",
                )?,
            },
            messages_secret: secret(
                &args.messages_webhook_secret,
                file.messages_webhook_secret,
                "messages_webhook_secret",
            )?,
        };
        Ok(Config {
            database,
            timer_batch,
            privacy_key,
            listen,
            public_url,
            smtp,
            webhooks_allow_private,
            secure_cookies,
            connections,
            whatsapp,
            whatsapp_inbound,
            gateways,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_args(config: Option<PathBuf>, db: Option<&str>) -> ServeArgs {
        ServeArgs {
            common: CommonArgs {
                config,
                database_url: db.map(str::to_owned),
                db_pool_size: None,
                db_statement_timeout_ms: None,
            },
            timer_batch: None,
            privacy_key: None,
            listen: None,
            public_url: None,
            smtp_url: None,
            smtp_from: None,
            webhooks_allow_private: false,
            secure_cookies: false,
            http_header_timeout_ms: None,
            http_idle_timeout_ms: None,
            http_body_timeout_ms: None,
            http_connections_max: None,
            http_connections_per_address_max: None,
            whatsapp_token: None,
            whatsapp_phone_number_id: None,
            whatsapp_base_url: None,
            whatsapp_template: None,
            whatsapp_template_language: None,
            whatsapp_app_secret: None,
            whatsapp_verify_token: None,
            midtrans_server_key: None,
            midtrans_api_base: None,
            midtrans_status_api_base: None,
            xendit_callback_token: None,
            xendit_secret_key: None,
            xendit_api_base: None,
            mutation_webhook_secret: None,
            biteship_signature_header: None,
            biteship_signature_key: None,
            kiriminaja_api_key: None,
            courier_webhook_secret: None,
            messages_webhook_secret: None,
            demo: false,
        }
    }

    #[test]
    fn the_public_url_is_an_absolute_web_address_without_a_trailing_slash() {
        assert_eq!(
            public_base("https://toko.example/").unwrap(),
            "https://toko.example"
        );
        assert_eq!(
            public_base(" http://10.0.0.5:8080/lunas ").unwrap(),
            "http://10.0.0.5:8080/lunas"
        );
        for bad in [
            "toko.example",
            "ftp://toko.example",
            "https://",
            "https://toko.example/?a=1",
            "https://toko.example/#x",
            "https://user@toko.example",
            "javascript:alert(1)",
        ] {
            assert!(public_base(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lunas.toml");
        std::fs::write(
            &path,
            "database_url = \"sqlite://file.db\"\nlisten = \"127.0.0.1:9090\"\n",
        )
        .unwrap();
        let from_file = Config::for_serve(&serve_args(Some(path.clone()), None)).unwrap();
        assert_eq!(
            (from_file.database.url.as_str(), from_file.listen.port()),
            ("sqlite://file.db", 9090)
        );
        let flagged = Config::for_serve(&serve_args(Some(path), Some("sqlite://flag.db"))).unwrap();
        assert_eq!(flagged.database.url, "sqlite://flag.db");
        let defaults = Config::for_serve(&serve_args(None, None)).unwrap();
        assert_eq!(
            (defaults.database.url.as_str(), defaults.listen.port()),
            (DEFAULT_DATABASE_URL, 8080)
        );
    }

    #[test]
    fn a_bad_file_is_refused_without_echoing_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lunas.toml");
        std::fs::write(
            &path,
            "smtp_url = \"smtps://toko:hunter2@mail.example:465\"\nsmtp_form = \"x\"\n",
        )
        .unwrap();
        let error = Config::for_serve(&serve_args(Some(path.clone()), None))
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `smtp_form`"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        std::fs::write(
            &path,
            "smtp_url = \"smtps://toko:hunter2@mail.example:465\n",
        )
        .unwrap();
        let error = Config::for_serve(&serve_args(Some(path.clone()), None))
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
        std::fs::write(
            &path,
            "smtp_url = \"smtps://toko:hunter2@mail.example:465\"\n",
        )
        .unwrap();
        let error = Config::for_serve(&serve_args(Some(path), None))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("smtp_from") && !error.contains("hunter2"),
            "{error}"
        );
    }
}
