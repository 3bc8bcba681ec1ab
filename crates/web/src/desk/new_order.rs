//! The new-order form: the buyer, as many lines as the order has, the address with its shipping
//! cost and discount, the method and an optional window. It is read with the API's own parsing
//! and placed by the same engine method as `POST /api/v1/orders`.
//!
//! It works without JavaScript: "Tambah barang" posts the form back with one more line. The
//! script (`desk.js`) only adds and removes lines in place and keeps a running total.
//!
//! "Tempel format order" reads a buyer's filled template (`POST /api/v1/orders/parse`'s reader)
//! and shows the form filled from it, with what it could not place, for staff to check and send.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::Response;
use lunas_core::order::ITEMS_PER_ORDER_MAX;
use lunas_core::queries::Page;
use lunas_core::shipping::{Address, AddressError, AddressInput, AddressProblem};
use lunas_core::{Honorific, PaymentMethod};
use lunas_engine::PlaceOrder;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::i18n::Strings;
use super::pages::{engine_err, rupiah, whole_number};
use super::{Desk, FieldErrors, PageError, Posted, done, refusal, ser};
use crate::ApiError;
use crate::api::orders as api_orders;

/// Products the form offers to choose from.
const PRODUCTS_OFFERED_MAX: usize = 500;

/// One line as typed: a SKU and a quantity, both as text.
#[derive(Serialize, Clone, Default, Debug, PartialEq, Eq)]
pub(super) struct TypedLine {
    pub sku: String,
    pub qty: String,
}

/// The form's single fields; the lines (`sku`, `qty`, repeated) are read beside it.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct NewOrderForm {
    pub phone: String,
    pub name: String,
    pub email: String,
    pub honorific: String,
    pub payment_method: String,
    pub pay_within: String,
    pub recipient: String,
    pub address_phone: String,
    pub street: String,
    pub kelurahan: String,
    pub kecamatan: String,
    pub city: String,
    pub province: String,
    pub postcode: String,
    pub shipping_cost: String,
    pub discount: String,
    /// The no-script "Tambah barang" button.
    pub add_line: String,
}

impl NewOrderForm {
    fn has_address(&self) -> bool {
        [
            &self.street,
            &self.kelurahan,
            &self.kecamatan,
            &self.city,
            &self.province,
            &self.postcode,
            &self.recipient,
            &self.address_phone,
        ]
        .iter()
        .any(|field| !field.trim().is_empty())
    }
}

/// The form shown again: what was typed (or what a pasted format order filled in), its lines,
/// and the errors beside their fields.
pub(super) async fn new_order_page(
    desk: &Desk,
    status: StatusCode,
    errors: FieldErrors,
    values: BTreeMap<&str, &str>,
    lines: Vec<TypedLine>,
    extra: minijinja::Value,
) -> Result<Response, PageError> {
    let products = desk
        .state
        .engine
        .products(Page {
            after: None,
            limit: PRODUCTS_OFFERED_MAX,
        })
        .await
        .map_err(engine_err)?;
    let strings = desk.strings();
    let available = strings.get("available").to_lowercase();
    // A product with variants is ordered by its variants (each listed with its own name).
    let products: Vec<_> = products
        .into_iter()
        .filter(|p| !p.is_group())
        .map(|p| {
            let label = format!(
                "{} · {} · {} {}",
                p.name,
                lunas_core::messages::format_rupiah(p.price.minor_units()),
                p.available,
                available
            );
            context! { sku => p.sku.as_str(), label => label, price => p.price.minor_units() }
        })
        .collect();
    let methods: Vec<(&str, &str)> = PaymentMethod::ALL
        .iter()
        .map(|m| (m.as_str(), strings.get(&format!("method_{}", m.as_str()))))
        .collect();
    let honorifics: Vec<(&str, &str)> = std::iter::once(("", "—"))
        .chain(Honorific::ALL.iter().map(|h| (h.as_str(), h.as_str())))
        .collect();
    let mut lines = lines;
    if lines.is_empty() {
        lines.push(TypedLine {
            sku: String::new(),
            qty: "1".into(),
        });
    }
    let open_address = [
        "street",
        "city",
        "province",
        "recipient",
        "shipping_cost",
        "discount",
    ]
    .iter()
    .any(|f| values.get(f).is_some_and(|v| !v.trim().is_empty()))
        || errors
            .keys()
            .any(|k| k.starts_with("addr_") || *k == "shipping_cost" || *k == "discount");
    desk.page_with_status(
        status,
        "order_new.html",
        "orders",
        context! {
            errors => ser(&errors), values => ser(&values), lines => ser(&lines),
            products => products, methods => ser(&methods), honorifics => ser(&honorifics),
            open_address => open_address, lines_max => ITEMS_PER_ORDER_MAX, paste => extra,
        },
    )
}

