//! The dashboard's words, in Indonesian (the default) and English. Templates read them as
//! `t.key`; a key missing in a language is a test failure (templates render with strict
//! undefined), not a blank on a seller's screen.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use lunas_core::messages::Language;
use minijinja::Value;

use crate::ApiError;

/// `(key, Indonesian, English)`.
const STRINGS: &[(&str, &str, &str)] = &[
    ("skip", "Langsung ke isi", "Skip to content"),
    ("nav_label", "Menu utama", "Main menu"),
    ("nav_today", "Hari ini", "Today"),
    ("nav_orders", "Pesanan", "Orders"),
    ("nav_buyers", "Pembeli", "Buyers"),
    ("nav_products", "Produk", "Products"),
    ("nav_settings", "Pengaturan", "Settings"),
    ("nav_staff", "Staf", "Staff"),
    ("nav_audit", "Log audit", "Audit log"),
    ("nav_account", "Akun saya", "My account"),
    ("sign_in", "Masuk", "Sign in"),
    ("sign_out", "Keluar", "Sign out"),
    ("back_home", "Kembali ke beranda", "Back to the dashboard"),
    (
        "first_run",
        "Belum ada akun. Buat akun pemilik dengan perintah `lunas user add --role owner --email … --password-stdin` (lihat log server).",
        "There is no account yet. Create the owner with `lunas user add --role owner --email … --password-stdin` (see the server log).",
    ),
    ("email", "Email", "Email"),
    ("email_optional", "Email (opsional)", "Email (optional)"),
    ("password", "Kata sandi", "Password"),
    (
        "current_password",
        "Kata sandi saat ini",
        "Current password",
    ),
    ("new_password", "Kata sandi baru", "New password"),
    ("confirm_password", "Kata sandi Anda", "Your password"),
    (
        "password_hint",
        "10 sampai 256 karakter. Kalimat panjang lebih aman daripada kata rumit.",
        "10 to 256 characters. A long sentence is safer than a complicated word.",
    ),
    (
        "reauth_hint",
        "Perubahan ini penting, jadi kami minta kata sandi Anda lagi.",
        "This change matters, so we ask for your password again.",
    ),
    (
        "totp_code",
        "Kode dari aplikasi autentikator",
        "Code from the authenticator app",
    ),
    (
        "totp_hint",
        "6 angka, berganti tiap 30 detik.",
        "6 digits, changing every 30 seconds.",
    ),
    (
        "today_title",
        "Yang perlu dikerjakan hari ini",
        "What needs doing today",
    ),
    (
        "counts_label",
        "Jumlah pesanan per status",
        "Orders per status",
    ),
    ("new_order", "Pesanan baru", "New order"),
    (
        "releasing_title",
        "Stok dilepas dalam 2 jam",
        "Holds released within 2 hours",
    ),
    (
        "releasing_none",
        "Tidak ada pesanan yang akan dilepas dalam 2 jam.",
        "No order is released within 2 hours.",
    ),
    (
        "queue_title",
        "Antrean WhatsApp manual",
        "Manual WhatsApp queue",
    ),
    ("queue_none", "Antrean kosong.", "The queue is empty."),
    (
        "reminders_title",
        "Pengingat 24 jam ke depan",
        "Reminders in the next 24 hours",
    ),
    (
        "reminders_none",
        "Tidak ada pengingat terjadwal.",
        "No reminder is scheduled.",
    ),
    (
        "review_title",
        "Pembayaran perlu dicek",
        "Payments to review",
    ),
    (
        "review_none",
        "Tidak ada pembayaran yang perlu dicek.",
        "No payment needs review.",
    ),
    ("review_assign", "Untuk pesanan #", "For order #"),
    ("review_note", "atau catatan", "or a note"),
    ("review_resolve", "Selesaikan", "Resolve"),
    (
        "new_orders_title",
        "Pesanan baru (24 jam)",
        "New orders (24 hours)",
    ),
    (
        "new_orders_none",
        "Belum ada pesanan baru.",
        "No new order yet.",
    ),
    ("order", "Pesanan", "Order"),
    ("buyer", "Pembeli", "Buyer"),
    ("still_due", "Sisa tagihan", "Still due"),
    ("released_at", "Dilepas", "Released at"),
    ("due_at", "Jadwal", "Due at"),
    ("total", "Total", "Total"),
    ("status", "Status", "Status"),
    ("placed_at", "Dipesan", "Placed"),
    ("deadline", "Batas bayar", "Pay by"),
    ("open_whatsapp", "Buka WhatsApp", "Open WhatsApp"),
    ("mark_sent", "Tandai terkirim", "Mark sent"),
    ("all", "Semua", "All"),
    ("filter", "Tampilkan", "Show"),
    (
        "search_orders",
        "Cari nomor pesanan, nomor HP, atau nama",
        "Order number, phone or name",
    ),
    ("orders_none", "Tidak ada pesanan.", "No orders."),
    ("next_page", "Berikutnya →", "Next →"),
    ("phone", "Nomor HP / WhatsApp", "Phone / WhatsApp"),
    (
        "phone_hint",
        "Contoh: 0812 3456 7890",
        "For example: 0812 3456 7890",
    ),
    ("name", "Nama", "Name"),
    ("honorific", "Sapaan", "Honorific"),
    ("product", "Produk", "Product"),
    ("qty", "Jumlah", "Quantity"),
    ("payment_method", "Cara bayar", "Payment method"),
    (
        "pay_within",
        "Batas bayar khusus (opsional)",
        "Own pay window (optional)",
    ),
    (
        "pay_within_hint",
        "Kosongkan untuk memakai pengaturan toko, atau isi misalnya 6h atau 2d.",
        "Leave empty for the store's setting, or write e.g. 6h or 2d.",
    ),
    ("place_order", "Buat pesanan", "Place order"),
    ("summary", "Ringkasan", "Summary"),
    ("amount_due", "Harus dibayar", "Amount due"),
    ("unique_code", "kode unik", "unique code"),
    ("amount_paid", "Sudah dibayar", "Paid"),
    ("deposit", "Uang muka", "Deposit"),
    ("policy", "Kebijakan", "Policy"),
    ("price", "Harga", "Price"),
    ("hold", "Stok", "Stock hold"),
    ("actions", "Tindakan", "Actions"),
    ("record_payment", "Catat pembayaran", "Record payment"),
    ("amount", "Jumlah (Rp)", "Amount (Rp)"),
    (
        "amount_hint",
        "Angka saja, tanpa titik: 150237",
        "Digits only: 150237",
    ),
    ("reference", "Referensi (opsional)", "Reference (optional)"),
    (
        "extend_deadline",
        "Perpanjang batas bayar",
        "Extend the deadline",
    ),
    ("new_deadline", "Batas bayar baru", "New deadline"),
    ("reason", "Alasan", "Reason"),
    ("cancel_order", "Batalkan pesanan", "Cancel order"),
    ("cancelled_by", "Dibatalkan oleh", "Cancelled by"),
    (
        "by_seller",
        "Penjual (tidak dihitung ke pembeli)",
        "Seller (not held against the buyer)",
    ),
    ("by_buyer", "Pembeli", "Buyer"),
    ("timeline", "Riwayat", "Timeline"),
    ("band", "Golongan", "Band"),
    ("find_phone", "Cari nomor HP", "Find a phone number"),
    ("score", "Skor", "Score"),
    ("record", "Catatan bayar", "Record"),
    ("paid_of_placed", "dibayar", "paid"),
    ("buyers_none", "Tidak ada pembeli.", "No buyers."),
    ("reliability", "Keandalan", "Reliability"),
    ("orders_placed", "Pesanan", "Orders"),
    ("orders_paid", "Dibayar", "Paid"),
    (
        "orders_expired",
        "Tidak dibayar (kedaluwarsa)",
        "Unpaid (expired)",
    ),
    (
        "orders_cancelled",
        "Dibatalkan pembeli",
        "Cancelled by buyer",
    ),
    ("pinned", "Disematkan karena", "Pinned because"),
    (
        "export_data",
        "Unduh semua data pembeli (JSON)",
        "Download all of this buyer's data (JSON)",
    ),
    ("notes_tags", "Catatan dan tag", "Notes and tags"),
    ("notes", "Catatan", "Notes"),
    ("tags", "Tag", "Tags"),
    (
        "tags_hint",
        "Pisahkan dengan koma: reseller, vip",
        "Separate with commas: reseller, vip",
    ),
    ("pin_band", "Sematkan golongan", "Pin the band"),
    (
        "band_auto",
        "Otomatis (dari skor)",
        "Automatic (from the score)",
    ),
    ("erase_title", "Hapus data pribadi", "Erase personal data"),
    (
        "erase_hint",
        "Nama, nomor, alamat, dan pesan dihapus (UU PDP). Pesanan dan uang tetap tercatat dengan nama samaran; catatan keandalan tetap berlaku untuk nomor ini.",
        "Name, number, address and messages are erased (UU PDP). Orders and money stay under a pseudonym; the reliability record still applies to this number.",
    ),
    (
        "erase_confirm",
        "Saya mengerti, data ini tidak bisa dikembalikan",
        "I understand this cannot be undone",
    ),
    ("erase", "Hapus data", "Erase"),
    ("history", "Riwayat pesanan", "Order history"),
    ("save", "Simpan", "Save"),
    ("add", "Tambah", "Add"),
    ("delete", "Hapus", "Delete"),
    ("stock", "Stok", "Stock"),
    ("held", "Ditahan", "Held"),
    ("available", "Tersedia", "Available"),
    ("tips", "Tips untuk pembeli", "Tips for buyers"),
    ("products_none", "Belum ada produk.", "No products yet."),
    (
        "product_form",
        "Tambah atau ubah produk",
        "Add or change a product",
    ),
    ("sku", "Kode produk (SKU)", "Product code (SKU)"),
    (
        "sku_hint",
        "Huruf, angka, - dan _. SKU yang sudah ada akan diubah.",
        "Letters, digits, - and _. An existing SKU is updated.",
    ),
    (
        "stock_hint",
        "Stok fisik, termasuk yang ditahan pesanan belum dibayar.",
        "Units on hand, including those held by unpaid orders.",
    ),
    ("when", "Waktu", "When"),
    ("who", "Oleh", "Who"),
    ("what", "Apa", "What"),
    ("subject", "Tentang", "Subject"),
    ("detail", "Rincian", "Detail"),
    (
        "audit_none",
        "Log audit masih kosong.",
        "The audit log is empty.",
    ),
    ("sections", "Bagian", "Sections"),
    ("section_general", "Toko", "Store"),
    ("section_deadlines", "Batas bayar", "Pay windows"),
    ("section_reminders", "Pengingat", "Reminders"),
    ("section_quiet", "Jam tenang", "Quiet hours"),
    ("section_bank", "Rekening bank", "Bank accounts"),
    ("section_channels", "Saluran pesan", "Channels"),
    ("section_risk", "Kebijakan risiko", "Risk policy"),
    ("section_webhooks", "Webhook", "Webhooks"),
    ("store_name", "Nama toko", "Store name"),
    (
        "store_link",
        "Tautan toko (opsional)",
        "Store link (optional)",
    ),
    (
        "buyer_language",
        "Bahasa pesan ke pembeli",
        "Language of messages to buyers",
    ),
    ("timezone", "Zona waktu", "Time zone"),
    (
        "timezone_hint",
        "Contoh: Asia/Jakarta, Asia/Makassar, Asia/Jayapura",
        "For example: Asia/Jakarta, Asia/Makassar, Asia/Jayapura",
    ),
    (
        "window_hint",
        "Contoh: 24h, 2d, 90m",
        "For example: 24h, 2d, 90m",
    ),
    ("cadence", "Jadwal pengingat", "Reminder steps"),
    (
        "cadence_hint",
        "Satu baris per pengingat: `after_order 2h` (2 jam setelah pesan) atau `before_deadline 2h` (2 jam sebelum batas).",
        "One line per reminder: `after_order 2h` or `before_deadline 2h`.",
    ),
    ("max_reminders", "Paling banyak", "At most"),
    (
        "reminder_template",
        "Teks pengingat (kosong = bawaan)",
        "Reminder text (empty = default)",
    ),
    (
        "template_hint",
        "Bisa memakai {{ buyer.greeting }}, {{ order.id }}, {{ order.balance }}, {{ order.deadline }}, {{ payment.instructions }} (lihat docs/messages.md).",
        "You can use {{ buyer.greeting }}, {{ order.id }}, {{ order.balance }}, {{ order.deadline }}, {{ payment.instructions }} (see docs/messages.md).",
    ),
    ("preview", "Pratinjau", "Preview"),
    (
        "preview_title",
        "Pratinjau untuk contoh pesanan (transfer bank, dipesan sekarang)",
        "Preview for a sample order (bank transfer, placed now)",
    ),
    ("quiet_start", "Mulai", "From"),
    ("quiet_end", "Sampai", "Until"),
    (
        "quiet_hint",
        "Tidak ada pengingat di jam ini. Kosongkan keduanya untuk mematikan.",
        "No reminders in these hours. Leave both empty to turn off.",
    ),
    ("bank_accounts", "Rekening", "Accounts"),
    (
        "bank_hint",
        "Satu baris per rekening: BCA | 1234567890 | Sari Wulandari",
        "One line per account: BCA | 1234567890 | Sari Wulandari",
    ),
    (
        "channel_whatsapp",
        "WhatsApp otomatis (bila server punya akses Cloud API)",
        "Automatic WhatsApp (when the server has Cloud API access)",
    ),
    (
        "channel_email",
        "Email (bila server punya SMTP dan pembeli memberi email)",
        "Email (when the server has SMTP and the buyer gave an address)",
    ),
    (
        "channels_hint",
        "Selain itu, pesan masuk antrean WhatsApp manual.",
        "Otherwise messages go to the manual WhatsApp queue.",
    ),
    ("risk_policy", "Kebijakan (JSON)", "Policy (JSON)"),
    (
        "risk_hint",
        "Skor, golongan dan kebijakan tiap golongan; lihat docs/reliability.md.",
        "Score, bands and each band's policy; see docs/reliability.md.",
    ),
    (
        "webhook_url",
        "Alamat webhook (https)",
        "Webhook URL (https)",
    ),
    (
        "keys_hint",
        "Kunci Midtrans, Xendit dan layanan mutasi diatur di konfigurasi server, bukan di sini.",
        "Midtrans, Xendit and mutation-service keys are set in the server configuration, not here.",
    ),
    ("role", "Peran", "Role"),
    ("role_owner", "Pemilik", "Owner"),
    ("role_staff", "Staf", "Staff"),
    (
        "second_factor",
        "Verifikasi dua langkah",
        "Two-step verification",
    ),
    ("on", "Aktif", "On"),
    ("off", "Mati", "Off"),
    ("enable", "Aktifkan", "Enable"),
    ("disable", "Nonaktifkan", "Disable"),
    ("add_staff", "Tambah staf", "Add staff"),
    ("api_tokens", "Token API", "API tokens"),
    (
        "api_tokens_hint",
        "Token API dipakai aplikasi lain (toko online, aplikasi kasir) untuk membuat dan membaca pesanan. Cabut token yang bocor atau tidak dipakai lagi: sejak itu token tersebut langsung ditolak.",
        "API tokens let other apps (an online shop, a till app) create and read orders. Revoke a token that leaked or is no longer used: it is refused from that moment on.",
    ),
    (
        "api_tokens_none",
        "Belum ada token API. Token dibuat oleh pengelola server lunas.",
        "No API tokens yet. They are created by whoever runs the lunas server.",
    ),
    ("token_name", "Nama", "Name"),
    ("token_created", "Dibuat", "Created"),
    ("revoke", "Cabut", "Revoke"),
    ("ui_language", "Bahasa dasbor", "Dashboard language"),
    ("change_password", "Ganti kata sandi", "Change password"),
    (
        "totp_is_on",
        "Verifikasi dua langkah aktif.",
        "Two-step verification is on.",
    ),
    (
        "totp_is_off",
        "Verifikasi dua langkah mati.",
        "Two-step verification is off.",
    ),
    ("totp_set_up", "Siapkan", "Set up"),
    (
        "totp_setup_hint",
        "Masukkan kode rahasia ini di aplikasi autentikator (Google Authenticator, Aegis, …), lalu ketik kode 6 angka yang muncul.",
        "Enter this secret in an authenticator app (Google Authenticator, Aegis, …), then type the 6-digit code it shows.",
    ),
    (
        "totp_open_app",
        "Buka di aplikasi autentikator",
        "Open in the authenticator app",
    ),
    ("totp_turn_on", "Aktifkan", "Turn on"),
    ("totp_turn_off", "Matikan", "Turn off"),
    ("lang_id", "Bahasa Indonesia", "Bahasa Indonesia"),
    ("lang_en", "English", "English"),
    (
        "err_not_found",
        "Halaman atau data ini tidak ada.",
        "This page or record does not exist.",
    ),
    (
        "err_forbidden",
        "Halaman ini hanya untuk pemilik toko.",
        "This page is for the store's owner only.",
    ),
    (
        "err_stale",
        "Formulir ini sudah kedaluwarsa (misalnya Anda keluar dan masuk lagi). Muat ulang halaman, lalu kirim lagi.",
        "This form has expired (for example, you signed out and in again). Reload the page and send it again.",
    ),
    (
        "err_bad_form",
        "Formulir tidak bisa dibaca.",
        "The form could not be read.",
    ),
    (
        "err_unavailable",
        "Database sedang tidak bisa dihubungi. Coba lagi sebentar lagi.",
        "The database is unavailable. Try again shortly.",
    ),
    (
        "err_internal",
        "Terjadi kesalahan di server. Sudah dicatat di log.",
        "Something went wrong on the server. It has been logged.",
    ),
    (
        "err_sign_in",
        "Email atau kata sandi salah.",
        "Wrong email or password.",
    ),
    (
        "err_throttled",
        "Terlalu banyak percobaan gagal. Coba lagi setelah",
        "Too many failed attempts. Try again after",
    ),
    (
        "err_totp_needed",
        "Masukkan kode dari aplikasi autentikator.",
        "Enter the code from your authenticator app.",
    ),
    (
        "err_totp_wrong",
        "Kode autentikator salah.",
        "The authenticator code is wrong.",
    ),
    ("err_required", "Wajib diisi.", "Required."),
    ("err_number", "Harus berupa angka.", "Must be a number."),
    (
        "err_confirm",
        "Centang kotak ini untuk melanjutkan.",
        "Tick this box to go on.",
    ),
    (
        "err_search",
        "Tidak ada pesanan atau pembeli yang cocok.",
        "Nothing matches.",
    ),
    (
        "err_datetime",
        "Tulis tanggal dan jam, misalnya 2026-12-02 17:00.",
        "Write a date and time, e.g. 2026-12-02 17:00.",
    ),
    (
        "err_cadence_line",
        "Baris ini tidak terbaca; tulis `after_order 2h` atau `before_deadline 2h`.",
        "This line does not read; write `after_order 2h` or `before_deadline 2h`.",
    ),
    (
        "err_bank_line",
        "Tulis tiap rekening sebagai: Bank | Nomor | Nama pemilik.",
        "Write each account as: Bank | Number | Holder.",
    ),
    (
        "err_time",
        "Tulis jam sebagai HH:MM, atau kosongkan keduanya.",
        "Write a time as HH:MM, or leave both empty.",
    ),
    ("err_json", "Bukan JSON yang valid:", "Not valid JSON:"),
    (
        "code_out_of_stock",
        "Stok tidak cukup.",
        "Not enough stock.",
    ),
    (
        "code_unknown_sku",
        "Produk ini tidak ada.",
        "No such product.",
    ),
    (
        "code_customer_blocked",
        "Pesanan ini tidak dapat dibuat.",
        "This order cannot be placed.",
    ),
    (
        "code_invalid_transition",
        "Pesanan ini sudah tidak bisa diubah dengan cara itu.",
        "The order can no longer be changed that way.",
    ),
    (
        "code_invalid_phone",
        "Nomor HP tidak valid.",
        "Not a valid phone number.",
    ),
    (
        "code_wrong_password",
        "Kata sandi salah.",
        "Wrong password.",
    ),
    (
        "code_wrong_code",
        "Kode autentikator salah.",
        "The authenticator code is wrong.",
    ),
    (
        "code_email_taken",
        "Sudah ada akun dengan email ini.",
        "There is already an account with this email.",
    ),
    (
        "code_last_owner",
        "Pemilik terakhir tidak bisa dinonaktifkan.",
        "The last owner cannot be disabled.",
    ),
    (
        "code_invalid_password",
        "Kata sandi harus 10 sampai 256 karakter.",
        "A password has 10 to 256 characters.",
    ),
    (
        "code_invalid_email",
        "Tulis email seperti nama@contoh.id.",
        "Write an email like name@example.com.",
    ),
    (
        "code_throttled",
        "Terlalu banyak kata sandi salah. Coba lagi 15 menit lagi.",
        "Too many wrong passwords. Try again in 15 minutes.",
    ),
    (
        "code_invalid_amount",
        "Jumlah harus lebih dari Rp0 dan paling banyak Rp1.000.000.000.000.",
        "The amount must be more than Rp0 and at most Rp1.000.000.000.000.",
    ),
    (
        "code_invalid_reason",
        "Tulis alasannya (paling banyak 200 karakter).",
        "Write a reason (at most 200 characters).",
    ),
    (
        "code_invalid_reference",
        "Referensi paling banyak 200 karakter.",
        "A reference has at most 200 characters.",
    ),
    (
        "code_invalid_deadline",
        "Batas baru harus lebih lambat dari batas sekarang dan paling lama 30 hari dari sekarang.",
        "The new deadline must be later than the current one and within 30 days.",
    ),
    (
        "code_invalid_quantity",
        "Jumlah harus angka bulat 1 sampai 10.000.",
        "The quantity must be a whole number from 1 to 10,000.",
    ),
    (
        "code_quantity_limited",
        "Golongan pembeli ini membatasi jumlah barang per pesanan: {detail}",
        "This buyer's band limits the units per order: {detail}",
    ),
    (
        "code_payment_method_not_allowed",
        "Cara bayar ini tidak diizinkan untuk golongan pembeli ini.",
        "This payment method is not allowed for this buyer's band.",
    ),
    (
        "code_invalid_name",
        "Nama wajib diisi (paling banyak 200 karakter).",
        "A name is required (at most 200 characters).",
    ),
    (
        "code_invalid_sku",
        "Kode produk: huruf, angka, - dan _ saja.",
        "A product code has letters, digits, - and _ only.",
    ),
    (
        "code_invalid_price",
        "Harga harus Rp0 atau lebih.",
        "The price must be Rp0 or more.",
    ),
    (
        "code_invalid_stock",
        "Stok harus 0 atau lebih.",
        "Stock must be 0 or more.",
    ),
    (
        "code_stock_below_reserved",
        "Stok tidak boleh kurang dari yang sedang ditahan pesanan.",
        "Stock cannot be below what unpaid orders hold.",
    ),
    (
        "code_invalid_tips",
        "Tips paling banyak 500 karakter.",
        "Tips have at most 500 characters.",
    ),
    (
        "code_invalid_notes",
        "Catatan paling banyak 2.000 karakter.",
        "Notes have at most 2,000 characters.",
    ),
    (
        "code_invalid_tags",
        "Tag: huruf, angka, - atau _, paling banyak 20 tag.",
        "Tags: letters, digits, - or _, at most 20 tags.",
    ),
    (
        "code_invalid_pay_within",
        "Tulis lama waktu seperti 6h atau 2d (1 detik sampai 30 hari; tidak untuk COD).",
        "Write a duration like 6h or 2d (1 second to 30 days; not for COD).",
    ),
    (
        "code_invalid_payment_method",
        "Pilih cara bayar.",
        "Choose a payment method.",
    ),
    (
        "code_invalid_honorific",
        "Pilih sapaan dari daftar.",
        "Choose an honorific from the list.",
    ),
    (
        "code_zero_total",
        "Semua barang gratis; tidak ada yang perlu dibayar.",
        "Every item is free; there is nothing to pay.",
    ),
    (
        "code_invalid_settings",
        "Pengaturan ditolak: {detail}",
        "The settings were refused: {detail}",
    ),
    (
        "code_invalid_template",
        "Teks pesan tidak bisa dipakai: {detail}",
        "The message text cannot be used: {detail}",
    ),
    (
        "code_invalid_webhook_url",
        "Alamat webhook ditolak: {detail}",
        "The webhook URL was refused: {detail}",
    ),
    (
        "code_invalid_resolution",
        "Isi nomor pesanan atau catatan (salah satu).",
        "Give an order number or a note (one of them).",
    ),
    (
        "code_invalid_note",
        "Catatan paling banyak 200 karakter.",
        "A note has at most 200 characters.",
    ),
    (
        "code_review_resolved",
        "Sudah diselesaikan sebelumnya.",
        "It was resolved already.",
    ),
    (
        "code_review_not_assignable",
        "Uang ini sudah tercatat di sebuah pesanan.",
        "This money is already on an order.",
    ),
    ("code_not_found", "Tidak ditemukan.", "Not found."),
    ("section_messages", "Pesan ke pembeli", "Messages to buyers"),
    (
        "totp_reset",
        "Matikan verifikasi dua langkah",
        "Turn off two-step verification",
    ),
    (
        "via_manual_whatsapp",
        "antrean WhatsApp manual",
        "manual WhatsApp queue",
    ),
    ("via_email", "email", "email"),
    ("via_whatsapp", "WhatsApp otomatis", "automatic WhatsApp"),
    ("via_webhook", "webhook", "webhook"),
    ("msg_pending", "menunggu dikirim", "waiting to be sent"),
    ("msg_sent", "terkirim", "sent"),
    ("msg_failed", "gagal, dicoba lagi", "failed, will retry"),
    ("msg_dead", "tidak terkirim", "not delivered"),
    ("send_this", "Kirim pesan ini", "Send this message"),
    (
        "message_text",
        "Teks (kosong = bawaan)",
        "Text (empty = default)",
    ),
    (
        "preview_messages_title",
        "Pratinjau untuk contoh pesanan",
        "Preview for a sample order",
    ),
    (
        "err_refused",
        "Tidak bisa diselesaikan; periksa lagi isiannya.",
        "This could not be done; check what was entered.",
    ),
    ("notice_placed", "Pesanan dibuat.", "Order placed."),
    ("notice_paid", "Pembayaran dicatat.", "Payment recorded."),
    (
        "notice_cancelled",
        "Pesanan dibatalkan.",
        "Order cancelled.",
    ),
    (
        "notice_extended",
        "Batas bayar diperpanjang.",
        "Deadline extended.",
    ),
    ("notice_sent", "Ditandai terkirim.", "Marked sent."),
    ("notice_resolved", "Selesai dicek.", "Resolved."),
    ("notice_saved", "Tersimpan.", "Saved."),
    (
        "notice_erased",
        "Data pribadi pembeli dihapus.",
        "The buyer's personal data was erased.",
    ),
    (
        "notice_signed_out",
        "Anda sudah keluar.",
        "You are signed out.",
    ),
    (
        "notice_token_revoked",
        "Token dicabut. Aplikasi yang memakainya tidak bisa masuk lagi.",
        "Token revoked. Apps using it can no longer get in.",
    ),
    (
        "notice_staff_added",
        "Akun staf dibuat.",
        "Staff account created.",
    ),
    (
        "notice_totp_on",
        "Verifikasi dua langkah aktif.",
        "Two-step verification is on.",
    ),
    (
        "notice_totp_off",
        "Verifikasi dua langkah dimatikan.",
        "Two-step verification is off.",
    ),
    (
        "status_awaiting_payment",
        "Menunggu bayar",
        "Awaiting payment",
    ),
    (
        "status_awaiting_balance",
        "Menunggu pelunasan",
        "Awaiting balance",
    ),
    ("status_paid", "Lunas", "Paid"),
    ("status_paid_needs_refund", "Perlu refund", "Needs refund"),
    ("status_expired", "Kedaluwarsa", "Expired"),
    ("status_cancelled", "Dibatalkan", "Cancelled"),
    ("band_trusted", "Terpercaya", "Trusted"),
    ("band_normal", "Biasa", "Normal"),
    ("band_watch", "Diawasi", "Watch"),
    ("band_blocked", "Diblokir", "Blocked"),
    ("method_bank_transfer", "Transfer bank", "Bank transfer"),
    (
        "method_virtual_account",
        "Virtual account",
        "Virtual account",
    ),
    ("method_ewallet", "E-wallet", "E-wallet"),
    ("method_qris", "QRIS", "QRIS"),
    ("method_cod", "COD (bayar di tempat)", "Cash on delivery"),
    ("hold_held", "Ditahan", "Held"),
    ("hold_released", "Dilepas", "Released"),
    ("hold_converted", "Terjual", "Sold"),
    ("kind_reminder", "Pengingat", "Reminder"),
    ("kind_order_received", "Pesanan diterima", "Order received"),
    (
        "kind_payment_received",
        "Pembayaran diterima",
        "Payment received",
    ),
    ("kind_hold_released", "Stok dilepas", "Hold released"),
    ("kind_cancelled", "Dibatalkan", "Cancelled"),
    (
        "review_unmatched",
        "Tidak cocok dengan pesanan mana pun",
        "Matches no order",
    ),
    (
        "review_ambiguous",
        "Cocok dengan beberapa pesanan",
        "Matches several orders",
    ),
    (
        "review_reference_mismatch",
        "Nomor pesanan di berita tidak cocok",
        "The reference names another order",
    ),
    ("review_needs_refund", "Perlu dikembalikan", "To refund"),
    ("review_overpaid", "Kelebihan bayar", "Overpaid"),
    (
        "review_unknown_order",
        "Pesanan tidak dikenal",
        "Unknown order",
    ),
    (
        "review_amount_mismatch",
        "Jumlah tidak sesuai",
        "Amount does not fit",
    ),
    (
        "review_gateway_refund",
        "Refund dari gateway",
        "Gateway refund",
    ),
    (
        "review_gateway_challenge",
        "Ditahan gateway (fraud)",
        "Held by the gateway (fraud check)",
    ),
    (
        "review_gateway_unconfirmed",
        "Belum terkonfirmasi Midtrans (cek dasbor Midtrans)",
        "Not yet confirmed by Midtrans (check the Midtrans dashboard)",
    ),
    ("audit_auth.login", "Masuk", "Signed in"),
    ("audit_auth.login_failed", "Gagal masuk", "Sign-in failed"),
    ("audit_auth.logout", "Keluar", "Signed out"),
    (
        "audit_auth.reauth_failed",
        "Kata sandi salah saat konfirmasi",
        "Wrong password when confirming",
    ),
    (
        "audit_auth.password",
        "Kata sandi diganti",
        "Password changed",
    ),
    (
        "audit_auth.totp_on",
        "Verifikasi dua langkah diaktifkan",
        "Two-step verification turned on",
    ),
    (
        "audit_auth.totp_off",
        "Verifikasi dua langkah dimatikan",
        "Two-step verification turned off",
    ),
    ("audit_staff.add", "Staf ditambahkan", "Staff added"),
    (
        "audit_staff.disable",
        "Akun dinonaktifkan",
        "Account disabled",
    ),
    ("audit_staff.enable", "Akun diaktifkan", "Account enabled"),
    (
        "audit_settings.update",
        "Pengaturan diubah",
        "Settings changed",
    ),
    ("audit_webhook.add", "Webhook ditambahkan", "Webhook added"),
    ("audit_webhook.delete", "Webhook dihapus", "Webhook deleted"),
    (
        "audit_token.revoke",
        "Token API dicabut",
        "API token revoked",
    ),
    (
        "audit_customer.band",
        "Status pembeli disematkan",
        "Buyer's band pinned",
    ),
    (
        "audit_customer.notes",
        "Catatan pembeli diubah",
        "Buyer's notes changed",
    ),
    ("actor_api", "Token API", "API token"),
    ("actor_gateway", "Gateway", "Gateway"),
    ("actor_address", "Dari alamat", "From address"),
    ("actor_cli", "Perintah di server", "A command on the server"),
    ("actor_system", "Sistem", "System"),
    ("yes", "ya", "yes"),
    ("no", "tidak", "no"),
    ("audit_setting_currency", "Mata uang", "Currency"),
    ("audit_setting_timezone", "Zona waktu", "Time zone"),
    ("audit_setting_language", "Bahasa pesan", "Message language"),
    ("audit_setting_store_name", "Nama toko", "Store name"),
    ("audit_setting_store_link", "Tautan toko", "Store link"),
    (
        "audit_setting_payment_link",
        "Tautan pembayaran",
        "Payment link",
    ),
    (
        "audit_setting_payment_windows",
        "Batas bayar",
        "Pay windows",
    ),
    ("audit_setting_reminders", "Pengingat", "Reminders"),
    ("audit_setting_quiet_hours", "Jam tenang", "Quiet hours"),
    (
        "audit_setting_messages",
        "Pesan ke pembeli",
        "Messages to buyers",
    ),
    ("audit_setting_templates", "Teks pesan", "Message texts"),
    ("audit_setting_channels", "Saluran pesan", "Channels"),
    (
        "audit_setting_bank_accounts",
        "Rekening bank",
        "Bank accounts",
    ),
    ("audit_setting_risk", "Kebijakan risiko", "Risk policy"),
    ("audit_setting_payments", "Pembayaran", "Payments"),
    (
        "audit_subject_settings",
        "Pengaturan toko",
        "Store settings",
    ),
    ("audit_key_why", "Sebab", "Why"),
    ("audit_key_address", "Alamat IP", "IP address"),
    ("audit_key_role", "Peran", "Role"),
    ("audit_key_band", "Status", "Band"),
    ("audit_key_reason", "Alasan", "Reason"),
    ("audit_key_notes", "Catatan", "Notes"),
    ("audit_key_tags", "Label", "Tags"),
    ("audit_key_changed", "Bagian", "Sections"),
    ("audit_key_tokens", "Jumlah token", "Tokens"),
    ("audit_why_password", "kata sandi salah", "wrong password"),
    (
        "audit_why_unknown account",
        "akun tidak dikenal",
        "unknown account",
    ),
    (
        "audit_why_second factor",
        "kode verifikasi salah",
        "wrong verification code",
    ),
    ("audit_why_disabled", "akun nonaktif", "account disabled"),
    ("event_placed", "Pesanan dibuat", "Order placed"),
    ("event_to", "Status menjadi", "Status became"),
    ("event_payment", "Pembayaran", "Payment"),
    ("event_message", "Pesan", "Message"),
];

