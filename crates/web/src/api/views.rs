//! How domain values read in JSON. These shapes are the v1 contract: fields may be added, never
//! renamed.

use lunas_core::catalog::Product;
use lunas_core::outbox::Message;
use lunas_core::{Order, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

/// A product: stock on hand, units held by unpaid orders, and units available for sale.
#[derive(Serialize, ToSchema)]
#[schema(as = Product)]
pub(crate) struct ProductView {
    pub sku: String,
    pub name: String,
    pub price: i64,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    /// A tip shown with the product in messages.
    pub tips: Option<String>,
    /// The product this one is a variant of, or null.
    pub parent: Option<String>,
    /// The variant's label (`Hitam / L`), or null for a product that is not a variant.
    pub variant: Option<String>,
    /// Whether the price is the variant's own (false: it follows its product's).
    pub own_price: bool,
    /// How many variants the product has; a product with variants is ordered by their SKUs.
    pub variant_count: i64,
}

/// A product with its variants.
#[derive(Serialize, ToSchema)]
#[schema(as = ProductDetail)]
pub(crate) struct ProductDetailView {
    #[serde(flatten)]
    pub product: ProductView,
    /// The product's variants by SKU; absent when the product is itself a variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<ProductView>>,
}

impl From<Product> for ProductView {
    fn from(p: Product) -> ProductView {
        ProductView {
            sku: p.sku.as_str().to_owned(),
            name: p.name,
            price: p.price.minor_units(),
            on_hand: p.on_hand,
            reserved: p.reserved,
            available: p.available,
            tips: p.tips,
            parent: p.parent.map(|s| s.as_str().to_owned()),
            variant: p.variant,
            own_price: p.own_price,
            variant_count: p.variants,
        }
    }
}

/// An order with its items, payments and history of events.
#[derive(Serialize, ToSchema)]
#[schema(as = Order)]
pub(crate) struct OrderView {
    pub id: i64,
    /// The buyer's own page of the order (no sign-in; its link is the key): what to pay, time
    /// left, how to pay. Absolute, from `LUNAS_PUBLIC_URL`.
    pub public_url: Option<String>,
    #[schema(value_type = lunas_core::OrderStatus)]
    pub status: &'static str,
    /// ISO 4217, `IDR`.
    pub currency: &'static str,
    pub total: i64,
    /// What the buyer must pay: `total` plus (or minus) the unique code of a bank transfer.
    pub amount_due: i64,
    /// The unique code of a bank transfer, `null` for other methods.
    pub unique_code: Option<i64>,
    pub amount_paid: i64,
    /// What is left to pay: `amount_due - amount_paid`, never below zero.
    pub balance: i64,
    /// What was paid beyond `amount_due` (flagged for refund in the review list), 0 if nothing.
    pub overpaid: i64,
    /// The gateway's payment page made for this order, if any.
    pub payment_url: Option<String>,
    #[schema(value_type = lunas_core::PaymentMethod)]
    pub payment_method: &'static str,
    pub pay_by: Option<Timestamp>,
    pub placed_at: Timestamp,
    pub customer: CustomerView,
    pub items: Vec<ItemView>,
    pub payments: Vec<PaymentView>,
    pub events: Vec<EventView>,
    /// The deposit the buyer's band asked for (due by `pay_by` while `awaiting_payment`).
    pub deposit: Option<i64>,
    /// `kept` or `to_refund` when a paid deposit was forfeited.
    pub deposit_forfeited: Option<String>,
    /// The buyer's band and the policy that applied when the order was placed.
    pub policy: Option<lunas_core::reliability::AppliedPolicy>,
    /// What the items cost: `total` without `shipping_cost` and `discount`.
    pub items_total: i64,
    /// The shipping cost (`ongkir`), part of `total`.
    pub shipping_cost: i64,
    /// Taken off `total`.
    pub discount: i64,
    /// Where the parcel goes, `null` when the order does not ship.
    pub address: Option<lunas_core::shipping::Address>,
    /// What the store let go of `amount_due` when it took the order as paid (a transfer without
    /// its unique code, or a shortfall staff accepted); 0 if nothing.
    pub written_off: i64,
    /// The buyer's proofs of transfer sent from the order page: where the latest stands
    /// (`submitted`, waiting for staff on the review list; `confirmed`; `rejected`), when it was
    /// sent, and how many were sent. `null` when none was.
    pub proof: Option<lunas_core::proofs::OrderProof>,
    /// What the buyer wrote for the seller at the shop's checkout.
    pub note: Option<String>,
    /// The parcel after the payment: by when a COD buyer must confirm, the courier, service and
    /// waybill, what shipping and a return to sender cost, and when each step happened.
    pub shipment: lunas_core::fulfilment::Shipment,
    /// The courier's own tracking page for the waybill, for the couriers lunas knows.
    pub tracking_url: Option<String>,
    /// The latest return request, `null` when none was made.
    pub return_request: Option<lunas_core::returns::ReturnSummary>,
}

/// The buyer as the order names them.
#[derive(Serialize, ToSchema)]
#[schema(as = OrderCustomer)]
pub(crate) struct CustomerView {
    /// E.164, such as `+6281234567890`.
    pub phone: String,
    pub name: String,
    pub email: Option<String>,
    #[schema(value_type = Option<lunas_core::Honorific>)]
    pub honorific: Option<&'static str>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = OrderItem)]
pub(crate) struct ItemView {
    pub sku: String,
    pub name: String,
    pub unit_price: i64,
    pub qty: i64,
    pub subtotal: i64,
    #[schema(value_type = lunas_core::HoldState)]
    pub hold: &'static str,
}

#[derive(Serialize, ToSchema)]
#[schema(as = OrderPayment)]
pub(crate) struct PaymentView {
    pub amount: i64,
    pub reference: Option<String>,
    pub recorded_at: Timestamp,
    pub actor: String,
    #[schema(value_type = lunas_core::payments::PaymentSource)]
    pub source: &'static str,
    /// The gateway's transaction id or the statement line's fingerprint.
    pub external_id: Option<String>,
}

/// A step of the order's history.
#[derive(Serialize, ToSchema)]
#[schema(as = OrderEvent)]
pub(crate) struct EventView {
    pub at: Timestamp,
    pub actor: String,
    #[schema(value_type = Option<lunas_core::OrderStatus>)]
    pub from: Option<&'static str>,
    #[schema(value_type = lunas_core::OrderStatus)]
    pub to: &'static str,
    pub reason: Option<String>,
}

impl OrderView {
    pub fn new(order: Order, engine: &lunas_engine::Engine) -> OrderView {
        let currency = engine.settings().currency.code();
        let public_url = engine.public_url(&order);
        let total = order.total.minor_units();
        let amount_due = order.amount_due.minor_units();
        let amount_paid = order.amount_paid.minor_units();
        let items_total = order.items_total().minor_units();
        OrderView {
            public_url,
            items_total,
            shipping_cost: order.shipping_cost.minor_units(),
            discount: order.discount.minor_units(),
            address: order.address,
            written_off: order.written_off.minor_units(),
            proof: order.proof,
            note: order.note,
            tracking_url: order.shipment.tracking_url(),
            shipment: order.shipment,
            return_request: order.return_request,
            id: order.id.0,
            status: order.status.as_str(),
            currency,
            total,
            amount_due,
            unique_code: order.unique_code,
            amount_paid,
            balance: (amount_due - amount_paid - order.written_off.minor_units()).max(0),
            overpaid: (amount_paid - amount_due).max(0),
            payment_url: order.payment_url,
            payment_method: order.payment_method.as_str(),
            pay_by: order.pay_by,
            placed_at: order.placed_at,
            deposit: order.deposit.map(|d| d.minor_units()),
            deposit_forfeited: order.deposit_forfeited,
            policy: order.policy,
            customer: CustomerView {
                phone: order.customer.phone.as_str().to_owned(),
                name: order.customer.name,
                email: order.customer.email,
                honorific: order.customer.honorific.map(|h| h.as_str()),
            },
            items: order
                .items
                .into_iter()
                .map(|i| ItemView {
                    sku: i.sku.as_str().to_owned(),
                    name: i.name,
                    unit_price: i.unit_price.minor_units(),
                    qty: i.qty.units(),
                    subtotal: i.unit_price.minor_units() * i.qty.units(),
                    hold: i.hold.as_str(),
                })
                .collect(),
            payments: order
                .payments
                .into_iter()
                .map(|p| PaymentView {
                    amount: p.amount.minor_units(),
                    reference: p.reference,
                    recorded_at: p.recorded_at,
                    actor: p.actor.as_str().to_owned(),
                    source: p.source.as_str(),
                    external_id: p.external_id,
                })
                .collect(),
            events: order
                .events
                .into_iter()
                .map(|e| EventView {
                    at: e.at,
                    actor: e.actor.as_str().to_owned(),
                    from: e.from.map(|s| s.as_str()),
                    to: e.to.as_str(),
                    reason: e.reason,
                })
                .collect(),
        }
    }
}

/// A page of results with the cursor for the next page, `null` on the last one.
#[derive(Serialize, ToSchema)]
pub(crate) struct PageView<T, C> {
    pub items: Vec<T>,
    /// The `after` of the next page; `null` on the last one.
    #[schema(nullable)]
    pub next_after: Option<C>,
}

/// A message to a buyer, with its delivery.
#[derive(Serialize, ToSchema)]
#[schema(as = Message)]
pub(crate) struct MessageView {
    pub id: String,
    /// The order the message is about; `null` for an offer to a buyer on a waitlist.
    pub order_id: Option<i64>,
    #[schema(value_type = lunas_core::messages::Channel)]
    pub channel: &'static str,
    #[schema(value_type = lunas_core::messages::MessageKind)]
    pub kind: &'static str,
    #[schema(value_type = lunas_core::outbox::MessageStatus)]
    pub status: &'static str,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub to: String,
    pub subject: Option<String>,
    pub body: String,
    /// For the manual WhatsApp queue: `https://wa.me/<phone>?text=<message>`.
    pub link: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub sent_by: Option<String>,
    /// For WhatsApp: `text` or `template`, once sent.
    pub variant: Option<String>,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> MessageView {
        MessageView {
            id: m.id.to_string(),
            order_id: m.order_id.map(|o| o.0),
            channel: m.channel.as_str(),
            kind: m.kind.as_str(),
            status: m.status.as_str(),
            attempts: m.attempts,
            last_error: m.last_error,
            to: m.recipient,
            subject: m.subject,
            body: m.body,
            link: m.link,
            created_at: m.created_at,
            sent_at: m.sent_at,
            sent_by: m.sent_by,
            variant: m.variant,
        }
    }
}

/// An entry of the payments review list.
#[derive(Serialize, ToSchema)]
#[schema(as = Review)]
pub(crate) struct ReviewView {
    pub id: i64,
    pub created_at: Timestamp,
    #[schema(value_type = lunas_core::ledger::ReviewKind)]
    pub kind: &'static str,
    /// Where the money came from: `statement`, `mutation`, `midtrans`, `xendit` or `staff`.
    pub source: &'static str,
    pub external_id: Option<String>,
    pub order_id: Option<i64>,
    pub amount: i64,
    /// Whether staff can assign the money to an order (it is on none yet).
    pub assignable: bool,
    /// What the source said, as it said it.
    pub detail: serde_json::Value,
    /// `open` or `resolved`.
    #[schema(value_type = ReviewStatus)]
    pub status: &'static str,
    pub resolved_at: Option<Timestamp>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
}

impl From<lunas_core::ledger::Review> for ReviewView {
    fn from(r: lunas_core::ledger::Review) -> ReviewView {
        ReviewView {
            id: r.id,
            created_at: r.created_at,
            kind: r.kind.as_str(),
            source: r.source.as_str(),
            external_id: r.external_id,
            order_id: r.order_id.map(|o| o.0),
            amount: r.amount,
            assignable: r.kind.money_unapplied() && r.resolved.is_none(),
            detail: r.detail,
            status: if r.resolved.is_some() {
                "resolved"
            } else {
                "open"
            },
            resolved_at: r.resolved.as_ref().map(|x| x.at),
            resolved_by: r.resolved.as_ref().map(|x| x.by.clone()),
            resolution: r.resolved.map(|x| x.note),
        }
    }
}

/// Whether a review item still waits for staff.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Names the two values `ReviewView::status` takes.
pub(crate) enum ReviewStatus {
    Open,
    Resolved,
}
