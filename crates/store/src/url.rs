//! Database URLs: `sqlite://<path>` (an absolute path gives `sqlite:///…`) and
//! `postgres://user:password@host:port/database?options` (libpq's URI form; `postgresql://` too).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(PgUrl),
}

/// A PostgreSQL connection URL. It may hold a password, so it prints only redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl {
    raw: String,
}

impl PgUrl {
    /// The driver's configuration for this URL.
    pub(crate) fn config(&self) -> postgres::Config {
        postgres::Config::from_str(&self.raw).expect("checked when parsed")
    }

    /// The URL as given, password included: for handing to another program (e.g. `pgbench`),
    /// never for printing.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The same server and credentials with `options` (e.g. `-c search_path=…`) added.
    pub fn with_options(&self, options: &str) -> PgUrl {
        let mut url = url::Url::parse(&self.raw).expect("checked when parsed");
        url.query_pairs_mut().append_pair("options", options);
        PgUrl {
            raw: url.to_string(),
        }
    }

    /// The same server and database, other credentials.
    pub fn with_credentials(&self, user: &str, password: &str) -> PgUrl {
        let mut url = url::Url::parse(&self.raw).expect("checked when parsed");
        let _ = url.set_username(user);
        let _ = url.set_password(Some(password));
        PgUrl {
            raw: url.to_string(),
        }
    }

    /// The same server and credentials, another database.
    pub fn with_database(&self, database: &str) -> PgUrl {
        let mut url = url::Url::parse(&self.raw).expect("checked when parsed");
        url.set_path(&format!("/{database}"));
        PgUrl {
            raw: url.to_string(),
        }
    }

    /// The URL without its password.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.raw) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("***"));
                }
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k == "password" {
                            "***".into()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                if !pairs.is_empty() {
                    url.query_pairs_mut().clear().extend_pairs(pairs);
                }
                url.to_string()
            }
            Err(_) => "postgres://(unreadable URL)".into(),
        }
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<DatabaseUrl, StoreError> {
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::BadUrl(
                    "sqlite:// needs a file path, e.g. sqlite://lunas.db".into(),
                ));
            }
            let path = path.split('?').next().unwrap_or(path);
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let url = PgUrl { raw: raw.into() };
            if url::Url::parse(raw).is_err() || postgres::Config::from_str(raw).is_err() {
                return Err(StoreError::BadUrl(format!(
                    "{} is not a PostgreSQL URL of the form postgres://user:password@host:port/database",
                    url.redacted()
                )));
            }
            return Ok(DatabaseUrl::Postgres(url));
        }
        let scheme = raw.split_once("://").map(|(s, _)| s).unwrap_or("");
        Err(StoreError::BadUrl(format!(
            "unknown database URL scheme {scheme:?}; use sqlite://<path> or postgres://…"
        )))
    }

    /// The URL with any password removed, safe for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.redacted(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_take_relative_and_absolute_paths() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://lunas.db").unwrap(),
            DatabaseUrl::Sqlite("lunas.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/lunas.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/lunas.db".into())
        );
    }

    #[test]
    fn postgres_urls_parse_and_never_print_their_password() {
        let url = DatabaseUrl::parse("postgres://lunas:s3cret@db.example:5433/shop?password=again")
            .unwrap();
        let printed = format!("{} {:?}", url.redacted(), url);
        assert!(
            !printed.contains("s3cret") && !printed.contains("again"),
            "{printed}"
        );
        assert!(
            printed.contains("lunas:***@db.example:5433/shop"),
            "{printed}"
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://root@127.0.0.1/test").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgres://a:b@host:notaport/db"),
            Err(StoreError::BadUrl(message)) if !message.contains(":b@")
        ));
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(matches!(
            DatabaseUrl::parse("mysql://x"),
            Err(StoreError::BadUrl(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("lunas.db"),
            Err(StoreError::BadUrl(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite://"),
            Err(StoreError::BadUrl(_))
        ));
    }
}
