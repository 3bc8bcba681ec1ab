//! Buyers: the messaging preferences kept per phone number, inbound WhatsApp messages, and
//! the reliability record — profiles, pins, notes and tags, the base rate, and rebuilding the
//! counters from the orders.

use lunas_core::{OrderStatus, Phone, Timestamp};

use crate::repo::*;
use crate::sql::{Db, DbResult, Row, corrupt, params};
use lunas_core::customers::{CustomerNotFound, CustomerProfile};
use lunas_core::outbox::InboundMessage;
use lunas_core::reliability::{Band, BaseRate, HISTORY_LEN, Outcome, PastOrder, Pin, Record};

pub(crate) fn set_no_reminders(
    db: &mut dyn Db,
    phone: &Phone,
    no_reminders: bool,
) -> DbResult<Result<(), CustomerNotFound>> {
    let changed = db.execute(
        "UPDATE customers SET no_reminders = ?2 WHERE phone = ?1",
        params![phone.as_str(), no_reminders],
    )?;
    Ok(if changed == 1 {
        Ok(())
    } else {
        Err(CustomerNotFound)
    })
}

pub(crate) fn no_reminders(db: &mut dyn Db, phone: &Phone) -> DbResult<Option<bool>> {
    db.row(
        "SELECT no_reminders FROM customers WHERE phone = ?1",
        params![phone.as_str()],
        |row| row.boolean(0),
    )
}

/// Keeps a buyer's message and notes when the buyer last wrote (for WhatsApp's 24-hour rule).
/// A message already kept (same WhatsApp id) changes nothing. Returns whether it was new.
pub(crate) fn record_inbound(db: &mut dyn Db, inbound: &InboundMessage) -> DbResult<bool> {
    let at = millis(inbound.received_at);
    let inserted = db.execute(
        "INSERT INTO inbound_messages (phone, wa_message_id, body, received_at, raw, kind)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (wa_message_id) DO NOTHING",
        params![
            inbound.phone.as_str(),
            &inbound.wa_message_id,
            &inbound.body,
            at,
            &inbound.raw,
            inbound.kind.as_str()
        ],
    )?;
    db.execute(
        "UPDATE customers SET last_inbound_at = ?2
         WHERE phone = ?1 AND (last_inbound_at IS NULL OR last_inbound_at < ?2)",
        params![inbound.phone.as_str(), at],
    )?;
    Ok(inserted == 1)
}

pub(crate) fn last_inbound_at(db: &mut dyn Db, phone: &Phone) -> DbResult<Option<Timestamp>> {
    // A number that never ordered has no buyer's record but may have written (a buyer on a
    // waitlist): its messages as received say when.
    db.row(
        "SELECT MAX(at) FROM (
             SELECT last_inbound_at AS at FROM customers WHERE phone = ?1
             UNION ALL
             SELECT MAX(received_at) AS at FROM inbound_messages WHERE phone = ?1
         ) AS known",
        params![phone.as_str()],
        |row| row.opt_int(0),
    )?
    .flatten()
    .map(timestamp)
    .transpose()
}

pub(crate) fn read_profile(row: &Row<'_>) -> DbResult<CustomerProfile> {
    let pin = match (row.opt_text(15)?, row.opt_text(16)?) {
        (Some(band), reason) => Some(Pin {
            band: Band::parse(&band).ok_or_else(|| corrupt("band", &band))?,
            reason: reason.unwrap_or_default(),
        }),
        (None, _) => None,
    };
    let tags = row.text(18)?;
    Ok(CustomerProfile {
        id: row.int(0)?,
        info: read_customer(row, 1)?,
        record: Record {
            orders_placed: row.int(5)?,
            orders_paid: row.int(6)?,
            orders_expired: row.int(7)?,
            orders_cancelled_by_buyer: row.int(8)?,
            orders_cancelled_by_seller: row.int(9)?,
            cod_refused: row.int(10)?,
            returns: row.int(11)?,
            amount_paid: row.int(12)?,
            first_order_at: row.opt_int(13)?.map(timestamp).transpose()?,
            last_order_at: row.opt_int(14)?.map(timestamp).transpose()?,
        },
        pin,
        notes: row.opt_text(17)?,
        tags: serde_json::from_str(&tags).map_err(|_| corrupt("tags", &tags))?,
        no_reminders: row.boolean(19)?,
        history: Vec::new(),
    })
}

