//! The Products page: a product added, edited from its row, given variants; the list grouped.

use super::*;

async fn a_seller_adds_a_product_gives_it_variants_and_edits_one(backend: Backend) {
    let app = spawn(backend).await;
    let mut staff = app.sign_in(OWNER).await;
    let added = app
        .submit(
            &mut staff,
            "/products",
            "/products",
            &[
                ("sku", "KAOS"),
                ("name", "Kaos Polos"),
                ("price", "75.000"),
                ("stock", "0"),
                ("tips", ""),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(added.location(), "/products/KAOS?done=saved");
    let page = app.get(&mut staff, "/products/KAOS").await;
    assert!(page.has("Belum ada varian."), "{}", page.body);
    assert!(
        page.has(r#"value="Kaos Polos""#),
        "the edit form starts from the product"
    );
    assert!(page.has(r#"value="75.000""#), "{}", page.body);

    for (label, sku, stock, price) in [
        ("Hitam / L", "KAOS-HITAM-L", "5", ""),
        ("Hitam / XL", "KAOS-HITAM-XL", "2", "Rp 80.000"),
    ] {
        let variant = app
            .submit(
                &mut staff,
                "/products/KAOS",
                "/products/KAOS/variants",
                &[
                    ("variant", label),
                    ("sku", sku),
                    ("stock", stock),
                    ("price", price),
                ],
            )
            .await;
        assert_eq!(variant.status, StatusCode::SEE_OTHER, "{}", variant.body);
        assert_eq!(
            variant.location(),
            "/products/KAOS?done=variant_added#variants"
        );
    }
    let black_l = stored(&app, "KAOS-HITAM-L").await;
    assert_eq!(black_l.name, "Kaos Polos (Hitam / L)");
    assert_eq!(black_l.price.minor_units(), 75_000);
    assert!(!black_l.own_price);
    let black_xl = stored(&app, "KAOS-HITAM-XL").await;
    assert_eq!(black_xl.price.minor_units(), 80_000);

    // The list shows the product with its variants under it, their units summed on the product.
    let list = app.get(&mut staff, "/products").await;
    let group = list
        .body
        .find(r#"data-sku="KAOS""#)
        .expect("the product's row");
    let l = list
        .body
        .find(r#"data-sku="KAOS-HITAM-L""#)
        .expect("a variant's row");
    let xl = list
        .body
        .find(r#"data-sku="KAOS-HITAM-XL""#)
        .expect("a variant's row");
    assert!(group < l && l < xl, "variants follow their product");
    assert!(list.has("2 varian"), "{}", list.body);
    assert!(
        list.has(r#"<td class="num" data-label="Tersedia">7</td>"#),
        "{}",
        list.body
    );

    // Edited from its row: the variant's page has its label, no name, and an empty price that
    // follows the product's.
    let page = app.get(&mut staff, "/products/KAOS-HITAM-L").await;
    assert!(page.has("Varian dari"), "{}", page.body);
    assert!(page.has(r#"value="Hitam &#x2f; L""#), "{}", page.body);
    assert!(
        !page.has(r#"name="name""#),
        "a variant is named after its product"
    );
    let edited = app
        .submit(
            &mut staff,
            "/products/KAOS-HITAM-L",
            "/products/KAOS-HITAM-L",
            &[
                ("variant", "Hitam / L"),
                ("price", ""),
                ("stock", "9"),
                ("tips", ""),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let black_l = stored(&app, "KAOS-HITAM-L").await;
    assert_eq!((black_l.on_hand, black_l.own_price), (9, false));

    // Renaming the product renames its variants.
    let renamed = app
        .submit(
            &mut staff,
            "/products/KAOS",
            "/products/KAOS",
            &[
                ("name", "Kaos Katun"),
                ("price", "70.000"),
                ("stock", "0"),
                ("tips", ""),
            ],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);
    let black_l = stored(&app, "KAOS-HITAM-L").await;
    assert_eq!(black_l.name, "Kaos Katun (Hitam / L)");
    assert_eq!(black_l.price.minor_units(), 70_000);

    // The new-order form offers the variants, not the product they belong to.
    let new_order = app.get(&mut staff, "/orders/new").await;
    assert!(
        new_order.has(r#"value="KAOS-HITAM-L""#),
        "{}",
        new_order.body
    );
    assert!(!new_order.has(r#"value="KAOS""#));
}

async fn refused_variants_are_explained_beside_their_fields(backend: Backend) {
    let app = spawn(backend).await;
    let mut staff = app.sign_in(OWNER).await;
    app.submit(
        &mut staff,
        "/products",
        "/products",
        &[
            ("sku", "KAOS"),
            ("name", "Kaos Polos"),
            ("price", "75000"),
            ("stock", "0"),
        ],
    )
    .await;
    app.submit(
        &mut staff,
        "/products/KAOS",
        "/products/KAOS/variants",
        &[
            ("variant", "Hitam / L"),
            ("sku", "KAOS-HITAM-L"),
            ("stock", "5"),
        ],
    )
    .await;
    app.submit(
        &mut staff,
        "/products",
        "/products",
        &[
            ("sku", "TOPI"),
            ("name", "Topi"),
            ("price", "50000"),
            ("stock", "3"),
        ],
    )
    .await;
    let before = app
        .engine
        .products(lunas_core::queries::Page {
            after: None,
            limit: 100,
        })
        .await
        .unwrap();
    for (pairs, field, words) in [
        (
            [
                ("variant", "hitam / l"),
                ("sku", "KAOS-2"),
                ("stock", "1"),
                ("price", ""),
            ],
            "variant",
            "Produk ini sudah punya varian dengan nama itu.",
        ),
        (
            [
                ("variant", "Putih / L"),
                ("sku", "TOPI"),
                ("stock", "1"),
                ("price", ""),
            ],
            "sku",
            "SKU ini sudah dipakai produk lain. Pakai SKU lain.",
        ),
        (
            [
                ("variant", "Putih / L"),
                ("sku", "KAOS"),
                ("stock", "1"),
                ("price", ""),
            ],
            "sku",
            "SKU varian harus berbeda dari SKU produknya.",
        ),
        (
            [
                ("variant", ""),
                ("sku", "KAOS-3"),
                ("stock", "1"),
                ("price", ""),
            ],
            "variant",
            "Tulis variannya dalam satu baris",
        ),
        (
            [
                ("variant", "Putih / L"),
                ("sku", "KAOS-4"),
                ("stock", "1"),
                ("price", "dua puluh"),
            ],
            "price",
            "Harga harus angka rupiah",
        ),
    ] {
        let refused = app
            .submit(
                &mut staff,
                "/products/KAOS",
                "/products/KAOS/variants",
                &pairs,
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{pairs:?}"
        );
        assert!(refused.has(words), "{pairs:?}: {}", refused.body);
        assert!(
            refused.has(&format!(r#"id="e-v-{field}""#)),
            "{pairs:?}: the message is beside {field}"
        );
        assert!(
            refused.has("<details class=\"card\" open>"),
            "the form stays open"
        );
        let typed = pairs[0].1.replace('/', "&#x2f;");
        assert!(
            refused.has(&format!(r#"value="{typed}""#)),
            "what was typed is kept"
        );
    }
    let after = app
        .engine
        .products(lunas_core::queries::Page {
            after: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(before, after, "nothing was written");
    // A product that has variants is not ordered itself.
    let group = app.get(&mut staff, "/products/KAOS").await;
    assert!(group.has("Produk ini dijual per varian"), "{}", group.body);
}

/// The product `raw` as stored.
/// A multipart form as the product page's photo form sends it: the CSRF token, then the file.
fn photo_form(csrf: &str, file: &[u8]) -> Vec<u8> {
    let boundary = "----lunasphoto";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"foto.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

async fn a_product_photo_is_uploaded_and_shown_in_the_catalogue(backend: Backend) {
    let app = spawn(backend).await;
    let mut jar = app.sign_in(STAFF).await;
    let page = app.get(&mut jar, "/products/GAMIS-01").await;
    assert!(page.has("Belum ada foto") && page.has("multipart/form-data"));
    let csrf = page.csrf();
    let picture = image::RgbImage::from_pixel(900, 600, image::Rgb([120, 40, 60]));
    let mut png = Vec::new();
    picture
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let multipart = [(
        "content-type",
        "multipart/form-data; boundary=----lunasphoto",
    )];
    // Not a picture: said on the product's page, nothing kept.
    let refused = app
        .send_bytes(
            &mut jar,
            Method::POST,
            "/products/GAMIS-01/photo",
            Some(photo_form(&csrf, b"%PDF-1.4 not a photo")),
            &multipart,
        )
        .await;
    assert_eq!(
        refused.location(),
        "/products/GAMIS-01?photo_error=file_type_not_accepted#photo"
    );
    let shown = app.get(&mut jar, refused.location()).await;
    assert!(shown.has("bukan foto JPG, PNG atau WebP"));
    assert!(
        app.engine
            .product(lunas_core::Sku::parse("GAMIS-01").unwrap())
            .await
            .unwrap()
            .unwrap()
            .photo_version
            .is_none()
    );
    // Without the session's token, nothing is read.
    let forged = app
        .send_bytes(
            &mut jar,
            Method::POST,
            "/products/GAMIS-01/photo",
            Some(photo_form(&"0".repeat(64), &png)),
            &multipart,
        )
        .await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER);

    let saved = app
        .send_bytes(
            &mut jar,
            Method::POST,
            "/products/GAMIS-01/photo",
            Some(photo_form(&csrf, &png)),
            &multipart,
        )
        .await;
    assert_eq!(saved.location(), "/products/GAMIS-01?done=photo_saved");
    let page = app.get(&mut jar, "/products/GAMIS-01").await;
    assert!(
        page.has("src=\"&#x2f;products&#x2f;GAMIS-01&#x2f;photo?v=1\""),
        "{}",
        page.body
    );
    let photo = app.get(&mut jar, "/products/GAMIS-01/photo?v=1").await;
    assert_eq!(photo.headers["content-type"], "image/jpeg");
    // The catalogue shows it, once the shop is open.
    let mut settings = (*app.engine.settings()).clone();
    settings.shop.enabled = true;
    app.engine.put_settings(settings).await.unwrap();
    let mut buyer = Jar::default();
    let shop = app.get(&mut buyer, "/shop").await;
    assert!(
        shop.has("&#x2f;shop&#x2f;photos&#x2f;GAMIS-01&#x2f;s?v=1"),
        "{}",
        shop.body
    );
    assert!(shop.has("loading=\"lazy\""));
    let small = app.get(&mut buyer, "/shop/photos/GAMIS-01/s?v=1").await;
    assert_eq!(small.status, StatusCode::OK);
    assert_eq!(small.headers["content-type"], "image/jpeg");
    assert_eq!(
        app.get(&mut buyer, "/shop/photos/GAMIS-01/xl").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn the_product_page_shows_who_waits_for_it(backend: Backend) {
    let app = spawn_with(backend, Seed::Demo).await;
    let mut jar = app.sign_in(STAFF).await;
    let page = app.get(&mut jar, "/products/KAOS-OVS-PTH-L").await;
    assert!(
        page.has("Daftar tunggu") && page.has("Nadia") && page.has("Yoga"),
        "{}",
        page.body
    );
    assert!(page.has("+62 813-7777-0001"));
    assert!(page.has("https:&#x2f;&#x2f;wa.me&#x2f;6281377770001"));
    let other = app.get(&mut jar, "/products/GAMIS-RAYON-HTM").await;
    assert!(other.has("Belum ada yang menunggu"));
}

async fn stored(app: &App, raw: &str) -> lunas_core::catalog::Product {
    let sku = lunas_core::Sku::parse(raw).unwrap();
    app.engine
        .product(sku)
        .await
        .unwrap()
        .expect("the product is stored")
}

lunas_store::on_both_backends!(
    the_product_page_shows_who_waits_for_it,
    a_product_photo_is_uploaded_and_shown_in_the_catalogue,
    a_seller_adds_a_product_gives_it_variants_and_edits_one,
    refused_variants_are_explained_beside_their_fields,
);
