/// After the payment: the buyer's timeline, COD's question and returns on the order's page, and
/// staff's packing, shipping and returns in the dashboard.
pub(super) const FULFILMENT: &[(&str, &str, &str)] = &[
    (
        "pub_says_awaiting_confirmation",
        "Pesanan COD Anda menunggu konfirmasi. Tekan \"Ya, kirim\" agar kami kemas dan kirim.",
        "Your COD order waits for your confirmation. Press \"Yes, send it\" and we will pack and ship it.",
    ),
    (
        "pub_says_confirmed",
        "Terima kasih, pesanan COD Anda sudah dikonfirmasi dan segera kami kemas. Siapkan uang pas saat kurir datang.",
        "Thank you, your COD order is confirmed and will be packed soon. Have the money ready when the courier arrives.",
    ),
    (
        "pub_says_packed",
        "Pesanan sudah dikemas dan menunggu dijemput kurir.",
        "Your order is packed and waiting for the courier.",
    ),
    (
        "pub_says_shipped",
        "Paket dalam perjalanan. Lacak dengan nomor resi di bawah.",
        "Your parcel is on its way. Track it with the waybill below.",
    ),
    (
        "pub_says_delivered",
        "Paket sudah sampai. Semoga suka! Bila ada yang tidak sesuai, ajukan retur di bawah.",
        "Your parcel has been delivered. We hope you like it! If something is wrong, ask for a return below.",
    ),
    (
        "pub_says_completed",
        "Pesanan selesai. Terima kasih sudah berbelanja!",
        "Order completed. Thank you for shopping with us!",
    ),
    (
        "pub_says_returned_to_sender",
        "Paket kembali ke penjual. Hubungi penjual bila ada pertanyaan.",
        "The parcel went back to the seller. Contact the seller with any questions.",
    ),
    ("trk_title", "Perjalanan pesanan", "Order progress"),
    (
        "trk_says_delivered",
        "Paket sudah sampai. Semoga suka!",
        "Your parcel has been delivered. We hope you like it!",
    ),
    ("trk_placed", "Pesanan dibuat", "Order placed"),
    ("trk_paid", "Pembayaran diterima", "Payment received"),
    ("trk_cod_confirmed", "COD dikonfirmasi", "COD confirmed"),
    ("trk_packed", "Dikemas", "Packed"),
    ("trk_shipped", "Dikirim", "Shipped"),
    ("trk_delivered", "Sampai", "Delivered"),
    ("trk_completed", "Selesai", "Completed"),
    (
        "trk_returned_to_sender",
        "Kembali ke penjual",
        "Back to the seller",
    ),
    ("trk_waiting", "menunggu", "waiting"),
    ("trk_courier", "Kurir", "Courier"),
    ("trk_waybill", "No. resi", "Waybill"),
    (
        "trk_track",
        "Lacak di situs kurir",
        "Track on the courier's site",
    ),
    (
        "trk_cod_title",
        "Konfirmasi pesanan COD",
        "Confirm your COD order",
    ),
    (
        "trk_cod_question",
        "Pesanan ini dibayar tunai ke kurir saat sampai. Apakah pesanan ini benar dan Anda siap menerimanya?",
        "This order is paid in cash to the courier on arrival. Is it right, and will you be there to receive it?",
    ),
    (
        "trk_cod_until",
        "Mohon jawab sebelum {until}. Tanpa konfirmasi, pesanan dibatalkan otomatis.",
        "Please answer before {until}. Without a confirmation the order is cancelled.",
    ),
    ("trk_cod_yes", "Ya, kirim", "Yes, send it"),
    ("trk_cod_no", "Batalkan", "Cancel"),
    (
        "trk_cod_thanks",
        "Terima kasih! Pesanan Anda sudah dikonfirmasi dan segera kami kemas.",
        "Thank you! Your order is confirmed and will be packed soon.",
    ),
    (
        "trk_cod_cancelled",
        "Pesanan sudah dibatalkan. Terima kasih sudah memberi tahu kami.",
        "The order is cancelled. Thank you for letting us know.",
    ),
    (
        "trk_cod_cancelled_reason",
        "Dibatalkan pembeli dari halaman pesanan",
        "Cancelled by the buyer on the order's page",
    ),
    (
        "trk_cod_too_late",
        "Pesanan ini sudah tidak menunggu konfirmasi. Hubungi penjual bila ada pertanyaan.",
        "This order no longer waits for a confirmation. Contact the seller with any questions.",
    ),
    ("trk_return_title", "Ajukan retur", "Ask for a return"),
    (
        "trk_return_window",
        "Retur bisa diajukan sampai {until}.",
        "Returns can be asked for until {until}.",
    ),
    ("trk_return_conditions", "Syarat retur", "Return conditions"),
    (
        "trk_return_shipping_buyer",
        "Ongkir pengembalian ditanggung pembeli.",
        "The buyer pays for sending the item back.",
    ),
    (
        "trk_return_shipping_seller",
        "Ongkir pengembalian ditanggung penjual.",
        "The seller pays for sending the item back.",
    ),
    (
        "trk_remedy_refund",
        "Retur yang disetujui diganti dengan pengembalian dana.",
        "An accepted return is refunded.",
    ),
    (
        "trk_remedy_exchange",
        "Retur yang disetujui diganti dengan barang baru.",
        "An accepted return is exchanged for a new item.",
    ),
    (
        "trk_remedy_either",
        "Retur yang disetujui diganti dengan barang baru atau pengembalian dana.",
        "An accepted return is exchanged or refunded.",
    ),
    ("trk_return_reason", "Apa masalahnya?", "What is wrong?"),
    (
        "trk_return_photos",
        "Foto barang (boleh sampai {n} foto, masing-masing paling besar 5 MB)",
        "Photos of the item (up to {n}, each at most 5 MB)",
    ),
    (
        "trk_return_button",
        "Kirim pengajuan retur",
        "Send the return request",
    ),
    (
        "trk_return_sent",
        "Pengajuan retur sudah kami terima. Kami kabari lewat WhatsApp setelah kami periksa.",
        "We received your return request. We will let you know on WhatsApp once we have looked at it.",
    ),
    ("trk_return_state", "Retur Anda", "Your return"),
    (
        "trk_return_requested",
        "Sedang diperiksa",
        "Being looked at",
    ),
    (
        "trk_return_approved",
        "Disetujui: kirim barangnya kembali",
        "Approved: send the item back",
    ),
    (
        "trk_return_rejected",
        "Tidak dapat diterima",
        "Not accepted",
    ),
    (
        "trk_return_received",
        "Barang retur sudah diterima",
        "Item received",
    ),
    ("trk_return_refunded", "Dana sudah dikembalikan", "Refunded"),
    (
        "trk_return_exchanged",
        "Barang pengganti sudah dikirim",
        "Replacement sent",
    ),
    (
        "trk_error_file_too_large",
        "Ada foto yang terlalu besar. Kirim foto paling besar 5 MB.",
        "A photo is too large. Send photos of at most 5 MB.",
    ),
    (
        "trk_error_file_type_not_accepted",
        "Hanya foto JPEG, PNG atau WebP yang bisa dikirim.",
        "Only JPEG, PNG or WebP photos can be sent.",
    ),
    (
        "trk_error_file_unreadable",
        "Ada foto yang tidak bisa dibuka. Coba foto lagi lalu kirim ulang.",
        "A photo could not be opened. Take it again and resend.",
    ),
    (
        "trk_error_too_many_files",
        "Paling banyak 3 foto.",
        "At most 3 photos.",
    ),
    (
        "trk_error_return_reason_missing",
        "Tulis dulu apa masalahnya.",
        "Please write what is wrong.",
    ),
    (
        "trk_error_return_reason_too_long",
        "Alasannya terlalu panjang: paling banyak 500 huruf.",
        "The reason is too long: at most 500 characters.",
    ),
    (
        "trk_error_return_unreadable",
        "Pengajuan tidak terbaca. Coba kirim lagi.",
        "The request could not be read. Please send it again.",
    ),
    (
        "trk_error_outside_return_window",
        "Batas waktu retur sudah lewat, jadi retur tidak bisa diajukan lagi.",
        "The return window has closed, so a return can no longer be asked for.",
    ),
    (
        "trk_error_return_open",
        "Pengajuan retur Anda sebelumnya masih kami proses.",
        "Your earlier return request is still being handled.",
    ),
    (
        "trk_error_not_delivered",
        "Retur bisa diajukan setelah paket sampai.",
        "A return can be asked for once the parcel has arrived.",
    ),
];
