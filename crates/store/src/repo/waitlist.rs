//! The rows of the waitlist: joining a product's line (once per number while waiting) and
//! reading it with each buyer's place.

use lunas_core::waitlist::{WaitStatus, WaitlistEntry, WaitlistError, decide_join};
use lunas_core::{Phone, Sku, Timestamp};

use super::{millis, timestamp};
use crate::sql::{Db, DbResult, Row, corrupt, params};

/// Most entries a product's list shows.
const LIST_MAX: i64 = 500;

fn read_entry(row: &Row<'_>) -> DbResult<WaitlistEntry> {
    let status = row.text(3)?;
    Ok(WaitlistEntry {
        phone: Phone::from_stored(row.text(0)?),
        name: row.opt_text(1)?,
        joined_at: timestamp(row.int(2)?)?,
        status: WaitStatus::parse(&status).ok_or_else(|| corrupt("waitlist status", &status))?,
        position: row.opt_int(4)?,
    })
}

/// The entries `read_entry` reads, each with its place: its rank among the product's entries
/// still in line.
macro_rules! entries {
    () => {
        "SELECT w.phone, w.name, w.created_at, w.status,
            CASE WHEN w.status IN ('waiting', 'offered') THEN
                (SELECT COUNT(*) FROM waitlist v
                 WHERE v.sku = w.sku AND v.status IN ('waiting', 'offered') AND v.id <= w.id)
            END
         FROM waitlist w"
    };
}

/// Puts `phone` in line for `sku` if the product takes waiting buyers (`decide_join`); a number
/// already in line keeps its place. Answers its entry.
pub(crate) fn join_waitlist(
    db: &mut dyn Db,
    sku: &Sku,
    phone: &Phone,
    name: Option<&str>,
    now: Timestamp,
) -> DbResult<Result<WaitlistEntry, WaitlistError>> {
    let product = db.row(
        "SELECT on_hand - reserved, variants FROM products WHERE sku = ?1",
        params![sku.as_str()],
        |row| Ok((row.int(0)?, row.int(1)?)),
    )?;
    let Some((available, variants)) = product else {
        return Ok(Err(WaitlistError::UnknownProduct));
    };
    if let Err(refused) = decide_join(available, variants) {
        return Ok(Err(refused));
    }
    db.execute(
        "INSERT INTO waitlist (sku, phone, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT DO NOTHING",
        params![sku.as_str(), phone.as_str(), name, millis(now)],
    )?;
    let sql = concat!(
        entries!(),
        " WHERE w.sku = ?1 AND w.phone = ?2 AND w.status IN ('waiting', 'offered')"
    );
    let entry = db
        .row(sql, params![sku.as_str(), phone.as_str()], read_entry)?
        .ok_or_else(|| corrupt("waitlist entry", phone.as_str()))?;
    Ok(Ok(entry))
}

/// A product's waitlist: those in line first, in their order, then the entries of the past,
/// newest first.
pub(crate) fn waitlist_of(db: &mut dyn Db, sku: &str) -> DbResult<Vec<WaitlistEntry>> {
    let sql = concat!(
        entries!(),
        " WHERE w.sku = ?1
          ORDER BY CASE WHEN w.status IN ('waiting', 'offered') THEN 0 ELSE 1 END,
                   CASE WHEN w.status IN ('waiting', 'offered') THEN w.id ELSE -w.id END
          LIMIT ?2"
    );
    db.rows(sql, params![sku, LIST_MAX], read_entry)
}

/// A buyer in line who is to be offered a released unit.
#[derive(Debug, Clone)]
pub struct NextInLine {
    pub id: i64,
    pub phone: Phone,
    pub name: Option<String>,
    /// The product's name, for the message.
    pub product: String,
}

/// The buyers to offer `sku`'s available units to, first in line first, as many as there are
/// units (none for a product with variants): the product's row is locked, so the units counted
/// are the units offered.
pub(crate) fn next_in_line(db: &mut dyn Db, sku: &Sku) -> DbResult<Vec<NextInLine>> {
    let product = db.row(
        "SELECT on_hand - reserved, name FROM products WHERE sku = ?1 AND variants = 0 FOR NO KEY UPDATE",
        params![sku.as_str()],
        |row| Ok((row.int(0)?, row.text(1)?)),
    )?;
    let Some((available, product)) = product.filter(|(available, _)| *available > 0) else {
        return Ok(Vec::new());
    };
    db.rows(
        "SELECT id, phone, name FROM waitlist WHERE sku = ?1 AND status = 'waiting' ORDER BY id LIMIT ?2",
        params![sku.as_str(), available],
        |row| {
            Ok(NextInLine {
                id: row.int(0)?,
                phone: Phone::from_stored(row.text(1)?),
                name: row.opt_text(2)?,
                product: product.clone(),
            })
        },
    )
}

