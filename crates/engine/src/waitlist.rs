//! The waitlist's offers over time: an offer that passes unclaimed moves its unit to the next in
//! line (the scheduler's sweep), and a claim places the buyer's order with the unit the offer
//! held, in one transaction. Making offers is `offers.rs`.

use lunas_core::placing::{Messaging, NewOrderLine, PlaceError};
use lunas_core::waitlist::WaitStatus;
use lunas_core::{Actor, CustomerInfo, Order, PaymentMethod, Quantity, Timestamp};
use lunas_store::{OfferRow, Tx, TxResult};

use crate::{Engine, Error};

/// Offers that lapsed, handled per sweep.
const LAPSES_PER_SWEEP: usize = 100;

/// Offers that passed unclaimed: each unit goes to the next in line.
fn lapse(tx: &mut Tx<'_>, now: Timestamp, messaging: &Messaging, seed: u128) -> TxResult<usize> {
    let lapsed = tx.lapsed_offers(now, LAPSES_PER_SWEEP)?;
    let mut skus = Vec::with_capacity(lapsed.len());
    for (id, sku) in &lapsed {
        tx.end_offer(*id, sku, WaitStatus::Lapsed, None, now)?;
        skus.push(sku.clone());
    }
    crate::offers::offer_released(tx, &skus, now, messaging, seed)?;
    Ok(lapsed.len())
}

/// Why an offer's claim places nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("no such offer")]
    NotFound,
    #[error("the offer passed, or was claimed")]
    Over,
    #[error(transparent)]
    Refused(PlaceError),
}

/// Claims the offer `token` names: its unit stops being held for the offer and is held by the
/// buyer's new order instead, in one transaction; a placement the store refuses (the buyer's
/// band) writes nothing, and the offer stays until it lapses.
fn claim(
    tx: &mut Tx<'_>,
    token: &str,
    new: &lunas_core::placing::NewOrder,
    random: u64,
) -> TxResult<Result<Order, ClaimError>> {
    let Some(offer) = tx.offer_by_token(token)? else {
        return Ok(Err(ClaimError::NotFound));
    };
    let open = offer.status == WaitStatus::Offered
        && offer.offer_until.is_some_and(|until| new.placed_at < until)
        && offer.phone == new.customer.phone;
    if !open {
        return Ok(Err(ClaimError::Over));
    }
    tx.end_offer(
        offer.id,
        &offer.sku,
        WaitStatus::Claimed,
        None,
        new.placed_at,
    )?;
    match crate::placing::place(tx, new, random)? {
        Ok(placed) => {
            tx.offer_claimed_by(offer.id, placed.order.id)?;
            Ok(Ok(placed.order))
        }
        Err(refused) => Ok(Err(ClaimError::Refused(refused))),
    }
}

impl Engine {
    /// The offer a claim link names, for its page.
    pub async fn offer(&self, token: &str) -> Result<Option<OfferRow>, Error> {
        let token: String = token.chars().take(crate::pages::TOKEN_LEN_MAX).collect();
        Ok(self.store.offer_by_token(token).await?)
    }

    /// Claims the offer a claim link names for its buyer: their order of one unit, paid by
    /// `method`, with the store's deadline; the unit the offer held becomes the order's hold.
    pub async fn claim_offer(&self, token: &str, method: PaymentMethod) -> Result<Order, Error> {
        let token: String = token.chars().take(crate::pages::TOKEN_LEN_MAX).collect();
        let offer = self
            .store
            .offer_by_token(token.clone())
            .await?
            .ok_or(ClaimError::NotFound)?;
        let placed_at = self.now();
        let new = lunas_core::placing::NewOrder {
            customer: CustomerInfo {
                phone: offer.phone.clone(),
                name: offer.name.clone().unwrap_or_else(|| "Pembeli".to_owned()),
                email: None,
                honorific: None,
            },
            lines: vec![NewOrderLine {
                sku: offer.sku.clone(),
                qty: Quantity::new(1).expect("one unit is a quantity"),
            }],
            address: None,
            charges: Default::default(),
            payment_method: method,
            pay_within: None,
            placed_at,
            actor: Actor::from_stored("waitlist".to_owned()),
            idempotency: None,
            messaging: self.messaging(),
            base_rate: self.base_rate().await?,
            phone_hmac: self.phone_hmac(&offer.phone).await?,
            public_token: crate::pages::new_token(placed_at),
            note: None,
        };
        let random: u64 = rand::random();
        let order = self
            .store
            .transact(move |tx| claim(tx, &token, &new, random))
            .await??;
        self.wake_for(&order);
        Ok(order)
    }

    /// Moves the units of offers that passed unclaimed to the next buyers in line.
    pub(crate) async fn lapse_offers(
        &self,
        now: Timestamp,
    ) -> Result<usize, lunas_store::StoreError> {
        // Every tick asks; a read answers the usual "none" without a write transaction.
        if !self.store.has_lapsed_offers(now).await? {
            return Ok(0);
        }
        let messaging = self.messaging();
        let seed: u128 = rand::random();
        self.store
            .transact_always(move |tx| lapse(tx, now, &messaging, seed))
            .await
    }
}
