//! After the payment, in the dashboard: an order's steps on its page (confirm COD, pack, ship
//! under a waybill, delivered, returned to sender) with the buyer's risk signals, its return
//! request and the return's steps; the packing page (`/packing`) staff work from in the morning
//! — orders to pack ticked many at a time, waybills pasted as `order,awb` lines, COD orders
//! waiting for their buyers, returns to handle, couriers' events no order claimed — and the
//! packing slips and address labels printed from it (A6 labels, four to an A4 sheet, A4 slips).

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use lunas_core::fulfilment::{Step, StepDecision, decide_step};
use lunas_core::queries::Page;
use lunas_core::returns::{ReturnStep, decide_return_step};
use lunas_core::{Money, Order, OrderId, OrderStatus, PaymentMethod};
use lunas_engine::fulfilment::ShipInfo;
use minijinja::{Value, context};
use serde::Deserialize;

use super::pages::{engine_err, parse_id, rupiah};
use super::{Desk, PageError, Posted, done};
use crate::ApiError;
use crate::api::fulfilment::{ReturnStepBody, ShipBody, parse_return_step, parse_ship};

/// Goes to `to`, a path of ours (303: a reload does not post again).
fn see_other(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(location) => (
            axum::http::StatusCode::SEE_OTHER,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => axum::response::Redirect::to("/packing").into_response(),
    }
}

/// Most orders a list on the packing page shows.
const LIST_LEN: usize = 100;

/// The steps an order's page offers, by the name its form posts to.
const STEPS: [(&str, Step); 5] = [
    ("confirm-cod", Step::ConfirmCod),
    ("pack", Step::Pack),
    ("ship", Step::Ship),
    ("deliver", Step::Deliver),
    ("returned", Step::ReturnToSender),
];

fn can(order: &Order, step: Step) -> bool {
    matches!(
        decide_step(order.status, order.payment_method, step),
        Ok(StepDecision::Move(_))
    )
}

/// What an order's page shows after the payment: the steps it may take, the parcel, the buyer's
/// signals, the return; `error` is a refused step's code (from `?error=`).
pub(super) async fn order_after(
    desk: &Desk,
    order: &Order,
    error: Option<&str>,
) -> Result<Value, PageError> {
    let strings = desk.strings();
    let s = &order.shipment;
    let signals = desk
        .state
        .engine
        .risk_signals(order)
        .await
        .map_err(engine_err)?
        .into_iter()
        .map(|signal| strings.get(&format!("signal_{}", signal.as_str())))
        .collect::<Vec<_>>();
    let when = |at: Option<lunas_core::Timestamp>| at.map(|at| desk.when(at));
    let ret = order.return_request.as_ref().map(|r| {
        let steps: Vec<&str> = [
            ReturnStep::Approve,
            ReturnStep::Reject,
            ReturnStep::Receive,
            ReturnStep::Refund,
            ReturnStep::Exchange,
        ]
        .into_iter()
        .filter(|step| decide_return_step(r.status, *step) == Ok(true))
        .map(ReturnStep::as_str)
        .collect();
        context! {
            id => r.id,
            status => r.status.as_str(),
            reason => &r.reason,
            note => &r.note,
            when => desk.when(r.requested_at),
            refund => r.refund.map(Money::minor_units),
            photos => (0..r.photos).map(|n| format!("/returns/{}/photos/{n}", r.id)).collect::<Vec<_>>(),
            steps => steps,
            paid => order.amount_paid.minor_units(),
        }
    });
    let steps: BTreeMap<&str, bool> = STEPS
        .iter()
        .map(|(name, step)| (*name, can(order, *step)))
        .collect();
    let can_return = lunas_core::returns::decide_return_request(
        order.status,
        s.delivered_at,
        order
            .return_request
            .as_ref()
            .is_some_and(|r| r.status.is_open()),
        &desk.state.engine.settings().returns,
        desk.state.engine.now(),
    )
    .is_ok();
    let cod_cancel = matches!(
        order.status,
        OrderStatus::AwaitingConfirmation | OrderStatus::Confirmed
    );
    // Shown once there is something to do or to see after the payment.
    let shown = steps.values().any(|can| *can)
        || cod_cancel
        || !s.is_empty()
        || order.return_request.is_some();
    Ok(context! {
        can => steps,
        can_return => can_return,
        cod_cancel => cod_cancel,
        shown => shown,
        courier => &s.courier,
        service => &s.service,
        waybill => &s.waybill,
        tracking => s.tracking_url(),
        cost => s.cost.map(Money::minor_units),
        return_cost => s.return_cost.map(Money::minor_units),
        confirm_by => when(s.confirm_by),
        packed => when(s.packed_at),
        shipped => when(s.shipped_at),
        delivered => when(s.delivered_at),
        completed => when(s.completed_at),
        signals => signals,
        ret => ret,
        error => error.map(|code| strings.code_message(code)),
    })
}