/// Offers a unit of `sku` to the entry `id`: the unit is held (`reserved + 1`), the entry is
/// offered until `until` with its claim token, and the message is written on `channel`
/// (WhatsApp through the Cloud API, or the manual WhatsApp queue).
#[allow(clippy::too_many_arguments)]
pub(crate) fn make_offer(
    db: &mut dyn Db,
    id: i64,
    sku: &Sku,
    until: Timestamp,
    token: &str,
    channel: lunas_core::messages::Channel,
    message: (&str, &str),
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE products SET reserved = reserved + 1 WHERE sku = ?1",
        params![sku.as_str()],
    )?;
    db.execute(
        "UPDATE waitlist SET status = 'offered', offer_until = ?2, claim_token = ?3, updated_at = ?4
         WHERE id = ?1",
        params![id, millis(until), token, millis(now)],
    )?;
    let (recipient, body) = message;
    let message_id = super::outbox::new_message_id(millis(now));
    db.execute(
        "INSERT INTO messages (id, order_id, waitlist_id, kind, channel, recipient, body, status, created_at)
         VALUES (?1, NULL, ?2, 'waitlist_offer', ?6, ?3, ?4, 'pending', ?5)",
        params![&message_id, id, recipient, body, millis(now), channel.as_str()],
    )?;
    Ok(())
}

/// Whether any offer passed unclaimed by `now` (the index of offers due answers).
pub(crate) fn has_lapsed_offers(db: &mut dyn Db, now: Timestamp) -> DbResult<bool> {
    let found = db.row(
        "SELECT 1 FROM waitlist WHERE status = 'offered' AND offer_until <= ?1 LIMIT 1",
        params![millis(now)],
        |row| row.int(0),
    )?;
    Ok(found.is_some())
}

/// Offers that passed unclaimed by `now`, at most `limit`, their rows locked (offers another
/// transaction holds are left for the next sweep): entry id and SKU.
pub(crate) fn lapsed_offers(
    db: &mut dyn Db,
    now: Timestamp,
    limit: usize,
) -> DbResult<Vec<(i64, Sku)>> {
    db.rows(
        "SELECT id, sku FROM waitlist WHERE status = 'offered' AND offer_until <= ?1
         ORDER BY offer_until LIMIT ?2 FOR NO KEY UPDATE SKIP LOCKED",
        params![millis(now), limit as i64],
        |row| Ok((row.int(0)?, Sku::from_stored(row.text(1)?))),
    )
}

/// An offer ends: its unit is no longer held for it (`reserved - 1`), the entry is `lapsed` or
/// `claimed` (with the order the claim placed), and its message, if not sent yet, is withdrawn
/// (staff must not send an offer that is over).
pub(crate) fn end_offer(
    db: &mut dyn Db,
    id: i64,
    sku: &Sku,
    outcome: WaitStatus,
    order: Option<i64>,
    now: Timestamp,
) -> DbResult<()> {
    db.execute(
        "UPDATE products SET reserved = reserved - 1 WHERE sku = ?1",
        params![sku.as_str()],
    )?;
    db.execute(
        "UPDATE waitlist SET status = ?2, order_id = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, outcome.as_str(), order, millis(now)],
    )?;
    db.execute(
        "UPDATE messages SET status = 'superseded', next_attempt_at = NULL,
             last_error = 'withdrawn: the offer ended'
         WHERE waitlist_id = ?1 AND status IN ('pending', 'failed')",
        params![id],
    )?;
    Ok(())
}

/// An offer found by its claim token.
#[derive(Debug, Clone)]
pub struct OfferRow {
    pub id: i64,
    pub sku: Sku,
    pub phone: Phone,
    pub name: Option<String>,
    pub status: WaitStatus,
    pub offer_until: Option<Timestamp>,
    pub order_id: Option<i64>,
}

/// The offer whose claim link carries `token`, its row locked when `for_update`.
pub(crate) fn offer_by_token(
    db: &mut dyn Db,
    token: &str,
    for_update: bool,
) -> DbResult<Option<OfferRow>> {
    let sql = if for_update {
        "SELECT id, sku, phone, name, status, offer_until, order_id FROM waitlist WHERE claim_token = ?1 FOR NO KEY UPDATE"
    } else {
        "SELECT id, sku, phone, name, status, offer_until, order_id FROM waitlist WHERE claim_token = ?1"
    };
    let row = db.row(sql, params![token], |row| {
        Ok((
            row.int(0)?,
            row.text(1)?,
            row.text(2)?,
            row.opt_text(3)?,
            row.text(4)?,
            row.opt_int(5)?,
            row.opt_int(6)?,
        ))
    })?;
    row.map(|(id, sku, phone, name, status, until, order)| {
        Ok(OfferRow {
            id,
            sku: Sku::from_stored(sku),
            phone: Phone::from_stored(phone),
            name,
            status: WaitStatus::parse(&status)
                .ok_or_else(|| corrupt("waitlist status", &status))?,
            offer_until: until.map(timestamp).transpose()?,
            order_id: order,
        })
    })
    .transpose()
}

/// The order a claimed offer placed.
pub(crate) fn offer_claimed_by(db: &mut dyn Db, id: i64, order: i64) -> DbResult<()> {
    db.execute(
        "UPDATE waitlist SET order_id = ?2 WHERE id = ?1",
        params![id, order],
    )?;
    Ok(())
}
