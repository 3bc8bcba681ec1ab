//! Placing an order, one transaction through `Tx`: the buyer judged by their standing and the
//! band's policy applied by `lunas_core::placing::decide_placement`, the stock held, the order
//! written with its deadline, timers and unique code, its first message beside it. Refused at any
//! step, nothing is written. The pieces are shared with `batches`, which places many at once on
//! PostgreSQL.

use lunas_core::customers::Standing;
use lunas_core::messages::MessageKind;
use lunas_core::placing::{
    NewOrder, NewOrderLine, PlaceError, Placed, Placement, decide_placement,
};
use lunas_core::reliability::AppliedPolicy;
use lunas_core::{CustomerInfo, Money, Order, OrderEvent, OrderItem, OrderStatus};
use lunas_store::{Held, InsertedOrder, OrderHead, Tx, TxResult};

/// Places `new` in `tx`. `random` draws the first unique code to try; a transaction that runs
/// again draws the same.
pub(crate) fn place(
    tx: &mut Tx<'_>,
    new: &NewOrder,
    random: u64,
) -> TxResult<Result<Placed, PlaceError>> {
    if let Some(key) = &new.idempotency
        && let Some((request_hash, order)) = tx.seen_idempotency_key(key)?
    {
        if request_hash != key.request_hash {
            return Ok(Err(PlaceError::IdempotencyKeyReused));
        }
        return Ok(Ok(Placed {
            order,
            replayed: true,
        }));
    }

    // The buyer's band decides what this order may be, read in this transaction so that the
    // decision and the order are one.
    let (own, erased) = tx.standings(&new.customer.phone, &new.phone_hmac)?;
    let placement = match decide(tx, new, own.as_ref(), erased.as_ref())? {
        Ok(placement) => placement,
        Err(refused) => return Ok(Err(refused)),
    };
    let Held {
        items,
        tips,
        total: items_total,
    } = match tx.hold_stock(&new.lines, new.charges)? {
        Ok(held) => held,
        Err(refused) => return Ok(Err(refused)),
    };
    let total = total_with_charges(new, items_total)?;
    let policy = placement.policy(total);
    let (customer_id, customer) = tx.upsert_buyer(&new.customer, new.placed_at)?;
    let inserted = tx.insert_order(
        &head(new, &placement, &policy, customer_id, total, random),
        &new.messaging.settings.payments.unique_code,
        &items,
        &placement.timers,
    )?;
    let order = new_order(new, &placement, policy, customer, items, total, &inserted);
    if let Some(key) = &new.idempotency {
        tx.remember_idempotency_key(key, &order, new.placed_at)?;
    }
    // The products' tips were read with their stock, and on PostgreSQL the webhook endpoints
    // with the order's rows; no need to read them again.
    tx.enqueue(
        &new.messaging,
        first_message(order.status),
        &order,
        Some(tips),
        inserted.webhooks,
        new.placed_at,
    )?;
    Ok(Ok(Placed {
        order,
        replayed: false,
    }))
}

/// What the buyer's standing (`own`, and `erased`: what an earlier erasure of the number left)
/// and the band's policy make of `new`, reading what the policy needs besides.
pub(crate) fn decide(
    tx: &mut Tx<'_>,
    new: &NewOrder,
    own: Option<&Standing>,
    erased: Option<&Standing>,
) -> TxResult<Result<Placement, PlaceError>> {
    let settings = &new.messaging.settings;
    // What the number said in chat: read only when the policy reads it.
    let chat = if settings.risk.watch_tire_kickers {
        tx.chat_counts(&new.customer.phone)?
    } else {
        None
    };
    let assessment = lunas_core::customers::judge(
        own,
        erased,
        chat.as_ref(),
        new.placed_at,
        new.base_rate,
        settings,
    );
    let units = new.lines.iter().map(|line| line.qty.units()).sum();
    // COD parcels this number refused at the door lately: read only for a COD order.
    let cod_refusals = if new.payment_method == lunas_core::PaymentMethod::Cod {
        let since = settings.fulfilment.refusals_since(new.placed_at);
        tx.cod_refusals_since(&new.customer.phone, since)?
    } else {
        0
    };
    Ok(decide_placement(
        settings,
        assessment,
        new.payment_method,
        new.pay_within,
        units,
        new.placed_at,
        cod_refusals,
    )
    .map_err(PlaceError::Policy))
}

