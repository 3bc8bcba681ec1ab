//! After the payment, on the buyer's order page: the timeline of the order's steps, the courier
//! and waybill with a link to the courier's own tracking page, a COD order's "Ya, kirim" /
//! "Batalkan" (`POST /o/{token}/cod`), and "ajukan retur" with a reason and up to three photos
//! (`POST /o/{token}/return`, pictures read up to their limit and cleaned like proofs of
//! transfer) while the store's return window is open, its conditions quoted.

use axum::extract::multipart::MultipartError;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::tz::TimeZone;
use lunas_core::fulfilment::Step;
use lunas_core::messages::{Language, format_deadline};
use lunas_core::proofs::PROOF_BYTES_MAX;
use lunas_core::returns::{
    RETURN_PHOTOS_MAX, ReturnRemedy, ReturnShippingPaidBy, decide_return_request,
};
use lunas_core::{Actor, CancelledBy, Order, OrderStatus, Timestamp};
use minijinja::{Value, context};

use super::{Budget, Shown, admit, not_found, show_order};
use crate::AppState;
use crate::desk::PageError;
use crate::desk::i18n::{Strings, code};

/// Largest body of a return request: three photos at their limit, and the reason.
pub(crate) const RETURN_BODY_BYTES_MAX: usize = RETURN_PHOTOS_MAX * PROOF_BYTES_MAX + 64 * 1024;
/// Longest reason a buyer may write, in characters.
const REASON_MAX: usize = 500;

/// One step of the timeline.
fn step(label: &str, at: Option<Timestamp>, tz: &TimeZone, language: Language) -> Value {
    context! {
        label => label,
        when => at.map(|at| format_deadline(at, tz, language)),
        done => at.is_some(),
    }
}

