//! The use cases that move money, each one transaction through `Tx`: recording a payment (from
//! staff, a statement, a mutation service or a gateway) with its identity, so that a repeat
//! changes nothing; money that arrives after the order ended (revived, or kept to be refunded);
//! statement lines matched against the open orders; gateway notifications; resolving the
//! review list; and staff accepting an order as paid with what arrived. What a payment does is decided in `lunas_core` (`decide_payment`,
//! `decide_late_payment`, `Matcher`); here it is applied.
//!
//! Lock order is the store's: the order row first, then its timers, then product rows in SKU
//! order, then the buyer's row.

use lunas_core::events::EventReason;
use lunas_core::ledger::{
    GatewayNotification, GatewayOutcome, GatewayStatus, ImportReport, NewPayment, PaymentEffect,
    PaymentOutcome, ResolveAction, Review, ReviewError, ReviewKind, StatementCredit,
};
use lunas_core::messages::MessageKind;
use lunas_core::order::{decide_accept_short, decide_payment};
use lunas_core::payments::{
    LateDecision, Match, Matcher, OpenOrder, PaymentSource, decide_late_payment,
};
use lunas_core::placing::{Messaging, OrderOpError};
use lunas_core::timers::PlannedTimer;
use lunas_core::{
    Actor, AuditAction, HoldState, Money, Order, OrderId, OrderStatus, PaymentDecision, Timestamp,
};
use lunas_store::{BatchChanges, OrderMoney, Tx, TxResult};
use std::collections::HashSet;

/// Records a payment. Staff payments follow the order's state machine (a paid or ended order
/// refuses them); money that arrives by itself is never refused: a duplicate changes nothing, a
/// gateway amount that is not what is left goes to review, and money for an order that ended is
/// applied by the late-payment rules.
pub(crate) fn record_payment(
    tx: &mut Tx<'_>,
    id: OrderId,
    payment: &NewPayment,
    messaging: &Messaging,
) -> TxResult<Result<PaymentOutcome, OrderOpError>> {
    apply_payment(tx, id, payment, messaging, true)
}

