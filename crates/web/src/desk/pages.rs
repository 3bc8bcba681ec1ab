//! The pages staff run the shop from: Today and Orders (list, detail, actions; the new-order
//! form is `new_order.rs`). Each action parses its form with the API's own parsing
//! (`crate::api`) and calls the same engine method, so a rule is written once.

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::SignedDuration;
use lunas_core::queries::{OrderQuery, Page};
use lunas_core::{Order, OrderId, OrderStatus, Phone};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{Desk, FieldErrors, LIST_LEN, PageError, Posted, done, notice, refusal, ser};
use crate::ApiError;
use crate::api::{messages as api_messages, orders as api_orders, payments as api_payments};

pub(crate) type Query_ = Query<BTreeMap<String, String>>;

/// What Today shows of each list.
const TODAY_LEN: usize = 20;
/// "Released soon" on Today: within this.
const RELEASING_WITHIN: SignedDuration = SignedDuration::from_hours(2);
const DAY: SignedDuration = SignedDuration::from_hours(24);

/// Messages of the manual WhatsApp queue Today shows; the rest are on the queue's own page.
const QUEUE_ON_TODAY: usize = 5;
/// Messages the queue's page shows, oldest first.
const QUEUE_PAGE_LEN: usize = 100;

/// How much of a queued message Today shows (the WhatsApp link carries all of it).
const QUEUE_PREVIEW_CHARS: usize = 160;

pub(super) fn shorten(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.to_owned(),
    }
}

/// A whole number as typed (thousands may be written with dots or spaces: `150.237`), or the
/// API error `code` the API would give a number out of place.
pub(super) fn whole_number(desk: &Desk, typed: &str, code: &'static str) -> Result<i64, ApiError> {
    typed
        .trim()
        .replace(['.', ' '], "")
        .parse::<i64>()
        .map_err(|_| ApiError::unprocessable(code, desk.strings().get("err_number")))
}

/// An amount of rupiah from a form, as sellers type it (`158.248`, `Rp158.248`, `158.248,00`).
pub(super) fn rupiah(desk: &Desk, typed: &str, code: &'static str) -> Result<i64, ApiError> {
    lunas_core::money::read_rupiah(typed)
        .ok_or_else(|| ApiError::unprocessable(code, desk.strings().get("err_number")))
}

/// An order event's reason in the member's language: amounts in rupiah, times in the store's
/// zone; a reason staff typed stays as typed.
pub(super) fn reason_words(desk: &Desk, stored: &str) -> String {
    use lunas_core::events::EventReason as R;
    use lunas_core::messages::format_rupiah;
    let strings = desk.strings();
    match R::parse(stored) {
        R::PartialPayment(amount) => {
            format!(
                "{} {}",
                strings.get("reason_partial"),
                format_rupiah(amount.minor_units())
            )
        }
        R::DepositPaid(amount) => {
            format!(
                "{} {}",
                strings.get("reason_deposit"),
                format_rupiah(amount.minor_units())
            )
        }
        R::DeadlineMoved { to, why } => format!(
            "{} {}: {why}",
            strings.get("reason_deadline_moved"),
            desk.when(to)
        ),
        R::DeadlinePassed => strings.get("reason_deadline_passed").to_owned(),
        R::BalanceDeadlinePassed { deposit_kept: true } => {
            strings.get("reason_balance_kept").to_owned()
        }
        R::BalanceDeadlinePassed {
            deposit_kept: false,
        } => strings.get("reason_balance_refund").to_owned(),
        R::Revived => strings.get("reason_revived").to_owned(),
        R::LateToRefund { amount, was, why } => format!(
            "{} {} {}; {} ({})",
            format_rupiah(amount.minor_units()),
            strings.get("reason_late_refund"),
            strings
                .get(&format!("status_{}", was.as_str()))
                .to_lowercase(),
            strings.get("reason_to_refund"),
            strings.get(&format!("refund_{}", why.as_str())),
        ),
        R::PaidShort { written_off } => format!(
            "{} {}",
            strings.get("reason_paid_short"),
            format_rupiah(written_off.minor_units())
        ),
        R::AcceptedShort { written_off, why } => format!(
            "{} {}: {why}",
            strings.get("reason_accepted_short"),
            format_rupiah(written_off.minor_units())
        ),
        R::Shipped(waybill) => format!("{} {waybill}", strings.get("reason_shipped")),
        R::CodUnconfirmed => strings.get("reason_cod_unconfirmed").to_owned(),
        R::ReturnRequested(why) => format!("{}: {why}", strings.get("reason_return_requested")),
        R::Return(status) => format!(
            "{}: {}",
            strings.get("return_title"),
            strings.get(&format!("return_{}", status.as_str()))
        ),
        R::ReturnWindowClosed => strings.get("reason_window_closed").to_owned(),
        R::ReturnClosed => strings.get("reason_return_closed").to_owned(),
        R::Other(text) => text,
    }
}

