//! The dashboard's words, in Indonesian (the default) and English. Templates read them as
//! `t.key`; a key missing in a language is a test failure (templates render with strict
//! undefined), not a blank on a seller's screen.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use lunas_core::messages::Language;
use minijinja::Value;

use crate::ApiError;

/// One language's words.
pub(crate) struct Strings {
    map: BTreeMap<&'static str, &'static str>,
    value: Value,
}

pub(crate) fn code(language: Language) -> &'static str {
    match language {
        Language::Indonesian => "id",
        Language::English => "en",
    }
}

impl Strings {
    pub fn of(language: Language) -> &'static Strings {
        static ID: OnceLock<Strings> = OnceLock::new();
        static EN: OnceLock<Strings> = OnceLock::new();
        let (cell, column) = match language {
            Language::Indonesian => (&ID, 1),
            Language::English => (&EN, 2),
        };
        cell.get_or_init(|| {
            let map: BTreeMap<&'static str, &'static str> = super::words::rows()
                .map(|row| (row.0, if column == 1 { row.1 } else { row.2 }))
                .collect();
            Strings {
                value: Value::from(minijinja::value::Serde(&map)),
                map,
            }
        })
    }

    pub fn value(&self) -> Value {
        self.value.clone()
    }

    pub fn get(&self, key: &str) -> &'static str {
        self.map.get(key).copied().unwrap_or("?")
    }

    /// The words for `prefix` + `key` (a channel, a status), or `key` itself when there are none.
    pub fn word<'a>(&self, prefix: &str, key: &'a str) -> &'a str {
        self.map
            .get(format!("{prefix}{key}").as_str())
            .copied()
            .unwrap_or(key)
    }

    pub fn notice(&self, key: &str) -> Option<&'static str> {
        self.map.get(format!("notice_{key}").as_str()).copied()
    }

    /// The words for an error code that came back in an address (`?error=`): only codes with
    /// words of their own here; anything else reads as a general refusal.
    pub fn code_message(&self, code: &str) -> &'static str {
        self.map
            .get(format!("code_{code}").as_str())
            .copied()
            .filter(|words| !words.contains("{detail}"))
            .unwrap_or_else(|| self.get("err_refused"))
    }

    /// An API error as a member reads it: in their language where the code has words here
    /// (with the API's message in place of `{detail}`, where the detail matters), else the API's
    /// own message.
    pub fn error(&self, e: &ApiError) -> String {
        self.map
            .get(format!("code_{}", e.code).as_str())
            .map_or_else(|| e.message.clone(), |s| s.replace("{detail}", &e.message))
    }
}

/// The languages a select offers, each named in itself.
pub(crate) fn language_options(strings: &Strings) -> [(&'static str, &'static str); 2] {
    [
        ("id", strings.get("lang_id")),
        ("en", strings.get("lang_en")),
    ]
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_key_is_there_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (key, id, en) in crate::desk::words::rows() {
            assert!(seen.insert(key), "{key} twice");
            assert!(!id.is_empty() && !en.is_empty(), "{key} is empty");
        }
    }

    #[test]
    fn every_audit_action_has_words() {
        let keys: std::collections::BTreeSet<&str> =
            crate::desk::words::rows().map(|row| row.0).collect();
        for action in lunas_core::AuditAction::ALL {
            let key = format!("audit_{}", action.as_str());
            assert!(keys.contains(key.as_str()), "{key} has no words");
        }
    }
}