/// `record_payment`, answering with the order without its payments and events unless `history`
/// (a statement import needs neither, and reading them costs two queries a line).
fn apply_payment(
    tx: &mut Tx<'_>,
    id: OrderId,
    payment: &NewPayment,
    messaging: &Messaging,
    history: bool,
) -> TxResult<Result<PaymentOutcome, OrderOpError>> {
    let Some(OrderMoney {
        status,
        due,
        paid,
        deposit,
        unique_code,
    }) = tx.order_money_for_update(id)?
    else {
        return Ok(Err(OrderOpError::NotFound));
    };
    let now = payment.recorded_at;
    let reply = Reply {
        id,
        history,
        messaging,
        now,
    };
    if let Some(external_id) = &payment.external_id
        && tx.payment_seen(payment.source, external_id)?
    {
        return reply.answer(tx, PaymentEffect::Duplicate, None).map(Ok);
    }
    let left = due.minor_units() - paid.minor_units();
    if payment.exact_amount && payment.amount.minor_units() != left {
        let detail = serde_json::json!({
            "expected": left.max(0),
            "status": status.as_str(),
            "reference": payment.reference,
        });
        tx.add_review(ReviewKind::AmountMismatch, payment, Some(id), &detail)?;
        let effect = PaymentEffect::Review(ReviewKind::AmountMismatch);
        return reply.answer(tx, effect, None).map(Ok);
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
        return late_payment(tx, &reply, (status, due, paid), payment).map(Ok);
    }
    // A transfer of the total without its unique code (or short by no more than the store lets
    // go) pays the order; what is missing is written off.
    let tolerance = messaging.settings.payments.tolerance(unique_code);
    let decision = match decide_payment(status, due, paid, payment.amount, deposit, tolerance) {
        Ok(decision) => decision,
        Err(e) => return Ok(Err(e.into())),
    };
    tx.insert_payment(id, payment)?;
    let effect = match decision {
        PaymentDecision::Partial { amount_paid } => {
            tx.set_amount_paid(id, amount_paid, now)?;
            tx.credit_buyer(id, payment.amount)?;
            let reason = EventReason::PartialPayment(payment.amount).stored();
            tx.insert_event(id, now, &payment.actor, Some(status), status, Some(&reason))?;
            PaymentEffect::Partial
        }
        PaymentDecision::DepositPaid { amount_paid } => {
            // The rest is due within the balance window: the expiry timer moves there, and the
            // reminders about the deposit stop.
            let balance_by = now + messaging.settings.risk.balance_window.as_duration();
            tx.start_balance(id, amount_paid, balance_by, now)?;
            tx.stop_awaiting(id)?;
            tx.insert_timers(id, &[PlannedTimer::expire(balance_by)])?;
            tx.credit_buyer(id, payment.amount)?;
            let reason = EventReason::DepositPaid(payment.amount).stored();
            tx.insert_event(
                id,
                now,
                &payment.actor,
                Some(status),
                OrderStatus::AwaitingBalance,
                Some(&reason),
            )?;
            PaymentEffect::DepositPaid
        }
        PaymentDecision::PaidInFull {
            amount_paid,
            written_off,
        } => {
            tx.mark_paid(id, amount_paid, written_off, now)?;
            tx.stop_awaiting(id)?;
            tx.end_holds(id, HoldState::Converted)?;
            tx.credit_buyer(id, payment.amount)?;
            tx.count_paid(id)?;
            let reason = (written_off > Money::ZERO)
                .then(|| EventReason::PaidShort { written_off }.stored());
            tx.insert_event(
                id,
                now,
                &payment.actor,
                Some(status),
                OrderStatus::Paid,
                reason.as_deref(),
            )?;
            PaymentEffect::Paid
        }
    };
    let overpaid = flag_overpayment(tx, id, due, paid, payment)?;
    reply.answer(tx, effect, overpaid).map(Ok)
}

/// Staff accept order `id` as paid with what has arrived ("terima sebagai lunas"), if
/// `decide_accept_short` allows: the shortfall is written off, the holds become sales, the buyer
/// counts as having paid and is told, and the audit log says who did it and why.
pub(crate) fn accept_short(
    tx: &mut Tx<'_>,
    id: OrderId,
    why: &str,
    actor: &Actor,
    now: Timestamp,
    messaging: &Messaging,
) -> TxResult<Result<Order, OrderOpError>> {
    let Some(OrderMoney {
        status, due, paid, ..
    }) = tx.order_money_for_update(id)?
    else {
        return Ok(Err(OrderOpError::NotFound));
    };
    let written_off = match decide_accept_short(status, due, paid) {
        Ok(written_off) => written_off,
        Err(refused) => return Ok(Err(OrderOpError::Accept(refused))),
    };
    tx.mark_paid(id, paid, written_off, now)?;
    tx.stop_awaiting(id)?;
    tx.end_holds(id, HoldState::Converted)?;
    tx.count_paid(id)?;
    let reason = EventReason::AcceptedShort {
        written_off,
        why: why.to_owned(),
    }
    .stored();
    tx.insert_event(
        id,
        now,
        actor,
        Some(status),
        OrderStatus::Paid,
        Some(&reason),
    )?;
    let detail = serde_json::json!({
        "order_id": id.0,
        "amount_due": due.minor_units(),
        "amount_paid": paid.minor_units(),
        "written_off": written_off.minor_units(),
        "reason": why,
    });
    tx.audit(
        actor,
        AuditAction::OrderAcceptShort,
        &format!("#{}", id.0),
        &detail,
        now,
    )?;
    let mut order = tx
        .order(id)?
        .ok_or_else(|| Tx::corrupt(format!("order {id} went while it was accepted")))?;
    crate::proofs::settle_if_waiting(tx, &mut order, now)?;
    tx.enqueue(
        messaging,
        MessageKind::PaymentReceived,
        &order,
        None,
        None,
        now,
    )?;
    Ok(Ok(order))
}