pub(crate) fn engine_err(e: lunas_engine::Error) -> PageError {
    PageError::from_engine(e)
}

/// A phone number as a path segment (`+62812…` → `62812…`, read back by `Phone::parse`).
pub(super) fn phone_path(phone: &Phone) -> String {
    phone.as_str().trim_start_matches('+').to_owned()
}

pub(super) fn order_row(desk: &Desk, order: &Order) -> Value {
    context! {
        id => order.id.0,
        name => &order.customer.name,
        phone => order.customer.phone.international(),
        status => order.status.as_str(),
        due => order.amount_due.minor_units(),
        deadline => order.pay_by.map(|at| desk.when(at)).unwrap_or_default(),
        placed => desk.when(order.placed_at),
    }
}

pub(crate) async fn today(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let engine = &desk.state.engine;
    let lunas_engine::desk::Today {
        now,
        counts,
        sales,
        releasing,
        reminders,
        queue,
        reviews,
        recent,
    } = engine
        .today(RELEASING_WITHIN, DAY, TODAY_LEN)
        .await
        .map_err(engine_err)?;
    let due_rows = |rows: Vec<lunas_core::queries::Releasing>| -> Vec<Value> {
        rows.into_iter()
            .map(|r| {
                context! {
                    id => r.order_id.0,
                    name => r.name,
                    left => (r.amount_due.minor_units() - r.amount_paid.minor_units()).max(0),
                    when => desk.when(r.due_at),
                }
            })
            .collect()
    };
    let queue: Vec<Value> = queue
        .iter()
        .take(QUEUE_ON_TODAY)
        .map(|m| queue_card(&desk, m))
        .collect();
    let reviews: Vec<Value> = reviews
        .iter()
        .map(|r| {
            let text = r
                .detail
                .get("description")
                .and_then(|d| d.as_str())
                .map(str::to_owned);
            let proof = r
                .detail
                .get("proof_id")
                .and_then(|p| p.as_i64())
                .filter(|_| r.kind == lunas_core::ledger::ReviewKind::ProofOfTransfer);
            let pdf =
                r.detail.get("content_type").and_then(|c| c.as_str()) == Some("application/pdf");
            context! {
                id => r.id,
                proof => proof.map(|p| context! { href => format!("/proofs/{p}"), pdf => pdf }),
                kind => r.kind.as_str(),
                amount => r.amount,
                order_id => r.order_id.map(|o| o.0),
                text => text,
                when => desk.when(r.created_at),
                errors => query
                    .get("review")
                    .filter(|id| **id == r.id.to_string())
                    .and(query.get("error"))
                    .map(|code| desk.strings().code_message(code)),
            }
        })
        .collect();
    let new_orders: Vec<Value> = recent
        .iter()
        .filter(|o| o.placed_at > now - DAY)
        .map(|o| order_row(&desk, o))
        .collect();
    let waiting = super::conversations::waiting_rows(&desk).await?;
    let (reviews_open, queue_open) = (counts.reviews_open, counts.manual_queue);
    let after = super::fulfilment::today_counts(&desk, &counts.by_status).await?;
    let counts: Vec<Value> = counts
        .by_status
        .iter()
        .map(|(status, n)| context! { status => status.as_str(), n => n })
        .collect();
    desk.page(
        "today.html",
        "today",
        context! {
            notice => notice(desk.strings(), &query),
            counts => counts,
            sales => [("today", sales.today), ("month", sales.month)].map(|(name, p)| context! {
                name => name, placed => p.placed, paid => p.paid, released => p.released,
                omzet => p.omzet.minor_units(),
            }),
            reviews_open => reviews_open,
            queue_open => queue_open,
            releasing => due_rows(releasing),
            reminders => due_rows(reminders),
            queue => queue,
            reviews => reviews,
            new_orders => new_orders,
            after => after,
            waiting => waiting,
        },
    )
}

