//! `POST /api/v1/orders/parse`: a pasted "format order" read as a draft for staff to check.

use axum::Json;
use axum::extract::State;
use lunas_core::format_order::{Draft, TEXT_CHARS_MAX};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::ApiJson;
use crate::{ApiError, AppState};

/// A message as the buyer sent it.
#[derive(Deserialize, ToSchema)]
#[schema(as = FormatOrderInput)]
pub(crate) struct ParseBody {
    /// The text, as pasted: any lines, labels, bullets and emoji.
    #[schema(min_length = 1, max_length = 8000)]
    pub(crate) text: String,
}

/// What the paste gives for an order. Nothing is written: staff check it and place the order.
#[derive(Serialize, ToSchema)]
#[schema(as = FormatOrderDraft)]
pub(crate) struct DraftView {
    pub customer: DraftCustomerView,
    /// The parts of the address found, `null` when none was.
    pub address: Option<DraftAddressView>,
    pub items: Vec<DraftItemView>,
    #[schema(value_type = Option<lunas_core::PaymentMethod>)]
    pub payment_method: Option<&'static str>,
    /// The shipping cost (`ongkir`) in minor units, when the message names one.
    pub shipping_cost: Option<i64>,
    /// A note the buyer added (`Catatan:`).
    pub note: Option<String>,
    /// The lines that could not be placed, as written.
    pub unparsed: Vec<String>,
    /// How much of an order the paste gave, from 0 to 1.
    #[schema(minimum = 0, maximum = 1)]
    pub confidence: f64,
    /// Said when nothing in the text reads as an order.
    pub message: Option<&'static str>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FormatOrderCustomer)]
pub(crate) struct DraftCustomerView {
    pub name: Option<String>,
    /// E.164 when the number reads as one, otherwise as written.
    pub phone: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FormatOrderAddress)]
pub(crate) struct DraftAddressView {
    pub street: Option<String>,
    pub kelurahan: Option<String>,
    pub kecamatan: Option<String>,
    /// Kota or kabupaten.
    pub city: Option<String>,
    pub province: Option<String>,
    pub postcode: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FormatOrderItem)]
pub(crate) struct DraftItemView {
    /// The product matched, `null` when nothing in the catalogue matched.
    pub sku: Option<String>,
    pub qty: i64,
    /// `sku` when the line names the SKU, `name` when it names the product; `null` with no match.
    #[schema(value_type = Option<String>, pattern = "^(sku|name)$")]
    pub matched_by: Option<&'static str>,
    /// The product as the buyer wrote it.
    pub text: String,
}

impl From<Draft> for DraftView {
    fn from(draft: Draft) -> DraftView {
        let nothing = draft.found_nothing();
        DraftView {
            customer: DraftCustomerView {
                name: draft.customer.name,
                phone: draft.customer.phone,
            },
            address: draft.address.map(|a| DraftAddressView {
                street: a.street,
                kelurahan: a.kelurahan,
                kecamatan: a.kecamatan,
                city: a.city,
                province: a.province,
                postcode: a.postcode,
            }),
            items: draft
                .items
                .into_iter()
                .map(|i| DraftItemView {
                    sku: i.sku.map(|s| s.as_str().to_owned()),
                    qty: i.qty,
                    matched_by: i.matched_by.map(|m| m.as_str()),
                    text: i.text,
                })
                .collect(),
            payment_method: draft.payment_method.map(|m| m.as_str()),
            shipping_cost: draft.shipping_cost.map(|m| m.minor_units()),
            note: draft.note,
            unparsed: draft.unparsed,
            confidence: draft.confidence,
            message: nothing.then_some(
                "nothing in the text reads as an order (no buyer, number, address or product); its lines are in unparsed",
            ),
        }
    }
}

/// Checks a pasted text's length, the same for the API and the dashboard. (Blank text is a
/// draft of nothing, with its message; only an empty string is refused.)
pub(crate) fn check_text(text: &str) -> Result<(), ApiError> {
    if text.is_empty() {
        return Err(ApiError::unprocessable(
            "invalid_text",
            "text must not be empty",
        ));
    }
    if text.chars().count() > TEXT_CHARS_MAX {
        return Err(ApiError::unprocessable(
            "text_too_long",
            format!("text must be at most {TEXT_CHARS_MAX} characters"),
        ));
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/api/v1/orders/parse",
    operation_id = "parseFormatOrder",
    summary = "Read a pasted format order",
    description = "Reads a message in the shape sellers ask buyers to reply with (`Nama:`, `No HP:`, `Alamat:`, `Pesanan:`, `Jumlah:`, `Ongkir:`, `Pembayaran:`), written as buyers write it: labels in any case, bullets and emoji, lines in any order, `2 pcs` or `2x`, product names instead of SKUs (matched to the catalogue by a normalised fuzzy match). Returns a draft; nothing is written and no order is placed. Text with nothing recognisable gives a draft with every line in `unparsed`, confidence 0 and a `message`.",
    request_body = ParseBody,
    responses((status = 200, body = DraftView))
)]
pub(crate) async fn parse(
    State(state): State<AppState>,
    body: ApiJson<ParseBody>,
) -> Result<Json<DraftView>, ApiError> {
    check_text(&body.value.text)?;
    let draft = state.engine.read_format_order(&body.value.text).await?;
    Ok(Json(DraftView::from(draft)))
}
