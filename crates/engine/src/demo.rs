//! A small believable store for newcomers: Indonesian products, a few buyers, and orders in every
//! state. The orders are placed through the engine itself, on a manual clock that starts two days
//! ago and walks to the present, so their histories are real ones.

use std::sync::Arc;

use jiff::SignedDuration;
use lunas_core::catalog::ProductInput;
use lunas_core::fulfilment::Step;
use lunas_core::placing::NewOrderLine;
use lunas_core::{
    Actor, CustomerInfo, Honorific, Money, OrderId, PayWindow, PaymentMethod, Phone, Quantity, Sku,
    Timestamp,
};
use lunas_store::{Store, StoreError};

use crate::{Engine, Error, ManualClock, PlaceOrder};

const PRODUCTS: &[(&str, &str, i64, i64)] = &[
    (
        "GAMIS-RAYON-HTM",
        "Gamis Syar'i Rayon Premium - Hitam",
        189_000,
        12,
    ),
    ("KRD-VOAL-MTF", "Kerudung Segi Empat Voal Motif", 65_000, 40),
    (
        "BATIK-PRIA-L",
        "Kemeja Batik Pria Lengan Panjang (L)",
        145_000,
        8,
    ),
    ("SAMBAL-ROA-200", "Sambal Roa Khas Manado 200 g", 45_000, 60),
    ("KOPI-GAYO-250", "Kopi Arabika Gayo 250 g", 85_000, 25),
    ("SERUM-NIA-20", "Serum Niacinamide 10% 20 ml", 79_000, 30),
];

/// A product sold in sizes and colours, and its variants: SKU, label, stock, and a price when it
/// is the variant's own.
const GROUPED: (&str, &str, i64) = ("KAOS-OVS", "Kaos Oversize Katun Combed 24s", 89_000);
const VARIANTS: &[(&str, &str, i64, Option<i64>)] = &[
    ("KAOS-OVS-HTM-M", "Hitam / M", 10, None),
    ("KAOS-OVS-HTM-L", "Hitam / L", 6, None),
    ("KAOS-OVS-HTM-XXL", "Hitam / XXL", 4, Some(95_000)),
    ("KAOS-OVS-PTH-L", "Putih / L", 0, None),
];

fn tip(sku: &str) -> Option<&'static str> {
    match sku {
        "GAMIS-RAYON-HTM" => {
            Some("Rayon premium adem dipakai seharian; cuci dengan air dingin agar warnanya awet.")
        }
        "KOPI-GAYO-250" => Some("Paling nikmat diseduh V60 dengan air 92°C, rasio 1:15."),
        "SERUM-NIA-20" => Some("Pakai malam hari setelah toner, 2–3 tetes cukup."),
        _ => None,
    }
}

struct Buyer {
    phone: &'static str,
    name: &'static str,
    email: Option<&'static str>,
    honorific: Honorific,
}

const SARI: Buyer = Buyer {
    phone: "0812-3456-7801",
    name: "Sari Wulandari",
    email: Some("sari.w@example.co.id"),
    honorific: Honorific::Bu,
};
const DIMAS: Buyer = Buyer {
    phone: "+62 857-1234-5678",
    name: "Dimas Pratama",
    email: None,
    honorific: Honorific::Mas,
};
const RINA: Buyer = Buyer {
    phone: "081311112222",
    name: "Rina Marlina",
    email: None,
    honorific: Honorific::Kak,
};
const AISYAH: Buyer = Buyer {
    phone: "6287812345678",
    name: "Aisyah Putri",
    email: Some("aisyah.putri@example.com"),
    honorific: Honorific::Bund,
};
const AGUS: Buyer = Buyer {
    phone: "0812 9876 5432",
    name: "Agus Setiawan",
    email: None,
    honorific: Honorific::Pak,
};

/// What seeding did.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub products: usize,
    pub orders: usize,
}

