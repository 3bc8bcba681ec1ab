//! Personal data: the store's secrets (the privacy key and the login key), a buyer's export,
//! and erasure that keeps the counters but not the person.

use lunas_core::{OrderId, Phone, Timestamp};

use crate::repo::*;
use crate::sql::{Db, DbError, DbResult, Row, corrupt, params};
use lunas_core::customers::CustomerProfile;
use lunas_core::reliability::{Band, Pin};

const PRIVACY_KEY: &str = "privacy_key";
const LOGIN_KEY: &str = "login_key";

/// The database's privacy key (hex), created on first use. Every process on the database uses the
/// same one, so an erased number is recognised whichever process sees it again.
pub(crate) fn privacy_key(db: &mut dyn Db) -> DbResult<String> {
    secret(db, PRIVACY_KEY)
}

/// The key the sign-in form's tokens are signed with (hex), created on first use and shared by
/// every process on the database.
pub(crate) fn login_key(db: &mut dyn Db) -> DbResult<String> {
    secret(db, LOGIN_KEY)
}

/// A random 256-bit secret kept in the database under `name`, created on first use.
fn secret(db: &mut dyn Db, name: &'static str) -> DbResult<String> {
    let mut fresh = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut fresh);
    db.execute(
        "INSERT INTO secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        params![name, &hex::encode(fresh)],
    )?;
    db.row(
        "SELECT value FROM secrets WHERE name = ?1",
        params![name],
        |row| row.text(0),
    )?
    .ok_or_else(|| DbError::Corrupt(format!("the secret {name} is missing")))
}

/// The record an erased buyer left behind, found by the HMAC of their number.
pub(crate) fn erased_profile(
    db: &mut dyn Db,
    phone_hmac: &str,
) -> DbResult<Option<CustomerProfile>> {
    // The latest, if the number was erased more than once; picked here, not by `ORDER BY id`,
    // which can make SQLite walk the whole table by rowid instead of using the index.
    let profile = db
        .rows(
            concat!(
                "SELECT ",
                profile_columns!(),
                " FROM customers WHERE phone_hmac = ?1 AND erased_at IS NOT NULL"
            ),
            params![phone_hmac],
            read_profile,
        )?
        .into_iter()
        .max_by_key(|profile| profile.id);
    with_history(db, profile)
}

/// A buyer's profile and the record an earlier erasure of the same number left behind, if any.
pub(crate) fn customer_and_erased(
    db: &mut dyn Db,
    phone: &Phone,
    phone_hmac: &str,
) -> DbResult<(Option<CustomerProfile>, Option<CustomerProfile>)> {
    Ok((
        customer_profile(db, phone)?,
        erased_profile(db, phone_hmac)?,
    ))
}

/// Where the buyer of a new order stands, and where the record an earlier erasure of the number
/// left stands: one lean query for both (each by its own index — an `ORDER BY id` here once made
/// SQLite walk the whole table by rowid instead), and the histories only of records with finished
/// orders. Placing an order runs this first, on the writer, so it reads no more than it needs.
pub(crate) fn standings(
    db: &mut dyn Db,
    phone: &Phone,
    phone_hmac: &str,
) -> DbResult<(
    Option<lunas_core::customers::Standing>,
    Option<lunas_core::customers::Standing>,
)> {
    let rows = db.rows(
        "SELECT id, band_pin, band_reason,
                orders_paid + orders_expired + orders_cancelled_by_buyer + orders_cancelled_by_seller + cod_refused,
                CAST(0 AS BIGINT)
         FROM customers WHERE phone = ?1
         UNION ALL
         SELECT id, band_pin, band_reason,
                orders_paid + orders_expired + orders_cancelled_by_buyer + orders_cancelled_by_seller + cod_refused,
                CAST(1 AS BIGINT)
         FROM customers WHERE phone_hmac = ?2 AND erased_at IS NOT NULL",
        params![phone.as_str(), phone_hmac],
        |row| read_standing_row(row, 0),
    )?;
    fold_standings(db, rows)
}

/// A record read for a standing: its id, pin, finished orders and whether it is an erasure's.
pub(super) type StandingRow = (i64, Option<Pin>, i64, bool);

