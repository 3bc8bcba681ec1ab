//! The buyer's side: each order's own page behind an unguessable token, and the absolute link to
//! it that the order's JSON and every message to the buyer carry.

use std::sync::Arc;

use lunas_core::Order;

use crate::{Engine, Error};

/// Where buyers reach this server when nothing says otherwise (`LUNAS_PUBLIC_URL` does).
pub(crate) const PUBLIC_BASE_DEFAULT: &str = "http://127.0.0.1:8080";

/// Longest token looked up; anything longer is not one of ours and is answered as unknown.
const TOKEN_LEN_MAX: usize = 64;

/// A new order page's token: 128 random bits from the operating system's generator, in hex.
pub(crate) fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl Engine {
    /// Sets where buyers reach this server (`https://toko.example`, no trailing slash needed):
    /// the base of every order page's link.
    pub fn with_public_base(self, base: &str) -> Engine {
        self.messaging.write().expect("settings lock").public_base =
            Arc::from(base.trim_end_matches('/'));
        self
    }

    /// The absolute link to `order`'s page, if it has one.
    pub fn public_url(&self, order: &Order) -> Option<String> {
        let base = self.messaging().public_base;
        lunas_core::messages::order_link(&base, order)
    }

    /// The order whose page `token` opens. Whatever the token looks like, the answer takes one
    /// lookup: a malformed token is looked up as an unknown one, so neither its shape nor its
    /// timing tells anything.
    pub async fn order_by_token(&self, token: &str) -> Result<Option<Order>, Error> {
        let token: String = token.chars().take(TOKEN_LEN_MAX).collect();
        let Some(id) = self.store.order_id_by_token(token).await? else {
            return Ok(None);
        };
        Ok(self.store.order(id).await?)
    }
}