pub(crate) async fn new_order(desk: Desk) -> Result<Response, PageError> {
    new_order_page(
        &desk,
        StatusCode::OK,
        FieldErrors::new(),
        BTreeMap::new(),
        Vec::new(),
        minijinja::Value::UNDEFINED,
    )
    .await
}

/// The lines of a posted form: `sku` and `qty` repeated, in order.
fn typed_lines(form: &super::FormData) -> Vec<TypedLine> {
    let skus: Vec<&str> = form.all("sku").collect();
    let qtys: Vec<&str> = form.all("qty").collect();
    (0..skus.len().max(qtys.len()))
        .take(ITEMS_PER_ORDER_MAX + 1)
        .map(|i| TypedLine {
            sku: skus.get(i).copied().unwrap_or("").to_owned(),
            qty: qtys.get(i).copied().unwrap_or("").to_owned(),
        })
        .collect()
}

/// An address problem in the member's language.
fn address_words(strings: &Strings, e: &AddressError) -> String {
    match &e.problem {
        AddressProblem::Missing => strings.get("err_required").to_owned(),
        AddressProblem::TooLong { max } => strings
            .get("err_too_long")
            .replace("{max}", &max.to_string()),
        AddressProblem::ControlCharacter => strings.get("err_control").to_owned(),
        AddressProblem::Phone(_) => strings.get("code_invalid_phone").replace("{detail}", ""),
        AddressProblem::Postcode => strings.get("err_postcode").to_owned(),
    }
}

/// The form field an address problem belongs to.
fn address_field(e: &AddressError) -> &'static str {
    use lunas_core::shipping::AddressField as F;
    match e.field {
        F::Recipient => "addr_recipient",
        F::Phone => "addr_phone",
        F::Street => "addr_street",
        F::Kelurahan => "addr_kelurahan",
        F::Kecamatan => "addr_kecamatan",
        F::City => "addr_city",
        F::Province => "addr_province",
        F::Postcode => "addr_postcode",
    }
}

/// Why a form was refused: one field and what to say beside it.
enum Refused {
    Field(&'static str, String),
    Api(ApiError),
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Refused {
        Refused::Api(e)
    }
}

/// The order the form describes, parsed with the API's own functions; an address is parsed here
/// so that each of its problems is said beside its own field. The recipient and the number
/// default to the buyer's.
async fn place(desk: &Desk, typed: NewOrderForm, lines: &[TypedLine]) -> Result<u64, Refused> {
    let mut items = Vec::with_capacity(lines.len());
    for line in lines.iter().filter(|l| !l.sku.trim().is_empty()) {
        let qty = match line.qty.trim() {
            "" => 1,
            raw => whole_number(desk, raw, "invalid_quantity")?,
        };
        items.push(api_orders::ItemBody {
            sku: line.sku.clone(),
            qty,
        });
    }
    let address = if typed.has_address() {
        let recipient = match typed.recipient.trim() {
            "" => typed.name.as_str(),
            given => given,
        };
        let phone = match typed.address_phone.trim() {
            "" => typed.phone.as_str(),
            given => given,
        };
        Some(
            Address::parse(&AddressInput {
                recipient,
                phone,
                street: &typed.street,
                kelurahan: &typed.kelurahan,
                kecamatan: &typed.kecamatan,
                city: &typed.city,
                province: &typed.province,
                postcode: &typed.postcode,
            })
            .map_err(|e| Refused::Field(address_field(&e), address_words(desk.strings(), &e)))?,
        )
    } else {
        None
    };
    let money = |raw: &str, code| match raw.trim() {
        "" => Ok(0),
        raw => rupiah(desk, raw, code),
    };
    let shipping_cost = money(&typed.shipping_cost, "invalid_shipping_cost")?;
    let discount = money(&typed.discount, "invalid_discount")?;
    let order = api_orders::parse_place(api_orders::PlaceBody {
        customer: api_orders::CustomerBody {
            phone: typed.phone,
            name: typed.name,
            email: Some(typed.email),
            honorific: Some(typed.honorific),
        },
        items,
        payment_method: typed.payment_method,
        pay_within: Some(typed.pay_within),
        address: None,
        shipping_cost: Some(shipping_cost),
        discount: Some(discount),
    })?;
    let placed = desk
        .state
        .engine
        .place_order(PlaceOrder {
            customer: order.customer,
            lines: order.lines,
            address,
            charges: order.charges,
            payment_method: order.payment_method,
            pay_within: order.pay_within,
            actor: desk.actor(),
            idempotency: None,
            note: None,
        })
        .await
        .map_err(ApiError::from)?;
    Ok(placed.order.id.0 as u64)
}

pub(crate) async fn place_order(posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let typed: NewOrderForm = form.parse()?;
    let mut lines = typed_lines(&form);
    if !typed.add_line.is_empty() {
        // No script: the form comes back with one more line, nothing placed.
        if lines.len() < ITEMS_PER_ORDER_MAX {
            lines.push(TypedLine {
                sku: String::new(),
                qty: "1".into(),
            });
        }
        return new_order_page(
            &desk,
            StatusCode::OK,
            FieldErrors::new(),
            form.values(),
            lines,
            minijinja::Value::UNDEFINED,
        )
        .await;
    }
    let errors = match place(&desk, typed, &lines).await {
        Ok(id) => return Ok(done(&format!("/orders/{id}"), "placed")),
        Err(Refused::Field(field, message)) => FieldErrors::from([(field, message)]),
        Err(Refused::Api(e)) => {
            let (field, message) = refusal(desk.strings(), e)?;
            FieldErrors::from([(field, message)])
        }
    };
    new_order_page(
        &desk,
        StatusCode::UNPROCESSABLE_ENTITY,
        errors,
        form.values(),
        lines,
        minijinja::Value::UNDEFINED,
    )
    .await
}

/// The paste box's form.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PasteForm {
    paste: String,
}