/// The buyer's finished orders, most recent first (`HISTORY_LEN` at most). Orders the seller
/// cancelled are not the buyer's doing and are left out.
pub(crate) fn history(db: &mut dyn Db, customer_id: i64) -> DbResult<Vec<PastOrder>> {
    let rows = db.rows(
        "SELECT status, ended_at, cancelled_by FROM orders
         WHERE customer_id = ?1 AND ended_at IS NOT NULL
         ORDER BY ended_at DESC, id DESC LIMIT ?2",
        params![customer_id, HISTORY_LEN as i64],
        |row| Ok((row.text(0)?, row.int(1)?, row.opt_text(2)?)),
    )?;
    let mut past = Vec::with_capacity(rows.len());
    for (status, ended_at, cancelled_by) in rows {
        let outcome = match (status_of(&status)?, cancelled_by.as_deref()) {
            (OrderStatus::Paid | OrderStatus::PaidNeedsRefund, _) => Outcome::Paid,
            (OrderStatus::Expired, _) | (OrderStatus::Cancelled, Some("buyer")) => Outcome::Unpaid,
            _ => continue,
        };
        past.push(PastOrder {
            ended_at: timestamp(ended_at)?,
            outcome,
        });
    }
    Ok(past)
}

/// Everything lunas knows of a buyer's reliability, with their recent history.
pub(crate) fn customer_profile(
    db: &mut dyn Db,
    phone: &Phone,
) -> DbResult<Option<CustomerProfile>> {
    let profile = db.row(
        concat!(
            "SELECT ",
            profile_columns!(),
            " FROM customers WHERE phone = ?1"
        ),
        params![phone.as_str()],
        read_profile,
    )?;
    with_history(db, profile)
}

/// The profile with its history filled in.
pub(crate) fn with_history(
    db: &mut dyn Db,
    profile: Option<CustomerProfile>,
) -> DbResult<Option<CustomerProfile>> {
    let Some(mut profile) = profile else {
        return Ok(None);
    };
    profile.history = history(db, profile.id)?;
    Ok(Some(profile))
}

/// Buyers by id, after `after`, with their histories.
pub(crate) fn customer_profiles(
    db: &mut dyn Db,
    after: i64,
    limit: usize,
) -> DbResult<Vec<CustomerProfile>> {
    let mut profiles = db.rows(
        concat!(
            "SELECT ",
            profile_columns!(),
            " FROM customers WHERE id > ?1 ORDER BY id LIMIT ?2"
        ),
        params![after, limit as i64],
        read_profile,
    )?;
    for profile in &mut profiles {
        profile.history = history(db, profile.id)?;
    }
    Ok(profiles)
}

/// Buyers whose name holds `text` (any case) or whose number holds `digits`, newest first, at
/// most `limit`; erased buyers are not found.
pub(crate) fn search_customer_profiles(
    db: &mut dyn Db,
    text: &str,
    digits: &str,
    limit: usize,
) -> DbResult<Vec<CustomerProfile>> {
    let like = |raw: &str| {
        format!(
            "%{}%",
            raw.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    };
    // An empty pattern matches nothing: `digits` is empty when the search holds none.
    let digits = if digits.is_empty() {
        String::new()
    } else {
        like(digits)
    };
    let mut profiles = db.rows(
        concat!(
            "SELECT ",
            profile_columns!(),
            " FROM customers
             WHERE erased_at IS NULL
               AND (LOWER(name) LIKE ?1 ESCAPE '\\' OR phone LIKE ?2 ESCAPE '\\')
             ORDER BY id DESC LIMIT ?3"
        ),
        params![&like(&text.to_lowercase()), &digits, limit as i64],
        read_profile,
    )?;
    for profile in &mut profiles {
        profile.history = history(db, profile.id)?;
    }
    Ok(profiles)
}

/// Pins a buyer to a band (or, with `None`, lets the score decide again), creating the buyer's
/// record when the number never ordered: that is how a number is blocked in advance.
pub(crate) fn upsert_pin(
    db: &mut dyn Db,
    phone: &Phone,
    pin: Option<&Pin>,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "INSERT INTO customers (phone, name, created_at, updated_at, band_pin, band_reason)
         VALUES (?1, '', ?2, ?2, ?3, ?4)
         ON CONFLICT (phone) DO UPDATE
         SET band_pin = excluded.band_pin, band_reason = excluded.band_reason,
             updated_at = excluded.updated_at",
        params![
            phone.as_str(),
            millis(now),
            pin.map(|p| p.band.as_str()),
            pin.map(|p| p.reason.as_str())
        ],
    )?;
    Ok(())
}

/// The buyer's row id, the row locked; `None` for a number lunas does not know.
pub(crate) fn customer_id_for_update(db: &mut dyn Db, phone: &Phone) -> DbResult<Option<i64>> {
    db.row(
        "SELECT id FROM customers WHERE phone = ?1 FOR NO KEY UPDATE",
        params![phone.as_str()],
        |row| row.int(0),
    )
}

