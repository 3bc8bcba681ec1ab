//! The Buyers pages: the list by band, a buyer's record with notes, tags and a pinned band,
//! the export of their data and its erasure.

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lunas_core::Phone;
use lunas_core::queries::{OrderQuery, Page};
use lunas_core::reliability::Band;
use minijinja::{Value, context};
use serde::Deserialize;

use super::pages::{Query_, engine_err, order_row, phone_path, url_params};
use super::{Desk, FieldErrors, LIST_LEN, PageError, Posted, done, notice, refusal, ser};
use crate::ApiError;
use crate::api::customers;

/// Buyers one page of the Buyers list looks at (the band is computed, not stored, so a rare
/// band's page says "next" after this many rather than reading every buyer).
const BAND_SCAN: usize = 1000;

pub(crate) async fn buyers(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let band_raw = query.get("band").map(String::as_str).unwrap_or("");
    let band = Band::parse(band_raw);
    // One box finds a buyer: a whole number opens their page; part of a number or of a name
    // lists who matches.
    let phone_raw = query.get("phone").map(String::as_str).unwrap_or("").trim();
    let phone_raw: &str = &phone_raw
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>();
    let errors = FieldErrors::new();
    if let Ok(phone) = Phone::parse(phone_raw) {
        return Ok(
            axum::response::Redirect::to(&format!("/buyers/{}", phone_path(&phone)))
                .into_response(),
        );
    }
    let after = query
        .get("after")
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or(0);
    let engine = &desk.state.engine;
    let (found, cursor) = if phone_raw.is_empty() {
        engine
            .customers_scan(band, after, LIST_LEN, BAND_SCAN)
            .await
            .map_err(engine_err)?
    } else {
        let found = engine
            .search_customers(phone_raw, LIST_LEN)
            .await
            .map_err(engine_err)?
            .into_iter()
            .filter(|(_, assessment)| band.is_none_or(|band| band == assessment.band))
            .collect();
        (found, None)
    };
    let next = cursor.map(|cursor| {
        format!(
            "/buyers?{}&after={cursor}",
            url_params(&[("band", band_raw)])
        )
    });
    let rows: Vec<Value> = found
        .iter()
        .map(|(profile, assessment)| {
            context! {
                name => &profile.info.name,
                phone => profile.info.phone.international(),
                phone_path => phone_path(&profile.info.phone),
                band => assessment.band.as_str(),
                score => (assessment.score.probability * 100.0).round() as i64,
                paid => profile.record.orders_paid,
                placed => profile.record.orders_placed,
            }
        })
        .collect();
    let bands: Vec<&str> = Band::ALL.iter().map(|b| b.as_str()).collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    desk.page_with_status(
        status,
        "buyers.html",
        "buyers",
        context! { buyers => rows, bands => ser(&bands), band => band.map(Band::as_str).unwrap_or(""), phone => phone_raw, searched => !phone_raw.is_empty(), next => next, errors => ser(&errors) },
    )
}

fn parse_phone(desk: &Desk, raw: &str) -> Result<Phone, PageError> {
    Phone::parse(raw).map_err(|_| PageError::NotFound(desk.language()))
}

async fn buyer_page(
    desk: &Desk,
    phone: &Phone,
    status: StatusCode,
    errors: FieldErrors,
    values: Option<BTreeMap<&str, &str>>,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    let engine = &desk.state.engine;
    let (profile, assessment) = engine.assess(phone).await.map_err(engine_err)?;
    let profile = profile.ok_or(PageError::NotFound(desk.language()))?;
    let orders = engine
        .search_orders(OrderQuery {
            status: None,
            number: None,
            phone: Some(phone.clone()),
            name: None,
            page: Page {
                after: None,
                limit: LIST_LEN,
            },
        })
        .await
        .map_err(engine_err)?;
    let base = engine.customer_base().await.map_err(engine_err)?;
    let outlook = base.as_ref().and_then(|base| base.of(profile.id)).map(|o| {
        context! {
            p_alive => super::charts::percent(o.p_alive),
            expected_purchases => format!("{:.1}", o.expected_purchases).replace('.', ","),
            expected_value => o.expected_value.map(|v| lunas_core::messages::format_rupiah(v.round() as i64)),
        }
    });
    let signals = engine.chat_signals(phone).await.map_err(engine_err)?;
    let signals = super::conversations::signals_words(desk, &signals);
    let pin_reason = match &assessment.reason {
        lunas_core::reliability::BandReason::Pinned { reason } => Some(reason.clone()),
        _ => None,
    };
    let tags = profile.tags.join(", ");
    let notes = profile.notes.clone().unwrap_or_default();
    let pinned_band = profile.pin.as_ref().map(|p| p.band.as_str()).unwrap_or("");
    let values = values.unwrap_or_else(|| {
        BTreeMap::from([
            ("notes", notes.as_str()),
            ("tags", tags.as_str()),
            ("band", pinned_band),
        ])
    });
    let strings = desk.strings();
    let band_options: Vec<(&str, &str)> = std::iter::once(("", strings.get("band_auto")))
        .chain(
            Band::ALL
                .iter()
                .map(|b| (b.as_str(), strings.get(&format!("band_{}", b.as_str())))),
        )
        .collect();
    desk.page_with_status(
        status,
        "buyer.html",
        "buyers",
        context! {
            notice => notice,
            b => context! {
                name => &profile.info.name,
                phone => profile.info.phone.international(),
                phone_path => phone_path(&profile.info.phone),
                email => &profile.info.email,
                band => assessment.band.as_str(),
                score => (assessment.score.probability * 100.0).round() as i64,
                explanation => &assessment.explanation,
                record => ser(profile.record),
                pin_reason => pin_reason,
            },
            orders => orders.iter().map(|o| order_row(desk, o)).collect::<Vec<_>>(),
            errors => ser(&errors),
            values => ser(&values),
            band_options => band_options,
            outlook => outlook,
            outlook_fitted => base.is_some(),
            signals => signals,
        },
    )
}

