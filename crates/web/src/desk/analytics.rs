//! *Analitik*: the store's hit-and-run rate and what it costs, how fast buyers pay, what
//! reminders bring, who comes back (cohorts) and who is slipping away; every table as CSV.

use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lunas_core::PaymentMethod;
use lunas_core::analytics::{Breakdown, Filter, Source, Summary, date_day, day_date};
use lunas_core::reliability::Band;
use minijinja::{Value, context};

use super::charts::{self, Line, percent, thousands};
use super::i18n::Strings;
use super::pages::{Query_, engine_err, phone_path, url_params};
use super::{Desk, PageError, refusal};
use crate::api::analytics::parse_filter;

/// Buyers the "mulai menghilang" list shows.
const FADING_LISTED: usize = 30;
/// A repeat buyer is slipping away below this chance of still buying.
const FADING_P_ALIVE: f64 = 0.5;

/// The tables the page offers as CSV.
const TABLES: [&str; 8] = [
    "series",
    "time_to_pay",
    "reminders",
    "channels",
    "methods",
    "bands",
    "products",
    "cohorts",
];

fn source_word(strings: &Strings, key: &str) -> String {
    strings.get(&format!("source_{key}")).to_owned()
}

fn band_word(strings: &Strings, key: &str) -> String {
    if key == "none" {
        strings.get("an_band_none").to_owned()
    } else {
        strings.get(&format!("band_{key}")).to_owned()
    }
}

fn method_word(strings: &Strings, key: &str) -> String {
    strings.get(&format!("method_{key}")).to_owned()
}

/// A date `2026-11-05` as the page writes it: by `month` (`Nov 2026`), by `day` (`5 Nov`) or
/// whole (`5 Nov 2026`).
fn short_date(strings: &Strings, iso: &str, unit: &str) -> String {
    let Ok(date) = iso.parse::<jiff::civil::Date>() else {
        return iso.to_owned();
    };
    let month = strings.get(&format!("month_short_{}", date.month()));
    match unit {
        "month" => format!("{month} {}", date.year()),
        "day" => format!("{} {month}", date.day()),
        _ => format!("{} {month} {}", date.day(), date.year()),
    }
}

fn minutes_words(strings: &Strings, minutes: Option<f64>) -> String {
    match minutes {
        None => "–".to_owned(),
        Some(m) if m < 60.0 => format!("{} {}", m.round() as i64, strings.get("an_minutes")),
        Some(m) if m < 48.0 * 60.0 => {
            let hours = (m / 6.0).round() / 10.0;
            format!(
                "{} {}",
                hours.to_string().replace('.', ","),
                strings.get("an_hours")
            )
        }
        Some(m) => format!("{} {}", (m / 1440.0).round() as i64, strings.get("an_days")),
    }
}

fn breakdown_rows(rows: &[Breakdown], word: impl Fn(&str) -> String) -> Vec<Value> {
    rows.iter()
        .map(|b| {
            context! {
                key => &b.key,
                label => word(&b.key),
                placed => thousands(b.placed as i64),
                paid_rate => percent(b.paid_rate),
                hit_and_run => thousands(b.hit_and_run as i64),
                hit_and_run_rate => percent(b.hit_and_run_rate),
                revenue => lunas_core::messages::format_rupiah(b.revenue),
            }
        })
        .collect()
}

/// The filter's form values, as typed.
fn form_values(filter: &Filter) -> Value {
    context! {
        from => day_date(filter.from).to_string(),
        to => day_date(filter.to).to_string(),
        channel => filter.source.map(Source::as_str).unwrap_or(""),
        method => filter.method.map(PaymentMethod::as_str).unwrap_or(""),
        band => filter.band.map(Band::as_str).unwrap_or(""),
        sku => filter.sku.clone().unwrap_or_default(),
    }
}

