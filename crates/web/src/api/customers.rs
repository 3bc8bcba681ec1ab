//! `/api/v1/customers`: buyers and their reliability — the record, the score, the band and why,
//! staff's pins, notes and tags.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use lunas_core::Phone;
use lunas_core::customers::CustomerProfile;
use lunas_core::order::clean_text;
use lunas_core::reliability::{Assessment, Band, BandReason, Pin, Record};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::document::{ErrorResponse, Notes, PhoneNumber, Tag, Text};
use super::views::PageView;
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};

/// Most tags on one buyer, and their length.
const TAGS_MAX: usize = 20;
pub(crate) const TAG_LEN_MAX: usize = 40;
/// The tags the document describes; the server also takes letters of other scripts.
pub(crate) const TAG_PATTERN: &str = "^[0-9A-Za-z_-]{1,40}$";
/// Longest notes on a buyer, in characters.
pub(crate) const NOTES_LEN_MAX: usize = 2000;
/// Most buyers one filtered listing looks through (the band is computed, not stored).
const LIST_SCAN_MAX: usize = 10_000;

/// A buyer with their reliability record, score, band and its explanation.
#[derive(Serialize, ToSchema)]
#[schema(as = Customer)]
pub(crate) struct CustomerView {
    /// E.164, or the pseudonym of an erased buyer.
    phone: String,
    name: String,
    email: Option<String>,
    #[schema(value_type = Option<lunas_core::Honorific>)]
    honorific: Option<&'static str>,
    reminders_enabled: bool,
    notes: Option<String>,
    tags: Vec<String>,
    reliability: ReliabilityView,
}

/// The buyer's record, the score computed from it and the band it puts them in.
#[derive(Serialize, ToSchema)]
#[schema(as = Reliability)]
struct ReliabilityView {
    /// The probability that the buyer's next order is paid.
    score: f64,
    band: Band,
    /// Whether staff pinned the band.
    pinned: bool,
    /// Why: `pinned`, `unpaid_in_a_row`, `tire_kicker`, `low_score`, `high_score` or `usual`.
    reason: &'static str,
    pin_reason: Option<String>,
    explanation: String,
    #[serde(flatten)]
    record: Record,
    prior_mean: f64,
    prior_strength: f64,
    weighted_paid: f64,
    weighted_unpaid: f64,
}

impl CustomerView {
    fn new(profile: CustomerProfile, assessment: Assessment) -> CustomerView {
        let (reason, pin_reason) = match assessment.reason {
            BandReason::Pinned { reason } => ("pinned", Some(reason)),
            BandReason::UnpaidInARow { .. } => ("unpaid_in_a_row", None),
            BandReason::TireKicker { .. } => ("tire_kicker", None),
            BandReason::LowScore => ("low_score", None),
            BandReason::HighScore => ("high_score", None),
            BandReason::Usual => ("usual", None),
        };
        let score = assessment.score;
        CustomerView {
            phone: profile.info.phone.as_str().to_owned(),
            name: profile.info.name,
            email: profile.info.email,
            honorific: profile.info.honorific.map(|h| h.as_str()),
            reminders_enabled: !profile.no_reminders,
            notes: profile.notes,
            tags: profile.tags,
            reliability: ReliabilityView {
                score: (score.probability * 10_000.0).round() / 10_000.0,
                band: assessment.band,
                pinned: pin_reason.is_some(),
                reason,
                pin_reason,
                explanation: assessment.explanation,
                record: profile.record,
                prior_mean: (score.prior_mean * 10_000.0).round() / 10_000.0,
                prior_strength: score.prior_strength,
                weighted_paid: (score.weighted_paid * 10_000.0).round() / 10_000.0,
                weighted_unpaid: (score.weighted_unpaid * 10_000.0).round() / 10_000.0,
            },
        }
    }
}

/// A buyer's number from a path: one that is not a phone number names no buyer (404), as an
/// unknown number does; the document's pattern says which numbers are read.
pub(crate) fn parse_phone(raw: &str) -> Result<Phone, ApiError> {
    Phone::parse(raw).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            format!("no such buyer: {e}"),
        )
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/customers/{phone}",
    operation_id = "getCustomer",
    summary = "A buyer with their reliability record, score, band and its explanation",
    params(("phone" = PhoneNumber, Path)),
    responses((status = 200, body = CustomerView), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(phone): Path<String>,
) -> Result<Json<CustomerView>, ApiError> {
    let phone = parse_phone(&phone)?;
    let (profile, assessment) = state.engine.assess(&phone).await?;
    let profile = profile.ok_or_else(|| ApiError::not_found("buyer"))?;
    Ok(Json(CustomerView::new(profile, assessment)))
}