/// Seeds the demo store into `store` unless it already has products. Returns `None` when it
/// left an existing store alone.
pub async fn seed(store: &Store, real_now: Timestamp) -> Result<Option<Seeded>, Error> {
    if !store
        .products(lunas_core::queries::Page {
            after: None,
            limit: 1,
        })
        .await?
        .is_empty()
    {
        return Ok(None);
    }
    let start = real_now - SignedDuration::from_hours(50);
    let clock = Arc::new(ManualClock::new(start));
    let engine = Engine::new(store.clone(), clock.clone()).await?;
    let mut settings = (*engine.settings()).clone();
    settings.store_name = "Razha & Co".to_owned();
    settings.bank_accounts = vec![lunas_core::messages::BankAccount {
        bank: "BCA".to_owned(),
        number: "0231 5567 89".to_owned(),
        holder: "Muri Handayani".to_owned(),
    }];
    // The catalogue is open, so a newcomer can order from /shop as a buyer would.
    settings.shop.enabled = true;
    engine.put_settings(settings).await?;
    for (sku, name, price, stock) in PRODUCTS {
        engine
            .put_product(ProductInput {
                sku: Sku::parse(sku).expect("demo SKUs are valid"),
                name: (*name).to_owned(),
                price: Money::price(*price).expect("demo prices are valid"),
                stock: *stock,
                tips: tip(sku).map(str::to_owned),
                variant: None,
            })
            .await?;
    }
    let (group_sku, group_name, group_price) = GROUPED;
    let group_sku = Sku::parse(group_sku).expect("demo SKUs are valid");
    engine
        .put_product(ProductInput {
            sku: group_sku.clone(),
            name: group_name.to_owned(),
            price: Money::price(group_price).expect("demo prices are valid"),
            stock: 0,
            tips: None,
            variant: None,
        })
        .await?;
    for (sku, label, stock, price) in VARIANTS {
        engine
            .put_product(ProductInput {
                sku: Sku::parse(sku).expect("demo SKUs are valid"),
                name: String::new(),
                price: Money::price(price.unwrap_or(0)).expect("demo prices are valid"),
                stock: *stock,
                tips: None,
                variant: Some(lunas_core::catalog::VariantInput {
                    parent: group_sku.clone(),
                    label: (*label).to_owned(),
                    own_price: price.is_some(),
                }),
            })
            .await?;
    }
    // A few products have a photo (drawn: a cloth's colour with a fold of light).
    for (n, sku) in ["GAMIS-RAYON-HTM", "KRD-VOAL-MTF", "KAOS-OVS"]
        .iter()
        .enumerate()
    {
        let sku = Sku::parse(sku).expect("demo SKUs are valid");
        engine.put_product_photo(sku, product_picture(n)).await?;
    }
    // The white tee in L is sold out; two buyers asked to be told when it is back.
    for (phone, name) in [("+6281377770001", "Nadia"), ("+6281377770002", "Yoga")] {
        engine
            .join_waitlist(
                Sku::parse("KAOS-OVS-PTH-L").expect("demo SKUs are valid"),
                Phone::parse(phone).expect("demo phones are valid"),
                Some(name.to_owned()),
            )
            .await?;
    }
    let actor = Actor::from_stored("demo".to_owned());
    let place = |buyer: &Buyer,
                 lines: &[(&str, i64)],
                 method: PaymentMethod,
                 within: Option<&str>| PlaceOrder {
        address: None,
        charges: Default::default(),
        customer: CustomerInfo {
            phone: Phone::parse(buyer.phone).expect("demo phones are valid"),
            name: buyer.name.to_owned(),
            email: buyer.email.map(str::to_owned),
            honorific: Some(buyer.honorific),
        },
        lines: lines
            .iter()
            .map(|(sku, qty)| NewOrderLine {
                sku: Sku::parse(sku).expect("demo SKUs are valid"),
                qty: Quantity::new(*qty).expect("demo quantities are valid"),
            })
            .collect(),
        payment_method: method,
        pay_within: within.map(|w| PayWindow::parse(w).expect("demo windows are valid")),
        actor: actor.clone(),
        idempotency: None,
        note: None,
    };
    let pay = |id: OrderId, amount: i64, reference: &str| {
        let engine = &engine;
        let actor = actor.clone();
        let reference = reference.to_owned();
        async move {
            engine
                .record_payment(
                    id,
                    Money::payment(amount).expect("demo amounts are valid"),
                    Some(reference),
                    actor,
                )
                .await
        }
    };

    // Two days ago: Bu Sari orders and pays by transfer two hours later.
    let sari = engine
        .place_order(place(
            &SARI,
            &[("GAMIS-RAYON-HTM", 1), ("KRD-VOAL-MTF", 2)],
            PaymentMethod::BankTransfer,
            None,
        ))
        .await?;
    // Mas Dimas says "fix, saya ambil" and is never heard from again: his booking expires.
    engine
        .place_order(place(
            &DIMAS,
            &[("BATIK-PRIA-L", 2)],
            PaymentMethod::BankTransfer,
            None,
        ))
        .await?;
    clock.advance(SignedDuration::from_hours(2));
    // Her transfer (with its unique code) arrives on the bank statement the seller imports, with a
    // transfer nobody can place: it waits in the review list.
    let today = engine
        .now()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Jakarta").expect("the bundled tz database"))
        .date();
    let statement = format!(
        "date,description,amount,balance\n\
         {today},TRSF E-BANKING CR 0231/FTSCY/WS95031 SARI WULANDARI,{},\n\
         {today},TRSF E-BANKING CR 0231/FTSCY/WS95188 ANDI PRATAMA,75000,\n",
        sari.order.amount_due.minor_units()
    );
    engine
        .import_statement(&statement, false, actor.clone())
        .await?;
    clock.advance(SignedDuration::from_hours(1));
    // Kak Rina picks the wrong coffee and cancels twenty minutes later.
    let rina = engine
        .place_order(place(
            &RINA,
            &[("KOPI-GAYO-250", 1)],
            PaymentMethod::Ewallet,
            None,
        ))
        .await?;
    clock.advance(SignedDuration::from_mins(20));
    engine
        .cancel_order_by(
            rina.order.id,
            "Pembeli salah pilih varian, minta dibatalkan".to_owned(),
            actor.clone(),
            lunas_core::CancelledBy::Buyer,
        )
        .await?;
    // The next day Pak Agus buys sambal by QRIS during a live sale and pays at once.
    clock.advance(SignedDuration::from_hours(26));
    let agus = engine
        .place_order(place(
            &AGUS,
            &[("SAMBAL-ROA-200", 3)],
            PaymentMethod::Qris,
            Some("15m"),
        ))
        .await?;
    clock.advance(SignedDuration::from_mins(4));
    pay(agus.order.id, 135_000, "QRIS 88120034").await?;
    // Bu Sari's parcel is packed and handed to JNE; the courier's webhook says it arrived, and
    // she asks for a return with a photo. A courier event for a waybill nobody typed in yet is
    // kept for staff.
    let ship = crate::fulfilment::ShipInfo {
        courier: Some("JNE".to_owned()),
        service: Some("REG".to_owned()),
        waybill: Some("CGK0126473819".to_owned()),
        cost: Money::price(18_000).ok(),
    };
    let sari_id = sari.order.id;
    engine
        .step_order(sari_id, Step::Pack, Default::default(), None, actor.clone())
        .await?;
    engine
        .step_order(sari_id, Step::Ship, ship, None, actor.clone())
        .await?;
    clock.advance(SignedDuration::from_hours(3));
    let courier_event =
        |key: &str, waybill: &str, status: &str, step| crate::fulfilment::CourierEvent {
            source: "biteship",
            key: key.to_owned(),
            waybill: waybill.to_owned(),
            status: status.to_owned(),
            step,
            courier: Some("jne".to_owned()),
            happened_at: None,
        };
    engine
        .courier_events(vec![
            courier_event("demo-1", "CGK0126473819", "delivered", Some(Step::Deliver)),
            courier_event("demo-2", "SPX009918273", "picked", Some(Step::Ship)),
        ])
        .await?;
    clock.advance(SignedDuration::from_hours(1));
    engine
        .request_return(
            sari_id,
            "Kerudungnya ada noda di bagian ujung".to_owned(),
            vec![product_picture(1)],
            Actor::from_stored("buyer".to_owned()),
        )
        .await?;
    // In the same live sale Mas Dimas books again and vanishes again: two unpaid orders in a
    // row put him in `watch`, so his next order may not be COD and needs a deposit.
    engine
        .place_order(place(
            &DIMAS,
            &[("KOPI-GAYO-250", 2)],
            PaymentMethod::Qris,
            Some("15m"),
        ))
        .await?;
    clock.advance(SignedDuration::from_mins(16));
    engine.tick().await?;
    // Three hours ago Bunda Aisyah booked a gamis and has paid a first part.
    clock.set(real_now - SignedDuration::from_hours(3));
    let aisyah = engine
        .place_order(place(
            &AISYAH,
            &[("GAMIS-RAYON-HTM", 1)],
            PaymentMethod::BankTransfer,
            None,
        ))
        .await?;
    clock.advance(SignedDuration::from_mins(40));
    pay(aisyah.order.id, 100_000, "DP via BRI").await?;
    // An hour ago Kak Rina came back for two serums; half an hour ago Pak Agus ordered coffee COD.
    clock.set(real_now - SignedDuration::from_hours(1));
    let serums = engine
        .place_order(place(
            &RINA,
            &[("SERUM-NIA-20", 2)],
            PaymentMethod::BankTransfer,
            None,
        ))
        .await?;
    // Ten minutes ago she sent a screenshot of her transfer from the order's page: it waits on
    // the review list, and her reminders pause.
    clock.set(real_now - SignedDuration::from_mins(10));
    if let Some(token) = &serums.order.public_token {
        engine.submit_proof(token, receipt_picture()).await?;
    }
    clock.set(real_now - SignedDuration::from_mins(30));
    engine
        .place_order(place(
            &AGUS,
            &[("KOPI-GAYO-250", 2)],
            PaymentMethod::Cod,
            None,
        ))
        .await?;
    clock.set(real_now);
    while engine.tick().await?.more {}
    // The year before, imported as a seller would import their marketplace exports (after the
    // orders above, so that theirs are the first numbers).
    for table in crate::demo_history::tables(start) {
        engine.import_orders(table, false, false).await?;
    }
    crate::demo_conversations::seed(&engine, real_now).await?;
    Ok(Some(Seeded {
        products: PRODUCTS.len() + 1,
        orders: 8,
    }))
}

