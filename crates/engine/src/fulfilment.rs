//! The use cases of an order after its payment, each one transaction through `Tx`: a step
//! (`decide_step` says whether) with what it brings — a COD order's stock leaving the shelf when
//! it is packed, its money recorded at the door, a completion timer at delivery, a refused
//! parcel's stock back on sale and offered to the waitlist —, its event and the buyer's message.
//! A courier's event is kept once and applied through the same step; one for a waybill no order
//! has yet is kept and applied when an order is shipped under it.

use lunas_core::events::EventReason;
use lunas_core::fulfilment::{Shipment, Step, StepDecision, decide_step};
use lunas_core::ledger::NewPayment;
use lunas_core::messages::MessageKind;
use lunas_core::payments::PaymentSource;
use lunas_core::placing::{Messaging, OrderOpError};
use lunas_core::timers::{PlannedTimer, TimerKind};
use lunas_core::{Actor, HoldState, Money, Order, OrderId, OrderStatus, PaymentMethod, Timestamp};
use lunas_store::{CourierEventRow, FulfilmentRow, Tx, TxResult};

use crate::{Engine, Error};

/// What staff (or a courier) say of the parcel when it ships.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipInfo {
    pub courier: Option<String>,
    pub service: Option<String>,
    pub waybill: Option<String>,
    pub cost: Option<Money>,
}

/// What a step did: the order as it is now, and whether it moved. Inside the transaction the
/// order is read without its payments and events (what its message needs); `Engine::step_order`
/// answers with the whole order, read after the commit.
#[derive(Debug, Clone)]
pub struct Stepped {
    pub order: Order,
    pub moved: bool,
}

/// Takes `step` on order `id`, if `decide_step` allows. `ship` carries the parcel's details
/// (shipping needs a waybill, given now or before); `return_cost` what a parcel that came back
/// cost. Seeds the claim tokens of offers a returned parcel's units make.
#[allow(clippy::too_many_arguments)]
pub(crate) fn take_step(
    tx: &mut Tx<'_>,
    id: OrderId,
    step: Step,
    ship: &ShipInfo,
    return_cost: Option<Money>,
    actor: &Actor,
    now: Timestamp,
    messaging: &Messaging,
    seed: u128,
) -> TxResult<Result<Stepped, OrderOpError>> {
    let Some(row) = tx.fulfilment_for_update(id)? else {
        return Ok(Err(OrderOpError::NotFound));
    };
    step_locked(
        tx,
        id,
        row,
        step,
        ship,
        return_cost,
        actor,
        now,
        messaging,
        seed,
    )
}