/// What the order page shows after the payment: the timeline, the parcel, COD's question and
/// the return's form or state.
pub(super) fn tracking_context(
    order: &Order,
    settings: &lunas_core::Settings,
    language: Language,
    tz: &TimeZone,
    now: Timestamp,
    token: &str,
) -> Value {
    let strings = Strings::of(language);
    let s = &order.shipment;
    let at = |status: OrderStatus| order.events.iter().find(|e| e.to == status).map(|e| e.at);
    let paid_or_confirmed = at(OrderStatus::Paid).or(at(OrderStatus::Confirmed));
    let on_the_way = !matches!(
        order.status,
        OrderStatus::AwaitingPayment
            | OrderStatus::AwaitingBalance
            | OrderStatus::Expired
            | OrderStatus::Cancelled
            | OrderStatus::PaidNeedsRefund
    );
    let mut steps = Vec::new();
    if on_the_way {
        steps.push(step(
            strings.get("trk_placed"),
            Some(order.placed_at),
            tz,
            language,
        ));
        let confirmed_label = if order.status == OrderStatus::AwaitingConfirmation
            || at(OrderStatus::Confirmed).is_some()
        {
            "trk_cod_confirmed"
        } else {
            "trk_paid"
        };
        steps.push(step(
            strings.get(confirmed_label),
            paid_or_confirmed,
            tz,
            language,
        ));
        steps.push(step(strings.get("trk_packed"), s.packed_at, tz, language));
        steps.push(step(strings.get("trk_shipped"), s.shipped_at, tz, language));
        if order.status == OrderStatus::ReturnedToSender {
            steps.push(step(
                strings.get("trk_returned_to_sender"),
                at(OrderStatus::ReturnedToSender),
                tz,
                language,
            ));
        } else {
            steps.push(step(
                strings.get("trk_delivered"),
                s.delivered_at,
                tz,
                language,
            ));
            steps.push(step(
                strings.get("trk_completed"),
                s.completed_at,
                tz,
                language,
            ));
        }
    }
    // The step the order is at: the last one done.
    let current = steps
        .iter()
        .rposition(|v| v.get_attr("done").is_ok_and(|d| d.is_true()));
    let policy = &settings.returns;
    let can_return = decide_return_request(
        order.status,
        s.delivered_at,
        order
            .return_request
            .as_ref()
            .is_some_and(|r| r.status.is_open()),
        policy,
        now,
    )
    .is_ok();
    let return_until = s
        .delivered_at
        .map(|at| format_deadline(policy.closes_at(at), tz, language));
    let request = order.return_request.as_ref().map(|r| {
        context! {
            status => r.status.as_str(),
            status_words => strings.get(&format!("trk_return_{}", r.status.as_str())),
            reason => &r.reason,
            note => &r.note,
            when => format_deadline(r.requested_at, tz, language),
        }
    });
    let paid_by = match policy.shipping_paid_by {
        ReturnShippingPaidBy::Buyer => "trk_return_shipping_buyer",
        ReturnShippingPaidBy::Seller => "trk_return_shipping_seller",
    };
    let remedy = match policy.remedy {
        ReturnRemedy::Refund => "trk_remedy_refund",
        ReturnRemedy::Exchange => "trk_remedy_exchange",
        ReturnRemedy::RefundOrExchange => "trk_remedy_either",
    };
    let lang = code(language);
    // Delivered with the return window closed (or a return asked already): no "ajukan retur".
    let says = (order.status == OrderStatus::Delivered && !can_return)
        .then(|| strings.get("trk_says_delivered"));
    context! {
        says_instead => says,
        timeline => steps,
        current_step => current,
        courier => [s.courier.as_deref(), s.service.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "),
        waybill => &s.waybill,
        tracking_link => s.tracking_url(),
        cod_question => (order.status == OrderStatus::AwaitingConfirmation).then(|| context! {
            until => s.confirm_by.map(|by| format_deadline(by, tz, language)),
            action => format!("/o/{token}/cod?lang={lang}"),
        }),
        can_return => can_return,
        return_action => format!("/o/{token}/return?lang={lang}"),
        return_until => return_until,
        return_conditions => &policy.conditions,
        return_shipping => strings.get(paid_by),
        return_remedy => strings.get(remedy),
        return_days => policy.window_days,
        return_request => request,
        photos_max => RETURN_PHOTOS_MAX,
        reason_max => REASON_MAX,
    }
}

/// Finds the order of `token` for a form in `language` (the address's budgets were counted).
async fn order_for_form(
    state: &AppState,
    token: &str,
    language: Language,
) -> Result<Result<(Order, Language), Response>, PageError> {
    match state
        .engine
        .order_by_token(token)
        .await
        .map_err(PageError::from_engine)?
    {
        Some(order) => Ok(Ok((order, language))),
        None => Ok(Err(not_found(state, language))),
    }
}

/// `POST /o/{token}/cod`: the COD buyer's answer, `answer=yes` ("Ya, kirim") or `answer=no`
/// ("Batalkan").
pub(crate) async fn cod_answer(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    req: Request,
) -> Result<Response, PageError> {
    let token = token.map(|Path(token)| token).unwrap_or_default();
    let language = match admit(&state, &req, Budget::Form) {
        Ok(language) => language,
        Err(refused) => return Ok(refused),
    };
    let (order, language) = match order_for_form(&state, &token, language).await? {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    let form =
        axum::extract::Form::<std::collections::HashMap<String, String>>::from_request(req, &state)
            .await
            .map(|f| f.0)
            .unwrap_or_default();
    let buyer = Actor::from_stored("buyer".to_owned());
    let result = match form.get("answer").map(String::as_str) {
        Some("yes") => state
            .engine
            .step_order(order.id, Step::ConfirmCod, Default::default(), None, buyer)
            .await
            .map(|_| "confirmed"),
        Some("no") => state
            .engine
            .cancel_order_by(
                order.id,
                Strings::of(Language::Indonesian)
                    .get("trk_cod_cancelled_reason")
                    .to_owned(),
                buyer,
                CancelledBy::Buyer,
            )
            .await
            .map(|_| "cancelled"),
        _ => {
            return Ok(show_order(
                &state,
                &order,
                language,
                &token,
                StatusCode::BAD_REQUEST,
                Shown::default(),
            ));
        }
    };
    match result {
        Ok(done) => Ok(
            Redirect::to(&format!("/o/{token}?lang={}&cod={done}", code(language))).into_response(),
        ),
        // The order moved meanwhile (the time ran out, staff answered): show it as it is.
        Err(lunas_engine::Error::Order(_)) => {
            let order = state
                .engine
                .order_by_token(&token)
                .await
                .map_err(PageError::from_engine)?
                .unwrap_or(order);
            Ok(show_order(
                &state,
                &order,
                language,
                &token,
                StatusCode::CONFLICT,
                Shown {
                    notice: Some("trk_cod_too_late"),
                    ..Shown::default()
                },
            ))
        }
        Err(e) => Err(PageError::from_engine(e)),
    }
}

/// What a return form carried.
struct ReturnForm {
    reason: String,
    photos: Vec<Vec<u8>>,
}

/// Reads the return form: `reason` and up to three `photo` files, each refused once it passes
/// its limit.
async fn read_return_form(mut form: Multipart) -> Result<ReturnForm, &'static str> {
    let too_large = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "file_too_large"
        } else {
            "return_unreadable"
        }
    };
    let mut read = ReturnForm {
        reason: String::new(),
        photos: Vec::new(),
    };
    while let Some(mut field) = form.next_field().await.map_err(too_large)? {
        match field.name() {
            Some("reason") => {
                read.reason = field.text().await.map_err(too_large)?;
                if read.reason.chars().count() > REASON_MAX {
                    return Err("return_reason_too_long");
                }
            }
            Some("photo") => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(too_large)? {
                    if bytes.len() + chunk.len() > PROOF_BYTES_MAX {
                        return Err("file_too_large");
                    }
                    bytes.extend_from_slice(&chunk);
                }
                // A file field left empty sends no bytes: no photo.
                if !bytes.is_empty() {
                    if read.photos.len() == RETURN_PHOTOS_MAX {
                        return Err("too_many_files");
                    }
                    read.photos.push(bytes);
                }
            }
            _ => {}
        }
    }
    Ok(read)
}

