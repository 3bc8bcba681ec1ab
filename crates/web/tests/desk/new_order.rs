//! The new-order form: several lines, an address with ongkir and a discount.

use super::*;

async fn add_kerudung(app: &App) {
    app.engine
        .put_product(lunas_core::catalog::ProductInput {
            sku: Sku::parse("KERUDUNG-01").unwrap(),
            name: "Kerudung Voal".into(),
            price: Money::price(45_000).unwrap(),
            stock: 10,
            tips: None,
            variant: None,
        })
        .await
        .unwrap();
}

const BUYER: &[(&str, &str)] = &[
    ("phone", "0812-3456-7890"),
    ("name", "Sari Wulandari"),
    ("honorific", "bu"),
    ("payment_method", "bank_transfer"),
];

async fn a_two_line_order_with_an_address_and_ongkir_is_placed_from_the_form(backend: Backend) {
    let app = spawn(backend).await;
    add_kerudung(&app).await;
    let mut jar = app.sign_in(STAFF).await;

    // Without a script, "Tambah barang" brings the form back with one more line.
    let mut pairs = BUYER.to_vec();
    pairs.extend([("sku", "GAMIS-01"), ("qty", "1"), ("add_line", "1")]);
    let page = app
        .submit(&mut jar, "/orders/new", "/orders/new", &pairs)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body.matches("data-line>").count(), 2, "{}", page.body);
    assert!(
        page.has(r#"value="GAMIS-01" data-price="150000" selected"#),
        "{}",
        page.body
    );

    let mut pairs = BUYER.to_vec();
    pairs.extend([
        ("sku", "GAMIS-01"),
        ("qty", "1"),
        ("sku", "KERUDUNG-01"),
        ("qty", "2"),
        // An empty line is skipped.
        ("sku", ""),
        ("qty", "1"),
        ("street", "Jl. Melati No. 12, RT 03/RW 05"),
        ("kecamatan", "Cilodong"),
        ("city", "Kota Depok"),
        ("province", "Jawa Barat"),
        ("postcode", "16415"),
        ("shipping_cost", "Rp18.000"),
        ("discount", "5.000"),
    ]);
    let page = app
        .submit(&mut jar, "/orders/new", "/orders/new", &pairs)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let id: i64 = page
        .location()
        .trim_start_matches("/orders/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let order = app
        .engine
        .order(lunas_core::OrderId(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.items.len(), 2);
    assert_eq!(order.total.minor_units(), 150_000 + 90_000 + 18_000 - 5_000);
    let address = order.address.expect("an address");
    // The recipient and the number are the buyer's when left empty.
    assert_eq!(address.recipient, "Sari Wulandari");
    assert_eq!(address.phone.as_str(), "+6281234567890");
    assert_eq!(address.kelurahan, None);

    let detail = app.get(&mut jar, page.location()).await;
    for text in [
        "Ongkir",
        "Rp18.000",
        "Diskon",
        "Rp253.000",
        "Kirim ke",
        "Cilodong, Kota Depok",
        "Jawa Barat 16415",
    ] {
        assert!(detail.has(text), "{text}: {}", detail.body);
    }
}

async fn bad_shipping_input_is_said_beside_its_field_and_nothing_is_placed(backend: Backend) {
    let app = spawn(backend).await;
    add_kerudung(&app).await;
    let mut jar = app.sign_in(STAFF).await;
    let address = [
        ("street", "Jl. Melati No. 12"),
        ("city", "Kota Depok"),
        ("province", "Jawa Barat"),
    ];
    for (extra, field, words) in [
        (
            vec![("postcode", "164")],
            "addr_postcode",
            "Kode pos terdiri dari 5 angka",
        ),
        (vec![("province", "")], "addr_province", "Wajib diisi"),
        (
            vec![("address_phone", "12")],
            "addr_phone",
            "Nomor HP tidak valid",
        ),
        (
            vec![("shipping_cost", "-5.000")],
            "e-shipping_cost",
            "Ongkir harus angka",
        ),
        (
            vec![("discount", "Rp500.000")],
            "e-discount",
            "Diskon tidak boleh",
        ),
    ] {
        let mut pairs = BUYER.to_vec();
        pairs.extend([("sku", "GAMIS-01"), ("qty", "1")]);
        pairs.extend(address);
        // A later pair of the same field wins in the form's reading, so change it in place.
        for (name, value) in extra {
            match pairs.iter_mut().find(|(n, _)| *n == name) {
                Some(pair) => pair.1 = value,
                None => pairs.push((name, value)),
            }
        }
        let page = app
            .submit(&mut jar, "/orders/new", "/orders/new", &pairs)
            .await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            page.body
        );
        assert!(page.has(words), "{field}: {}", page.body);
        assert!(page.has("Jl. Melati No. 12"), "what was typed stays");
        assert!(
            page.has("<details class=\"shipping\" open>"),
            "the address stays open"
        );
    }
    // No product chosen at all.
    let page = app
        .submit(&mut jar, "/orders/new", "/orders/new", BUYER)
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.has("Pilih setidaknya satu produk"), "{}", page.body);
    let orders = app.engine.store().consistency_report().await.unwrap();
    assert!(orders.is_empty());
    let product = app
        .engine
        .product(Sku::parse("GAMIS-01").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(product.reserved, 0);
}

async fn a_pasted_format_order_fills_the_form_for_staff_to_check(backend: Backend) {
    let app = spawn(backend).await;
    add_kerudung(&app).await;
    let mut jar = app.sign_in(STAFF).await;
    let text = "Halo kak, saya mau order\n\
        Nama: Dewi Anggraini\n\
        No HP/WA: 0857-1234-5678\n\
        Alamat: Perum Griya Asri Blok C2 No 7, Kel. Sukajadi, Kec. Sukarame, Kota Bandar Lampung, Lampung 35131\n\
        Pesanan:\n\
        - Gamis rayon 1 pcs\n\
        - kerudung voal x2\n\
        - payung lipat 1 pcs\n\
        Ongkir: 18.000\n\
        Pembayaran: TF\n\
        p.s. kirim sore";
    let page = app
        .submit(
            &mut jar,
            "/orders/new",
            "/orders/new/paste",
            &[("paste", text)],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for filled in [
        r#"value="Dewi Anggraini""#,
        r#"value="+6285712345678""#,
        r#"value="Kota Bandar Lampung""#,
        r#"value="Sukajadi""#,
        r#"value="35131""#,
        r#"value="Rp18.000""#,
        r#"value="GAMIS-01" data-price="150000" selected"#,
        r#"value="KERUDUNG-01" data-price="45000" selected"#,
        r#"value="bank_transfer" selected"#,
        "Formulir terisi dari teks",
        "tidak ditemukan di katalog",
        "payung lipat",
        "p.s. kirim sore",
    ] {
        assert!(page.has(filled), "{filled}: {}", page.body);
    }
    assert_eq!(
        page.body.matches("data-line>").count(),
        3,
        "three lines, one to choose"
    );
    // Nothing was placed: staff send the form when it is right.
    assert_eq!(
        app.engine.order(lunas_core::OrderId(1)).await.unwrap(),
        None
    );

    let page = app
        .submit(
            &mut jar,
            "/orders/new",
            "/orders/new/paste",
            &[("paste", "asdf\nqwerty uiop")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.has("Tidak ada yang bisa dibaca sebagai pesanan"),
        "{}",
        page.body
    );
    let page = app
        .submit(
            &mut jar,
            "/orders/new",
            "/orders/new/paste",
            &[("paste", "  ")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.has("Tempel teks dari pembeli"), "{}", page.body);
}

lunas_store::on_both_backends!(
    a_pasted_format_order_fills_the_form_for_staff_to_check,
    a_two_line_order_with_an_address_and_ongkir_is_placed_from_the_form,
    bad_shipping_input_is_said_beside_its_field_and_nothing_is_placed,
);
