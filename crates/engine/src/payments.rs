//! Payments that confirm themselves: bank statements, mutation services, gateway callbacks,
//! payment pages at the gateways, and the review list of money that needs a human.

use hmac::{Hmac, Mac};
use lunas_core::ledger::{
    GatewayOutcome, ImportReport, ResolveAction, Review, ReviewError, StatementCredit,
};
use lunas_core::payments::{PaymentSource, order_reference};
use lunas_core::statement::{
    LINE_ERRORS_LISTED_MAX, LineError, Statement, StatementError, StatementFormat, parse_line_date,
    parse_statement,
};
use lunas_core::{Actor, Order, OrderId};
use sha2::Sha256;

use crate::gateways::{self, CallbackError, Gateway};
use crate::{Engine, Error, ledger};

/// Statement lines imported in one transaction.
pub const IMPORT_CHUNK_LEN: usize = 10_000;

/// Most lines one mutation-service delivery may carry.
pub const MUTATIONS_PER_DELIVERY_MAX: usize = 1000;

/// What importing a statement did.
#[derive(Debug, Clone)]
pub struct StatementImport {
    pub format: StatementFormat,
    pub report: ImportReport,
    /// Transactions read from the file (credits and debits).
    pub lines: usize,
    /// Lines that did not read and were skipped because the operator asked to.
    pub bad_lines: Vec<LineError>,
}

fn credits_of(statement: &Statement) -> Vec<StatementCredit> {
    statement
        .lines
        .iter()
        .map(|line| StatementCredit {
            fingerprint: line.fingerprint.clone(),
            date: line.date.to_string(),
            description: line.description.clone(),
            amount: line.amount,
            balance: line.balance,
            reference: order_reference(&line.description),
        })
        .collect()
}