/// Fills the new-order form from a pasted format order. Nothing is placed: the form comes back
/// filled, with the lines the reader could not place and the products it could not find.
pub(crate) async fn paste(posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let PasteForm { paste } = form.parse()?;
    // The dashboard also refuses a blank box: staff pressed the button before pasting.
    let checked = match paste.trim() {
        "" => Err(ApiError::unprocessable(
            "invalid_text",
            "text must not be empty",
        )),
        _ => crate::api::drafts::check_text(&paste),
    };
    if let Err(e) = checked {
        let (_, message) = refusal(desk.strings(), e)?;
        let errors = FieldErrors::from([("paste", message)]);
        let values = BTreeMap::from([("paste", paste.as_str())]);
        return new_order_page(
            &desk,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            values,
            Vec::new(),
            minijinja::Value::UNDEFINED,
        )
        .await;
    }
    let draft = desk
        .state
        .engine
        .read_format_order(&paste)
        .await
        .map_err(engine_err)?;
    let shipping = draft
        .shipping_cost
        .map(|m| lunas_core::messages::format_rupiah(m.minor_units()));
    let mut filled: Vec<(&str, String)> = vec![("paste", paste.clone())];
    let mut put = |field: &'static str, value: Option<&str>| {
        if let Some(value) = value {
            filled.push((field, value.to_owned()));
        }
    };
    put("name", draft.customer.name.as_deref());
    put("phone", draft.customer.phone.as_deref());
    put(
        "payment_method",
        draft.payment_method.map(PaymentMethod::as_str),
    );
    put("shipping_cost", shipping.as_deref());
    if let Some(address) = &draft.address {
        put("street", address.street.as_deref());
        put("kelurahan", address.kelurahan.as_deref());
        put("kecamatan", address.kecamatan.as_deref());
        put("city", address.city.as_deref());
        put("province", address.province.as_deref());
        put("postcode", address.postcode.as_deref());
    }
    let lines: Vec<TypedLine> = draft
        .items
        .iter()
        .map(|item| TypedLine {
            sku: item
                .sku
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            qty: item.qty.to_string(),
        })
        .collect();
    let missing: Vec<String> = draft
        .items
        .iter()
        .filter(|item| item.sku.is_none())
        .map(|item| item.text.clone())
        .collect();
    let strings = desk.strings();
    let nothing = draft.found_nothing();
    let report = context! {
        percent => (draft.confidence * 100.0).round() as i64,
        unparsed => &draft.unparsed,
        missing => missing,
        note => &draft.note,
        nothing => nothing,
        summary => strings.get(if nothing { "paste_nothing" } else { "paste_filled" }),
    };
    let values: BTreeMap<&str, &str> = filled.iter().map(|(k, v)| (*k, v.as_str())).collect();
    new_order_page(
        &desk,
        StatusCode::OK,
        FieldErrors::new(),
        values,
        lines,
        report,
    )
    .await
}
