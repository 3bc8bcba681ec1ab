//! The demo's conversations: the shop's FAQ as a seller would first write it, and buyers who
//! wrote in the last hours — one whose questions the bot suggests answers to, one staff answered,
//! one who has waited since the morning, one who ordered after asking, and one who sent a format
//! order by chat.

use jiff::{SignedDuration, Timestamp};
use lunas_core::conversations::{InboundKind, ReplyChannel};
use lunas_core::faq::FaqEntry;
use lunas_core::outbox::InboundMessage;
use lunas_core::{Actor, Phone};

use crate::{Engine, Error};

const FAQ: &[(&str, &[&str], &str, Option<&str>)] = &[
    (
        "ready",
        &[
            "ready kak?",
            "stok masih ada?",
            "barang ini masih tersedia?",
        ],
        "{nama} ready kak, sisa {stok}. Harganya {harga}, silakan langsung order ya 😊",
        None,
    ),
    (
        "cod",
        &["bisa cod?", "bisa bayar di tempat?"],
        "Bisa COD kak, bayar ke kurir waktu paket sampai.",
        None,
    ),
    (
        "ongkir",
        &["ongkir ke kota saya berapa?", "ongkos kirimnya berapa?"],
        "Ongkir tergantung kota tujuan kak. Kirim alamat lengkapnya, nanti kami hitungkan.",
        None,
    ),
    (
        "lama-kirim",
        &["berapa lama pengiriman?", "berapa hari sampai?"],
        "Pulau Jawa 2–3 hari kerja, luar Jawa 3–7 hari kerja kak.",
        None,
    ),
    (
        "bahan",
        &[
            "bahannya apa?",
            "bahannya adem?",
            "bahannya tebal atau tipis?",
        ],
        "Gamis kami rayon premium kak: adem, jatuh, tidak menerawang.",
        None,
    ),
    (
        "rekening",
        &["nomor rekeningnya berapa?", "transfer ke rekening mana?"],
        "BCA 0231 5567 89 a.n. Muri Handayani kak.",
        None,
    ),
    (
        "retur",
        &[
            "bisa retur?",
            "kalau tidak muat bisa tukar?",
            "barang rusak bisa dikembalikan?",
        ],
        "Bisa tukar atau retur dalam 2×24 jam setelah paket sampai kak, dengan video unboxing.",
        None,
    ),
];

/// (number, minutes ago, text)
const MESSAGES: &[(&str, i64, &str)] = &[
    ("+6281399990001", 42, "kak gamis syari rayon hitam ready?"),
    ("+6281399990001", 41, "bisa cod gak ke bekasi"),
    ("+6281399990002", 190, "ongkir ke bdg brp kak"),
    (
        "+6281399990003",
        300,
        "halo kak, kerudung voal motifnya ada warna apa aja ya?",
    ),
    ("+6281234567801", 600, "kak rekening nya apa ya"),
    (
        "+6281311112222",
        51 * 60,
        "kak kemeja batik pria L masih ada?",
    ),
    (
        "+6281399990004",
        25,
        "Nama: Dewi Lestari\nAlamat: Jl. Melati No. 5, Cimahi\nPesanan: Kerudung Segi Empat Voal Motif 2 pcs\nBayar: transfer",
    ),
];

pub(crate) async fn seed(engine: &Engine, now: Timestamp) -> Result<(), Error> {
    for (id, questions, answer, sku) in FAQ {
        engine
            .put_faq(FaqEntry {
                id: (*id).to_owned(),
                questions: questions.iter().map(|q| (*q).to_owned()).collect(),
                answer: (*answer).to_owned(),
                sku: sku.map(str::to_owned),
            })
            .await?;
    }
    for (n, (phone, minutes_ago, text)) in MESSAGES.iter().enumerate() {
        let inbound = InboundMessage {
            phone: Phone::parse(phone).expect("demo phones are valid"),
            wa_message_id: format!("demo:{n}"),
            kind: InboundKind::Text,
            body: Some((*text).to_owned()),
            received_at: now - SignedDuration::from_mins(*minutes_ago),
            raw: "{}".to_owned(),
        };
        if engine.store.record_inbound(inbound.clone()).await? {
            engine.after_inbound(inbound).await;
        }
    }
    // Staff answered the ongkir question from their phone.
    engine
        .reply(
            Phone::parse("+6281399990002").expect("demo phones are valid"),
            "Ke Bandung Rp12.000 kak (JNE REG), 2 hari sampai. Mau dikirim ke alamat mana?",
            ReplyChannel::Link,
            None,
            Actor::from_stored("cli:demo".to_owned()),
        )
        .await?;
    Ok(())
}
