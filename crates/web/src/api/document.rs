//! The OpenAPI document, generated from the request and response types of the handlers
//! (`utoipa`): every operation is the `#[utoipa::path]` on its handler, every schema the
//! `ToSchema` of the type the handler reads or writes. The few rules every route shares (a bearer
//! token, a JSON body's refusals, the store being unavailable) are added here once, by
//! [`Conventions`], from the same facts the server acts on.

use std::sync::LazyLock;

use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToResponse, ToSchema};

use super::{
    analytics, conversations, customers, drafts, exports, faq, fulfilment, messages, orders,
    payments, products, settings, waitlist, webhooks,
};
use crate::{callbacks, inbound};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "lunas API",
        version = "1",
        description = "The order desk API of lunas. Every /api/v1 call needs `Authorization: Bearer <token>` (create one with `lunas token create`). Money is an integer count of the currency's smallest unit in use (one rupiah for IDR). Errors are `{\"error\": {\"code\", \"message\"}}` with a stable snake_case code; the codes are listed in docs/api.md."
    ),
    paths(
        super::healthz,
        super::openapi,
        products::list,
        products::get,
        products::put,
        waitlist::join,
        waitlist::list,
        orders::list,
        orders::place,
        drafts::parse,
        exports::orders_csv,
        orders::get,
        orders::pay,
        orders::cancel,
        orders::accept_as_paid,
        orders::extend,
        fulfilment::pack,
        fulfilment::ship,
        fulfilment::deliver,
        fulfilment::confirm_cod,
        fulfilment::returned_to_sender,
        fulfilment::request_return,
        fulfilment::list_returns,
        fulfilment::step_return,
        fulfilment::kept_events,
        payments::payment_link,
        payments::import_statement,
        payments::review_list,
        payments::resolve,
        messages::of_order,
        messages::manual_queue,
        messages::mark_sent,
        messages::skip,
        messages::replay,
        messages::preview,
        messages::get_reminders,
        messages::put_reminders,
        webhooks::list,
        webhooks::create,
        webhooks::delete,
        analytics::summary,
        conversations::list,
        conversations::get,
        faq::list,
        faq::put,
        faq::delete,
        faq::match_text,
        customers::list,
        customers::get,
        customers::patch,
        customers::pin,
        customers::export,
        customers::erase,
        settings::get,
        settings::put,
        inbound::verify,
        inbound::receive,
        inbound::messages,
        callbacks::midtrans,
        callbacks::xendit,
        callbacks::mutations,
        callbacks::biteship,
        callbacks::kiriminaja,
        callbacks::generic_courier,
    ),
    components(schemas(crate::error::ErrorDetailDoc), responses(ErrorResponse)),
    modifiers(&Conventions),
    security(("bearer" = []))
)]
struct ApiDoc;

/// The document as served at `/api/openapi.json`, made once.
pub(crate) static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| serde_json::to_string_pretty(&document()).expect("the document serialises"));

/// The document as JSON, for tests and the `lunas` binary.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
    // `orders::parse_place`'s one rule across fields, which utoipa has no word for: a COD order
    // has no payment deadline to set.
    // A page's cursor is `null` on the last page; the derive loses the `Option` of a generic.
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for (_, page) in schemas
            .iter_mut()
            .filter(|(name, _)| name.starts_with("PageView_"))
        {
            let cursor = &mut page["properties"]["next_after"]["type"];
            if let Some(kind) = cursor.as_str() {
                *cursor = serde_json::json!([kind, "null"]);
            }
        }
    }
    doc["components"]["schemas"]["OrderInput"]["not"] = serde_json::json!({
        "required": ["payment_method", "pay_within"],
        "properties": {
            "payment_method": {"const": "cod"},
            "pay_within": {"type": "string"}
        }
    });
    doc
}