#[utoipa::path(
    get,
    path = "/api/v1/customers",
    operation_id = "listCustomers",
    summary = "Buyers, optionally of one band",
    params(
        ("band" = Option<Band>, Query),
        ("after" = Option<i64>, Query, minimum = 0, description = "`next_after` of the page before."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100),
    ),
    responses((status = 200, body = PageView<CustomerView, i64>), (status = 422, response = ErrorResponse))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<PageView<CustomerView, i64>>, ApiError> {
    let limit = super::page_len(query.get("limit"))?;
    let band = match query.get("band") {
        None => None,
        Some(raw) => Some(Band::parse(raw).ok_or_else(|| {
            ApiError::unprocessable(
                "invalid_band",
                "band must be trusted, normal, watch or blocked",
            )
        })?),
    };
    let after = super::cursor(
        query.get("after"),
        "invalid_cursor",
        "after must be a buyer cursor",
    )?
    .unwrap_or(0);
    let found = state
        .engine
        .customers(band, after, limit, LIST_SCAN_MAX)
        .await?;
    let next_after = (found.len() == limit)
        .then(|| found.last().map(|(profile, _)| profile.id))
        .flatten();
    Ok(Json(PageView {
        items: found
            .into_iter()
            .map(|(profile, assessment)| CustomerView::new(profile, assessment))
            .collect(),
        next_after,
    }))
}

/// A band to pin, with the reason for the audit trail.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PinInput)]
pub(crate) struct PinBody {
    /// The band to pin, or `null` to let the score decide again.
    #[schema(value_type = Option<Band>)]
    pub(crate) band: Option<String>,
    #[schema(value_type = Text)]
    pub(crate) reason: Option<String>,
}