/// How a payment is answered: the order read back and, when the money paid it (or revived it),
/// the "payment received" message written.
struct Reply<'a> {
    id: OrderId,
    history: bool,
    messaging: &'a Messaging,
    now: Timestamp,
}

impl Reply<'_> {
    fn answer(
        &self,
        tx: &mut Tx<'_>,
        effect: PaymentEffect,
        overpaid: Option<Money>,
    ) -> TxResult<PaymentOutcome> {
        let mut order = tx
            .order_with(self.id, self.history)?
            .ok_or_else(|| Tx::corrupt(format!("order {} went during its payment", self.id)))?;
        if matches!(effect, PaymentEffect::Paid | PaymentEffect::Revived) {
            let kind = MessageKind::PaymentReceived;
            tx.enqueue(self.messaging, kind, &order, None, None, self.now)?;
            crate::proofs::settle_if_waiting(tx, &mut order, self.now)?;
        }
        Ok(PaymentOutcome {
            order,
            effect,
            overpaid,
        })
    }
}

/// More than was due arrived: the excess is flagged for refund.
fn flag_overpayment(
    tx: &mut Tx<'_>,
    id: OrderId,
    due: Money,
    paid_before: Money,
    payment: &NewPayment,
) -> TxResult<Option<Money>> {
    let paid = paid_before.minor_units() + payment.amount.minor_units();
    let excess = paid - due.minor_units().max(paid_before.minor_units());
    if excess <= 0 {
        return Ok(None);
    }
    let detail = serde_json::json!({"excess": excess, "due": due.minor_units(), "paid": paid});
    tx.add_review(ReviewKind::Overpaid, payment, Some(id), &detail)?;
    Ok(Some(Money::from_stored(excess)))
}

/// Money for an order that no longer awaits payment, from a source that is never refused.
fn late_payment(
    tx: &mut Tx<'_>,
    reply: &Reply<'_>,
    (status, due, paid): (OrderStatus, Money, Money),
    payment: &NewPayment,
) -> TxResult<PaymentOutcome> {
    let id = reply.id;
    let covers = paid.minor_units() + payment.amount.minor_units() >= due.minor_units();
    let wanted = if status == OrderStatus::Expired && covers {
        Some(tx.stock_wanted(id)?)
    } else {
        None
    };
    let stock_available = match &wanted {
        Some(wanted) => tx.stock_available(wanted)?,
        None => false,
    };
    let decision = decide_late_payment(status, due, paid, payment.amount, stock_available)
        .map_err(|e| {
            Tx::corrupt(format!(
                "order {id} is not open, yet its money is not late: {e}"
            ))
        })?;
    let now = payment.recorded_at;
    tx.insert_payment(id, payment)?;
    let effect = match decision {
        LateDecision::Revive { amount_paid } => {
            let wanted = wanted.expect("a revival checked the stock");
            tx.take_stock_again(id, &wanted)?;
            tx.mark_revived(id, amount_paid, now)?;
            tx.expired_became_paid(id)?;
            tx.insert_event(
                id,
                now,
                &payment.actor,
                Some(status),
                OrderStatus::Paid,
                Some(&EventReason::Revived.stored()),
            )?;
            PaymentEffect::Revived
        }
        LateDecision::NeedsRefund {
            amount_paid,
            why,
            to,
        } => {
            tx.mark_needs_refund(id, to, amount_paid, now)?;
            if status == OrderStatus::Expired {
                tx.expired_became_paid(id)?;
            }
            let reason = EventReason::LateToRefund {
                amount: payment.amount,
                was: status,
                why,
            }
            .stored();
            tx.insert_event(id, now, &payment.actor, Some(status), to, Some(&reason))?;
            let detail = serde_json::json!({"why": why.as_str(), "order_status": status.as_str()});
            tx.add_review(ReviewKind::NeedsRefund, payment, Some(id), &detail)?;
            PaymentEffect::NeedsRefund(why)
        }
    };
    tx.credit_buyer(id, payment.amount)?;
    let overpaid = match effect {
        PaymentEffect::Revived => flag_overpayment(tx, id, due, paid, payment)?,
        _ => None,
    };
    reply.answer(tx, effect, overpaid)
}