/// An error with a stable code.
#[derive(ToResponse)]
#[response(description = "An error with a stable code.")]
#[allow(dead_code)] // Describes `ApiError`'s body; the server writes it from `error::Body`.
pub(crate) struct ErrorResponse(#[to_schema] crate::error::ErrorDoc);

/// A string schema named after what it holds, made from the pattern the rule in `core` keeps (and
/// tests against the rule).
macro_rules! text_schema {
    ($(#[$doc:meta])* $name:ident, $pattern:expr, $max:expr, $description:expr, [$($example:expr),*]) => {
        $(#[$doc])*
        pub(crate) struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some($pattern))
                    .max_length(Some($max))
                    .description(Some($description))
                    .examples([$($example),*])
                    .into()
            }
        }

        impl ToSchema for $name {}
    };
}

text_schema!(
    /// A buyer's phone number. The server reads any way of writing a number (`0812…`, `62812…`,
    /// `+62 812-…`, other countries); the document describes Indonesian mobile numbers, which every
    /// buyer of a lunas shop has, so that every number it describes is taken.
    PhoneNumber,
    lunas_core::phone::PHONE_PATTERN,
    lunas_core::phone::PHONE_INPUT_LEN_MAX,
    "A phone number: `0812…` or `+62812…` (spaces, dashes and `62812…` are read too).",
    ["+6281234567890", "081234567890"]
);

text_schema!(
    /// A name, reason or reference: one line of text.
    Text,
    lunas_core::order::TEXT_PATTERN,
    lunas_core::order::TEXT_LEN_MAX,
    "One line of text, not blank, without control characters.",
    ["Rina Wulandari"]
);

text_schema!(
    /// A courier's name, service or waybill.
    ShipmentText,
    lunas_core::order::TEXT_PATTERN,
    lunas_core::fulfilment::SHIPMENT_TEXT_MAX,
    "One line of text, not blank, without control characters.",
    ["CGK0126473819"]
);

text_schema!(
    /// An optional line of text: blank is the same as absent.
    OptionalText,
    r"^[^\u0000-\u001F\u007F-\u009F]*$",
    lunas_core::order::TEXT_LEN_MAX,
    "One line of text without control characters; blank is the same as none.",
    ["BCA 1042"]
);

text_schema!(
    /// A recipient's name, a kelurahan, kecamatan, city or province.
    AreaText,
    lunas_core::order::TEXT_PATTERN,
    lunas_core::shipping::AREA_LEN_MAX,
    "One line of text, not blank, without control characters.",
    ["Kota Depok"]
);

text_schema!(
    /// An optional kelurahan or kecamatan: blank is the same as absent.
    OptionalAreaText,
    r"^[^\u0000-\u001F\u007F-\u009F]*$",
    lunas_core::shipping::AREA_LEN_MAX,
    "One line of text without control characters; blank is the same as none.",
    ["Cilodong"]
);

text_schema!(
    /// A street line.
    Street,
    lunas_core::order::TEXT_PATTERN,
    lunas_core::shipping::STREET_LEN_MAX,
    "House number, street, RT/RW: text without control characters, not blank.",
    ["Jl. Melati No. 12, RT 03/RW 05"]
);

text_schema!(
    /// An Indonesian postcode.
    Postcode,
    lunas_core::shipping::POSTCODE_PATTERN,
    5,
    "Five digits.",
    ["16415"]
);

text_schema!(
    /// An email address.
    Email,
    lunas_core::order::EMAIL_PATTERN,
    lunas_core::order::EMAIL_LEN_MAX,
    "An email address.",
    ["rina@example.com"]
);

text_schema!(
    /// Notes on a buyer.
    Notes,
    lunas_core::order::NOTE_PATTERN,
    customers::NOTES_LEN_MAX,
    "Text over one or more lines, without control characters.",
    ["Minta dikirim sore."]
);

text_schema!(
    /// A product's tip.
    Tips,
    lunas_core::order::NOTE_PATTERN,
    products::TIPS_LEN_MAX,
    "Text over one or more lines, without control characters.",
    ["Cuci dengan air dingin."]
);

text_schema!(
    /// A product code.
    SkuCode,
    lunas_core::sku::SKU_PATTERN,
    lunas_core::sku::SKU_LEN_MAX,
    "Letters, digits, `.`, `_` and `-`.",
    ["KAOS-HITAM-L"]
);

