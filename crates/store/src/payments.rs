//! Payments, written once for both backends: recording one (from staff, a statement, a mutation
//! service or a gateway) with its identity so that a repeat changes nothing; money that arrives
//! after the order ended (revived or flagged for refund); statement imports matched against the
//! open orders in one transaction; gateway notifications; and the review list.
//!
//! Lock order is the one of `ops`: the order row first, then its timers, then product rows in SKU
//! order, then the buyer's row.

use std::collections::{BTreeMap, HashSet};

use lunas_core::messages::MessageKind;
use lunas_core::order::decide_payment;
use lunas_core::payments::{
    LateDecision, Match, Matcher, OpenOrder, PaymentSource, decide_late_payment,
};
use lunas_core::timers::PlannedTimer;
use lunas_core::{Actor, HoldState, Money, OrderId, OrderStatus, PaymentDecision, Sku};

use crate::repo::{
    Ended, count_outcome, credit_buyer, end_holds, enqueue, insert_event, insert_timers,
    load_order, load_order_with, millis, order_money_for_update, product_for_update, status_of,
    stop_awaiting, timestamp,
};
use crate::sql::{Db, DbError, DbResult, Row, corrupt, params};
use lunas_core::ledger::{
    GatewayNotification, GatewayOutcome, GatewayStatus, ImportReport, NewPayment, PaymentEffect,
    PaymentOutcome, Resolution, ResolveAction, Review, ReviewError, ReviewKind, StatementCredit,
};
use lunas_core::placing::{Messaging, OrderOpError};

/// Fingerprints looked up per statement.
const FINGERPRINTS_PER_QUERY: usize = 500;

/// Records a payment. Staff payments follow the order's state machine (a paid or ended order
/// refuses them); money that arrives by itself is never refused: a duplicate changes nothing, a
/// gateway amount that is not what is left goes to review, and money for an order that ended is
/// applied by the late-payment rules.
pub(crate) fn record_payment(
    db: &mut dyn Db,
    id: OrderId,
    payment: &NewPayment,
    messaging: &Messaging,
) -> DbResult<Result<PaymentOutcome, OrderOpError>> {
    apply_payment(db, id, payment, messaging, true)
}