/// The query string that asks for the same summary (for the CSV links).
fn same_filter(filter: &Filter) -> String {
    url_params(&[
        ("from", &day_date(filter.from).to_string()),
        ("to", &day_date(filter.to).to_string()),
        ("channel", filter.source.map(Source::as_str).unwrap_or("")),
        (
            "method",
            filter.method.map(PaymentMethod::as_str).unwrap_or(""),
        ),
        ("band", filter.band.map(Band::as_str).unwrap_or("")),
        ("sku", filter.sku.as_deref().unwrap_or("")),
    ])
}

pub(crate) async fn analytics_page(
    desk: Desk,
    Query(query): Query_,
) -> Result<Response, PageError> {
    let engine = &desk.state.engine;
    let today = engine.local_today();
    let (filter, error, status) = match parse_filter(&query, today) {
        Ok(filter) => (filter, None, StatusCode::OK),
        Err(e) => {
            let (_, message) = refusal(desk.strings(), e)?;
            let fallback =
                parse_filter(&Default::default(), today).map_err(|_| PageError::Internal)?;
            (fallback, Some(message), StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let summary = engine
        .analytics_summary(filter.clone())
        .await
        .map_err(engine_err)?;
    let fading = fading(&desk).await?;
    let chat = engine
        .conversation_metrics(filter.from, filter.to)
        .await
        .map_err(engine_err)?;
    let products = product_names(&desk, &summary).await?;
    let strings = desk.strings();
    let quick: Vec<Value> = [(7, "an_last_7"), (30, "an_last_30"), (90, "an_last_90"), (365, "an_last_365")]
        .into_iter()
        .map(|(days, key)| {
            let from = day_date(date_day(today) - days + 1).to_string();
            context! {
                label => strings.get(key),
                href => format!("/analytics?{}", url_params(&[("from", &from), ("to", &today.to_string())])),
            }
        })
        .collect();
    let options = |all: Vec<(String, String)>| -> Vec<Value> {
        std::iter::once((String::new(), strings.get("an_all").to_owned()))
            .chain(all)
            .map(|(value, label)| context! { value, label })
            .collect()
    };
    let channels = options(
        Source::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), source_word(strings, s.as_str())))
            .collect(),
    );
    let methods = options(
        PaymentMethod::ALL
            .iter()
            .map(|m| (m.as_str().to_owned(), method_word(strings, m.as_str())))
            .collect(),
    );
    let bands = options(
        Band::ALL
            .iter()
            .map(|b| (b.as_str().to_owned(), band_word(strings, b.as_str())))
            .collect(),
    );
    desk.page_with_status(
        status,
        "analytics.html",
        "analytics",
        context! {
            error => error,
            values => form_values(&filter),
            quick => quick,
            channels => channels,
            methods => methods,
            bands => bands,
            s => page_figures(strings, &summary, &products),
            charts => page_charts(strings, &summary),
            csv => same_filter(&filter),
            tables => TABLES,
            fading => fading,
            chat => conversation_figures(strings, &chat),
        },
    )
}