/// A message of the manual WhatsApp queue as its card shows it.
fn queue_card(desk: &Desk, m: &lunas_core::outbox::Message) -> Value {
    context! {
        id => m.id.as_str(),
        order_id => m.order_id.map(|o| o.0),
        kind => m.kind.as_str(),
        body => shorten(&m.body, QUEUE_PREVIEW_CHARS),
        link => &m.link,
        when => desk.when(m.created_at),
    }
}

/// The manual WhatsApp queue whole (its first hundred), oldest first.
pub(crate) async fn queue(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let engine = &desk.state.engine;
    let messages = engine
        .manual_queue(QUEUE_PAGE_LEN)
        .await
        .map_err(engine_err)?;
    let open = engine.desk_counts().await.map_err(engine_err)?.manual_queue;
    let cards: Vec<Value> = messages.iter().map(|m| queue_card(&desk, m)).collect();
    desk.page(
        "queue.html",
        "today",
        context! {
            notice => notice(desk.strings(), &query),
            queue => cards,
            queue_open => open,
            shown_max => QUEUE_PAGE_LEN,
        },
    )
}

/// Reads the search box: `#1042` or `1042` is an order number, a phone number is a buyer's,
/// anything else is part of a name.
fn order_query(status: Option<OrderStatus>, q: &str, after: Option<OrderId>) -> OrderQuery {
    // Control characters (a NUL from a pasted string) match no name and no number.
    let q: String = q.chars().filter(|c| !c.is_control()).collect();
    let q = q.trim();
    let mut query = OrderQuery {
        status,
        number: None,
        phone: None,
        name: None,
        page: Page {
            after,
            limit: LIST_LEN,
        },
    };
    if q.is_empty() {
        return query;
    }
    let digits = q.trim_start_matches('#');
    if digits.len() <= 9 && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        query.number = digits.parse().ok().map(OrderId);
    } else if let Ok(phone) = Phone::parse(q) {
        query.phone = Some(phone);
    } else {
        query.name = Some(q.to_lowercase());
    }
    query
}

pub(crate) async fn orders(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let status_raw = query.get("status").map(String::as_str).unwrap_or("");
    let status = OrderStatus::parse(status_raw);
    let q = query.get("q").map(String::as_str).unwrap_or("");
    let after = query
        .get("after")
        .and_then(|a| a.parse::<i64>().ok())
        .map(OrderId);
    let found = desk
        .state
        .engine
        .search_orders(order_query(status, q, after))
        .await
        .map_err(engine_err)?;
    let next = (found.len() == LIST_LEN).then(|| {
        let last = found.last().map_or(0, |o| o.id.0);
        let mut params = url_params(&[("status", status_raw), ("q", q)]);
        params.push_str(&format!("&after={last}"));
        format!("/orders?{params}")
    });
    let rows: Vec<Value> = found.iter().map(|o| order_row(&desk, o)).collect();
    let statuses: Vec<&str> = OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
    desk.page(
        "orders.html",
        "orders",
        context! {
            orders => rows,
            statuses => ser(&statuses),
            status => status.map(OrderStatus::as_str).unwrap_or(""),
            q => q,
            next => next,
            errors => FieldErrors::new(),
        },
    )
}

