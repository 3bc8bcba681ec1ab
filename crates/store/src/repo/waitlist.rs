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