/// The figures and tables of the page, in words and local number formats.
fn page_figures(
    strings: &Strings,
    s: &Summary,
    products: &std::collections::HashMap<String, String>,
) -> Value {
    let kinds = &s.hit_and_run_by_kind;
    context! {
        from => short_date(strings, &s.from, "whole"),
        to => short_date(strings, &s.to, "whole"),
        placed => thousands(s.placed as i64),
        paid => thousands(s.paid as i64),
        paid_rate => percent(s.paid_rate),
        hit_and_run => thousands(s.hit_and_run as i64),
        hit_and_run_rate => percent(s.hit_and_run_rate),
        expired => thousands(kinds.expired as i64),
        cancelled_by_buyer => thousands(kinds.cancelled_by_buyer as i64),
        cod_refused => thousands(kinds.cod_refused as i64),
        paid_late => thousands(kinds.paid_late as i64),
        cancelled_by_seller => thousands(s.cancelled_by_seller as i64),
        open => thousands(s.open as i64),
        revenue => lunas_core::messages::format_rupiah(s.revenue),
        average => lunas_core::messages::format_rupiah(s.average_order_value),
        median => minutes_words(strings, s.time_to_pay.median_minutes),
        p90 => minutes_words(strings, s.time_to_pay.p90_minutes),
        stock_hours => thousands(s.stock_hours_unpaid.round() as i64),
        cod_orders => thousands(s.cod.orders as i64),
        cod_refused_rate => percent(s.cod.refusal_rate),
        cod_cost => lunas_core::messages::format_rupiah(s.cod.refusal_cost),
        buyers_ordering => thousands(s.buyers.ordering as i64),
        buyers_paying => thousands(s.buyers.paying as i64),
        buyers_new => thousands(s.buyers.new as i64),
        repeat_rate => percent(s.buyers.repeat_rate),
        one_time_share => percent(s.buyers.one_time_share),
        within_hours => s.reminders.within_hours,
        reminders => s.reminders.steps.iter().map(|r| context! {
            step => r.step,
            sent => thousands(r.sent as i64),
            paid_within => thousands(r.paid_within as i64),
            rate => percent(r.rate),
        }).collect::<Vec<_>>(),
        by_source => breakdown_rows(&s.by_source, |k| source_word(strings, k)),
        by_method => breakdown_rows(&s.by_method, |k| method_word(strings, k)),
        by_band => breakdown_rows(&s.by_band, |k| band_word(strings, k)),
        by_product => breakdown_rows(&s.by_product, |sku| match products.get(sku) {
            Some(name) => format!("{name} ({sku})"),
            None => sku.to_owned(),
        }),
        cohorts_any => s.cohorts.iter().any(|c| c.buyers > 0),
    }
}

fn page_charts(strings: &Strings, s: &Summary) -> Value {
    let unit = s.series.unit;
    let x: Vec<String> = s
        .series
        .points
        .iter()
        .map(|p| short_date(strings, &p.start, unit))
        .collect();
    let series = charts::lines(
        strings.get("an_chart_series"),
        &x,
        &[
            Line {
                name: strings.get("an_placed"),
                values: s.series.points.iter().map(|p| p.placed as f64).collect(),
            },
            Line {
                name: strings.get("an_paid"),
                values: s.series.points.iter().map(|p| p.paid as f64).collect(),
            },
            Line {
                name: strings.get("an_hit_and_run"),
                values: s
                    .series
                    .points
                    .iter()
                    .map(|p| p.hit_and_run as f64)
                    .collect(),
            },
        ],
    );
    let time_to_pay = charts::bars(
        strings.get("an_chart_time_to_pay"),
        &s.time_to_pay
            .buckets
            .iter()
            .map(|b| {
                (
                    strings.get(&format!("an_ttp_{}", b.key)).to_owned(),
                    b.count as f64,
                    thousands(b.count as i64),
                )
            })
            .collect::<Vec<_>>(),
    );
    let cohorts = charts::heat_map(
        strings.get("an_chart_cohorts"),
        strings.get("an_month_prefix"),
        &s.cohorts
            .iter()
            .map(|c| {
                (
                    short_date(strings, &format!("{}-01", c.month), "month"),
                    c.buyers,
                    c.retention.clone(),
                )
            })
            .collect::<Vec<_>>(),
    );
    context! {
        series => Value::from_safe_string(series),
        time_to_pay => Value::from_safe_string(time_to_pay),
        cohorts => Value::from_safe_string(cohorts),
    }
}