/// A step's form on an order's page.
#[derive(Deserialize, Default)]
#[serde(default)]
struct StepForm {
    courier: String,
    service: String,
    waybill: String,
    cost: String,
    return_cost: String,
}

/// An amount typed the way sellers type it, or none when left empty.
fn typed_amount(desk: &Desk, typed: &str) -> Result<Option<i64>, ApiError> {
    if typed.trim().is_empty() {
        return Ok(None);
    }
    rupiah(desk, typed, "invalid_amount").map(Some)
}

/// `POST /orders/{id}/step/{step}`.
pub(crate) async fn step(
    Path((id, name)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let id = parse_id(&desk, &id)?;
    let (_, step) = *STEPS
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or(PageError::NotFound(desk.language()))?;
    let typed: StepForm = form.parse()?;
    let result: Result<_, ApiError> = async {
        let ship = if step == Step::Ship {
            parse_ship(ShipBody {
                courier: typed.courier,
                service: Some(typed.service),
                waybill: typed.waybill,
                cost: typed_amount(&desk, &typed.cost)?,
            })?
        } else {
            ShipInfo::default()
        };
        let return_cost = typed_amount(&desk, &typed.return_cost)?
            .map(|units| {
                Money::price(units).map_err(|_| ApiError::unprocessable("invalid_amount", ""))
            })
            .transpose()?;
        Ok(desk
            .state
            .engine
            .step_order(id, step, ship, return_cost, desk.actor())
            .await?)
    }
    .await;
    match result {
        Ok(_) => Ok(done(
            &format!("/orders/{id}#after"),
            &format!("step_{}", step.as_str()),
        )),
        Err(e) if e.status.is_server_error() => Err(PageError::Internal),
        Err(e) => Ok(see_other(&format!("/orders/{id}?error={}#after", e.code))),
    }
}

/// `POST /orders/{id}/return`: staff ask for a return for a buyer who asked by chat.
pub(crate) async fn request_return(
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let id = parse_id(&desk, &id)?;
    let typed: ReturnForm = form.parse()?;
    let result: Result<_, ApiError> = async {
        let reason = crate::api::orders::parse_reason(&typed.note)?;
        Ok(desk
            .state
            .engine
            .request_return(id, reason, Vec::new(), desk.actor())
            .await?)
    }
    .await;
    match result {
        Ok(_) => Ok(done(&format!("/orders/{id}#after"), "return_step")),
        Err(e) if e.status.is_server_error() => Err(PageError::Internal),
        Err(e) => Ok(see_other(&format!("/orders/{id}?error={}#after", e.code))),
    }
}

/// A return step's form.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ReturnForm {
    note: String,
    resellable: String,
    amount: String,
    method: String,
    reference: String,
}