/// A product's photo, drawn: a cloth of the `n`th colour with a band of light across it.
fn product_picture(n: usize) -> Vec<u8> {
    let colours = [[40, 40, 48], [176, 120, 150], [70, 110, 160]];
    let [r, g, b] = colours[n % colours.len()];
    let picture = image::RgbImage::from_fn(480, 480, |x, y| {
        let light = 40u8.saturating_sub(((x + y) as i32 - 480).unsigned_abs().min(40) as u8);
        image::Rgb([r + light, g + light, b + light])
    });
    let mut jpeg = Vec::new();
    picture
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .expect("a picture in memory encodes");
    jpeg
}

/// A phone's screenshot of a transfer, drawn: a bank's green bar, the amount's line, the
/// details' lines.
fn receipt_picture() -> Vec<u8> {
    let (green, grey, dark) = (
        image::Rgb([0, 104, 74]),
        image::Rgb([214, 218, 222]),
        image::Rgb([60, 64, 67]),
    );
    let picture = image::RgbImage::from_fn(180, 320, |x, y| match y {
        0..=39 => green,
        70..=85 if (30..150).contains(&x) => dark,
        110..=117 | 130..=137 | 150..=157 | 170..=177 if (20..160).contains(&x) => grey,
        _ => image::Rgb([255, 255, 255]),
    });
    let mut png = Vec::new();
    picture
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a picture in memory encodes");
    png
}

/// Seeds the demo data into a store that may have been opened by the caller; a thin helper for the
/// CLI that maps the "already has data" case to a log line.
pub async fn seed_if_empty(
    store: &Store,
    real_now: Timestamp,
) -> Result<Option<Seeded>, StoreError> {
    match seed(store, real_now).await {
        Ok(seeded) => Ok(seeded),
        Err(Error::Store(e)) => Err(e),
        Err(other) => Err(StoreError::Internal(format!(
            "demo seeding failed: {other}"
        ))),
    }
}