/// `record_payment`, answering with the order without its payments and events unless `history`
/// (a statement import needs neither, and reading them costs two queries a line).
fn apply_payment(
    db: &mut dyn Db,
    id: OrderId,
    payment: &NewPayment,
    messaging: &Messaging,
    history: bool,
) -> DbResult<Result<PaymentOutcome, OrderOpError>> {
    let Some((status, due, paid, deposit)) = order_money_for_update(db, id)? else {
        return Ok(Err(OrderOpError::NotFound));
    };
    let now = millis(payment.recorded_at);
    if let Some(external_id) = &payment.external_id {
        let seen = db.row(
            "SELECT id FROM payments WHERE source = ?1 AND external_id = ?2",
            params![payment.source.as_str(), external_id],
            |row| row.int(0),
        )?;
        if seen.is_some() {
            return answer(
                db,
                id,
                PaymentEffect::Duplicate,
                None,
                history,
                messaging,
                now,
            )
            .map(Ok);
        }
    }
    let left = due.minor_units() - paid.minor_units();
    if payment.exact_amount && payment.amount.minor_units() != left {
        add_review(
            db,
            ReviewKind::AmountMismatch,
            payment,
            Some(id),
            serde_json::json!({
                "expected": left.max(0),
                "status": status.as_str(),
                "reference": payment.reference,
            }),
        )?;
        let effect = PaymentEffect::Review(ReviewKind::AmountMismatch);
        return answer(db, id, effect, None, history, messaging, now).map(Ok);
    }
    if !status.is_open() {
        if !payment.source.arrives_by_itself() {
            return Ok(Err(OrderOpError::InvalidTransition(
                lunas_core::TransitionError {
                    status,
                    action: "paid",
                },
            )));
        }
        return late_payment(db, id, (status, due, paid), payment, messaging, history).map(Ok);
    }
    let decision = match decide_payment(status, due, paid, payment.amount, deposit) {
        Ok(decision) => decision,
        Err(e) => return Ok(Err(e.into())),
    };
    insert_payment(db, id, payment)?;
    let effect = match decision {
        PaymentDecision::Partial { amount_paid } => {
            db.execute(
                "UPDATE orders SET amount_paid = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.0, amount_paid.minor_units(), now],
            )?;
            credit_buyer(db, id, payment.amount)?;
            let reason = format!("partial payment of {}", payment.amount.minor_units());
            insert_event(
                db,
                id,
                now,
                &payment.actor,
                Some(status),
                status,
                Some(&reason),
            )?;
            PaymentEffect::Partial
        }
        PaymentDecision::DepositPaid { amount_paid } => {
            // The rest is due within the balance window: the expiry timer moves there, and the
            // reminders about the deposit stop.
            let balance_by =
                payment.recorded_at + messaging.settings.risk.balance_window.as_duration();
            db.execute(
                "UPDATE orders SET status = 'awaiting_balance', amount_paid = ?2, pay_by = ?3, updated_at = ?4
                 WHERE id = ?1",
                params![id.0, amount_paid.minor_units(), millis(balance_by), now],
            )?;
            stop_awaiting(db, id)?;
            insert_timers(db, id, &[PlannedTimer::expire(balance_by)])?;
            credit_buyer(db, id, payment.amount)?;
            let reason = format!("deposit of {} paid", payment.amount.minor_units());
            insert_event(
                db,
                id,
                now,
                &payment.actor,
                Some(status),
                OrderStatus::AwaitingBalance,
                Some(&reason),
            )?;
            PaymentEffect::DepositPaid
        }
        PaymentDecision::PaidInFull { amount_paid } => {
            db.execute(
                "UPDATE orders SET status = 'paid', amount_paid = ?2, updated_at = ?3, ended_at = ?3 WHERE id = ?1",
                params![id.0, amount_paid.minor_units(), now],
            )?;
            stop_awaiting(db, id)?;
            end_holds(db, id, HoldState::Converted)?;
            credit_buyer(db, id, payment.amount)?;
            count_outcome(db, id, Ended::Paid)?;
            insert_event(
                db,
                id,
                now,
                &payment.actor,
                Some(status),
                OrderStatus::Paid,
                None,
            )?;
            PaymentEffect::Paid
        }
    };
    let overpaid = flag_overpayment(db, id, due, paid, payment)?;
    answer(db, id, effect, overpaid, history, messaging, now).map(Ok)
}

/// Reads the order back after a payment and, when the money paid it (or revived it), writes the
/// "payment received" message.
fn answer(
    db: &mut dyn Db,
    id: OrderId,
    effect: PaymentEffect,
    overpaid: Option<Money>,
    history: bool,
    messaging: &Messaging,
    now_ms: i64,
) -> DbResult<PaymentOutcome> {
    let order = load_order_with(db, id, history)?.expect("the order was just read");
    if matches!(effect, PaymentEffect::Paid | PaymentEffect::Revived) {
        enqueue(
            db,
            messaging,
            MessageKind::PaymentReceived,
            None,
            &order,
            now_ms,
        )?;
    }
    Ok(PaymentOutcome {
        order,
        effect,
        overpaid,
    })
}

fn insert_payment(db: &mut dyn Db, id: OrderId, payment: &NewPayment) -> DbResult<()> {
    db.execute(
        "INSERT INTO payments (order_id, amount, reference, recorded_at, actor, source, external_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id.0,
            payment.amount.minor_units(),
            &payment.reference,
            millis(payment.recorded_at),
            payment.actor.as_str(),
            payment.source.as_str(),
            &payment.external_id
        ],
    )?;
    Ok(())
}

/// More than was due arrived: the excess is flagged for refund.
fn flag_overpayment(
    db: &mut dyn Db,
    id: OrderId,
    due: Money,
    paid_before: Money,
    payment: &NewPayment,
) -> DbResult<Option<Money>> {
    let paid = paid_before.minor_units() + payment.amount.minor_units();
    let excess = paid - due.minor_units().max(paid_before.minor_units());
    if excess <= 0 {
        return Ok(None);
    }
    add_review(
        db,
        ReviewKind::Overpaid,
        payment,
        Some(id),
        serde_json::json!({"excess": excess, "due": due.minor_units(), "paid": paid}),
    )?;
    Ok(Some(Money::from_stored(excess)))
}

