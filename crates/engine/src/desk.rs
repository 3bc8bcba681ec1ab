//! What the dashboard's Today page and order search read: one call per page, so the web layer
//! never reaches the store itself.

use jiff::SignedDuration;
use lunas_core::ledger::Review;
use lunas_core::outbox::Message;
use lunas_core::queries::{DeskCounts, OrderQuery, Page, Releasing, Sales};
use lunas_core::{Order, Timestamp};

use crate::{Engine, Error};

/// Everything Today shows, each list at most `len` long.
#[derive(Debug, Clone)]
pub struct Today {
    pub now: Timestamp,
    pub counts: DeskCounts,
    /// The day's and the month's sales so far, in the store's time zone.
    pub sales: Sales,
    /// Orders whose hold is released within the window asked for, soonest first.
    pub releasing: Vec<Releasing>,
    /// Orders with a reminder due within the window asked for, soonest first.
    pub reminders: Vec<Releasing>,
    /// WhatsApp messages waiting for staff to send them by hand, oldest first.
    pub queue: Vec<Message>,
    /// Payments waiting for a decision, oldest first.
    pub reviews: Vec<Review>,
    /// The newest orders.
    pub recent: Vec<Order>,
}

impl Engine {
    /// Today's lists, read concurrently: holds released within `releasing_within`, reminders due
    /// within `reminders_within`, and at most `len` of each.
    pub async fn today(
        &self,
        releasing_within: SignedDuration,
        reminders_within: SignedDuration,
        len: usize,
    ) -> Result<Today, Error> {
        let now = self.now();
        let store = &self.store;
        let (day, month) =
            lunas_core::queries::day_and_month_start(now, &self.settings().time_zone());
        let (counts, sales, releasing, reminders, queue, reviews, recent) = tokio::try_join!(
            async { Ok::<_, Error>(store.desk_counts().await?) },
            async { Ok(store.sales(day, month).await?) },
            async { Ok(store.releasing_before(now + releasing_within, len).await?) },
            async { Ok(store.reminders_before(now + reminders_within, len).await?) },
            self.manual_queue(len),
            self.reviews(false, 0, len),
            async {
                Ok(store
                    .orders(
                        None,
                        Page {
                            after: None,
                            limit: len,
                        },
                    )
                    .await?)
            },
        )?;
        Ok(Today {
            now,
            counts,
            sales,
            releasing,
            reminders,
            queue,
            reviews,
            recent,
        })
    }

    /// The orders placed from `from` up to `to`, oldest first, for an export; refused when there
    /// are more than one export holds.
    pub async fn export_orders(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Order>, Error> {
        let max = lunas_core::export::EXPORT_ORDERS_MAX;
        let orders = self.store.orders_placed_between(from, to, max + 1).await?;
        if orders.len() > max {
            return Err(Error::ExportTooLarge { max });
        }
        Ok(orders)
    }

    /// The orders in each status and what waits for staff (the review list, the manual queue).
    pub async fn desk_counts(&self) -> Result<DeskCounts, Error> {
        Ok(self.store.desk_counts().await?)
    }

    /// Orders matching a search (a number, a phone number or part of a name), newest first.
    pub async fn search_orders(&self, query: OrderQuery) -> Result<Vec<Order>, Error> {
        Ok(self.store.search_orders(query).await?)
    }
}
