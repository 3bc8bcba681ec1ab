//! The shop's cart, held in the buyer's browser as one cookie (`lunas_cart`, only for `/shop`):
//! SKUs and quantities, written as a query string (`GAMIS-01=1&KAOS-OVS-L=2`). It holds no price
//! and no promise: every page reads the catalogue again, and the checkout places the order by the
//! catalogue as it is then. A cookie that does not read, or names what is not a SKU, gives an
//! empty cart or loses those lines; it can never make an order the buyer did not see.

use axum::http::{HeaderMap, HeaderValue, header};
use lunas_core::Sku;

/// The cookie's name.
pub(crate) const COOKIE: &str = "lunas_cart";
/// Most lines a cart holds, and most units of one line.
pub(crate) const LINES_MAX: usize = 20;
pub(crate) const QTY_MAX: i64 = 99;
/// How long a cart is kept: a week.
const MAX_AGE_SECONDS: i64 = 7 * 86_400;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cart {
    pub(crate) lines: Vec<(Sku, i64)>,
}

impl Cart {
    /// The cart the request's cookie holds.
    pub(crate) fn read(headers: &HeaderMap) -> Cart {
        let raw = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .map(|(_, value)| value.to_owned())
            .unwrap_or_default();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&raw).unwrap_or_default();
        let mut cart = Cart::default();
        for (sku, qty) in pairs {
            if let (Ok(sku), Ok(qty)) = (Sku::parse(&sku), qty.parse::<i64>()) {
                cart.set(sku, qty);
            }
        }
        cart
    }

    /// Sets a line's quantity (0 removes it); quantities are kept within 1 to `QTY_MAX`, and a
    /// full cart takes no new line.
    pub(crate) fn set(&mut self, sku: Sku, qty: i64) {
        match self.lines.iter().position(|(s, _)| *s == sku) {
            Some(at) if qty <= 0 => {
                self.lines.remove(at);
            }
            Some(at) => self.lines[at].1 = qty.min(QTY_MAX),
            None if qty > 0 && self.lines.len() < LINES_MAX => {
                self.lines.push((sku, qty.min(QTY_MAX)));
            }
            None => {}
        }
    }

    /// The `Set-Cookie` header that keeps this cart (or forgets it when empty).
    pub(crate) fn cookie(&self, secure: bool) -> HeaderValue {
        let value = serde_urlencoded::to_string(
            self.lines
                .iter()
                .map(|(sku, qty)| (sku.as_str(), qty.to_string()))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default();
        let age = if self.lines.is_empty() {
            0
        } else {
            MAX_AGE_SECONDS
        };
        let secure = if secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{COOKIE}={value}; Path=/shop; Max-Age={age}; HttpOnly; SameSite=Lax{secure}"
        ))
        .expect("SKUs and digits make a valid cookie")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    }

    #[test]
    fn a_cart_reads_back_what_it_wrote_and_nothing_else() {
        let mut cart = Cart::default();
        cart.set(Sku::parse("GAMIS-01").unwrap(), 2);
        cart.set(Sku::parse("KAOS.L").unwrap(), 500);
        let cookie = cart.cookie(false);
        let value = cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        assert_eq!(value, "lunas_cart=GAMIS-01=2&KAOS.L=99");
        assert_eq!(Cart::read(&headers(&format!("a=b; {value}"))), cart);
        // Whatever a cookie says, only SKUs with quantities come out.
        let forged = Cart::read(&headers(
            "lunas_cart=%3Cscript%3E=1&GAMIS-01=-4&X=abc&KAOS.L=3",
        ));
        assert_eq!(forged.lines, [(Sku::parse("KAOS.L").unwrap(), 3)]);
        assert!(Cart::read(&headers("lunas_cart=%%%")).lines.is_empty());
        cart.set(Sku::parse("GAMIS-01").unwrap(), 0);
        assert_eq!(cart.lines.len(), 1);
    }

    #[test]
    fn a_full_cart_takes_no_new_line() {
        let mut cart = Cart::default();
        for n in 0..LINES_MAX + 5 {
            cart.set(Sku::parse(&format!("SKU-{n}")).unwrap(), 1);
        }
        assert_eq!(cart.lines.len(), LINES_MAX);
    }
}