/// One language's words.
pub(crate) struct Strings {
    map: BTreeMap<&'static str, &'static str>,
    value: Value,
}

pub(crate) fn code(language: Language) -> &'static str {
    match language {
        Language::Indonesian => "id",
        Language::English => "en",
    }
}

impl Strings {
    pub fn of(language: Language) -> &'static Strings {
        static ID: OnceLock<Strings> = OnceLock::new();
        static EN: OnceLock<Strings> = OnceLock::new();
        let (cell, column) = match language {
            Language::Indonesian => (&ID, 1),
            Language::English => (&EN, 2),
        };
        cell.get_or_init(|| {
            let map: BTreeMap<&'static str, &'static str> = STRINGS
                .iter()
                .map(|row| (row.0, if column == 1 { row.1 } else { row.2 }))
                .collect();
            Strings {
                value: Value::from(minijinja::value::Serde(&map)),
                map,
            }
        })
    }

    pub fn value(&self) -> Value {
        self.value.clone()
    }

    pub fn get(&self, key: &str) -> &'static str {
        self.map.get(key).copied().unwrap_or("?")
    }

    /// The words for `prefix` + `key` (a channel, a status), or `key` itself when there are none.
    pub fn word<'a>(&self, prefix: &str, key: &'a str) -> &'a str {
        self.map
            .get(format!("{prefix}{key}").as_str())
            .copied()
            .unwrap_or(key)
    }

    pub fn notice(&self, key: &str) -> Option<&'static str> {
        self.map.get(format!("notice_{key}").as_str()).copied()
    }

    /// The words for an error code that came back in an address (`?error=`): only codes with
    /// words of their own here; anything else reads as a general refusal.
    pub fn code_message(&self, code: &str) -> &'static str {
        self.map
            .get(format!("code_{code}").as_str())
            .copied()
            .filter(|words| !words.contains("{detail}"))
            .unwrap_or_else(|| self.get("err_refused"))
    }

    /// An API error as a member reads it: in their language where the code has words here
    /// (with the API's message in place of `{detail}`, where the detail matters), else the API's
    /// own message.
    pub fn error(&self, e: &ApiError) -> String {
        self.map
            .get(format!("code_{}", e.code).as_str())
            .map_or_else(|| e.message.clone(), |s| s.replace("{detail}", &e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_there_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (key, id, en) in STRINGS {
            assert!(seen.insert(key), "{key} twice");
            assert!(!id.is_empty() && !en.is_empty(), "{key} is empty");
        }
    }
}