/// Money for an order that no longer awaits payment, from a source that is never refused.
fn late_payment(
    db: &mut dyn Db,
    id: OrderId,
    (status, due, paid): (OrderStatus, Money, Money),
    payment: &NewPayment,
    messaging: &Messaging,
    history: bool,
) -> DbResult<PaymentOutcome> {
    let covers = paid.minor_units() + payment.amount.minor_units() >= due.minor_units();
    let wanted = if status == OrderStatus::Expired && covers {
        Some(stock_wanted(db, id)?)
    } else {
        None
    };
    let stock_available = match &wanted {
        Some(wanted) => stock_available(db, wanted)?,
        None => false,
    };
    let decision = decide_late_payment(status, due, paid, payment.amount, stock_available)
        .expect("the order is not open, so the money is late");
    let now = millis(payment.recorded_at);
    insert_payment(db, id, payment)?;
    let effect = match decision {
        LateDecision::Revive { amount_paid } => {
            let wanted = wanted.expect("a revival checked the stock");
            for (sku, qty) in &wanted {
                // The products were read locked above; the condition is the check again.
                let taken = db.execute(
                    "UPDATE products SET on_hand = on_hand - ?2 WHERE sku = ?1 AND on_hand - reserved >= ?2",
                    params![sku.as_str(), *qty],
                )?;
                if taken != 1 {
                    return Err(DbError::Corrupt(format!(
                        "the stock of {sku} went after it was checked"
                    )));
                }
            }
            db.execute(
                "UPDATE order_items SET hold = 'converted' WHERE order_id = ?1 AND hold = 'released'",
                params![id.0],
            )?;
            db.execute(
                "UPDATE orders SET status = 'paid', amount_paid = ?2, updated_at = ?3, ended_at = ?3,
                     deposit_forfeited = NULL
                 WHERE id = ?1",
                params![id.0, amount_paid.minor_units(), now],
            )?;
            expired_became_paid(db, id)?;
            insert_event(
                db,
                id,
                now,
                &payment.actor,
                Some(status),
                OrderStatus::Paid,
                Some("paid after the deadline; the stock was still there, so the order is revived"),
            )?;
            PaymentEffect::Revived
        }
        LateDecision::NeedsRefund {
            amount_paid,
            why,
            to,
        } => {
            db.execute(
                "UPDATE orders SET status = ?2, amount_paid = ?3, updated_at = ?4 WHERE id = ?1",
                params![id.0, to.as_str(), amount_paid.minor_units(), now],
            )?;
            if status == OrderStatus::Expired {
                expired_became_paid(db, id)?;
            }
            let reason = format!(
                "payment of {} arrived after the order was {}; to be refunded ({})",
                payment.amount.minor_units(),
                status.as_str(),
                why.as_str()
            );
            insert_event(db, id, now, &payment.actor, Some(status), to, Some(&reason))?;
            add_review(
                db,
                ReviewKind::NeedsRefund,
                payment,
                Some(id),
                serde_json::json!({"why": why.as_str(), "order_status": status.as_str()}),
            )?;
            PaymentEffect::NeedsRefund(why)
        }
    };
    credit_buyer(db, id, payment.amount)?;
    let overpaid = match effect {
        PaymentEffect::Revived => flag_overpayment(db, id, due, paid, payment)?,
        _ => None,
    };
    answer(db, id, effect, overpaid, history, messaging, now)
}

/// The buyer's record counted the order as expired; the money that came makes it paid.
fn expired_became_paid(db: &mut dyn Db, id: OrderId) -> DbResult<()> {
    db.execute(
        "UPDATE customers SET orders_expired = orders_expired - 1, orders_paid = orders_paid + 1
         WHERE id = (SELECT customer_id FROM orders WHERE id = ?1)",
        params![id.0],
    )?;
    Ok(())
}

/// Units of each SKU an order's lines hold or held, in SKU order.
fn stock_wanted(db: &mut dyn Db, id: OrderId) -> DbResult<BTreeMap<Sku, i64>> {
    let mut wanted = BTreeMap::new();
    for (sku, qty) in db.rows(
        "SELECT sku, qty FROM order_items WHERE order_id = ?1",
        params![id.0],
        |row| Ok((row.text(0)?, row.int(1)?)),
    )? {
        *wanted.entry(Sku::from_stored(sku)).or_insert(0) += qty;
    }
    Ok(wanted)
}