/// `POST /returns/{id}/{step}`: staff take a step on a return; back to its order.
pub(crate) async fn return_step(
    Path((id, name)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let not_found = || PageError::NotFound(desk.language());
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(not_found)?;
    let step = [
        ReturnStep::Approve,
        ReturnStep::Reject,
        ReturnStep::Receive,
        ReturnStep::Refund,
        ReturnStep::Exchange,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
    .ok_or_else(not_found)?;
    let typed: ReturnForm = form.parse()?;
    let order = form.all("order").next().unwrap_or("").to_owned();
    let result: Result<_, ApiError> = async {
        let body = ReturnStepBody {
            note: Some(typed.note),
            resellable: match typed.resellable.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            amount: typed_amount(&desk, &typed.amount)?,
            method: Some(typed.method),
            reference: Some(typed.reference),
        };
        let details = parse_return_step(step, body)?;
        Ok(desk
            .state
            .engine
            .return_step(id, step, details, desk.actor())
            .await?)
    }
    .await;
    match result {
        Ok(order) => Ok(done(&format!("/orders/{}#after", order.id), "return_step")),
        Err(e) if e.status.is_server_error() => Err(PageError::Internal),
        Err(e) => {
            let to = match order.parse::<i64>() {
                Ok(order) if order > 0 => format!("/orders/{order}?error={}#after", e.code),
                _ => format!("/packing?error={}#returns", e.code),
            };
            Ok(see_other(&to))
        }
    }
}

/// `GET /returns/{id}/photos/{n}`: a return's photo, for staff, never cached, sandboxed.
pub(crate) async fn return_photo(
    desk: Desk,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let not_found = || PageError::NotFound(desk.language());
    let (id, n) = match (id.parse::<i64>(), n.parse::<i64>()) {
        (Ok(id), Ok(n)) if id > 0 && (0..3).contains(&n) => (id, n),
        _ => return Err(not_found()),
    };
    let (content_type, body) = desk
        .state
        .engine
        .return_photo(id, n)
        .await
        .map_err(engine_err)?
        .ok_or_else(not_found)?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).map_err(|_| PageError::Internal)?,
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; sandbox"),
    );
    Ok(response)
}

/// The orders in `statuses`, newest first, at most `LIST_LEN` of each.
async fn orders_in(desk: &Desk, statuses: &[OrderStatus]) -> Result<Vec<Order>, PageError> {
    let mut orders = Vec::new();
    for status in statuses {
        let page = Page {
            after: None,
            limit: LIST_LEN,
        };
        orders.extend(
            desk.state
                .engine
                .orders(Some(*status), page)
                .await
                .map_err(engine_err)?,
        );
    }
    // Oldest first: the first paid is the first packed.
    orders.sort_by_key(|o| o.id);
    Ok(orders)
}

fn row(desk: &Desk, order: &Order) -> Value {
    context! {
        id => order.id.0,
        name => &order.customer.name,
        status => order.status.as_str(),
        cod => order.payment_method == PaymentMethod::Cod,
        total => order.total.minor_units(),
        items => order.items.iter().map(|i| format!("{} × {}", i.name, i.qty.units())).collect::<Vec<_>>(),
        city => order.address.as_ref().map(|a| a.city.clone()),
        confirm_by => order.shipment.confirm_by.map(|at| desk.when(at)),
        placed => desk.when(order.placed_at),
    }
}

/// What one bulk action did, read back from the address it redirected to.
fn outcome(desk: &Desk, query: &BTreeMap<String, String>) -> Value {
    let strings = desk.strings();
    let failed: Vec<Value> = query
        .get("failed")
        .map(|raw| {
            raw.split(',')
                .filter_map(|pair| pair.split_once(':'))
                .take(LIST_LEN)
                .map(|(what, code)| context! { what => what, why => strings.code_message(code) })
                .collect()
        })
        .unwrap_or_default();
    context! {
        done => query.get("n").and_then(|n| n.parse::<usize>().ok()),
        action => query.get("action").filter(|a| matches!(a.as_str(), "packed" | "shipped")).map(|a| strings.get(&format!("packing_done_{a}"))),
        failed => failed,
        error => query.get("error").map(|code| strings.code_message(code)),
    }
}