/// The total the buyer pays: the items' with the shipping cost and the discount (a discount
/// that leaves nothing to pay was refused before the stock was held).
pub(crate) fn total_with_charges(new: &NewOrder, items_total: Money) -> TxResult<Money> {
    new.charges
        .total(items_total)
        .ok_or_else(|| Tx::corrupt("a discount above the total passed the hold".to_owned()))
}

/// The head of `new`'s order. A bank transfer's unique code: a random amount of the store's
/// range (from `random`), so that a statement line names this order; the store finds a free one
/// when it is taken.
pub(crate) fn head<'a>(
    new: &'a NewOrder,
    placement: &Placement,
    policy: &'a AppliedPolicy,
    customer_id: i64,
    total: Money,
    random: u64,
) -> OrderHead<'a> {
    let codes = &new.messaging.settings.payments.unique_code;
    OrderHead {
        customer_id,
        payment_method: new.payment_method,
        total,
        pay_by: placement.pay_by,
        placed_at: new.placed_at,
        actor: &new.actor,
        policy,
        first_amount: placement
            .unique_code
            .then(|| lunas_core::payments::random_amount(total, codes, random))
            .flatten(),
        address: new.address.as_ref(),
        charges: new.charges,
        public_token: &new.public_token,
        note: new.note.as_deref(),
        status: placement.status,
        confirm_by: placement.confirm_by,
    }
}

/// `new`'s order as written: its first event, nothing paid yet.
pub(crate) fn new_order(
    new: &NewOrder,
    placement: &Placement,
    policy: AppliedPolicy,
    customer: CustomerInfo,
    items: Vec<OrderItem>,
    total: Money,
    inserted: &InsertedOrder,
) -> Order {
    let status = placement.status;
    Order {
        id: inserted.id,
        status,
        customer,
        items,
        total,
        amount_due: inserted.amount_due,
        unique_code: inserted.unique_code,
        payment_url: None,
        amount_paid: Money::ZERO,
        payment_method: new.payment_method,
        pay_by: placement.pay_by,
        placed_at: new.placed_at,
        payments: Vec::new(),
        events: vec![OrderEvent {
            at: new.placed_at,
            actor: new.actor.clone(),
            from: None,
            to: status,
            reason: None,
        }],
        deposit: policy.deposit,
        deposit_forfeited: None,
        policy: Some(policy),
        address: new.address.clone(),
        shipping_cost: new.charges.shipping_cost,
        discount: new.charges.discount,
        written_off: Money::ZERO,
        public_token: Some(new.public_token.clone()),
        proof: None,
        note: new.note.clone(),
        shipment: lunas_core::fulfilment::Shipment {
            confirm_by: placement.confirm_by,
            ..Default::default()
        },
        return_request: None,
    }
}

/// A new order's first message: a COD order's asks its buyer to confirm it.
pub(crate) fn first_message(status: OrderStatus) -> MessageKind {
    if status == OrderStatus::AwaitingConfirmation {
        MessageKind::CodConfirm
    } else {
        MessageKind::OrderReceived
    }
}

/// A one-line placement refused for a SKU with nothing left at all: the SKU is remembered as
/// sold out (from `mark`, so that stock freed since is not forgotten).
pub(crate) fn remember_sold_out(store: &lunas_store::Store, refused: &PlaceError, mark: u64) {
    if let PlaceError::OutOfStock { sku, available, .. } = refused
        && *available <= 0
    {
        store.note_sold_out(sku, mark);
    }
}

pub(crate) fn out_of_stock(line: &NewOrderLine) -> PlaceError {
    PlaceError::OutOfStock {
        sku: line.sku.clone(),
        requested: line.qty.units(),
        available: 0,
    }
}
