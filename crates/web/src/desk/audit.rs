//! The owner's audit log page: who did what, when, in words — actions, actors and details are
//! named for a member to read, never shown as codes or JSON.

use axum::extract::Query;
use axum::response::Response;
use minijinja::{Value, context};

use super::pages::{Query_, engine_err};
use super::{Desk, LIST_LEN, PageError};

/// Who did it, as a member reads it: a member's email, an API token's name, the server, an
/// address that failed to sign in.
pub(super) fn actor_words(strings: &super::Strings, raw: &str) -> String {
    match raw.split_once(':') {
        Some(("staff", email)) => email.to_owned(),
        Some(("api", name)) => format!("{} {name}", strings.get("actor_api")),
        Some(("gateway", source)) => format!("{} {source}", strings.get("actor_gateway")),
        Some(("address", address)) => format!("{} {address}", strings.get("actor_address")),
        Some(("cli", _)) => strings.get("actor_cli").to_owned(),
        Some(("courier", source)) => format!("{} ({source})", strings.get("actor_courier")),
        _ if raw == "cli" => strings.get("actor_cli").to_owned(),
        _ if raw == "system" => strings.get("actor_system").to_owned(),
        _ if raw == "shop" => strings.get("actor_shop").to_owned(),
        _ if raw == "buyer" => strings.get("actor_buyer").to_owned(),
        _ => raw.to_owned(),
    }
}

/// Most facts of one audit line shown; the rest are summed up as "…".
const AUDIT_DETAIL_FACTS_MAX: usize = 12;

/// An audit line's detail in words: `Sebab: kata sandi salah; Bagian: Pengingat`, nested values
/// by their path (`Status › …`), never as JSON.
fn audit_detail(strings: &super::Strings, detail: &serde_json::Value) -> String {
    fn facts(
        strings: &super::Strings,
        path: &str,
        key: &str,
        value: &serde_json::Value,
        out: &mut Vec<String>,
    ) {
        use serde_json::Value as J;
        let label = if path.is_empty() {
            strings.word("audit_key_", key).to_owned()
        } else {
            format!("{path} › {key}")
        };
        let scalar = |v: &J| match v {
            J::Null => Some("—".to_owned()),
            J::Bool(true) => Some(strings.get("yes").to_owned()),
            J::Bool(false) => Some(strings.get("no").to_owned()),
            J::Number(n) => Some(n.to_string()),
            J::String(s) if key == "why" => Some(strings.word("audit_why_", s).to_owned()),
            J::String(s) if key == "changed" => Some(strings.word("audit_setting_", s).to_owned()),
            J::String(s) => Some(s.clone()),
            _ => None,
        };
        match value {
            // A settings change is named by its sections (`changed`); the new values themselves
            // are on the Settings page, and kept whole in the stored line.
            _ if path.is_empty() && key == "patch" => {}
            J::Object(fields) => {
                for (k, v) in fields {
                    facts(strings, &label, k, v, out);
                }
            }
            J::Array(items) if items.iter().all(|i| scalar(i).is_some()) => {
                let words: Vec<String> = items.iter().filter_map(scalar).collect();
                out.push(format!("{label}: {}", words.join(", ")));
            }
            J::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    facts(strings, &label, &(i + 1).to_string(), item, out);
                }
            }
            other => out.push(format!("{label}: {}", scalar(other).unwrap_or_default())),
        }
    }
    let mut out = Vec::new();
    if let serde_json::Value::Object(fields) = detail {
        for (key, value) in fields {
            facts(strings, "", key, value, &mut out);
        }
    }
    if out.len() > AUDIT_DETAIL_FACTS_MAX {
        out.truncate(AUDIT_DETAIL_FACTS_MAX);
        out.push("…".to_owned());
    }
    out.join("; ")
}

pub(crate) async fn audit(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    desk.require_owner()?;
    let before = query.get("before").and_then(|b| b.parse::<i64>().ok());
    let lines = desk
        .state
        .engine
        .audit_log(before, LIST_LEN)
        .await
        .map_err(engine_err)?;
    let next = (lines.len() == LIST_LEN)
        .then(|| lines.last().map(|l| format!("/audit?before={}", l.id)))
        .flatten();
    let rows: Vec<Value> = lines
        .iter()
        .map(|l| {
            context! {
                when => desk.when(l.at), actor => actor_words(desk.strings(), &l.actor),
                action => desk.strings().word("audit_", &l.action),
                subject => desk.strings().word("audit_subject_", &l.subject),
                detail => audit_detail(desk.strings(), &l.detail),
            }
        })
        .collect();
    desk.page(
        "audit.html",
        "audit",
        context! { lines => rows, next => next },
    )
}