/// `GET /packing`.
pub(crate) async fn packing(
    desk: Desk,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let ready = orders_in(&desk, &[OrderStatus::Paid, OrderStatus::Confirmed]).await?;
    let packed = orders_in(&desk, &[OrderStatus::Packed]).await?;
    let cod = orders_in(&desk, &[OrderStatus::AwaitingConfirmation]).await?;
    let engine = &desk.state.engine;
    let returns = engine.open_returns(LIST_LEN).await.map_err(engine_err)?;
    let kept = engine.kept_courier_events(20).await.map_err(engine_err)?;
    let strings = desk.strings();
    let returns: Vec<Value> = returns
        .iter()
        .map(|r| {
            context! {
                id => r.summary.id,
                order => r.order_id.0,
                buyer => &r.buyer,
                reason => &r.summary.reason,
                status => r.summary.status.as_str(),
                when => desk.when(r.summary.requested_at),
                photos => r.summary.photos,
            }
        })
        .collect();
    let kept: Vec<Value> = kept
        .iter()
        .map(|e| {
            context! {
                source => &e.source, waybill => &e.waybill, status => &e.status,
                outcome => strings.get(&format!("courier_{}", e.outcome)),
                order => e.order_id.map(|o| o.0),
                when => desk.when(e.received_at),
            }
        })
        .collect();
    desk.page(
        "packing.html",
        "packing",
        context! {
            ready => ready.iter().map(|o| row(&desk, o)).collect::<Vec<_>>(),
            packed => packed.iter().map(|o| row(&desk, o)).collect::<Vec<_>>(),
            cod => cod.iter().map(|o| row(&desk, o)).collect::<Vec<_>>(),
            returns => returns,
            kept => kept,
            outcome => outcome(&desk, &query),
            couriers => COURIERS,
        },
    )
}

/// The couriers the waybill form offers first; any other name may be typed.
const COURIERS: [&str; 10] = [
    "JNE",
    "J&T",
    "SiCepat",
    "AnterAja",
    "POS",
    "Ninja",
    "ID Express",
    "TIKI",
    "Lion",
    "SAP",
];