/// `take_step` on an order whose row this transaction locked and read (`row`).
#[allow(clippy::too_many_arguments)]
fn step_locked(
    tx: &mut Tx<'_>,
    id: OrderId,
    row: FulfilmentRow,
    step: Step,
    ship: &ShipInfo,
    return_cost: Option<Money>,
    actor: &Actor,
    now: Timestamp,
    messaging: &Messaging,
    seed: u128,
) -> TxResult<Result<Stepped, OrderOpError>> {
    let to = match decide_step(row.status, row.method, step) {
        Ok(StepDecision::Move(to)) => to,
        Ok(StepDecision::Already) => {
            let order = tx.order_for_message(id)?.expect("the order was just read");
            return Ok(Ok(Stepped {
                order,
                moved: false,
            }));
        }
        Err(e) => return Ok(Err(e.into())),
    };
    let mut reason = None;
    match step {
        Step::ConfirmCod => {
            // The confirmation timer has nothing left to do.
            tx.stop_awaiting(id)?;
        }
        Step::Pack => {
            // A label printed with its waybill (booked at an aggregator) names the parcel now:
            // the courier's pickup event then ships it.
            if let Some(waybill) = ship.waybill.clone()
                && let Err(taken) = label(tx, id, waybill, ship)?
            {
                return Ok(Err(taken));
            }
            if row.method == PaymentMethod::Cod {
                // The units leave the shelf for the buyer who confirmed them.
                tx.end_holds(id, HoldState::Converted)?;
            }
        }
        Step::Ship => {
            let waybill = ship.waybill.clone().or(row.waybill.clone());
            let Some(waybill) = waybill else {
                return Ok(Err(OrderOpError::WaybillRequired));
            };
            if let Err(taken) = label(tx, id, waybill.clone(), ship)? {
                return Ok(Err(taken));
            }
            if row.method == PaymentMethod::Cod {
                tx.end_holds(id, HoldState::Converted)?;
            }
            reason = Some(
                EventReason::Shipped(format!(
                    "{waybill}{}",
                    ship.courier
                        .as_deref()
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default()
                ))
                .stored(),
            );
        }
        Step::Deliver => {
            if row.method == PaymentMethod::Cod && row.amount_paid < row.amount_due {
                // The courier collected the money at the door.
                let left = Money::from_stored(
                    row.amount_due.minor_units() - row.amount_paid.minor_units(),
                );
                tx.insert_payment(
                    id,
                    &NewPayment {
                        amount: left,
                        reference: Some("COD".to_owned()),
                        actor: actor.clone(),
                        recorded_at: now,
                        source: PaymentSource::Staff,
                        external_id: Some(format!("cod:{id}")),
                        exact_amount: true,
                    },
                )?;
                tx.set_amount_paid(id, row.amount_due, now)?;
                tx.credit_buyer(id, left)?;
                tx.count_paid(id)?;
            }
            let closes = messaging.settings.returns.closes_at(now);
            tx.insert_timers(id, &[PlannedTimer::at(TimerKind::Complete, closes)])?;
        }
        Step::Complete => {}
        Step::ReturnToSender => {
            tx.stop_awaiting(id)?;
            if return_cost.is_some() {
                tx.set_shipment(
                    id,
                    &Shipment {
                        return_cost,
                        ..Shipment::default()
                    },
                )?;
            }
            if row.method == PaymentMethod::Cod {
                tx.count_refused(id)?;
            }
        }
    }
    tx.mark_step(id, to, now)?;
    tx.insert_event(id, now, actor, Some(row.status), to, reason.as_deref())?;
    if step == Step::ReturnToSender {
        // The parcel's units are back on the shelf, for the buyers waiting for them first.
        let skus = tx.restock_sold_lines(id)?;
        crate::offers::offer_released(tx, &skus, now, messaging, seed)?;
    }
    let order = tx.order_for_message(id)?.expect("the order was just read");
    let message = match step {
        Step::Pack => Some(MessageKind::Packed),
        Step::Ship => Some(MessageKind::Shipped),
        Step::Deliver => Some(MessageKind::Delivered),
        Step::ConfirmCod | Step::Complete | Step::ReturnToSender => None,
    };
    if let Some(kind) = message {
        tx.enqueue(messaging, kind, &order, None, None, now)?;
    }
    if step == Step::Ship
        && let Some(waybill) = order.shipment.waybill.clone()
    {
        return apply_kept_events(tx, id, &waybill, now, messaging, seed);
    }
    Ok(Ok(Stepped { order, moved: true }))
}

/// Writes the parcel's courier, service, `waybill` and cost on order `id`, unless another order
/// has the waybill (then nothing is written).
fn label(
    tx: &mut Tx<'_>,
    id: OrderId,
    waybill: String,
    ship: &ShipInfo,
) -> TxResult<Result<(), OrderOpError>> {
    if let Some(other) = tx.order_by_waybill(&waybill)?
        && other != id
    {
        return Ok(Err(OrderOpError::WaybillTaken {
            waybill,
            order: other,
        }));
    }
    tx.set_shipment(
        id,
        &Shipment {
            courier: ship.courier.clone(),
            service: ship.service.clone(),
            waybill: Some(waybill),
            cost: ship.cost,
            ..Shipment::default()
        },
    )?;
    Ok(Ok(()))
}

/// Applies the courier's events that came for `waybill` before order `id` was shipped under it.
fn apply_kept_events(
    tx: &mut Tx<'_>,
    id: OrderId,
    waybill: &str,
    now: Timestamp,
    messaging: &Messaging,
    seed: u128,
) -> TxResult<Result<Stepped, OrderOpError>> {
    for (event, step, courier) in tx.kept_events_for(waybill)? {
        let step = step.as_deref().and_then(Step::parse);
        let outcome = match step {
            Some(step) if step != Step::Ship => {
                let actor = Actor::from_stored(format!(
                    "courier:{}",
                    courier.as_deref().unwrap_or("webhook")
                ));
                match take_step(
                    tx,
                    id,
                    step,
                    &ShipInfo::default(),
                    None,
                    &actor,
                    now,
                    messaging,
                    seed,
                )? {
                    Ok(Stepped { moved: true, .. }) => "applied",
                    _ => "unchanged",
                }
            }
            _ => "unchanged",
        };
        tx.set_event_outcome(event, id, outcome)?;
    }
    let order = tx.order_for_message(id)?.expect("the order was just read");
    Ok(Ok(Stepped { order, moved: true }))
}

