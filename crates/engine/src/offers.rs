//! Offers to the waitlist, each in the transaction of its cause: units that come back on sale (an
//! order expired or was cancelled, staff raised the stock) go first to the buyers in line, one
//! each, held for them for the store's offer window (`shop.waitlist_offer`), with a message
//! carrying the claim link (WhatsApp when the store sends it automatically, else the manual
//! WhatsApp queue).

use lunas_core::messages::{Language, format_deadline};
use lunas_core::placing::Messaging;
use lunas_core::waitlist::{
    OfferBuyer, OfferContext, OfferProduct, OfferStore, OfferTerms, claim_link,
};
use lunas_core::{Sku, Timestamp};
use lunas_store::{Tx, TxResult};
use sha2::{Digest, Sha256};

/// The claim token of waitlist entry `id`: 128 bits from the sweep's random `seed` and the entry,
/// so that a transaction run again makes the same tokens.
fn claim_token(seed: u128, id: i64) -> String {
    let digest = Sha256::digest(format!("{seed:032x}:{id}"));
    hex::encode(&digest[..16])
}

/// Offers the available units of `skus` to the buyers first in line for them (product rows
/// locked in SKU order). Answers how many offers were made.
pub(crate) fn offer_released(
    tx: &mut Tx<'_>,
    skus: &[Sku],
    now: Timestamp,
    messaging: &Messaging,
    seed: u128,
) -> TxResult<usize> {
    let mut skus = skus.to_vec();
    skus.sort();
    skus.dedup();
    let settings = &messaging.settings;
    let until = now + settings.shop.waitlist_offer.as_duration();
    let tz = settings.time_zone();
    // WhatsApp through the Cloud API when the server has it and the store wants it (its channel
    // keeps the 24-hour rule and falls back to the manual queue); else the manual queue.
    let channel = if messaging.whatsapp_available && settings.channels.whatsapp {
        lunas_core::messages::Channel::Whatsapp
    } else {
        lunas_core::messages::Channel::ManualWhatsapp
    };
    let mut offered = 0;
    for sku in &skus {
        for next in tx.next_in_line(sku)? {
            let token = claim_token(seed, next.id);
            let first_name = next
                .name
                .as_deref()
                .and_then(|n| n.split_whitespace().next())
                .unwrap_or("");
            let (greeting, you) = match settings.language {
                Language::Indonesian => (format!("Kak {first_name}"), "Kakak"),
                Language::English => (first_name.to_owned(), "you"),
            };
            let context = OfferContext {
                buyer: OfferBuyer {
                    greeting: greeting.trim().to_owned(),
                    you: you.to_owned(),
                },
                store: OfferStore {
                    name: settings.store_name.clone(),
                },
                product: OfferProduct { name: next.product },
                offer: OfferTerms {
                    until: format_deadline(until, &tz, settings.language),
                    link: claim_link(&messaging.public_base, &token),
                },
            };
            let body = messaging
                .composer
                .render_offer(&context)
                .map_err(|e| Tx::corrupt(format!("the offer's message: {e}")))?;
            let message = (next.phone.as_str(), body.as_str());
            tx.make_offer(next.id, sku, until, &token, channel, message, now)?;
            offered += 1;
        }
    }
    Ok(offered)
}