/// The conversations of the period in words, with the chart of first answers.
fn conversation_figures(
    strings: &Strings,
    m: &lunas_core::analytics::conversations::ConversationMetrics,
) -> Value {
    let share = |part: usize, whole: usize| {
        (whole > 0)
            .then(|| charts::percent(part as f64 / whole as f64))
            .unwrap_or_else(|| "–".to_owned())
    };
    let labels = [
        "an_chat_b0",
        "an_chat_b1",
        "an_chat_b2",
        "an_chat_b3",
        "an_chat_b4",
    ];
    let mut rows: Vec<(String, f64, String)> = labels
        .iter()
        .zip(m.first_response.buckets)
        .map(|(key, n)| (strings.get(key).to_owned(), n as f64, thousands(n as i64)))
        .collect();
    rows.push((
        strings.get("an_chat_unanswered").to_owned(),
        m.first_response.unanswered as f64,
        thousands(m.first_response.unanswered as i64),
    ));
    let chart = charts::bars(strings.get("an_chat_chart"), &rows);
    context! {
        any => m.messages > 0,
        inquiries => thousands(m.inquiries as i64),
        ordered => thousands(m.ordered as i64),
        ordered_rate => share(m.ordered, m.inquiries),
        first_median => minutes_words(strings, m.first_response.median_minutes),
        first_p90 => minutes_words(strings, m.first_response.p90_minutes),
        every_median => minutes_words(strings, m.every_response.median_minutes),
        unanswered => thousands(m.first_response.unanswered as i64),
        bot_rate => share(m.bot_answered, m.texts),
        bot_answered => thousands(m.bot_answered as i64),
        texts => thousands(m.texts as i64),
        override_rate => share(m.bot_overridden, m.bot_matched),
        overridden => thousands(m.bot_overridden as i64),
        matched => thousands(m.bot_matched as i64),
        chart => Value::from_safe_string(chart),
    }
}

/// The catalogue's names of the products the breakdown lists (a product deleted since keeps its
/// SKU only).
async fn product_names(
    desk: &Desk,
    summary: &Summary,
) -> Result<std::collections::HashMap<String, String>, PageError> {
    let mut names = std::collections::HashMap::new();
    for row in &summary.by_product {
        let Ok(sku) = lunas_core::Sku::parse(&row.key) else {
            continue;
        };
        if let Some(product) = desk.state.engine.product(sku).await.map_err(engine_err)? {
            if !product.name.trim().is_empty() {
                names.insert(row.key.clone(), product.name);
            }
        }
    }
    Ok(names)
}

/// Valuable repeat buyers whose chance of still buying fell below a half, most spent first.
async fn fading(desk: &Desk) -> Result<Value, PageError> {
    let engine = &desk.state.engine;
    let Some(base) = engine.customer_base().await.map_err(engine_err)? else {
        return Ok(Value::from(()));
    };
    let fading = base.fading(FADING_P_ALIVE, FADING_LISTED);
    let names = engine
        .buyer_names(fading.iter().map(|(id, _)| *id).collect())
        .await
        .map_err(engine_err)?;
    let rows: Vec<Value> = fading
        .iter()
        .filter_map(|(id, outlook)| {
            let (_, name, phone) = names.iter().find(|(n, _, _)| n == id)?;
            // A marketplace's masked number is no number: the buyer has no page of their own.
            let anonymous = lunas_core::import::anonymous_source(phone.as_str());
            Some(context! {
                name => name,
                phone => match anonymous {
                    Some(source) => format!("{} ({source})", desk.strings().get("an_masked_number")),
                    None => phone.international(),
                },
                href => anonymous.is_none().then(|| format!("/buyers/{}", phone_path(phone))),
                p_alive => percent(outlook.p_alive),
                purchases => outlook.repeat_purchases + 1,
                last => format!("{} {}", (outlook.weeks_since_last * 7.0).round() as i64, desk.strings().get("an_days_ago")),
                average => lunas_core::messages::format_rupiah(outlook.average_spend.round() as i64),
            })
        })
        .collect();
    Ok(context! { rows => rows, repeat_buyers => base.repeat_buyers })
}