/// The pin a body asks for: a band with its reason, or `None` (the score decides again).
pub(crate) fn parse_pin(body: PinBody) -> Result<Option<Pin>, ApiError> {
    let reason = body
        .reason
        .as_deref()
        .map(clean_text)
        .transpose()
        .map_err(|e| ApiError::unprocessable("invalid_reason", format!("reason {e}")))?
        .flatten()
        .ok_or_else(|| {
            ApiError::unprocessable("invalid_reason", "a reason is needed for the audit trail")
        })?;
    Ok(match body.band.as_deref() {
        None => None,
        Some(raw) => Some(Pin {
            band: Band::parse(raw).ok_or_else(|| {
                ApiError::unprocessable(
                    "invalid_band",
                    "band must be trusted, normal, watch, blocked or null",
                )
            })?,
            reason,
        }),
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/customers/{phone}/band",
    operation_id = "pinBand",
    summary = "Pin a buyer to a band, with a reason (also a number that never ordered: that blocks it in advance); band null unpins",
    params(("phone" = PhoneNumber, Path)),
    request_body = PinBody,
    responses((status = 200, body = CustomerView), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn pin(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(phone): Path<String>,
    body: ApiJson<PinBody>,
) -> Result<Json<CustomerView>, ApiError> {
    let phone = parse_phone(&phone)?;
    let pin = parse_pin(body.value)?;
    state
        .engine
        .pin_band(phone.clone(), pin, caller.actor())
        .await?;
    let (profile, assessment) = state.engine.assess(&phone).await?;
    let profile = profile.ok_or_else(|| ApiError::not_found("buyer"))?;
    Ok(Json(CustomerView::new(profile, assessment)))
}

/// New notes and tags; a field left out stays as it is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CustomerPatch)]
pub(crate) struct PatchBody {
    /// New notes; `null` clears them; absent leaves them.
    #[serde(default, with = "serde_with_null")]
    #[schema(value_type = Option<Notes>)]
    pub(crate) notes: Option<Option<String>>,
    /// The buyer's tags, all of them.
    #[schema(value_type = Option<Vec<Tag>>, max_items = 20)]
    pub(crate) tags: Option<Vec<String>>,
}

/// Tells a field that is absent (`None`) from one that is `null` (`Some(None)`).
mod serde_with_null {
    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(deserializer).map(Some)
    }
}

/// New notes and tags: `None` leaves one as it is.
pub(crate) type NotesTags = (Option<Option<String>>, Option<Vec<String>>);

pub(crate) fn parse_patch(body: PatchBody) -> Result<NotesTags, ApiError> {
    let notes = match body.notes {
        None => None,
        Some(None) => Some(None),
        Some(Some(text)) => {
            let text = text.trim().to_owned();
            if text.chars().count() > NOTES_LEN_MAX
                || text.chars().any(|c| c.is_control() && c != '\n')
            {
                return Err(ApiError::unprocessable(
                    "invalid_notes",
                    format!("notes must be at most {NOTES_LEN_MAX} characters of text"),
                ));
            }
            Some(Some(text).filter(|t| !t.is_empty()))
        }
    };
    let tags = match body.tags {
        None => None,
        Some(tags) => {
            let mut clean: Vec<String> = Vec::with_capacity(tags.len());
            for tag in tags {
                let tag = tag.trim().to_lowercase();
                let valid = !tag.is_empty()
                    && tag.chars().count() <= TAG_LEN_MAX
                    && tag
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
                if !valid {
                    return Err(ApiError::unprocessable(
                        "invalid_tags",
                        format!(
                            "a tag is 1 to {TAG_LEN_MAX} letters, digits, '-' or '_' (e.g. prank, reseller, vip)"
                        ),
                    ));
                }
                if !clean.contains(&tag) {
                    clean.push(tag);
                }
            }
            if clean.len() > TAGS_MAX {
                return Err(ApiError::unprocessable(
                    "invalid_tags",
                    format!("at most {TAGS_MAX} tags"),
                ));
            }
            Some(clean)
        }
    };
    Ok((notes, tags))
}

#[utoipa::path(
    patch,
    path = "/api/v1/customers/{phone}",
    operation_id = "patchCustomer",
    summary = "Replace a buyer's notes (null clears) and/or tags",
    params(("phone" = PhoneNumber, Path)),
    request_body = PatchBody,
    responses((status = 200, body = CustomerView), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn patch(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(phone): Path<String>,
    body: ApiJson<PatchBody>,
) -> Result<Json<CustomerView>, ApiError> {
    let phone = parse_phone(&phone)?;
    let (notes, tags) = parse_patch(body.value)?;
    state
        .engine
        .set_notes_tags(phone.clone(), notes, tags, caller.actor())
        .await?;
    let (profile, assessment) = state.engine.assess(&phone).await?;
    let profile = profile.ok_or_else(|| ApiError::not_found("buyer"))?;
    Ok(Json(CustomerView::new(profile, assessment)))
}

/// Everything lunas holds about one buyer.
#[derive(Serialize, ToSchema)]
#[schema(as = CustomerExport)]
pub(crate) struct ExportView {
    exported_at: jiff::Timestamp,
    customer: CustomerView,
    orders: Vec<super::views::OrderView>,
    messages: Vec<super::views::MessageView>,
    whatsapp_messages: Vec<lunas_core::customers::InboundRecord>,
    /// What the shop answered them in conversations (staff or the FAQ bot).
    replies: Vec<lunas_core::customers::ReplyRecord>,
    audit: Vec<lunas_core::customers::AuditEntry>,
}

/// Everything lunas holds about one buyer, as one JSON document (UU PDP access request).
pub(crate) async fn export_view(state: &AppState, phone: &Phone) -> Result<ExportView, ApiError> {
    let (export, assessment) = state
        .engine
        .export_customer(phone)
        .await?
        .ok_or_else(|| ApiError::not_found("buyer"))?;
    Ok(ExportView {
        exported_at: state.engine.now(),
        customer: CustomerView::new(export.profile, assessment),
        orders: export
            .orders
            .into_iter()
            .map(|order| super::views::OrderView::new(order, &state.engine))
            .collect(),
        messages: export.messages.into_iter().map(Into::into).collect(),
        whatsapp_messages: export.inbound,
        replies: export.replies,
        audit: export.audit,
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/customers/{phone}/export",
    operation_id = "exportCustomer",
    summary = "Everything lunas holds about one buyer (UU PDP access request)",
    params(("phone" = PhoneNumber, Path)),
    responses((status = 200, body = ExportView), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn export(
    State(state): State<AppState>,
    Path(phone): Path<String>,
) -> Result<Json<ExportView>, ApiError> {
    let phone = parse_phone(&phone)?;
    Ok(Json(export_view(&state, &phone).await?))
}

/// What erasing left.
#[derive(Serialize, ToSchema)]
#[schema(as = Erased)]
pub(crate) struct ErasedView {
    /// The pseudonym the buyer's orders are now kept under.
    pseudonym: String,
    erased: bool,
    reliability: ReliabilityView,
}

/// Erases a buyer (UU PDP): personal data removed, orders and money kept under a pseudonym, the
/// reliability record kept under an HMAC of the number. Erasing twice gives the same answer.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{phone}/erase",
    operation_id = "eraseCustomer",
    summary = "Erase a buyer: personal data removed, orders and money kept under a pseudonym, the reliability record kept under an HMAC of the number. Erasing twice gives the same answer.",
    params(("phone" = PhoneNumber, Path)),
    responses((status = 200, body = ErasedView), (status = 404, response = ErrorResponse))
)]
pub(crate) async fn erase(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(phone): Path<String>,
) -> Result<Json<ErasedView>, ApiError> {
    let phone = parse_phone(&phone)?;
    let erased = state
        .engine
        .erase_customer(&phone, caller.actor())
        .await?
        .ok_or_else(|| ApiError::not_found("buyer"))?;
    let (_, assessment) = state.engine.assess(&phone).await?;
    let view = CustomerView::new(erased, assessment);
    Ok(Json(ErasedView {
        pseudonym: view.phone,
        erased: true,
        reliability: view.reliability,
    }))
}