fn open_order_of(order: &lunas_core::Order) -> OpenOrder {
    OpenOrder {
        id: order.id,
        status: order.status,
        amount_due: order.amount_due,
        total: order.total,
        amount_paid: order.amount_paid,
        deposit: order.deposit,
    }
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
    tx: &mut Tx<'_>,
    source: PaymentSource,
    credits: &[StatementCredit],
    actor: &Actor,
    now: Timestamp,
    messaging: &Messaging,
) -> TxResult<ImportReport> {
    let mut known = tx.known_fingerprints(credits)?;
    let mut matcher = Matcher::new(tx.open_orders()?);
    let mut report = ImportReport::default();
    // Lines that pay exactly what an open order has left: decided here in the statement's order,
    // written after the loop in the orders' order (see `settle`).
    let mut settling: Vec<Settling> = Vec::new();
    let mut settled: HashSet<OrderId> = HashSet::new();
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
            // Paid in full by an earlier line of this chunk: nothing is left to pay.
            Match::ReferenceMismatch(named) if settled.contains(&named) => {
                Match::ReferenceMismatch(named)
            }
            // A named order that is not open (it expired, say) is paid late only when the amount
            // is exactly what it had left: both the reference and the amount say so.
            Match::ReferenceMismatch(named) if matcher.get(named).is_none() => {
                match tx.order_money_for_update(named)? {
                    Some(OrderMoney { due, paid, .. })
                        if due.minor_units() - paid.minor_units() == credit.amount =>
                    {
                        Match::Order(named)
                    }
                    _ => Match::ReferenceMismatch(named),
                }
            }
            other => other,
        };
        let exact = match found {
            Match::Order(id) => pays_exactly(matcher.get(id), credit.amount),
            _ => None,
        };
        let (outcome, order) = match (found, exact) {
            (Match::Order(id), Some(open)) => {
                matcher.update(None, id);
                settled.insert(id);
                settling.push(Settling {
                    id,
                    status: open.status,
                    due: open.amount_due,
                    paid_before: open.amount_paid,
                    payment,
                });
                ("matched", Some(id))
            }
            (Match::Order(id), None) => match apply_payment(tx, id, &payment, messaging, false)? {
                Ok(applied) => {
                    matcher.update(Some(open_order_of(&applied.order)), id);
                    ("matched", Some(id))
                }
                Err(e) => return Err(Tx::corrupt(format!("a matched order refused: {e}"))),
            },
            (Match::Ambiguous(candidates), _) => {
                let ids: Vec<i64> = candidates.iter().map(|c| c.0).collect();
                review_line(tx, ReviewKind::Ambiguous, &payment, credit, None, &ids)?;
                ("review", None)
            }
            (Match::ReferenceMismatch(named), _) => {
                let order = tx.order_exists(named)?.then_some(named);
                let kind = ReviewKind::ReferenceMismatch;
                review_line(tx, kind, &payment, credit, order, &[named.0])?;
                ("review", None)
            }
            (Match::Unmatched, _) => {
                review_line(tx, ReviewKind::Unmatched, &payment, credit, None, &[])?;
                ("review", None)
            }
        };
        match outcome {
            "matched" => report.matched += 1,
            _ => report.review += 1,
        }
        tx.insert_statement_line(credit, source, now, outcome, order)?;
    }
    settle(tx, settling, now, messaging)?;
    Ok(report)
}

/// A statement line that pays exactly what an open order has left, as the matcher knew the order.
struct Settling {
    id: OrderId,
    status: OrderStatus,
    due: Money,
    paid_before: Money,
    payment: NewPayment,
}