text_schema!(
    /// The product a variant belongs to.
    ParentSku,
    lunas_core::sku::SKU_PATTERN,
    lunas_core::sku::SKU_LEN_MAX,
    "The SKU of the product this variant belongs to: letters, digits, `.`, `_` and `-`.",
    ["KAOS-POLOS"]
);

text_schema!(
    /// A variant's label.
    VariantLabel,
    lunas_core::order::TEXT_PATTERN,
    lunas_core::catalog::VARIANT_LEN_MAX,
    "What sets the variant apart: one line of text, not blank.",
    ["Hitam / L"]
);

text_schema!(
    /// A tag on a buyer.
    Tag,
    customers::TAG_PATTERN,
    customers::TAG_LEN_MAX,
    "Letters, digits, `-` and `_`; kept in lower case.",
    ["reseller", "vip"]
);

text_schema!(
    /// A message template.
    TemplateText,
    lunas_core::messages::TEMPLATE_PATTERN,
    1000,
    "A message template: text with variables such as `{{ buyer.greeting }}` and `{{ order.amount_due }}`; the whole minijinja language (conditions, loops, filters) is read too, see docs/messages.md.",
    ["Halo {{ buyer.greeting }}, pesanan #{{ order.id }} menunggu pembayaran."]
);

text_schema!(
    /// A bank statement in the generic layout.
    StatementCsv,
    lunas_core::statement::STATEMENT_PATTERN,
    super::payments::STATEMENT_BYTES_MAX,
    "A CSV statement. The generic layout is described here; BCA, Mandiri and BRI exports are read by their own headers.",
    ["date,description,amount,balance\n2026-12-01,TRF DARI RINA #1042,150237,2150237\n"]
);

text_schema!(
    /// Where webhook deliveries go.
    WebhookUrl,
    lunas_engine::channels::webhooks::WEBHOOK_URL_PATTERN,
    lunas_engine::channels::webhooks::WEBHOOK_URL_LEN_MAX,
    "An http(s):// address on the public internet (public IP addresses are taken too).",
    ["https://example.com/hooks/lunas"]
);

/// What every route shares, added to the operations the derive made.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);

        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let api = path.starts_with("/api/v1/");
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                if api {
                    // `auth::require_token`, and a store that cannot be reached.
                    add_error(operation, "401");
                    add_error(operation, "503");
                } else {
                    // Outside /api/v1 a route is public, or authenticated by its own signature.
                    operation.security = Some(Vec::new());
                }
                for parameter in operation.parameters.iter_mut().flatten() {
                    not_null_header(parameter);
                }
                let json_body = operation.request_body.as_ref().is_some_and(|body| {
                    matches!(body, RefOr::T(body) if body.content.contains_key("application/json"))
                });
                if json_body && api {
                    // `extract::ApiJson`: not JSON, too large, not a JSON object of this shape.
                    for status in ["400", "413", "415", "422"] {
                        add_error(operation, status);
                    }
                }
            }
            // A POST outside /api/v1 is a delivery from a gateway, a mutation service or
            // WhatsApp, signed by its sender: not readable, not signed right, not configured here
            // (or for an unknown order), or a store that cannot be reached.
            if let Some(delivery) = item.post.as_mut().filter(|_| !api) {
                for status in ["400", "401", "404", "503"] {
                    add_error(delivery, status);
                }
            }
        }
    }
}

/// A header that may be left out is absent, never `null`: headers have no null (the derive
/// writes an optional parameter outside the query as nullable).
fn not_null_header(parameter: &mut RefOr<Parameter>) {
    let RefOr::T(parameter) = parameter else {
        return;
    };
    if parameter.parameter_in != ParameterIn::Header {
        return;
    }
    if let Some(RefOr::T(Schema::Object(object))) = parameter.schema.as_mut()
        && let SchemaType::Array(types) = &object.schema_type
    {
        let types: Vec<Type> = types
            .iter()
            .filter(|t| **t != Type::Null)
            .cloned()
            .collect();
        if let [only] = types.as_slice() {
            object.schema_type = SchemaType::Type(only.clone());
        }
    }
}

fn add_error(operation: &mut Operation, status: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name("ErrorResponse")));
}