/// One table of the page as CSV, its columns named in the member's language.
pub(crate) async fn analytics_csv(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let engine = &desk.state.engine;
    let table = query.get("table").map(String::as_str).unwrap_or("");
    if !TABLES.contains(&table) {
        return Err(PageError::NotFound(desk.language()));
    }
    let filter = match parse_filter(&query, engine.local_today()) {
        Ok(filter) => filter,
        Err(e) => {
            let (_, message) = refusal(desk.strings(), e)?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, message).into_response());
        }
    };
    let summary = engine
        .analytics_summary(filter.clone())
        .await
        .map_err(engine_err)?;
    let csv = table_csv(desk.strings(), &summary, table);
    let name = format!(
        "attachment; filename=\"analitik-{table}-{}-{}.csv\"",
        summary.from, summary.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        csv,
    )
        .into_response())
}

fn table_csv(strings: &Strings, s: &Summary, table: &str) -> String {
    let w = |key: &str| strings.get(key).to_owned();
    let breakdown = |rows: &[Breakdown], first: &str, word: &dyn Fn(&str) -> String| {
        let mut out = vec![vec![
            w(first),
            w("an_col_code"),
            w("an_placed"),
            w("an_paid"),
            w("an_hit_and_run"),
            w("an_paid_rate"),
            w("an_hit_and_run_rate"),
            w("an_revenue"),
        ]];
        for b in rows {
            out.push(vec![
                word(&b.key),
                b.key.clone(),
                b.placed.to_string(),
                b.paid.to_string(),
                b.hit_and_run.to_string(),
                format!("{:.4}", b.paid_rate),
                format!("{:.4}", b.hit_and_run_rate),
                b.revenue.to_string(),
            ]);
        }
        out
    };
    let rows: Vec<Vec<String>> = match table {
        "series" => std::iter::once(vec![
            w("an_col_start"),
            w("an_placed"),
            w("an_paid"),
            w("an_hit_and_run"),
            w("an_revenue"),
        ])
        .chain(s.series.points.iter().map(|p| {
            vec![
                p.start.clone(),
                p.placed.to_string(),
                p.paid.to_string(),
                p.hit_and_run.to_string(),
                p.revenue.to_string(),
            ]
        }))
        .collect(),
        "time_to_pay" => std::iter::once(vec![w("an_col_time_to_pay"), w("an_col_count")])
            .chain(
                s.time_to_pay
                    .buckets
                    .iter()
                    .map(|b| vec![w(&format!("an_ttp_{}", b.key)), b.count.to_string()]),
            )
            .collect(),
        "reminders" => std::iter::once(vec![
            w("an_col_step"),
            w("an_col_sent"),
            w("an_col_paid_within"),
            w("an_col_rate"),
        ])
        .chain(s.reminders.steps.iter().map(|r| {
            vec![
                r.step.to_string(),
                r.sent.to_string(),
                r.paid_within.to_string(),
                format!("{:.4}", r.rate),
            ]
        }))
        .collect(),
        "channels" => breakdown(&s.by_source, "an_col_channel", &|k| source_word(strings, k)),
        "methods" => breakdown(&s.by_method, "an_col_method", &|k| method_word(strings, k)),
        "bands" => breakdown(&s.by_band, "an_col_band", &|k| band_word(strings, k)),
        "products" => breakdown(&s.by_product, "an_col_product", &|k| k.to_owned()),
        _ => {
            let months = s
                .cohorts
                .iter()
                .map(|c| c.retention.len())
                .max()
                .unwrap_or(0);
            std::iter::once(
                [w("an_col_cohort"), w("an_col_buyers")]
                    .into_iter()
                    .chain((0..months).map(|m| format!("{}{m}", w("an_month_prefix"))))
                    .collect(),
            )
            .chain(s.cohorts.iter().map(|c| {
                [c.month.clone(), c.buyers.to_string()]
                    .into_iter()
                    .chain(c.retention.iter().map(|r| format!("{r:.4}")))
                    .collect()
            }))
            .collect()
        }
    };
    lunas_core::export::csv_rows(&rows)
}