/// Whether every product has the units available, reading the rows locked in SKU order.
fn stock_available(db: &mut dyn Db, wanted: &BTreeMap<Sku, i64>) -> DbResult<bool> {
    let mut available = true;
    for (sku, qty) in wanted {
        let product = product_for_update(db, sku)?;
        available &= product.is_some_and(|p| p.available >= *qty);
    }
    Ok(available)
}

/// Puts money on the review list (once per source, identity and kind).
fn add_review(
    db: &mut dyn Db,
    kind: ReviewKind,
    payment: &NewPayment,
    order: Option<OrderId>,
    detail: serde_json::Value,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO payment_reviews (created_at, kind, source, external_id, order_id, amount, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        params![
            millis(payment.recorded_at),
            kind.as_str(),
            payment.source.as_str(),
            &payment.external_id,
            order.map(|o| o.0),
            payment.amount.minor_units(),
            &detail.to_string()
        ],
    )?;
    Ok(())
}

/// The open orders, as the statement matcher needs them.
pub(crate) fn open_orders(db: &mut dyn Db) -> DbResult<Vec<OpenOrder>> {
    db.rows(
        "SELECT id, status, COALESCE(amount_due, total), amount_paid, deposit FROM orders
         WHERE status IN ('awaiting_payment', 'awaiting_balance')",
        params![],
        |row| {
            Ok(OpenOrder {
                id: OrderId(row.int(0)?),
                status: status_of(&row.text(1)?)?,
                amount_due: Money::from_stored(row.int(2)?),
                amount_paid: Money::from_stored(row.int(3)?),
                deposit: row.opt_int(4)?.map(Money::from_stored),
            })
        },
    )
}

fn open_order_of(order: &lunas_core::Order) -> OpenOrder {
    OpenOrder {
        id: order.id,
        status: order.status,
        amount_due: order.amount_due,
        amount_paid: order.amount_paid,
        deposit: order.deposit,
    }
}

/// The fingerprints of `credits` that were imported before.
fn known_fingerprints(db: &mut dyn Db, credits: &[StatementCredit]) -> DbResult<HashSet<String>> {
    let mut known = HashSet::new();
    for chunk in credits.chunks(FINGERPRINTS_PER_QUERY) {
        let list = serde_json::Value::Array(
            chunk
                .iter()
                .map(|c| serde_json::Value::String(c.fingerprint.clone()))
                .collect(),
        )
        .to_string();
        let sql = db.pick(
            "SELECT fingerprint FROM statement_lines WHERE fingerprint IN (SELECT value FROM json_each(?1))",
            "SELECT fingerprint FROM statement_lines
             WHERE fingerprint IN (SELECT jsonb_array_elements_text(CAST(CAST(?1 AS TEXT) AS JSONB)))",
        );
        known.extend(db.rows(sql, params![&list], |row| row.text(0))?);
    }
    Ok(known)
}