/// The open order `open`, when `amount` is exactly what it has left: the line pays it in full
/// with nothing written off and nothing over.
fn pays_exactly(open: Option<&OpenOrder>, amount: i64) -> Option<OpenOrder> {
    open.filter(|o| {
        o.status.is_open() && o.amount_due.minor_units() - o.amount_paid.minor_units() == amount
    })
    .cloned()
}

/// Pays the orders of `settling` in full, in order-id order: each order's rows (its row, timers,
/// lines, messages) are written together and the B-trees are walked forwards instead of at
/// random, which is what a 100,000-line statement spends its time on (BENCHMARKS.md, issue 21).
/// What the orders share (products, buyers' records) is changed once at the end, in key order,
/// as an expiry batch does. An order that is not as the matcher read it any more (another
/// process paid or cancelled it on PostgreSQL) takes the ordinary path, which reads it locked.
fn settle(
    tx: &mut Tx<'_>,
    mut settling: Vec<Settling>,
    now: Timestamp,
    messaging: &Messaging,
) -> TxResult<()> {
    settling.sort_by_key(|s| s.id);
    let mut batch = BatchChanges::default();
    for s in &settling {
        let (id, payment) = (s.id, &s.payment);
        let Some(customer) = tx.mark_paid_from(id, s.status, s.paid_before, s.due, now)? else {
            if let Err(e) = apply_payment(tx, id, payment, messaging, false)? {
                return Err(Tx::corrupt(format!("a matched order refused: {e}")));
            }
            continue;
        };
        tx.insert_payment(id, payment)?;
        tx.stop_awaiting(id)?;
        tx.convert_holds_into(id, &mut batch)?;
        batch.count_paid(customer, payment.amount);
        tx.insert_event(
            id,
            now,
            &payment.actor,
            Some(s.status),
            OrderStatus::Paid,
            None,
        )?;
        let reply = Reply {
            id,
            history: false,
            messaging,
            now,
        };
        reply.answer(tx, PaymentEffect::Paid, None)?;
    }
    tx.apply_batch(&batch)
}

fn review_line(
    tx: &mut Tx<'_>,
    kind: ReviewKind,
    payment: &NewPayment,
    credit: &StatementCredit,
    order: Option<OrderId>,
    candidates: &[i64],
) -> TxResult<()> {
    let detail = serde_json::json!({
        "date": credit.date,
        "description": credit.description,
        "balance": credit.balance,
        "candidates": candidates,
    });
    tx.add_review(kind, payment, order, &detail)
}