/// A courier's event, read from its webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourierEvent {
    /// `biteship`, `kiriminaja` or `lunas` (the generic format).
    pub source: &'static str,
    /// The event's identity at its source: the same event delivered again has the same.
    pub key: String,
    pub waybill: String,
    /// The courier's own word for where the parcel is.
    pub status: String,
    /// What it means here, if anything.
    pub step: Option<Step>,
    pub courier: Option<String>,
    pub happened_at: Option<Timestamp>,
}

/// What a courier's event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CourierOutcome {
    /// The order took the event's step.
    Applied(OrderId),
    /// A repeat, a late event, or one that means no step: nothing changed.
    Unchanged(Option<OrderId>),
    /// No order has this waybill: the event is kept and applies when one is shipped under it.
    UnknownWaybill,
    /// The order had ended (cancelled, expired) or cannot take the step: kept for staff.
    OrderEnded(OrderId),
}

/// Applies a courier's event once: kept by its identity, its step taken by the order that has
/// its waybill.
pub(crate) fn apply_courier_event(
    tx: &mut Tx<'_>,
    event: &CourierEvent,
    now: Timestamp,
    messaging: &Messaging,
    seed: u128,
) -> TxResult<CourierOutcome> {
    // The order shipped under the waybill, its row locked and read once for the step.
    let found = tx.fulfilment_by_waybill(&event.waybill)?;
    let order = found.as_ref().map(|(id, _)| *id);
    let kept = CourierEventRow {
        source: event.source.to_owned(),
        event_key: event.key.clone(),
        waybill: event.waybill.clone(),
        status: event.status.clone(),
        step: event.step.map(|s| s.as_str().to_owned()),
        courier: event.courier.clone(),
        happened_at: event.happened_at,
    };
    // Kept first, as applied: an event seen before is not kept again and changes nothing (one
    // statement decides both); what it did is corrected below when it did something else.
    let provisional = if order.is_some() {
        "applied"
    } else {
        "unknown_waybill"
    };
    let Some(kept_id) = tx.insert_courier_event(&kept, order, provisional, now)? else {
        return Ok(CourierOutcome::Unchanged(order));
    };
    let Some((id, row)) = found else {
        return Ok(CourierOutcome::UnknownWaybill);
    };
    let outcome = match event.step {
        None => CourierOutcome::Unchanged(Some(id)),
        Some(step) => {
            let actor = Actor::from_stored(format!("courier:{}", event.source));
            match step_locked(
                tx,
                id,
                row,
                step,
                &ShipInfo {
                    courier: event.courier.clone(),
                    ..ShipInfo::default()
                },
                None,
                &actor,
                now,
                messaging,
                seed,
            )? {
                Ok(Stepped { moved: true, .. }) => CourierOutcome::Applied(id),
                Ok(Stepped { moved: false, .. }) => CourierOutcome::Unchanged(Some(id)),
                Err(_) => CourierOutcome::OrderEnded(id),
            }
        }
    };
    match outcome {
        CourierOutcome::Applied(_) => {}
        CourierOutcome::Unchanged(_) => tx.set_event_outcome(kept_id, id, "unchanged")?,
        CourierOutcome::OrderEnded(_) => tx.set_event_outcome(kept_id, id, "order_ended")?,
        CourierOutcome::UnknownWaybill => unreachable!("the order was found"),
    }
    Ok(outcome)
}

/// The COD confirmation timer of order `id` fired: an order still unconfirmed past its time is
/// cancelled, its holds released into the batch, counted against its buyer, who is told. Returns
/// `None` when another transaction holds the order, else whether it was cancelled.
pub(crate) fn cod_deadline(
    tx: &mut Tx<'_>,
    id: OrderId,
    now: Timestamp,
    messaging: &Messaging,
    changes: &mut lunas_store::BatchChanges,
) -> TxResult<Option<bool>> {
    let Some(row) = tx.fulfilment_for_timer(id)? else {
        return Ok(None);
    };
    if !lunas_core::fulfilment::cod_unconfirmed(row.status, row.confirm_by, now) {
        return Ok(Some(false));
    }
    tx.mark_cancelled(id, lunas_core::CancelledBy::Buyer, now)?;
    tx.stop_awaiting(id)?;
    tx.release_holds_into(id, changes)?;
    changes.count_unconfirmed(row.customer_id);
    tx.insert_event(
        id,
        now,
        &Actor::system(),
        Some(row.status),
        OrderStatus::Cancelled,
        Some(&EventReason::CodUnconfirmed.stored()),
    )?;
    let order = tx
        .order_for_message(id)?
        .ok_or_else(|| Tx::corrupt(format!("order {id} went as it was cancelled")))?;
    tx.enqueue(messaging, MessageKind::Cancelled, &order, None, None, now)?;
    Ok(Some(true))
}

