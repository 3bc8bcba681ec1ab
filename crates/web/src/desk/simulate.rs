//! *Simulasi kebijakan* under Analitik: the seller types another policy — how long each method
//! may take to pay, when reminders go out, what the watch and blocked bands get — and sees the
//! period's finished orders replayed under it beside what happened. Nothing is saved: a GET.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use lunas_core::PaymentMethod;
use lunas_core::analytics::day_date;
use lunas_core::reliability::Band;
use lunas_core::reminders::Anchor;
use lunas_core::simulate::{Side, Simulation};
use minijinja::{Value, context};

use super::cadence_lines::{cadence_line, read_cadence_line};
use super::charts::thousands;
use super::i18n::Strings;
use super::pages::Query_;
use super::{Desk, PageError, refusal};
use crate::ApiError;
use crate::api::analytics::parse_filter;

/// The methods with a payment window (COD has none).
const METHODS: [PaymentMethod; 4] = [
    PaymentMethod::BankTransfer,
    PaymentMethod::VirtualAccount,
    PaymentMethod::Ewallet,
    PaymentMethod::Qris,
];

/// The form's values: what was typed, or the store's current policy.
fn values(
    desk: &Desk,
    query: &std::collections::BTreeMap<String, String>,
    from: i32,
    to: i32,
) -> Value {
    let settings = desk.state.engine.settings();
    let typed = |name: &str| query.get(name).cloned();
    let windows: Vec<Value> = METHODS
        .iter()
        .map(|m| {
            let current = settings
                .payment_windows
                .for_method(*m)
                .map(|w| w.words(false))
                .unwrap_or_default();
            context! {
                name => format!("win_{}", m.as_str()),
                label => desk.strings().get(&format!("method_{}", m.as_str())),
                value => typed(&format!("win_{}", m.as_str())).unwrap_or(current),
            }
        })
        .collect();
    let reminders = typed("reminders").unwrap_or_else(|| {
        settings
            .reminders
            .for_method(PaymentMethod::BankTransfer)
            .map(|c| {
                c.steps
                    .iter()
                    .map(|s| cadence_line(&s.anchor, false))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    });
    let policies = &settings.risk.policies;
    let ran = query.contains_key("run");
    let checked = |name: &str, current: bool| {
        if ran {
            query.contains_key(name)
        } else {
            current
        }
    };
    context! {
        from => day_date(from).to_string(),
        to => day_date(to).to_string(),
        windows => windows,
        reminders => reminders,
        watch_refuse => checked("watch_refuse", policies.watch.refuse),
        watch_max => typed("watch_max").unwrap_or_else(|| policies.watch.pay_within_max.map(|w| w.words(false)).unwrap_or_default()),
        blocked_refuse => checked("blocked_refuse", policies.blocked.refuse),
    }
}

/// The partial settings document the form describes.
fn policy(
    query: &std::collections::BTreeMap<String, String>,
    strings: &Strings,
) -> Result<serde_json::Value, String> {
    let get = |name: &str| query.get(name).map(|v| v.trim()).unwrap_or("");
    let mut windows = serde_json::Map::new();
    let mut steps = Vec::new();
    for line in get("reminders")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        match read_cadence_line(line) {
            Some(Anchor::AfterOrder(w)) => steps.push(serde_json::json!({"after_order": w})),
            Some(Anchor::BeforeDeadline(w)) => {
                steps.push(serde_json::json!({"before_deadline": w}))
            }
            None => return Err(format!("{} ({line})", strings.get("err_cadence_line"))),
        }
    }
    let mut reminders = serde_json::Map::new();
    for m in METHODS {
        let raw = get(&format!("win_{}", m.as_str()));
        if !raw.is_empty() {
            windows.insert(m.as_str().to_owned(), raw.into());
        }
        reminders.insert(
            m.as_str().to_owned(),
            serde_json::json!({"steps": steps, "max_count": steps.len()}),
        );
    }
    let watch_max = get("watch_max");
    Ok(serde_json::json!({
        "payment_windows": windows,
        "reminders": reminders,
        "risk": {"policies": {
            Band::Watch.as_str(): {
                "refuse": query.contains_key("watch_refuse"),
                "pay_within_max": if watch_max.is_empty() { serde_json::Value::Null } else { watch_max.into() },
            },
            Band::Blocked.as_str(): {"refuse": query.contains_key("blocked_refuse")},
        }},
    }))
}

fn rows(strings: &Strings, sim: &Simulation) -> Vec<Value> {
    let lines: [(&str, fn(&Side) -> f64, bool); 8] = [
        ("sim_paid", |s| s.paid, false),
        ("sim_hit_and_run", |s| s.hit_and_run, false),
        ("sim_stock_hours", |s| s.stock_hours_unpaid, false),
        ("sim_released_then_paid", |s| s.released_then_paid, false),
        ("sim_paid_lost", |s| s.paid_lost, false),
        ("sim_revenue_lost", |s| s.revenue_lost, true),
        ("sim_refused", |s| s.refused as f64, false),
        ("sim_messages", |s| s.messages as f64, false),
    ];
    let shown = |v: f64, money: bool| {
        if money {
            lunas_core::messages::format_rupiah(v.round() as i64)
        } else if v.fract().abs() < 0.05 {
            thousands(v.round() as i64)
        } else {
            format!("{v:.1}").replace('.', ",")
        }
    };
    lines
        .iter()
        .map(|(key, get, money)| {
            let (a, b) = (get(&sim.actual), get(&sim.simulated));
            let change = b - a;
            context! {
                label => strings.get(key),
                actual => shown(a, *money),
                simulated => shown(b, *money),
                change => if change.abs() < 0.05 { "–".to_owned() } else { format!("{}{}", if change > 0.0 { "+" } else { "−" }, shown(change.abs(), *money)) },
            }
        })
        .collect()
}

pub(crate) async fn simulate_page(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let engine = &desk.state.engine;
    let today = engine.local_today();
    let mut period = query.clone();
    if !period.contains_key("from") && !period.contains_key("to") {
        period.insert(
            "from".into(),
            today
                .checked_sub(jiff::Span::new().days(89))
                .unwrap_or(today)
                .to_string(),
        );
    }
    let strings = desk.strings();
    let (filter, mut error) = match parse_filter(&period, today) {
        Ok(filter) => (filter, None),
        Err(e) => {
            let (_, message) = refusal(strings, e)?;
            (
                parse_filter(&Default::default(), today).map_err(|_| PageError::Internal)?,
                Some(message),
            )
        }
    };
    let mut result = None;
    if query.contains_key("run") && error.is_none() {
        match policy(&query, strings) {
            Err(message) => error = Some(message),
            Ok(patch) => match engine.simulate(&patch, filter.clone()).await {
                Ok(sim) => result = Some(sim),
                Err(e) => error = Some(refusal(strings, ApiError::from(e))?.1),
            },
        }
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    desk.page_with_status(
        status,
        "simulate.html",
        "analytics",
        context! {
            error => error,
            v => values(&desk, &query, filter.from, filter.to),
            result => result.as_ref().map(|sim| context! {
                orders => thousands(sim.orders as i64),
                rows => rows(strings, sim),
                beyond => sim.beyond_the_data,
            }),
        },
    )
}
