//! Database URLs: `sqlite://<path>` (an absolute path gives `sqlite:///…`).

use std::path::PathBuf;

use crate::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
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
            return Err(StoreError::BadUrl(
                "PostgreSQL is not supported by this build yet; use sqlite://<path>".into(),
            ));
        }
        let scheme = raw.split_once("://").map(|(s, _)| s).unwrap_or("");
        Err(StoreError::BadUrl(format!(
            "unknown database URL scheme {scheme:?}; use sqlite://<path>"
        )))
    }

    /// The URL with any password removed, safe for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
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