pub(super) fn url_params(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub(super) fn parse_id(desk: &Desk, raw: &str) -> Result<OrderId, PageError> {
    api_orders::parse_order_id(raw).map_err(|_| PageError::NotFound(desk.language()))
}

/// The order's detail page, with `errors` and `values` of a form that did not go through.
async fn order_page(
    desk: &Desk,
    id: OrderId,
    status: StatusCode,
    errors: FieldErrors,
    values: BTreeMap<&str, &str>,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    let engine = &desk.state.engine;
    let order = engine
        .order(id)
        .await
        .map_err(engine_err)?
        .ok_or(PageError::NotFound(desk.language()))?;
    let messages = engine.order_messages(id).await.map_err(engine_err)?;
    let strings = desk.strings();
    let mut timeline: Vec<(lunas_core::Timestamp, Value)> = Vec::new();
    for event in &order.events {
        let what = match event.from {
            None => strings.get("event_placed").to_owned(),
            // A note on the order that left its status as it was (a return's step).
            Some(from) if from == event.to => strings.get("event_update").to_owned(),
            Some(_) => format!(
                "{} {}",
                strings.get("event_to"),
                strings.get(&format!("status_{}", event.to.as_str()))
            ),
        };
        timeline.push((
            event.at,
            context! {
                when => desk.when(event.at),
                what => what,
                detail => format!("{} {}", super::audit::actor_words(desk.strings(), event.actor.as_str()), event.reason.as_deref().map(|r| reason_words(desk, r)).unwrap_or_default()),
                link => None::<String>, proof => None::<String>, sendable => false, message_id => "",
            },
        ));
    }
    for payment in &order.payments {
        timeline.push((
            payment.recorded_at,
            context! {
                when => desk.when(payment.recorded_at),
                what => format!("{} {}", strings.get("event_payment"), lunas_core::messages::format_rupiah(payment.amount.minor_units())),
                detail => format!("{} {}", super::audit::actor_words(desk.strings(), payment.actor.as_str()), payment.reference.as_deref().unwrap_or("")),
                link => None::<String>, proof => None::<String>, sendable => false, message_id => "",
            },
        ));
    }
    for (proof, at, content_type, bytes) in engine.proofs_of(id).await.map_err(engine_err)? {
        timeline.push((
            at,
            context! {
                when => desk.when(at),
                what => strings.get("event_proof"),
                detail => format!("{} · {} KB", if content_type == "application/pdf" { "PDF" } else { strings.get("proof_picture") }, (bytes + 1023) / 1024),
                proof => format!("/proofs/{proof}"),
                link => None::<String>, sendable => false, message_id => "",
            },
        ));
    }
    for message in &messages {
        let sendable = message.channel == lunas_core::messages::Channel::ManualWhatsapp
            && message.status == lunas_core::outbox::MessageStatus::Pending;
        timeline.push((
            message.created_at,
            context! {
                when => desk.when(message.created_at),
                what => format!(
                    "{}: {} ({}, {})",
                    strings.get("event_message"),
                    strings.get(&format!("kind_{}", message.kind.as_str())),
                    strings.word("via_", message.channel.as_str()),
                    strings.word("msg_", message.status.as_str()),
                ),
                detail => &message.body,
                link => if sendable { message.link.clone() } else { None },
                proof => None::<String>,
                sendable => sendable,
                message_id => message.id.as_str(),
            },
        ));
    }
    timeline.sort_by_key(|(at, _)| *at);
    let after =
        super::fulfilment::order_after(desk, &order, values.get("after_error").copied()).await?;
    let settings = engine.settings();
    let view = context! {
        id => order.id.0,
        status => order.status.as_str(),
        name => &order.customer.name,
        phone => order.customer.phone.international(),
        phone_path => phone_path(&order.customer.phone),
        note => &order.note,
        public_url => desk.state.engine.public_url(&order),
        method => order.payment_method.as_str(),
        total => order.total.minor_units(),
        items_total => order.items_total().minor_units(),
        written_off => order.written_off.minor_units(),
        short => (order.amount_due.minor_units() - order.amount_paid.minor_units()).max(0),
        acceptable => order.status.is_open() && order.amount_paid > lunas_core::Money::ZERO,
        shipping_cost => order.shipping_cost.minor_units(),
        discount => order.discount.minor_units(),
        // The recipient's number kept on one line; the rest as the label prints it.
        address => order.address.as_ref().map(|a| context! {
            recipient => &a.recipient,
            phone => a.phone.international(),
            lines => a.lines().into_iter().skip(1).collect::<Vec<_>>(),
        }),
        due => order.amount_due.minor_units(),
        code => order.unique_code,
        paid => order.amount_paid.minor_units(),
        deposit => order.deposit.map(|d| d.minor_units()),
        deadline => order.pay_by.map(|at| desk.when(at)).unwrap_or_default(),
        placed => desk.when(order.placed_at),
        policy => order.policy.as_ref().map(|p| p.reason.clone()),
        policy_band => order.policy.as_ref().map(|p| p.band.as_str()).unwrap_or("normal"),
        open => order.status.is_open(),
        extendable => order.status == OrderStatus::AwaitingPayment && order.pay_by.is_some(),
        items => order.items.iter().map(|i| context! {
            name => &i.name, sku => i.sku.as_str(), qty => i.qty.units(),
            price => i.unit_price.minor_units(), hold => i.hold.as_str(),
        }).collect::<Vec<_>>(),
    };
    let mut values = values;
    let left = (order.amount_due.minor_units() - order.amount_paid.minor_units())
        .max(0)
        .to_string();
    values.entry("amount").or_insert(&left);
    let strings_by = [
        ("seller", strings.get("by_seller")),
        ("buyer", strings.get("by_buyer")),
    ];
    desk.page_with_status(
        status,
        "order.html",
        "orders",
        context! {
            notice => notice,
            o => view,
            timeline => timeline.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
            errors => ser(&errors),
            values => ser(&values),
            cancel_by => ser(strings_by),
            tz => settings.timezone.clone(),
            after => after,
        },
    )
}

pub(crate) async fn order(
    desk: Desk,
    Path(id): Path<String>,
    Query(query): Query_,
) -> Result<Response, PageError> {
    let id = parse_id(&desk, &id)?;
    let notice = notice(desk.strings(), &query);
    // A refused step after the payment comes back as `?error=` (its code).
    let values: BTreeMap<&str, &str> = query
        .get("error")
        .map(|code| ("after_error", code.as_str()))
        .into_iter()
        .collect();
    order_page(
        &desk,
        id,
        StatusCode::OK,
        FieldErrors::new(),
        values,
        notice,
    )
    .await
}

/// Answers a failed order action: the field errors beside the form, what was typed kept.
async fn order_refused(
    desk: &Desk,
    id: OrderId,
    form: &super::FormData,
    e: ApiError,
    rename: &[(&'static str, &'static str)],
) -> Result<Response, PageError> {
    if e.status == StatusCode::NOT_FOUND && e.code == "not_found" {
        return Err(PageError::NotFound(desk.language()));
    }
    let (mut field, message) = refusal(desk.strings(), e)?;
    for (from, to) in rename {
        if field == *from {
            field = to;
        }
    }
    let errors = FieldErrors::from([(field, message)]);
    order_page(
        desk,
        id,
        StatusCode::UNPROCESSABLE_ENTITY,
        errors,
        form.values(),
        None,
    )
    .await
}

/// A payment recorded by hand on an order's page.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PayForm {
    amount: String,
    reference: String,
}