/// The `StandingRow` of `row` from column `at` on: id, band pin, its reason, finished orders,
/// 1 for an erasure's record.
pub(super) fn read_standing_row(row: &Row<'_>, at: usize) -> DbResult<StandingRow> {
    let pin = match row.opt_text(at + 1)? {
        Some(band) => Some(Pin {
            band: Band::parse(&band).ok_or_else(|| corrupt("band", &band))?,
            reason: row.opt_text(at + 2)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok((row.int(at)?, pin, row.int(at + 3)?, row.int(at + 4)? == 1))
}

/// One number's records as standings: its own, and the latest an erasure left; the histories
/// read only of records with finished orders.
pub(super) fn fold_standings(
    db: &mut dyn Db,
    rows: Vec<StandingRow>,
) -> DbResult<(
    Option<lunas_core::customers::Standing>,
    Option<lunas_core::customers::Standing>,
)> {
    let (mut own, mut erased): (
        Option<lunas_core::customers::Standing>,
        Option<(i64, lunas_core::customers::Standing)>,
    ) = (None, None);
    for (id, pin, finished, is_erased) in rows {
        let history = if finished > 0 {
            history(db, id)?
        } else {
            Vec::new()
        };
        let standing = lunas_core::customers::Standing { pin, history };
        if !is_erased {
            own = Some(standing);
        } else if erased.as_ref().is_none_or(|(latest, _)| *latest < id) {
            // A number erased more than once: the latest record counts.
            erased = Some((id, standing));
        }
    }
    Ok((own, erased.map(|(_, standing)| standing)))
}

/// Everything lunas holds about one buyer.
pub(crate) fn customer_export(
    db: &mut dyn Db,
    phone: &Phone,
) -> DbResult<Option<lunas_core::customers::CustomerExport>> {
    let Some(profile) = customer_profile(db, phone)? else {
        return Ok(None);
    };
    let ids = db.rows(
        "SELECT id FROM orders WHERE customer_id = ?1 ORDER BY id",
        params![profile.id],
        |row| row.int(0),
    )?;
    let mut orders = Vec::with_capacity(ids.len());
    let mut messages = Vec::new();
    for id in ids {
        orders.push(load_order(db, OrderId(id))?.expect("listed orders exist"));
        messages.extend(order_messages(db, OrderId(id))?);
    }
    let inbound = db.rows(
        "SELECT wa_message_id, body, received_at FROM inbound_messages WHERE phone = ?1 ORDER BY received_at, id",
        params![phone.as_str()],
        |row| {
            Ok(lunas_core::customers::InboundRecord {
                wa_message_id: row.text(0)?,
                body: row.opt_text(1)?,
                received_at: timestamp(row.int(2)?)?,
            })
        },
    )?;
    let replies = db.rows(
        "SELECT body, answered_by, channel, created_at FROM replies WHERE phone = ?1 ORDER BY created_at, id",
        params![phone.as_str()],
        |row| {
            Ok(lunas_core::customers::ReplyRecord {
                body: row.text(0)?,
                answered_by: row.text(1)?,
                channel: row.text(2)?,
                at: timestamp(row.int(3)?)?,
            })
        },
    )?;
    let audit = db.rows(
        "SELECT at, actor, action, detail FROM audit_log WHERE subject = ?1 ORDER BY id",
        params![phone.as_str()],
        |row| {
            let detail = row.text(3)?;
            Ok(lunas_core::customers::AuditEntry {
                at: timestamp(row.int(0)?)?,
                actor: row.text(1)?,
                action: row.text(2)?,
                detail: serde_json::from_str(&detail)
                    .map_err(|_| corrupt("audit detail", &detail))?,
            })
        },
    )?;
    Ok(Some(lunas_core::customers::CustomerExport {
        profile,
        orders,
        messages,
        inbound,
        replies,
        audit,
    }))
}

/// How many times this number was erased before (each erasure left its own row).
pub(crate) fn erasures_of(db: &mut dyn Db, phone_hmac: &str) -> DbResult<i64> {
    db.scalar(
        "SELECT COUNT(*) FROM customers WHERE phone_hmac = ?1 AND erased_at IS NOT NULL",
        params![phone_hmac],
    )
}

/// Removes or replaces the personal data of buyer `id` (number `phone`) wherever it is kept:
/// the buyer's row is keyed by `pseudonym` and the HMAC of the number from now on; the orders and
/// money stay.
pub(crate) fn erase_personal_data(
    db: &mut dyn Db,
    id: i64,
    phone: &Phone,
    pseudonym: &str,
    phone_hmac: &str,
    now: Timestamp,
) -> DbResult<()> {
    let now_ms = millis(now);
    db.execute(
        "UPDATE customers SET phone = ?2, name = '', email = NULL, honorific = NULL, notes = NULL,
             tags = '[]', last_inbound_at = NULL, phone_hmac = ?3, erased_at = ?4, updated_at = ?4
         WHERE id = ?1",
        params![id, pseudonym, phone_hmac, now_ms],
    )?;
    db.execute(
        "UPDATE messages SET body = '', subject = NULL, recipient = ?2, last_error = NULL
         WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)
           AND channel <> 'webhook'",
        params![id, pseudonym],
    )?;
    // Webhook deliveries carry the message and the number in their payload.
    db.execute(
        "UPDATE messages SET body = '{}', last_error = NULL
         WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1) AND channel = 'webhook'",
        params![id],
    )?;
    // Statement descriptions name the buyer (and payments taken from them keep the description
    // as their reference); review items and gateway notifications carry their details.
    for sql in [
        "UPDATE statement_lines SET description = ''
         WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
        "UPDATE payments SET reference = NULL
         WHERE source IN ('statement', 'mutation')
           AND order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
        "UPDATE payment_reviews SET detail = '{}'
         WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
        "UPDATE gateway_notifications SET body = '{}'
         WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
    ] {
        db.execute(sql, params![id])?;
    }
    // The waitlists they joined.
    db.execute(
        "DELETE FROM waitlist WHERE phone = ?1",
        params![phone.as_str()],
    )?;
    // What they wrote at checkout.
    db.execute(
        "UPDATE orders SET note = NULL WHERE customer_id = ?1",
        params![id],
    )?;
    // The proofs of transfer they sent (a bank's screen shows their name and account).
    db.execute(
        "DELETE FROM payment_proofs WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
        params![id],
    )?;
    // Where their parcels went.
    db.execute(
        "DELETE FROM order_addresses WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
        params![id],
    )?;
    // A replayed idempotent request would answer with the buyer's name and number.
    db.execute(
        "DELETE FROM idempotency_keys WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
        params![id],
    )?;
    db.execute(
        "UPDATE inbound_messages SET phone = ?2, body = NULL, raw = '{}' WHERE phone = ?1",
        params![phone.as_str(), pseudonym],
    )?;
    // What the shop answered them, and how much they wrote.
    db.execute(
        "UPDATE replies SET phone = ?2, body = '' WHERE phone = ?1",
        params![phone.as_str(), pseudonym],
    )?;
    db.execute(
        "DELETE FROM chat_signals WHERE phone = ?1",
        params![phone.as_str()],
    )?;
    db.execute(
        "UPDATE audit_log SET subject = ?2, detail = '{}' WHERE subject = ?1",
        params![phone.as_str(), pseudonym],
    )?;
    Ok(())
}