/// Replaces a buyer's notes (`None` clears them).
pub(crate) fn set_notes(
    db: &mut dyn Db,
    phone: &Phone,
    notes: Option<&str>,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE customers SET notes = ?2, updated_at = ?3 WHERE phone = ?1",
        params![phone.as_str(), notes, millis(now)],
    )?;
    Ok(())
}

/// Replaces a buyer's tags.
pub(crate) fn set_tags(
    db: &mut dyn Db,
    phone: &Phone,
    tags: &[String],
    now: Timestamp,
) -> DbResult<()> {
    let tags_json = serde_json::to_string(tags).expect("tags serialise");
    db.execute(
        "UPDATE customers SET tags = ?2, updated_at = ?3 WHERE phone = ?1",
        params![phone.as_str(), &tags_json, millis(now)],
    )?;
    Ok(())
}

/// The store's own paid and unpaid finished orders over all buyers: the prior of every score.
pub(crate) fn base_rate(db: &mut dyn Db) -> DbResult<BaseRate> {
    Ok(db
        .row(
            "SELECT CAST(COALESCE(SUM(orders_paid), 0) AS BIGINT),
                    CAST(COALESCE(SUM(orders_expired + orders_cancelled_by_buyer + cod_refused), 0) AS BIGINT)
             FROM customers",
            params![],
            |row| {
                Ok(BaseRate {
                    paid: row.int(0)?,
                    unpaid: row.int(1)?,
                })
            },
        )?
        .unwrap_or_default())
}

/// Every buyer's record, by phone (for `reputation rebuild` checks and tests).
pub(crate) fn reliability_records(db: &mut dyn Db) -> DbResult<Vec<(String, Record)>> {
    db.rows(
        concat!(
            "SELECT ",
            profile_columns!(),
            " FROM customers ORDER BY phone"
        ),
        params![],
        |row| {
            let profile = read_profile(row)?;
            Ok((profile.info.phone.as_str().to_owned(), profile.record))
        },
    )
}

/// Recomputes every buyer's record from their orders and payments, in one transaction; returns
/// how many buyers it covered. The result is what the incremental updates keep.
pub(crate) fn rebuild_reputation(db: &mut dyn Db) -> DbResult<usize> {
    db.execute(
        "UPDATE customers SET orders_placed = 0, orders_paid = 0, orders_expired = 0,
             orders_cancelled_by_buyer = 0, orders_cancelled_by_seller = 0, amount_paid = 0,
             cod_refused = 0, returns = 0, first_order_at = NULL, last_order_at = NULL",
        params![],
    )?;
    db.execute(
        "UPDATE customers SET
             orders_placed = agg.placed, orders_paid = agg.paid, orders_expired = agg.expired,
             orders_cancelled_by_buyer = agg.by_buyer, orders_cancelled_by_seller = agg.by_seller,
             cod_refused = agg.refused, returns = agg.returned,
             first_order_at = agg.first_at, last_order_at = agg.last_at
         FROM (SELECT customer_id,
                      COUNT(*) AS placed,
                      -- Paid: prepaid orders from their payment on, COD ones once paid at the door.
                      SUM(CASE WHEN status IN ('paid', 'paid_needs_refund', 'delivered', 'completed')
                                 OR (payment_method <> 'cod' AND status IN ('packed', 'shipped', 'returned_to_sender'))
                               THEN 1 ELSE 0 END) AS paid,
                      SUM(CASE WHEN status = 'returned_to_sender' AND payment_method = 'cod' THEN 1 ELSE 0 END) AS refused,
                      (SELECT COUNT(*) FROM returns r JOIN orders ro ON ro.id = r.order_id
                        WHERE ro.customer_id = orders.customer_id AND r.status IN ('received', 'refunded', 'exchanged')) AS returned,
                      SUM(CASE WHEN status = 'expired' THEN 1 ELSE 0 END) AS expired,
                      SUM(CASE WHEN status = 'cancelled' AND cancelled_by = 'buyer' THEN 1 ELSE 0 END) AS by_buyer,
                      SUM(CASE WHEN status = 'cancelled' AND cancelled_by = 'seller' THEN 1 ELSE 0 END) AS by_seller,
                      MIN(placed_at) AS first_at, MAX(placed_at) AS last_at
               FROM orders GROUP BY customer_id) AS agg
         WHERE agg.customer_id = customers.id",
        params![],
    )?;
    db.execute(
        "UPDATE customers SET amount_paid = agg.paid
         FROM (SELECT o.customer_id, SUM(p.amount) AS paid
               FROM payments p JOIN orders o ON o.id = p.order_id GROUP BY o.customer_id) AS agg
         WHERE agg.customer_id = customers.id",
        params![],
    )?;
    Ok(db.scalar("SELECT COUNT(*) FROM customers", params![])? as usize)
}