pub(crate) async fn pay(Path(id): Path<String>, posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let id = parse_id(&desk, &id)?;
    let typed: PayForm = form.parse()?;
    let result: Result<_, ApiError> = async {
        let amount = rupiah(&desk, &typed.amount, "invalid_amount")?;
        let (amount, reference) = api_orders::parse_payment(api_orders::PaymentBody {
            amount,
            reference: Some(typed.reference),
        })?;
        Ok(desk
            .state
            .engine
            .record_payment(id, amount, reference, desk.actor())
            .await?)
    }
    .await;
    match result {
        Ok(_) => Ok(done(&format!("/orders/{id}"), "paid")),
        Err(e) => order_refused(&desk, id, &form, e, &[]).await,
    }
}

/// Cancelling an order: why, and who asked (`buyer` or `seller`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct CancelForm {
    cancel_reason: String,
    by: String,
}

pub(crate) async fn cancel(Path(id): Path<String>, posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let id = parse_id(&desk, &id)?;
    let typed: CancelForm = form.parse()?;
    let result: Result<_, ApiError> = async {
        let (reason, by) = api_orders::parse_cancel(api_orders::CancelBody {
            reason: typed.cancel_reason,
            by: Some(typed.by).filter(|b| !b.is_empty()),
        })?;
        Ok(desk
            .state
            .engine
            .cancel_order_by(id, reason, desk.actor(), by)
            .await?)
    }
    .await;
    match result {
        Ok(_) => Ok(done(&format!("/orders/{id}"), "cancelled")),
        Err(e) => order_refused(&desk, id, &form, e, &[("reason", "cancel_reason")]).await,
    }
}

/// Accepting an order as paid with what arrived: why.
#[derive(Deserialize, Default)]
#[serde(default)]
struct AcceptForm {
    accept_reason: String,
}

/// "Terima sebagai lunas": the order is paid with what arrived, the rest written off.
pub(crate) async fn accept(Path(id): Path<String>, posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let id = parse_id(&desk, &id)?;
    let typed: AcceptForm = form.parse()?;
    let result: Result<_, ApiError> = async {
        let reason = api_orders::parse_reason(&typed.accept_reason)?;
        Ok(desk
            .state
            .engine
            .accept_as_paid(id, reason, desk.actor())
            .await?)
    }
    .await;
    match result {
        Ok(_) => Ok(done(&format!("/orders/{id}"), "accepted")),
        Err(e) => order_refused(&desk, id, &form, e, &[("reason", "accept_reason")]).await,
    }
}

/// A new deadline, as a `datetime-local` input gives it, and why.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ExtendForm {
    pay_by: String,
    reason: String,
}