/// Checks a mutation service's `Signature` header: the HMAC-SHA256 of the body with the shared
/// secret, in hex (as Moota signs its webhooks), compared in constant time.
pub fn verify_mutation_signature(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(signature) = header.and_then(|h| hex::decode(h.trim()).ok()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// Reads a mutation service's delivery: a JSON array of mutations (or `{"mutations": […]}` /
/// `{"data": […]}`), each with an id (`mutation_id` or `id`), a `date`, an `amount`, a `type`
/// (`CR` or `DB`), a `description` (or `note`) and optionally a `balance`.
pub fn read_mutations(payload: &serde_json::Value) -> Result<Vec<StatementCredit>, Vec<LineError>> {
    let items = payload
        .as_array()
        .or_else(|| payload.get("mutations").and_then(|m| m.as_array()))
        .or_else(|| payload.get("data").and_then(|m| m.as_array()));
    let Some(items) = items else {
        return Err(vec![LineError {
            line: 0,
            message: "expected a JSON array of mutations".into(),
        }]);
    };
    if items.len() > MUTATIONS_PER_DELIVERY_MAX {
        return Err(vec![LineError {
            line: 0,
            message: format!("at most {MUTATIONS_PER_DELIVERY_MAX} mutations per delivery"),
        }]);
    }
    let mut credits = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let line = index + 1;
        let text = |name: &str| match item.get(name) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let read = || -> Result<StatementCredit, String> {
            let id = text("mutation_id")
                .or_else(|| text("id"))
                .filter(|id| !id.is_empty() && id.len() <= 100)
                .ok_or("mutation_id is missing")?;
            let date = parse_line_date(&text("date").ok_or("date is missing")?)?;
            let amount = text("amount")
                .and_then(|a| lunas_core::payments::parse_rupiah(a.trim_start_matches('+')))
                .ok_or("amount is not a rupiah amount")?;
            let sign = match text("type").map(|t| t.to_ascii_uppercase()).as_deref() {
                Some("CR") | Some("CREDIT") | Some("K") => 1,
                Some("DB") | Some("DEBIT") | Some("D") => -1,
                _ => return Err("type must be CR or DB".into()),
            };
            let description = text("description")
                .or_else(|| text("note"))
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .filter(|c| !c.is_control())
                .take(500)
                .collect::<String>();
            let bank = text("bank_type")
                .or_else(|| text("bank"))
                .unwrap_or_default();
            Ok(StatementCredit {
                fingerprint: format!("mutation:{bank}:{id}"),
                date: date.to_string(),
                reference: order_reference(&description),
                description,
                amount: sign * amount,
                balance: text("balance").and_then(|b| lunas_core::payments::parse_rupiah(&b)),
            })
        };
        match read() {
            Ok(credit) => credits.push(credit),
            Err(message) => errors.push(LineError { line, message }),
        }
    }
    if errors.is_empty() {
        Ok(credits)
    } else {
        Err(errors)
    }
}

impl Engine {
    /// Configures the payment gateways whose callbacks this server takes and at which it makes
    /// payment pages.
    pub fn with_gateways(mut self, gateways: gateways::Gateways) -> Engine {
        self.gateways = gateways;
        self
    }

    /// Imports a bank statement (CSV). Bad lines are reported with their line numbers and nothing
    /// is imported, unless `skip_bad_lines`: then the lines that read are imported and the bad
    /// ones are returned.
    pub async fn import_statement(
        &self,
        text: &str,
        skip_bad_lines: bool,
        actor: Actor,
    ) -> Result<StatementImport, Error> {
        let statement = parse_statement(text)?;
        if !statement.errors.is_empty() && !skip_bad_lines {
            let count = statement.errors.len();
            let mut errors = statement.errors;
            errors.truncate(LINE_ERRORS_LISTED_MAX);
            return Err(Error::BadStatementLines { errors, count });
        }
        let mut report = self
            .import_in_chunks(PaymentSource::Statement, credits_of(&statement), actor)
            .await?;
        report.ignored += statement.skipped;
        let mut bad_lines = statement.errors;
        bad_lines.truncate(LINE_ERRORS_LISTED_MAX);
        Ok(StatementImport {
            format: statement.format,
            report,
            lines: statement.lines.len(),
            bad_lines,
        })
    }

    /// Takes a mutation service's delivery, signed in `signature`. A malformed mutation refuses
    /// the whole delivery, so the service shows it as failed and nothing is half taken.
    pub async fn import_mutations(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<ImportReport, Error> {
        // Unsigned is refused as unsigned whether or not the route is configured, as the
        // document says: the header is required.
        if signature.is_none() {
            return Err(CallbackError::Unauthorized("no Signature header").into());
        }
        let secret = self
            .gateways
            .mutation_secret
            .as_deref()
            .ok_or(CallbackError::NotConfigured("mutation webhooks"))?;
        if !verify_mutation_signature(secret, body, signature) {
            return Err(CallbackError::Unauthorized("the Signature does not match").into());
        }
        let payload: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| CallbackError::Malformed(format!("the body is not JSON: {e}")))?;
        let credits = read_mutations(&payload).map_err(|errors| Error::BadStatementLines {
            count: errors.len(),
            errors,
        })?;
        self.import_in_chunks(
            PaymentSource::Mutation,
            credits,
            Actor::gateway(PaymentSource::Mutation),
        )
        .await
    }

    /// Imports credits `IMPORT_CHUNK_LEN` at a time, each chunk one transaction: on SQLite other
    /// writes (orders being placed) get their turn between chunks instead of waiting for a whole
    /// statement. A chunk that fails leaves the ones before it imported; importing the statement
    /// again takes up where it stopped, since imported lines are duplicates.
    async fn import_in_chunks(
        &self,
        source: PaymentSource,
        credits: Vec<StatementCredit>,
        actor: Actor,
    ) -> Result<ImportReport, Error> {
        let mut total = ImportReport::default();
        let mut credits = credits.into_iter().peekable();
        while credits.peek().is_some() {
            let chunk: Vec<StatementCredit> = credits.by_ref().take(IMPORT_CHUNK_LEN).collect();
            let (actor, now, messaging) = (actor.clone(), self.now(), self.messaging());
            let report = self
                .store
                .transact_always(move |tx| {
                    ledger::import_credits(tx, source, &chunk, &actor, now, &messaging)
                })
                .await?;
            total.matched += report.matched;
            total.review += report.review;
            total.duplicates += report.duplicates;
            total.ignored += report.ignored;
        }
        Ok(total)
    }

    /// Verifies and applies a Midtrans HTTP notification. One that would record money is first
    /// confirmed with Midtrans's status API, whose answer decides; when the API cannot be asked,
    /// the notification is kept for review and refused as unconfirmed, so Midtrans delivers it
    /// again.
    pub async fn midtrans_notification(&self, body: &[u8]) -> Result<GatewayOutcome, Error> {
        let config = self
            .gateways
            .midtrans
            .as_ref()
            .ok_or(CallbackError::NotConfigured("Midtrans"))?;
        let mut notification = gateways::read_midtrans(config, body, self.now())?;
        if gateways::needs_confirmation(&notification) {
            let client = self
                .gateway_client
                .get_or_init(gateways::GatewayClient::new);
            let confirmed = match client
                .midtrans_status(config, &notification.order_ref)
                .await
            {
                Ok(answer) => gateways::confirm_midtrans(&notification, &answer),
                Err(e) => Err(e),
            };
            notification = match confirmed {
                Ok(confirmed) => confirmed,
                Err(e) => {
                    tracing::warn!(order_ref = %notification.order_ref, error = %e, "a Midtrans notification could not be confirmed; kept for review");
                    let why = e.to_string();
                    self.store
                        .transact_always(move |tx| {
                            ledger::gateway_unconfirmed(tx, &notification, &why)
                        })
                        .await?;
                    return Err(e.into());
                }
            };
        }
        self.apply_notification(notification).await
    }

    /// Applies a verified (and, where it needs it, confirmed) gateway notification.
    async fn apply_notification(
        &self,
        notification: lunas_core::ledger::GatewayNotification,
    ) -> Result<GatewayOutcome, Error> {
        let messaging = self.messaging();
        Ok(self
            .store
            .transact_always(move |tx| ledger::gateway_notification(tx, &notification, &messaging))
            .await?)
    }

    /// Verifies and applies a Xendit callback (`token` is its `x-callback-token` header).
    pub async fn xendit_notification(
        &self,
        token: Option<&str>,
        body: &[u8],
    ) -> Result<GatewayOutcome, Error> {
        if token.is_none() {
            return Err(CallbackError::Unauthorized("no x-callback-token header").into());
        }
        let config = self
            .gateways
            .xendit
            .as_ref()
            .ok_or(CallbackError::NotConfigured("Xendit"))?;
        let notification = gateways::read_xendit(config, token, body, self.now())?;
        self.apply_notification(notification).await
    }

    /// Makes a payment page at `gateway` for what the order has left to pay, keeps its address on
    /// the order (messages then point to it) and returns the order.
    pub async fn create_payment_link(&self, id: OrderId, gateway: Gateway) -> Result<Order, Error> {
        let order = self
            .store
            .order(id)
            .await?
            .ok_or(lunas_core::placing::OrderOpError::NotFound)?;
        let client = self
            .gateway_client
            .get_or_init(gateways::GatewayClient::new);
        let url = client
            .create(&self.gateways, gateway, &order, self.now())
            .await?;
        self.store.set_payment_url(id, url).await?;
        Ok(self
            .store
            .order(id)
            .await?
            .ok_or(lunas_core::placing::OrderOpError::NotFound)?)
    }

    /// The review list, oldest first: open items, or all of them.
    pub async fn reviews(&self, all: bool, after: i64, limit: usize) -> Result<Vec<Review>, Error> {
        Ok(self.store.reviews(all, after, limit).await?)
    }

    /// Resolves a review item: its money goes to the order staff name (by the usual rules: a
    /// partial payment, a late one…), or it is closed with a note.
    pub async fn resolve_review(
        &self,
        id: i64,
        action: ResolveAction,
        actor: Actor,
    ) -> Result<Review, Error> {
        let (now, messaging) = (self.now(), self.messaging());
        Ok(self
            .store
            .transact(move |tx| ledger::resolve_review(tx, id, &action, &actor, now, &messaging))
            .await??)
    }
}

impl From<ReviewError> for Error {
    fn from(e: ReviewError) -> Error {
        match e {
            ReviewError::Order(e) => Error::Order(e),
            other => Error::Review(other),
        }
    }
}

impl From<StatementError> for Error {
    fn from(e: StatementError) -> Error {
        Error::Statement(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutation_deliveries_read_moota_shaped_items_and_refuse_bad_ones() {
        let payload = serde_json::json!([
            {"mutation_id": "m1", "bank_type": "bca", "date": "2026-12-01 10:22:01", "amount": 150237,
             "type": "CR", "description": "TRSF SARI #12", "balance": 1150237},
            {"mutation_id": "m2", "date": "2026-12-01", "amount": "5000", "type": "DB", "note": "ADM"}
        ]);
        let credits = read_mutations(&payload).unwrap();
        assert_eq!(credits[0].amount, 150_237);
        assert_eq!(credits[0].reference, Some(OrderId(12)));
        assert_eq!(credits[0].fingerprint, "mutation:bca:m1");
        assert_eq!(credits[1].amount, -5_000);
        let bad =
            serde_json::json!([{"mutation_id": "m3", "date": "x", "amount": 1, "type": "CR"}]);
        assert_eq!(read_mutations(&bad).unwrap_err()[0].line, 1);
    }
}
