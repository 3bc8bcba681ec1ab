//! The statements of an order's life after its payment, as a use case's transaction offers them:
//! its steps and shipment, the stock a returned parcel brings back, couriers' events, return
//! requests and their photos, and the buyer's signals read when a COD order is placed.

use lunas_core::fulfilment::Shipment;
use lunas_core::returns::{ReturnStatus, ReturnSummary};
use lunas_core::{OrderId, OrderStatus, Phone, Timestamp};

use super::{CourierEventRow, FulfilmentRow, ReturnChange, Tx, TxResult};
use crate::repo;

impl Tx<'_> {
    /// What a step reads of the order, its row locked.
    pub fn fulfilment_for_update(&mut self, id: OrderId) -> TxResult<Option<FulfilmentRow>> {
        Ok(repo::fulfilment_for_update(self.db, id)?)
    }

    /// What a step reads of the order shipped under `waybill`, with its id, its row locked.
    pub fn fulfilment_by_waybill(
        &mut self,
        waybill: &str,
    ) -> TxResult<Option<(OrderId, FulfilmentRow)>> {
        Ok(repo::fulfilment_by_waybill(self.db, waybill)?)
    }

    /// What a timer reads of its order; `None` when another transaction holds it.
    pub fn fulfilment_for_timer(&mut self, id: OrderId) -> TxResult<Option<FulfilmentRow>> {
        Ok(repo::fulfilment_for_timer(self.db, id)?)
    }

    /// Moves the order to `to`, stamping the step's time.
    pub fn mark_step(&mut self, id: OrderId, to: OrderStatus, now: Timestamp) -> TxResult<()> {
        Ok(repo::mark_step(self.db, id, to, now)?)
    }

    /// Writes what is known of the parcel; fields left `None` keep their values.
    pub fn set_shipment(&mut self, id: OrderId, shipment: &Shipment) -> TxResult<()> {
        Ok(repo::set_shipment(self.db, id, shipment)?)
    }

    /// The order shipped under `waybill`.
    pub fn order_by_waybill(&mut self, waybill: &str) -> TxResult<Option<OrderId>> {
        Ok(repo::order_by_waybill(self.db, waybill)?)
    }

    /// A returned parcel's units back on hand and on sale; the SKUs they belong to.
    pub fn restock_sold_lines(&mut self, id: OrderId) -> TxResult<Vec<lunas_core::Sku>> {
        Ok(repo::restock_sold_lines(self.db, id)?
            .into_iter()
            .map(lunas_core::Sku::from_stored)
            .collect())
    }

    /// One more COD parcel refused at the door in the buyer's record.
    pub fn count_refused(&mut self, id: OrderId) -> TxResult<()> {
        Ok(repo::count_refused(self.db, id)?)
    }

    /// A number's messages as counted when they arrived (tire-kicker signals), if it wrote.
    pub fn chat_counts(
        &mut self,
        phone: &Phone,
    ) -> TxResult<Option<lunas_core::signals::ChatCounts>> {
        Ok(crate::conversations::chat_counts(self.db, phone)?)
    }

    /// The COD parcels this number refused at the door since `since`.
    pub fn cod_refusals_since(&mut self, phone: &Phone, since: Timestamp) -> TxResult<i64> {
        Ok(repo::cod_refusals_since(self.db, phone.as_str(), since)?)
    }

    /// Keeps a courier's event once: its row's id, or `None` when it was kept before.
    pub fn insert_courier_event(
        &mut self,
        event: &CourierEventRow,
        order: Option<OrderId>,
        outcome: &str,
        now: Timestamp,
    ) -> TxResult<Option<i64>> {
        Ok(repo::insert_courier_event(
            self.db, event, order, outcome, now,
        )?)
    }

    /// The events kept for `waybill` before an order had it: (id, step, courier).
    pub fn kept_events_for(
        &mut self,
        waybill: &str,
    ) -> TxResult<Vec<crate::repo::fulfilment::KeptForWaybill>> {
        Ok(repo::kept_events_for(self.db, waybill)?)
    }

    pub fn set_event_outcome(&mut self, id: i64, order: OrderId, outcome: &str) -> TxResult<()> {
        Ok(repo::set_event_outcome(self.db, id, order, outcome)?)
    }

    // ---- returns ----

    pub fn latest_return(&mut self, order: OrderId) -> TxResult<Option<ReturnSummary>> {
        Ok(repo::latest_return(self.db, order)?)
    }

    pub fn has_open_return(&mut self, order: OrderId) -> TxResult<bool> {
        Ok(repo::has_open_return(self.db, order)?)
    }

    /// A new request with its photos; its id.
    pub fn insert_return(
        &mut self,
        order: OrderId,
        reason: &str,
        requested_by: &str,
        photos: &[(String, Vec<u8>)],
        now: Timestamp,
    ) -> TxResult<i64> {
        let id = repo::insert_return(self.db, order, reason, requested_by, now)?;
        for (content_type, body) in photos {
            repo::insert_return_photo(self.db, id, content_type, body)?;
        }
        Ok(id)
    }

    /// The order a request belongs to.
    pub fn return_order(&mut self, id: i64) -> TxResult<Option<OrderId>> {
        Ok(repo::return_order(self.db, id)?)
    }

    pub fn return_status(&mut self, id: i64) -> TxResult<Option<ReturnStatus>> {
        Ok(repo::return_status(self.db, id)?)
    }

    pub fn set_return_status(
        &mut self,
        id: i64,
        status: ReturnStatus,
        change: &ReturnChange<'_>,
        now: Timestamp,
    ) -> TxResult<()> {
        Ok(repo::set_return_status(self.db, id, status, change, now)?)
    }

    /// One more return received in the buyer's record.
    pub fn count_return(&mut self, order: OrderId) -> TxResult<()> {
        Ok(repo::count_return(self.db, order)?)
    }
}