pub(crate) async fn extend(Path(id): Path<String>, posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let id = parse_id(&desk, &id)?;
    let typed: ExtendForm = form.parse()?;
    let result: Result<_, ApiError> = async {
        // A `datetime-local` input gives the store's local time without an offset.
        let tz = desk.tz.clone();
        let pay_by = typed
            .pay_by
            .trim()
            .replace(' ', "T")
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|dt| dt.to_zoned(tz).ok())
            .map(|z| z.timestamp().to_string())
            .ok_or_else(|| {
                ApiError::unprocessable("invalid_deadline", desk.strings().get("err_datetime"))
            })?;
        let (to, reason) = api_orders::parse_deadline(api_orders::DeadlineBody {
            pay_by,
            reason: typed.reason,
        })?;
        Ok(desk
            .state
            .engine
            .extend_deadline(id, to, reason, desk.actor())
            .await?)
    }
    .await;
    match result {
        Ok(_) => Ok(done(&format!("/orders/{id}"), "extended")),
        Err(e) => order_refused(&desk, id, &form, e, &[]).await,
    }
}

/// Where *Tandai terkirim* returns to: only the two pages that carry that form, Today (`/`) and
/// an order's page (`/orders/{number}`). Anything else — another host, a path with control
/// characters or escapes a browser would read differently — returns to Today.
fn back_to(back: &str) -> String {
    let order_page = back.strip_prefix("/orders/").is_some_and(|number| {
        (1..=18).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit())
    });
    if back == "/" || back == "/queue" || order_page {
        back.to_owned()
    } else {
        "/".to_owned()
    }
}

/// *Tandai terkirim*: the page it was pressed on.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SentForm {
    back: String,
}

pub(crate) async fn mark_sent(path: Path<String>, posted: Posted) -> Result<Response, PageError> {
    queue_action(path, posted, QueueAction::Sent).await
}

/// *Lewati*: the message leaves the queue unsent.
pub(crate) async fn skip(path: Path<String>, posted: Posted) -> Result<Response, PageError> {
    queue_action(path, posted, QueueAction::Skipped).await
}

/// What staff did with a message of the manual WhatsApp queue.
#[derive(Clone, Copy)]
enum QueueAction {
    Sent,
    Skipped,
}

async fn queue_action(
    Path(id): Path<String>,
    posted: Posted,
    action: QueueAction,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let back = back_to(&form.parse::<SentForm>()?.back);
    let id =
        api_messages::parse_message_id(&id).map_err(|_| PageError::NotFound(desk.language()))?;
    let engine = &desk.state.engine;
    let (result, notice) = match action {
        QueueAction::Sent => (engine.mark_message_sent(id, desk.actor()).await, "sent"),
        QueueAction::Skipped => (engine.skip_message(id, desk.actor()).await, "skipped"),
    };
    match result {
        Ok(_) => Ok(done(&back, notice)),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status == StatusCode::NOT_FOUND {
                return Err(PageError::NotFound(desk.language()));
            }
            // Already sent or skipped (by someone else, a moment ago, or its order was paid):
            // it has left the queue, which is what was wanted.
            refusal(desk.strings(), e)?;
            Ok(done(&back, notice))
        }
    }
}

/// Resolving a payment to review: the order it pays (`#1042` or `1042`; empty to dismiss it),
/// and a note.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ResolveForm {
    order_id: String,
    note: String,
}

pub(crate) async fn resolve_review(
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let id =
        api_payments::parse_review_id(&id).map_err(|_| PageError::NotFound(desk.language()))?;
    let typed: ResolveForm = form.parse()?;
    let order = typed.order_id.trim().trim_start_matches('#');
    let note = typed.note.trim();
    let body = api_payments::ResolveBody {
        order_id: if order.is_empty() {
            None
        } else {
            Some(order.parse::<i64>().unwrap_or(-1))
        },
        note: (!note.is_empty()).then(|| note.to_owned()),
    };
    let result: Result<_, ApiError> = async {
        let action = api_payments::parse_resolution(body)?;
        Ok(desk
            .state
            .engine
            .resolve_review(id, action, desk.actor())
            .await?)
    }
    .await;
    match result {
        Ok(_) => Ok(done("/", "resolved")),
        Err(e) => {
            refusal(
                desk.strings(),
                ApiError::new(e.status, e.code, String::new()),
            )?;
            // Only the error's code travels in the address (a link cannot put words on Today).
            Ok(
                axum::response::Redirect::to(&format!("/?review={id}&error={}#review", e.code))
                    .into_response(),
            )
        }
    }
}
