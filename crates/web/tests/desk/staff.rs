use super::*;

async fn owners_manage_staff_and_pinning_a_band_is_audited(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    let page = app
        .submit(
            &mut owner,
            "/staff",
            "/staff",
            &[
                ("email", "baru@toko.id"),
                ("role", "staff"),
                ("new_password", "pendek"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(page.has(r#"id="e-new_password""#), "{}", page.body);
    let page = app
        .submit(
            &mut owner,
            "/staff",
            "/staff",
            &[
                ("email", "baru@toko.id"),
                ("role", "staff"),
                ("new_password", "sandi baru yang panjang"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let mut new = Jar::default();
    assert_eq!(
        app.try_sign_in(&mut new, "baru@toko.id", "sandi baru yang panjang", "")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let id = app
        .engine
        .users()
        .await
        .unwrap()
        .iter()
        .find(|u| u.email.as_str() == "baru@toko.id")
        .unwrap()
        .id;
    let page = app
        .submit(
            &mut owner,
            "/staff",
            &format!("/staff/{id}/disable"),
            &[("disabled", "yes"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&mut new, "/").await.location(),
        "/login",
        "disabling ends the sessions"
    );
    // The last owner stays.
    let owner_id = app.engine.users().await.unwrap()[0].id;
    let page = app
        .submit(
            &mut owner,
            "/staff",
            &format!("/staff/{owner_id}/disable"),
            &[("disabled", "yes"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A buyer: pin, notes, export, erase.
    app.place("081234567890", "").await;
    let buyer = "/buyers/6281234567890";
    assert_eq!(app.get(&mut owner, buyer).await.status, StatusCode::OK);
    let page = app
        .submit(
            &mut owner,
            buyer,
            &format!("{buyer}/band"),
            &[("band", "watch"), ("reason", "")],
        )
        .await;
    assert!(page.has(r#"id="e-reason""#));
    let page = app
        .submit(
            &mut owner,
            buyer,
            &format!("{buyer}/band"),
            &[("band", "watch"), ("reason", "dua kali tidak bayar")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(app.get(&mut owner, buyer).await.has("b-watch"));
    let page = app
        .submit(
            &mut owner,
            buyer,
            &format!("{buyer}/notes"),
            &[("notes", "suka tanya dulu"), ("tags", "reseller, VIP")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let export = app.get(&mut owner, &format!("{buyer}/export")).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export
            .headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let json: serde_json::Value = serde_json::from_str(&export.body).unwrap();
    assert_eq!(
        json["customer"]["tags"],
        serde_json::json!(["reseller", "vip"])
    );
    let page = app
        .submit(&mut owner, buyer, &format!("{buyer}/erase"), &[])
        .await;
    assert!(
        page.has(r#"id="e-confirm""#),
        "erasing needs the box ticked"
    );
    let page = app
        .submit(
            &mut owner,
            buyer,
            &format!("{buyer}/erase"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&mut owner, buyer).await.status,
        StatusCode::NOT_FOUND
    );
    let audit = app.audit_actions().await;
    assert!(audit.contains(&"customer.band".to_owned()), "{audit:?}");
    let page = app.get(&mut owner, "/audit").await;
    // Actions and their detail in words, never codes or JSON.
    assert!(
        page.has("Status pembeli disematkan") && page.has("Staf ditambahkan") && page.has("Masuk"),
        "{}",
        page.body
    );
    assert!(!page.has("customer.band") && !page.has("auth.login") && !page.has("{&quot;"));
    assert!(
        page.has("Peran: staff") || page.has("Peran: owner"),
        "{}",
        page.body
    );
    assert!(page.has("<td>owner@toko.id</td>") && !page.has("staff:owner@toko.id"));
}

lunas_store::on_both_backends!(owners_manage_staff_and_pinning_a_band_is_audited,);