pub(crate) async fn buyer(
    desk: Desk,
    Path(phone): Path<String>,
    Query(query): Query_,
) -> Result<Response, PageError> {
    let phone = parse_phone(&desk, &phone)?;
    let notice = notice(desk.strings(), &query);
    buyer_page(
        &desk,
        &phone,
        StatusCode::OK,
        FieldErrors::new(),
        None,
        notice,
    )
    .await
}

async fn buyer_refused(
    desk: &Desk,
    phone: &Phone,
    form: &super::FormData,
    e: ApiError,
) -> Result<Response, PageError> {
    if e.status == StatusCode::NOT_FOUND {
        return Err(PageError::NotFound(desk.language()));
    }
    let (field, message) = refusal(desk.strings(), e)?;
    buyer_page(
        desk,
        phone,
        StatusCode::UNPROCESSABLE_ENTITY,
        FieldErrors::from([(field, message)]),
        Some(form.values()),
        None,
    )
    .await
}

/// A buyer's notes and tags (comma-separated).
#[derive(Deserialize, Default)]
#[serde(default)]
struct NotesForm {
    notes: String,
    tags: String,
}

pub(crate) async fn buyer_notes(
    Path(phone): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let phone = parse_phone(&desk, &phone)?;
    let typed: NotesForm = form.parse()?;
    let tags: Vec<String> = typed
        .tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let notes = typed.notes.trim();
    let result: Result<_, ApiError> = async {
        let (notes, tags) = customers::parse_patch(customers::PatchBody {
            notes: Some((!notes.is_empty()).then(|| notes.to_owned())),
            tags: Some(tags),
        })?;
        Ok(desk
            .state
            .engine
            .set_notes_tags(phone.clone(), notes, tags, desk.actor())
            .await?)
    }
    .await;
    match result {
        Ok(()) => Ok(done(&format!("/buyers/{}", phone_path(&phone)), "saved")),
        Err(e) => buyer_refused(&desk, &phone, &form, e).await,
    }
}

/// A band pinned by staff (empty to unpin) and why.
#[derive(Deserialize, Default)]
#[serde(default)]
struct BandForm {
    band: String,
    reason: String,
}

pub(crate) async fn buyer_band(
    Path(phone): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let phone = parse_phone(&desk, &phone)?;
    let BandForm { band, reason } = form.parse()?;
    let result: Result<_, ApiError> = async {
        let pin = customers::parse_pin(customers::PinBody {
            band: (!band.is_empty()).then_some(band),
            reason: Some(reason),
        })?;
        Ok(desk
            .state
            .engine
            .pin_band(phone.clone(), pin, desk.actor())
            .await?)
    }
    .await;
    match result {
        Ok(()) => Ok(done(&format!("/buyers/{}", phone_path(&phone)), "saved")),
        Err(e) => buyer_refused(&desk, &phone, &form, e).await,
    }
}

pub(crate) async fn buyer_export(
    desk: Desk,
    Path(phone): Path<String>,
) -> Result<Response, PageError> {
    let phone = parse_phone(&desk, &phone)?;
    let view = customers::export_view(&desk.state, &phone)
        .await
        .map_err(|e| {
            if e.status == StatusCode::NOT_FOUND {
                PageError::NotFound(desk.language())
            } else {
                PageError::Internal
            }
        })?;
    let body = serde_json::to_vec_pretty(&view).map_err(|_| PageError::Internal)?;
    let name = format!("attachment; filename=\"buyer-{}.json\"", phone_path(&phone));
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}

/// Erasure asks for a ticked confirmation.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfirmForm {
    confirm: String,
}

pub(crate) async fn buyer_erase(
    Path(phone): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let phone = parse_phone(&desk, &phone)?;
    if form.parse::<ConfirmForm>()?.confirm != "yes" {
        let errors = FieldErrors::from([("confirm", desk.strings().get("err_confirm").to_owned())]);
        return buyer_page(
            &desk,
            &phone,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            None,
            None,
        )
        .await;
    }
    desk.state
        .engine
        .erase_customer(&phone, desk.actor())
        .await
        .map_err(engine_err)?
        .ok_or(PageError::NotFound(desk.language()))?;
    Ok(done("/buyers", "erased"))
}
