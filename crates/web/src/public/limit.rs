//! A per-address request budget for the buyer's pages: so many requests per minute from one
//! address, counted in fixed one-minute windows. Kept in memory (each process counts its own);
//! the table is emptied of past windows when it grows, so a flood from many addresses costs
//! bounded memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Requests one address may make to the buyer's pages in a minute.
pub(crate) const PER_MINUTE: u32 = 60;

/// Addresses counted before the table is pruned of past windows.
const ADDRESSES_MAX: usize = 50_000;

pub(crate) struct Limiter {
    per_minute: u32,
    seen: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl Limiter {
    pub(crate) fn new(per_minute: u32) -> Limiter {
        Limiter {
            per_minute,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request from `address` at `now_ms`; false when the address is over its budget
    /// for this minute.
    pub(crate) fn allow(&self, address: IpAddr, now_ms: i64) -> bool {
        let window = now_ms.div_euclid(60_000);
        let mut seen = self.seen.lock().expect("limiter lock");
        if seen.len() >= ADDRESSES_MAX && !seen.contains_key(&address) {
            seen.retain(|_, (w, _)| *w == window);
            if seen.len() >= ADDRESSES_MAX {
                // Every entry is of this minute: a flood from many addresses. Refuse newcomers
                // until the minute turns rather than grow without bound.
                return false;
            }
        }
        let entry = seen.entry(address).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_budget_each_minute_and_others_are_not_touched() {
        let limiter = Limiter::new(3);
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.8".parse().unwrap();
        let results: Vec<bool> = (0..4).map(|_| limiter.allow(a, 1_000)).collect();
        assert_eq!(results, [true, true, true, false]);
        assert!(
            limiter.allow(b, 1_000),
            "another address has its own budget"
        );
        assert!(limiter.allow(a, 61_000), "a new minute, a new budget");
    }
}