/// The reference kept on a payment from a statement line: its date and description.
fn line_reference(credit: &StatementCredit) -> String {
    let text = format!("{} {}", credit.date, credit.description);
    text.chars()
        .take(lunas_core::order::TEXT_LEN_MAX)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Imports statement lines in one transaction: lines seen before are skipped, debits ignored, and
/// each credit is matched against the open orders by its exact amount (and the order number its
/// description names): one order → a payment with the line as its identity; none, several, or a
/// named order that does not expect the amount → the review list. Never a guess.
pub(crate) fn import_credits(
    db: &mut dyn Db,
    source: PaymentSource,
    credits: &[StatementCredit],
    actor: &Actor,
    now: lunas_core::Timestamp,
    messaging: &Messaging,
) -> DbResult<ImportReport> {
    let mut known = known_fingerprints(db, credits)?;
    let mut matcher = Matcher::new(open_orders(db)?);
    let mut report = ImportReport::default();
    let now_ms = millis(now);
    for credit in credits {
        if known.contains(&credit.fingerprint) {
            report.duplicates += 1;
            continue;
        }
        let Ok(amount) = Money::payment(credit.amount) else {
            report.ignored += 1;
            continue;
        };
        known.insert(credit.fingerprint.clone());
        let payment = NewPayment {
            amount,
            reference: Some(line_reference(credit)),
            actor: actor.clone(),
            recorded_at: now,
            source,
            external_id: Some(credit.fingerprint.clone()),
            exact_amount: false,
        };
        let found = match matcher.find(credit.amount, credit.reference) {
            // A named order that is not open (it expired, say) is paid late only when the amount
            // is exactly what it had left: both the reference and the amount say so.
            Match::ReferenceMismatch(named) if matcher.get(named).is_none() => {
                match order_money_for_update(db, named)? {
                    Some((_, due, paid, _))
                        if due.minor_units() - paid.minor_units() == credit.amount =>
                    {
                        Match::Order(named)
                    }
                    _ => Match::ReferenceMismatch(named),
                }
            }
            other => other,
        };
        let (outcome, order) = match found {
            Match::Order(id) => match apply_payment(db, id, &payment, messaging, false)? {
                Ok(applied) => {
                    matcher.update(Some(open_order_of(&applied.order)), id);
                    ("matched", Some(id))
                }
                Err(e) => return Err(DbError::Corrupt(format!("a matched order refused: {e}"))),
            },
            Match::Ambiguous(candidates) => {
                let ids: Vec<i64> = candidates.iter().map(|c| c.0).collect();
                review_line(db, ReviewKind::Ambiguous, &payment, credit, None, &ids)?;
                ("review", None)
            }
            Match::ReferenceMismatch(named) => {
                let exists = db
                    .row(
                        "SELECT id FROM orders WHERE id = ?1",
                        params![named.0],
                        |r| r.int(0),
                    )?
                    .is_some();
                let order = exists.then_some(named);
                review_line(
                    db,
                    ReviewKind::ReferenceMismatch,
                    &payment,
                    credit,
                    order,
                    &[named.0],
                )?;
                ("review", None)
            }
            Match::Unmatched => {
                review_line(db, ReviewKind::Unmatched, &payment, credit, None, &[])?;
                ("review", None)
            }
        };
        match outcome {
            "matched" => report.matched += 1,
            _ => report.review += 1,
        }
        db.execute(
            "INSERT INTO statement_lines (fingerprint, source, imported_at, line_date, description, amount, balance, outcome, order_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                &credit.fingerprint,
                source.as_str(),
                now_ms,
                &credit.date,
                &credit.description,
                credit.amount,
                credit.balance,
                outcome,
                order.map(|o| o.0)
            ],
        )?;
    }
    Ok(report)
}

fn review_line(
    db: &mut dyn Db,
    kind: ReviewKind,
    payment: &NewPayment,
    credit: &StatementCredit,
    order: Option<OrderId>,
    candidates: &[i64],
) -> DbResult<()> {
    add_review(
        db,
        kind,
        payment,
        order,
        serde_json::json!({
            "date": credit.date,
            "description": credit.description,
            "balance": credit.balance,
            "candidates": candidates,
        }),
    )
}

/// The order a notification names, if lunas knows it, and the payment the notification describes
/// (identified by the gateway's transaction id).
fn notified_payment(
    db: &mut dyn Db,
    notification: &GatewayNotification,
    reference: Option<String>,
) -> DbResult<(Option<OrderId>, NewPayment)> {
    let order = match notification.order_id {
        Some(id) => db
            .row("SELECT id FROM orders WHERE id = ?1", params![id.0], |r| {
                r.int(0)
            })?
            .map(OrderId),
        None => None,
    };
    let payment = NewPayment {
        amount: notification.amount.unwrap_or(Money::ZERO),
        reference,
        actor: Actor::gateway(notification.gateway),
        recorded_at: notification.received_at,
        source: notification.gateway,
        external_id: Some(notification.transaction_id.clone()),
        exact_amount: true,
    };
    Ok((order, payment))
}