/// `POST /o/{token}/return`: the buyer asks for a return.
pub(crate) async fn return_request(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    req: Request,
) -> Result<Response, PageError> {
    let token = token.map(|Path(token)| token).unwrap_or_default();
    let language = match admit(&state, &req, Budget::Form) {
        Ok(language) => language,
        Err(refused) => return Ok(refused),
    };
    let (order, language) = match order_for_form(&state, &token, language).await? {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    let refused = |order: &Order, status: StatusCode, code: &'static str, reason: String| {
        show_order(
            &state,
            order,
            language,
            &token,
            status,
            Shown {
                return_error: Some(code),
                return_reason: Some(reason),
                ..Shown::default()
            },
        )
    };
    let form = match Multipart::from_request(req, &state).await {
        Err(_) => {
            return Ok(refused(
                &order,
                StatusCode::BAD_REQUEST,
                "return_unreadable",
                String::new(),
            ));
        }
        Ok(form) => match read_return_form(form).await {
            Ok(form) => form,
            Err(code) => {
                let status = if code == "file_too_large" {
                    StatusCode::PAYLOAD_TOO_LARGE
                } else {
                    StatusCode::BAD_REQUEST
                };
                return Ok(refused(&order, status, code, String::new()));
            }
        },
    };
    let reason = match lunas_core::order::clean_text(&form.reason.replace(['\r', '\n'], " ")) {
        Ok(Some(reason)) => reason,
        _ => {
            return Ok(refused(
                &order,
                StatusCode::UNPROCESSABLE_ENTITY,
                "return_reason_missing",
                form.reason,
            ));
        }
    };
    let buyer = Actor::from_stored("buyer".to_owned());
    match state
        .engine
        .request_return(order.id, reason.clone(), form.photos, buyer)
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/o/{token}?lang={}&return=sent", code(language)))
                .into_response(),
        ),
        Err(e @ (lunas_engine::Error::File(_) | lunas_engine::Error::Order(_))) => {
            let api = crate::ApiError::from(e);
            let code: &'static str = match api.code {
                "file_too_large" => "file_too_large",
                "file_type_not_accepted" => "file_type_not_accepted",
                "file_unreadable" | "file_empty" => "file_unreadable",
                "too_many_files" => "too_many_files",
                "outside_return_window" => "outside_return_window",
                "return_open" => "return_open",
                _ => "not_delivered",
            };
            Ok(refused(&order, api.status, code, reason))
        }
        Err(e) => Err(PageError::from_engine(e)),
    }
}