/// The return window of delivered order `id` closed: it is completed, unless a return is being
/// handled (which completes it when it ends). `None` when another transaction holds the order.
pub(crate) fn window_closed(
    tx: &mut Tx<'_>,
    id: OrderId,
    now: Timestamp,
    messaging: &Messaging,
) -> TxResult<Option<()>> {
    let Some(row) = tx.fulfilment_for_timer(id)? else {
        return Ok(None);
    };
    if row.status != OrderStatus::Delivered || tx.has_open_return(id)? {
        return Ok(Some(()));
    }
    // The window as the settings say now: a longer one set since the delivery waits for it.
    if let Some(delivered) = row.delivered_at {
        let closes = messaging.settings.returns.closes_at(delivered);
        if closes > now {
            tx.insert_timers(id, &[PlannedTimer::at(TimerKind::Complete, closes)])?;
            return Ok(Some(()));
        }
    }
    tx.mark_step(id, OrderStatus::Completed, now)?;
    tx.insert_event(
        id,
        now,
        &Actor::system(),
        Some(row.status),
        OrderStatus::Completed,
        Some(&EventReason::ReturnWindowClosed.stored()),
    )?;
    Ok(Some(()))
}

impl Engine {
    /// Takes `step` on order `id` for `actor`.
    pub async fn step_order(
        &self,
        id: OrderId,
        step: Step,
        ship: ShipInfo,
        return_cost: Option<Money>,
        actor: Actor,
    ) -> Result<Stepped, Error> {
        let (now, messaging) = (self.now(), self.messaging());
        let seed: u128 = rand::random();
        let stepped = self
            .store
            .transact(move |tx| {
                take_step(
                    tx,
                    id,
                    step,
                    &ship,
                    return_cost,
                    &actor,
                    now,
                    &messaging,
                    seed,
                )
            })
            .await??;
        // The answer is the whole order, with its history, as committed.
        let order = self.store.order(id).await?.unwrap_or(stepped.order);
        Ok(Stepped { order, ..stepped })
    }

    /// Takes `step` on many orders, each in its own transaction (a bad one does not hold back
    /// the others): what each answered, in order.
    pub async fn step_orders(
        &self,
        steps: Vec<(OrderId, ShipInfo)>,
        step: Step,
        actor: Actor,
    ) -> Vec<(OrderId, Result<Stepped, Error>)> {
        let mut done = Vec::with_capacity(steps.len());
        for (id, ship) in steps {
            let result = self.step_order(id, step, ship, None, actor.clone()).await;
            done.push((id, result));
        }
        done
    }

    /// Applies a delivery's courier events in one transaction (a courier sends hundreds at a
    /// time; one commit for them all is what makes thousands a second). They are applied in
    /// waybill order — each waybill's events in the order they came — so two deliveries lock
    /// their orders in the same order.
    pub async fn courier_events(
        &self,
        events: Vec<CourierEvent>,
    ) -> Result<Vec<CourierOutcome>, Error> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let (now, messaging) = (self.now(), self.messaging());
        let seed: u128 = rand::random();
        let mut by_waybill: Vec<usize> = (0..events.len()).collect();
        by_waybill.sort_by(|a, b| events[*a].waybill.cmp(&events[*b].waybill));
        Ok(self
            .store
            .transact_always(move |tx| {
                let mut outcomes = vec![CourierOutcome::Unchanged(None); events.len()];
                for &i in &by_waybill {
                    outcomes[i] =
                        apply_courier_event(tx, &events[i], now, &messaging, seed ^ i as u128)?;
                }
                Ok(outcomes)
            })
            .await?)
    }

    /// The courier events kept for staff, newest first.
    pub async fn kept_courier_events(
        &self,
        limit: usize,
    ) -> Result<Vec<lunas_store::KeptCourierEvent>, Error> {
        Ok(self.store.kept_courier_events(limit).await?)
    }

    /// The signals staff see on order `order`'s buyer: other orders in the last day, parcels
    /// refused before, and the address's.
    pub async fn risk_signals(
        &self,
        order: &Order,
    ) -> Result<Vec<lunas_core::fulfilment::RiskSignal>, Error> {
        let since = order.placed_at - jiff::SignedDuration::from_hours(24);
        let (recent, refused) = self
            .store
            .buyer_signals(order.customer.phone.clone(), since)
            .await?;
        Ok(lunas_core::fulfilment::risk_signals(
            order.address.as_ref(),
            (recent - 1).max(0),
            refused,
        ))
    }
}