/// Applies a verified gateway notification, keeping it as received.
pub(crate) fn gateway_notification(
    db: &mut dyn Db,
    notification: &GatewayNotification,
    messaging: &Messaging,
) -> DbResult<GatewayOutcome> {
    let reference = format!(
        "{} {}",
        notification.gateway.as_str(),
        notification.transaction_id
    );
    let (order, payment) = notified_payment(db, notification, Some(reference))?;
    let body: serde_json::Value =
        serde_json::from_str(&notification.body).unwrap_or(serde_json::Value::Null);
    let gateway_detail = || {
        serde_json::json!({
            "order_ref": notification.order_ref,
            "status": notification.raw_status,
            "notification": body,
        })
    };
    // A delivery that the status API could not confirm earlier is settled by this one.
    db.execute(
        "UPDATE payment_reviews SET status = 'resolved', resolved_at = ?1, resolved_by = ?2,
                resolution = 'confirmed by a later delivery'
         WHERE source = ?3 AND external_id = ?4 AND kind = ?5 AND status = 'open'",
        params![
            millis(notification.received_at),
            Actor::gateway(notification.gateway).as_str(),
            notification.gateway.as_str(),
            &notification.transaction_id,
            ReviewKind::GatewayUnconfirmed.as_str()
        ],
    )?;
    let outcome = match (order, notification.status) {
        (None, _) => {
            add_review(
                db,
                ReviewKind::UnknownOrder,
                &payment,
                None,
                gateway_detail(),
            )?;
            GatewayOutcome::UnknownOrder
        }
        (Some(id), GatewayStatus::Settled) if notification.amount.is_some() => {
            match record_payment(db, id, &payment, messaging)? {
                Ok(applied) => GatewayOutcome::Payment(applied),
                Err(e) => return Err(DbError::Corrupt(format!("a known order refused: {e}"))),
            }
        }
        (Some(id), GatewayStatus::Settled) => {
            add_review(
                db,
                ReviewKind::AmountMismatch,
                &payment,
                Some(id),
                gateway_detail(),
            )?;
            GatewayOutcome::Review(ReviewKind::AmountMismatch)
        }
        (Some(id), GatewayStatus::Pending | GatewayStatus::Failed) => {
            GatewayOutcome::NoChange(load_order(db, id)?)
        }
        (Some(id), GatewayStatus::Refunded) => {
            add_review(
                db,
                ReviewKind::GatewayRefund,
                &payment,
                Some(id),
                gateway_detail(),
            )?;
            GatewayOutcome::Review(ReviewKind::GatewayRefund)
        }
        (Some(id), GatewayStatus::Challenge) => {
            add_review(
                db,
                ReviewKind::GatewayChallenge,
                &payment,
                Some(id),
                gateway_detail(),
            )?;
            GatewayOutcome::Review(ReviewKind::GatewayChallenge)
        }
    };
    let described = match &outcome {
        GatewayOutcome::Payment(applied) => match applied.effect {
            PaymentEffect::Duplicate => "duplicate",
            PaymentEffect::Review(_) => "review",
            PaymentEffect::NeedsRefund(_) => "needs_refund",
            PaymentEffect::Revived => "revived",
            _ => "recorded",
        },
        GatewayOutcome::NoChange(_) => "no_change",
        GatewayOutcome::Review(_) => "review",
        GatewayOutcome::UnknownOrder => "unknown_order",
    };
    keep_notification(db, notification, order, described)?;
    Ok(outcome)
}

/// Keeps a notification as received, with what lunas did with it (`outcome`).
fn keep_notification(
    db: &mut dyn Db,
    notification: &GatewayNotification,
    order: Option<OrderId>,
    outcome: &str,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO gateway_notifications (received_at, gateway, transaction_id, order_ref, order_id, status, amount, body, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            millis(notification.received_at),
            notification.gateway.as_str(),
            &notification.transaction_id,
            &notification.order_ref,
            order.map(|o| o.0),
            &notification.raw_status,
            notification.amount.map(Money::minor_units),
            &notification.body,
            outcome
        ],
    )?;
    Ok(())
}

/// Keeps a notification the gateway's status API could not confirm: as received, and on the
/// review list with its amount (once per transaction), so that nothing it said is lost while the
/// gateway delivers it again.
pub(crate) fn gateway_unconfirmed(
    db: &mut dyn Db,
    notification: &GatewayNotification,
    why: &str,
) -> DbResult<()> {
    let (order, payment) = notified_payment(db, notification, None)?;
    let body: serde_json::Value =
        serde_json::from_str(&notification.body).unwrap_or(serde_json::Value::Null);
    add_review(
        db,
        ReviewKind::GatewayUnconfirmed,
        &payment,
        order,
        serde_json::json!({
            "order_ref": notification.order_ref,
            "status": notification.raw_status,
            "why": why,
            "notification": body,
        }),
    )?;
    keep_notification(db, notification, order, "unconfirmed")
}

/// The columns `read_review` reads, in its order.
macro_rules! review_columns {
    () => {
        "id, created_at, kind, source, external_id, order_id, amount, detail, resolved_at, resolved_by, resolution"
    };
}