/// Where a bulk action lands: the packing page with how many it moved and what it refused.
fn bulk_done(action: &str, moved: usize, failed: &[(String, &'static str)]) -> Response {
    let failed: Vec<String> = failed
        .iter()
        .map(|(what, code)| format!("{}:{code}", what.replace([',', ':'], " ")))
        .collect();
    let failed = serde_urlencoded::to_string([("failed", failed.join(","))]).unwrap_or_default();
    see_other(&format!("/packing?action={action}&n={moved}&{failed}"))
}

/// `POST /packing/pack`: every ticked order (`id`, repeated) is packed.
pub(crate) async fn bulk_pack(posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let ids: Vec<OrderId> = form
        .all("id")
        .filter_map(|raw| raw.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .take(LIST_LEN)
        .map(OrderId)
        .collect();
    let steps = ids
        .into_iter()
        .map(|id| (id, ShipInfo::default()))
        .collect();
    let results = desk
        .state
        .engine
        .step_orders(steps, Step::Pack, desk.actor())
        .await;
    let (moved, failed) = tally(results);
    Ok(bulk_done("packed", moved, &failed))
}

/// Counts what a bulk action moved, and what it refused with each refusal's code.
fn tally(
    results: Vec<(
        OrderId,
        Result<lunas_engine::fulfilment::Stepped, lunas_engine::Error>,
    )>,
) -> (usize, Vec<(String, &'static str)>) {
    let mut moved = 0;
    let mut failed = Vec::new();
    for (id, result) in results {
        match result {
            Ok(stepped) => moved += usize::from(stepped.moved),
            Err(e) => failed.push((format!("#{id}"), ApiError::from(e).code)),
        }
    }
    (moved, failed)
}

/// One pasted line: `order,awb` (also `#order awb`, tab- or semicolon-separated, with the courier
/// as an optional third column).
fn read_line(line: &str) -> Option<(OrderId, String, Option<String>)> {
    let mut parts = line
        .split([',', ';', '\t', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let id = parts
        .next()?
        .trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)?;
    let waybill = lunas_core::fulfilment::clean_shipment_text(parts.next()?)?;
    let courier = parts
        .next()
        .and_then(lunas_core::fulfilment::clean_shipment_text);
    Some((OrderId(id), waybill, courier))
}

/// Longest paste of waybills, in lines.
const PASTE_LINES_MAX: usize = 200;

/// The waybill paste's form.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ShipForm {
    courier: String,
    service: String,
    lines: String,
}

/// `POST /packing/ship`: pasted `order,awb` lines ship their orders with the chosen courier.
pub(crate) async fn bulk_ship(posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let typed: ShipForm = form.parse()?;
    let courier = lunas_core::fulfilment::clean_shipment_text(&typed.courier);
    let service = lunas_core::fulfilment::clean_shipment_text(&typed.service);
    let mut steps = Vec::new();
    let mut failed = Vec::new();
    for (n, line) in typed
        .lines
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .take(PASTE_LINES_MAX)
    {
        match read_line(line) {
            Some((id, waybill, own_courier)) => steps.push((
                id,
                ShipInfo {
                    courier: own_courier.or(courier.clone()),
                    service: service.clone(),
                    waybill: Some(waybill),
                    cost: None,
                },
            )),
            None => failed.push((
                format!("{} {}", desk.strings().get("packing_line"), n + 1),
                "invalid_line",
            )),
        }
    }
    let results = desk
        .state
        .engine
        .step_orders(steps, Step::Ship, desk.actor())
        .await;
    let (moved, mut refused) = tally(results);
    failed.append(&mut refused);
    Ok(bulk_done("shipped", moved, &failed))
}

/// `GET /packing/print?kind=labels|sheet|slips&id=…`: the chosen orders (every order ready or
/// packed when none is chosen) as A6 labels, labels four to an A4 sheet, or A4 packing slips.
pub(crate) async fn print(
    desk: Desk,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let kind = query
        .iter()
        .find(|(k, _)| k == "kind")
        .map(|(_, v)| v.as_str())
        .filter(|k| matches!(*k, "labels" | "sheet" | "slips"))
        .unwrap_or("labels");
    let chosen: Vec<i64> = query
        .iter()
        .filter(|(k, _)| k == "id")
        .filter_map(|(_, v)| v.parse::<i64>().ok())
        .take(LIST_LEN)
        .collect();
    let mut orders = orders_in(
        &desk,
        &[
            OrderStatus::Paid,
            OrderStatus::Confirmed,
            OrderStatus::Packed,
        ],
    )
    .await?;
    if !chosen.is_empty() {
        orders.retain(|o| chosen.contains(&o.id.0));
    }
    let settings = desk.state.engine.settings();
    let parcels: Vec<Value> = orders
        .iter()
        .map(|o| {
            context! {
                id => o.id.0,
                cod => (o.payment_method == PaymentMethod::Cod).then(|| o.total.minor_units()),
                buyer => &o.customer.name,
                phone => o.customer.phone.international(),
                address => o.address.as_ref().map(|a| context! {
                    recipient => &a.recipient,
                    phone => a.phone.international(),
                    lines => a.lines().into_iter().skip(1).collect::<Vec<_>>(),
                }),
                items => o.items.iter().map(|i| context! { name => &i.name, sku => i.sku.as_str(), qty => i.qty.units() }).collect::<Vec<_>>(),
                note => &o.note,
                placed => desk.when(o.placed_at),
            }
        })
        .collect();
    desk.page(
        "packing_print.html",
        "packing",
        context! {
            kind => kind,
            parcels => parcels,
            sender => &settings.store_name,
            sender_phone => settings.store_whatsapp.as_deref().and_then(|n| lunas_core::Phone::parse(n).ok()).map(|p| p.international()),
        },
    )
}

/// How many orders wait for each after-payment task, for Today, from the counts by status.
pub(super) async fn today_counts(
    desk: &Desk,
    by_status: &[(OrderStatus, i64)],
) -> Result<Value, PageError> {
    let count = |wanted: &[OrderStatus]| -> i64 {
        by_status
            .iter()
            .filter(|(s, _)| wanted.contains(s))
            .map(|(_, n)| n)
            .sum()
    };
    let returns = desk
        .state
        .engine
        .open_returns(LIST_LEN)
        .await
        .map_err(engine_err)?
        .len();
    Ok(context! {
        ready => count(&[OrderStatus::Paid, OrderStatus::Confirmed]),
        cod => count(&[OrderStatus::AwaitingConfirmation]),
        returns => returns,
    })
}
