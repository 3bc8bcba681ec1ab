//! The buyer's side: each order's own page behind an unguessable token, and the absolute link to
//! it that the order's JSON and every message to the buyer carry.

use std::sync::Arc;

use lunas_core::Order;

use crate::{Engine, Error};

/// Where buyers reach this server when nothing says otherwise (`LUNAS_PUBLIC_URL` does).
pub(crate) const PUBLIC_BASE_DEFAULT: &str = "http://127.0.0.1:8080";

/// Longest token looked up; anything longer is not one of ours and is answered as unknown.
pub(crate) const TOKEN_LEN_MAX: usize = 64;

/// A new order page's token, in hex: the placement's second (8 digits), then 128 random bits.
/// The time in front makes tokens of new orders sort after the ones before, so the index of
/// tokens grows at its end, as an id's does, instead of taking a write at a random page for every
/// order; the 128 random bits are what no one can guess.
pub(crate) fn new_token(placed_at: lunas_core::Timestamp) -> String {
    let second = placed_at.as_second() as u32;
    format!("{second:08x}{:032x}", rand::random::<u128>())
}

impl Engine {
    /// Sets where buyers reach this server (`https://toko.example`, no trailing slash needed):
    /// the base of every order page's link.
    pub fn with_public_base(self, base: &str) -> Engine {
        self.messaging.write().expect("settings lock").public_base =
            Arc::from(base.trim_end_matches('/'));
        self
    }

    /// The absolute link to the shop's catalogue (`…/shop`), for the seller to share.
    pub fn shop_url(&self) -> String {
        format!("{}/shop", self.messaging().public_base)
    }

    /// The absolute link to `order`'s page, if it has one.
    pub fn public_url(&self, order: &Order) -> Option<String> {
        let base = self.messaging().public_base;
        lunas_core::messages::order_link(&base, order)
    }

    /// How many orders of the buyer with this number still await payment (the shop's cap).
    pub async fn open_orders_of(&self, phone: &lunas_core::Phone) -> Result<i64, Error> {
        Ok(self.store.open_orders_of(phone.clone()).await?)
    }

    /// The order whose page `token` opens. Whatever the token looks like, the answer takes one
    /// lookup: a malformed token is looked up as an unknown one, so neither its shape nor its
    /// timing tells anything.
    pub async fn order_by_token(&self, token: &str) -> Result<Option<Order>, Error> {
        let token: String = token.chars().take(TOKEN_LEN_MAX).collect();
        Ok(self.store.order_by_token(token).await?)
    }
}

impl Engine {
    /// Puts a number in line for a sold-out product (or variant): `decide_join` says whether the
    /// product takes waiting buyers; a number already in line keeps its place.
    pub async fn join_waitlist(
        &self,
        sku: lunas_core::Sku,
        phone: lunas_core::Phone,
        name: Option<String>,
    ) -> Result<lunas_core::waitlist::WaitlistEntry, Error> {
        let now = self.now();
        Ok(self.store.join_waitlist(sku, phone, name, now).await??)
    }

    /// A product's waitlist: those in line in their order, then past entries, newest first.
    pub async fn waitlist(
        &self,
        sku: lunas_core::Sku,
    ) -> Result<Vec<lunas_core::waitlist::WaitlistEntry>, Error> {
        Ok(self.store.waitlist(sku).await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_sort_by_time_and_carry_128_random_bits() {
        let at = |s: i64| lunas_core::Timestamp::from_second(s).unwrap();
        let (a, b) = (
            super::new_token(at(1_780_000_000)),
            super::new_token(at(1_780_000_001)),
        );
        assert_eq!((a.len(), b.len()), (40, 40));
        assert!(a < b, "a later order's token sorts after");
        assert_ne!(a[8..], super::new_token(at(1_780_000_000))[8..]);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