fn read_review(row: &Row<'_>) -> DbResult<Review> {
    let kind = row.text(2)?;
    let source = row.text(3)?;
    let detail = row.text(7)?;
    let resolved = match row.opt_int(8)? {
        Some(at) => Some(Resolution {
            at: timestamp(at)?,
            by: row.opt_text(9)?.unwrap_or_default(),
            note: row.opt_text(10)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Review {
        id: row.int(0)?,
        created_at: timestamp(row.int(1)?)?,
        kind: ReviewKind::parse(&kind).ok_or_else(|| corrupt("review kind", &kind))?,
        source: PaymentSource::parse(&source).ok_or_else(|| corrupt("payment source", &source))?,
        external_id: row.opt_text(4)?,
        order_id: row.opt_int(5)?.map(OrderId),
        amount: row.int(6)?,
        detail: serde_json::from_str(&detail).map_err(|_| corrupt("review detail", &detail))?,
        resolved,
    })
}

/// Review items, oldest first, after `after`; open ones only unless `all`.
pub(crate) fn reviews(
    db: &mut dyn Db,
    all: bool,
    after: i64,
    limit: usize,
) -> DbResult<Vec<Review>> {
    if all {
        db.rows(
            concat!(
                "SELECT ",
                review_columns!(),
                " FROM payment_reviews WHERE id > ?1 ORDER BY id LIMIT ?2"
            ),
            params![after, limit as i64],
            read_review,
        )
    } else {
        db.rows(
            concat!(
                "SELECT ",
                review_columns!(),
                " FROM payment_reviews WHERE status = 'open' AND id > ?1 ORDER BY id LIMIT ?2"
            ),
            params![after, limit as i64],
            read_review,
        )
    }
}

/// Staff resolve a review item: its money is applied to an order they name, or the item is
/// closed with a note.
pub(crate) fn resolve_review(
    db: &mut dyn Db,
    id: i64,
    action: &ResolveAction,
    actor: &Actor,
    now: lunas_core::Timestamp,
    messaging: &Messaging,
) -> DbResult<Result<Review, ReviewError>> {
    let review = db.row(
        concat!(
            "SELECT ",
            review_columns!(),
            " FROM payment_reviews WHERE id = ?1 FOR NO KEY UPDATE"
        ),
        params![id],
        read_review,
    )?;
    let Some(review) = review else {
        return Ok(Err(ReviewError::NotFound));
    };
    if review.resolved.is_some() {
        return Ok(Err(ReviewError::Resolved));
    }
    let note = match action {
        ResolveAction::Close(note) => note.clone(),
        ResolveAction::Assign(order) => {
            if !review.kind.money_unapplied() {
                return Ok(Err(ReviewError::NotAssignable));
            }
            let Ok(amount) = Money::payment(review.amount) else {
                return Ok(Err(ReviewError::NotAssignable));
            };
            let payment = NewPayment {
                amount,
                reference: Some(format!("review #{id}")),
                actor: actor.clone(),
                recorded_at: now,
                source: review.source,
                external_id: Some(
                    review
                        .external_id
                        .clone()
                        .unwrap_or_else(|| format!("review:{id}")),
                ),
                exact_amount: false,
            };
            match record_payment(db, *order, &payment, messaging)? {
                Ok(_) => {}
                Err(e) => return Ok(Err(e.into())),
            }
            if let Some(fingerprint) = &review.external_id {
                db.execute(
                    "UPDATE statement_lines SET outcome = 'matched', order_id = ?2 WHERE fingerprint = ?1",
                    params![fingerprint, order.0],
                )?;
            }
            format!("assigned to order {order}")
        }
    };
    db.execute(
        "UPDATE payment_reviews SET status = 'resolved', resolved_at = ?2, resolved_by = ?3, resolution = ?4
         WHERE id = ?1",
        params![id, millis(now), actor.as_str(), &note],
    )?;
    let review = db
        .row(
            concat!(
                "SELECT ",
                review_columns!(),
                " FROM payment_reviews WHERE id = ?1"
            ),
            params![id],
            read_review,
        )?
        .expect("the review was just read");
    Ok(Ok(review))
}

/// Keeps the gateway's payment page of an order, so messages point to it.
pub(crate) fn set_payment_url(db: &mut dyn Db, id: OrderId, url: &str) -> DbResult<bool> {
    Ok(db.execute(
        "UPDATE orders SET payment_url = ?2 WHERE id = ?1",
        params![id.0, url],
    )? == 1)
}