/// The order a notification names, if lunas knows it, and the payment the notification describes
/// (identified by the gateway's transaction id).
fn notified_payment(
    tx: &mut Tx<'_>,
    notification: &GatewayNotification,
    reference: Option<String>,
) -> TxResult<(Option<OrderId>, NewPayment)> {
    let order = match notification.order_id {
        Some(id) => tx.order_exists(id)?.then_some(id),
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

/// What a review item of a gateway notification keeps: the order it named, its status, why it
/// waits (when it was not confirmed) and the notification as received.
fn review_detail(notification: &GatewayNotification, why: Option<&str>) -> serde_json::Value {
    let body: serde_json::Value =
        serde_json::from_str(&notification.body).unwrap_or(serde_json::Value::Null);
    let mut detail = serde_json::json!({
        "order_ref": notification.order_ref,
        "status": notification.raw_status,
        "notification": body,
    });
    if let Some(why) = why {
        detail["why"] = why.into();
    }
    detail
}

/// Applies a verified gateway notification, keeping it as received.
pub(crate) fn gateway_notification(
    tx: &mut Tx<'_>,
    notification: &GatewayNotification,
    messaging: &Messaging,
) -> TxResult<GatewayOutcome> {
    let reference = format!(
        "{} {}",
        notification.gateway.as_str(),
        notification.transaction_id
    );
    let (order, payment) = notified_payment(tx, notification, Some(reference))?;
    tx.settle_unconfirmed(notification)?;
    // Only a notification that goes to review has its body read, not every settlement.
    let review = |tx: &mut Tx<'_>, kind: ReviewKind, order: Option<OrderId>| {
        tx.add_review(kind, &payment, order, &review_detail(notification, None))
    };
    let outcome = match (order, notification.status) {
        (None, _) => {
            review(tx, ReviewKind::UnknownOrder, None)?;
            GatewayOutcome::UnknownOrder
        }
        (Some(id), GatewayStatus::Settled) if notification.amount.is_some() => {
            match record_payment(tx, id, &payment, messaging)? {
                Ok(applied) => GatewayOutcome::Payment(applied),
                Err(e) => return Err(Tx::corrupt(format!("a known order refused: {e}"))),
            }
        }
        (Some(id), GatewayStatus::Settled) => {
            review(tx, ReviewKind::AmountMismatch, Some(id))?;
            GatewayOutcome::Review(ReviewKind::AmountMismatch)
        }
        (Some(id), GatewayStatus::Pending | GatewayStatus::Failed) => {
            GatewayOutcome::NoChange(tx.order(id)?)
        }
        (Some(id), GatewayStatus::Refunded) => {
            review(tx, ReviewKind::GatewayRefund, Some(id))?;
            GatewayOutcome::Review(ReviewKind::GatewayRefund)
        }
        (Some(id), GatewayStatus::Challenge) => {
            review(tx, ReviewKind::GatewayChallenge, Some(id))?;
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
    tx.keep_notification(notification, order, described)?;
    Ok(outcome)
}

/// Keeps a notification the gateway's status API could not confirm: as received, and on the
/// review list with its amount (once per transaction), so that nothing it said is lost while the
/// gateway delivers it again.
pub(crate) fn gateway_unconfirmed(
    tx: &mut Tx<'_>,
    notification: &GatewayNotification,
    why: &str,
) -> TxResult<()> {
    let (order, payment) = notified_payment(tx, notification, None)?;
    let detail = review_detail(notification, Some(why));
    tx.add_review(ReviewKind::GatewayUnconfirmed, &payment, order, &detail)?;
    tx.keep_notification(notification, order, "unconfirmed")
}

/// Staff resolve a review item: its money is applied to an order they name, or the item is
/// closed with a note.
pub(crate) fn resolve_review(
    tx: &mut Tx<'_>,
    id: i64,
    action: &ResolveAction,
    actor: &Actor,
    now: Timestamp,
    messaging: &Messaging,
) -> TxResult<Result<Review, ReviewError>> {
    let Some(review) = tx.review(id, true)? else {
        return Ok(Err(ReviewError::NotFound));
    };
    if review.resolved.is_some() {
        return Ok(Err(ReviewError::Resolved));
    }
    let proof = review.kind == ReviewKind::ProofOfTransfer;
    let note = match action {
        ResolveAction::Close(note) => note.clone(),
        ResolveAction::Assign(order) => {
            if !review.kind.money_unapplied() || (proof && review.order_id != Some(*order)) {
                // A proof confirms the order it was sent for, no other.
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
            if let Err(e) = record_payment(tx, *order, &payment, messaging)? {
                return Ok(Err(e.into()));
            }
            if let Some(fingerprint) = &review.external_id {
                tx.statement_line_matched(fingerprint, *order)?;
            }
            format!("assigned to order {order}")
        }
    };
    tx.close_review(id, actor, &note, now)?;
    // A proof is confirmed by its money, or rejected unless another proof of the order still
    // waits (this one, closed above, no longer counts).
    if let (true, Some(order)) = (proof, review.order_id) {
        let confirmed = matches!(action, ResolveAction::Assign(_));
        tx.proof_resolved(order, confirmed)?;
    }
    let review = tx
        .review(id, false)?
        .ok_or_else(|| Tx::corrupt(format!("review item {id} went as it was resolved")))?;
    Ok(Ok(review))
}
