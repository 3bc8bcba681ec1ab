use super::*;

async fn settings_change_through_the_api_rules_with_a_preview_and_an_audit_line(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    let csrf = app.get(&mut owner, "/settings").await.csrf();
    let cadence = [
        ("csrf", csrf.as_str()),
        ("step_bank_transfer_0_when", "70 menit"),
        ("step_bank_transfer_0_from", "pesanan"),
        ("step_bank_transfer_1_when", "3 jam"),
        ("step_bank_transfer_1_from", "batas_bayar"),
        ("step_bank_transfer_2_when", ""),
        ("step_bank_transfer_2_from", "pesanan"),
        ("max_bank_transfer", "2"),
        ("step_virtual_account_0_when", "2 jam"),
        ("max_virtual_account", "1"),
        ("step_ewallet_0_when", "15 menit"),
        ("max_ewallet", "1"),
        ("step_qris_0_when", "15 menit"),
        ("max_qris", "1"),
        (
            "template",
            "Halo {{ buyer.greeting }}, pesanan #{{ order.id }} ditunggu ya.",
        ),
    ];
    let preview = app.post(&mut owner, "/settings/preview", &cadence).await;
    assert_eq!(preview.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&preview.body).unwrap();
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{json}");
    assert_eq!(
        steps[0]["text"],
        "Halo Kak Sari, pesanan #1042 ditunggu ya."
    );
    assert_eq!(
        app.engine.settings().reminders.bank_transfer.steps.len(),
        3,
        "a preview saves nothing"
    );
    // The preview of a template that does not compile says so, and saves nothing.
    let mut broken = cadence.to_vec();
    broken[14] = ("template", "Halo {{ buyer.greeting ");
    let preview = app.post(&mut owner, "/settings/preview", &broken).await;
    let json: serde_json::Value = serde_json::from_str(&preview.body).unwrap();
    assert!(
        json["error"].as_str().unwrap().contains("template"),
        "{json}"
    );
    let page = app.post(&mut owner, "/settings/reminders", &broken).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.has(r#"value="70 menit""#), "what was typed stays");

    let page = app.post(&mut owner, "/settings/reminders", &cadence).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let saved = app.engine.settings();
    assert_eq!(saved.reminders.bank_transfer.steps.len(), 2);
    assert!(
        app.audit_actions()
            .await
            .contains(&"settings.update".to_owned())
    );

    // A cadence step past the deadline is refused by the same check as the API's.
    let mut late = cadence.to_vec();
    late[1] = ("step_bank_transfer_0_when", "30 jam");
    let page = app.post(&mut owner, "/settings/reminders", &late).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.has("form-error"));
    let page = app
        .post(
            &mut owner,
            "/settings/deadlines",
            &[
                ("csrf", &csrf),
                ("window_bank_transfer", "sehari"),
                ("window_virtual_account", "24h"),
                ("window_ewallet", "1h"),
                ("window_qris", "1h"),
            ],
        )
        .await;
    assert!(page.has(r#"id="e-window_bank_transfer""#));
    assert_eq!(app.engine.settings(), saved);

    // Bank accounts need the password again (not typed in this session for 10 minutes).
    app.clock.advance(SignedDuration::from_mins(11));
    let bank = [
        ("csrf", csrf.as_str()),
        ("bank_accounts", "BCA | 1234567890 | Sari Wulandari"),
    ];
    let page = app.post(&mut owner, "/settings/bank", &bank).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut wrong = bank.to_vec();
    wrong.push(("password", "bukan kata sandinya"));
    assert_eq!(
        app.post(&mut owner, "/settings/bank", &wrong).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(app.engine.settings().bank_accounts.is_empty());
    let mut right = bank.to_vec();
    right.push(("password", PASSWORD));
    assert_eq!(
        app.post(&mut owner, "/settings/bank", &right).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.engine.settings().bank_accounts[0].bank, "BCA");
    // Within ten minutes of typing it, the next sensitive change does not ask again.
    let page = app
        .post(
            &mut owner,
            "/settings/bank",
            &[
                ("csrf", &csrf),
                (
                    "bank_accounts",
                    "BCA | 1234567890 | Sari W\nBRI | 0987654321 | Sari W",
                ),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(app.engine.settings().bank_accounts.len(), 2);
    let audit = app.audit_actions().await;
    assert!(audit.contains(&"auth.reauth_failed".to_owned()));

    // The messages to buyers: each previewed against the sample order, then saved.
    let messages = [
        ("csrf", csrf.as_str()),
        ("send_order_received", "on"),
        (
            "tpl_order_received",
            "Terima kasih {{ buyer.greeting }}, pesanan #{{ order.id }} kami catat.",
        ),
        ("send_payment_received", "on"),
        ("tpl_payment_received", ""),
        ("send_hold_released", "on"),
        ("tpl_hold_released", ""),
        ("tpl_cancelled", ""),
    ];
    let preview = app
        .post(&mut owner, "/settings/preview?section=messages", &messages)
        .await;
    let json: serde_json::Value = serde_json::from_str(&preview.body).unwrap();
    let shown = json["steps"].as_array().unwrap();
    assert_eq!(shown.len(), 10, "every lifecycle message: {json}");
    assert_eq!(shown[0]["when"], "Pesanan diterima");
    assert_eq!(
        shown[0]["text"],
        "Terima kasih Kak Sari, pesanan #1042 kami catat."
    );
    assert!(
        shown[1]["text"].as_str().unwrap().contains("Kak Sari"),
        "the default text"
    );
    let page = app.post(&mut owner, "/settings/messages", &messages).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let saved = app.engine.settings();
    assert!(!saved.messages.cancelled && saved.messages.order_received);
    assert!(
        saved
            .templates
            .id
            .order_received
            .as_deref()
            .unwrap()
            .starts_with("Terima kasih")
    );
    assert_eq!(saved.templates.id.payment_received, None);
    let page = app.get(&mut owner, "/settings").await;
    assert!(
        page.has(r#"id="f-send_cancelled" name="send_cancelled" value="on">"#),
        "unticked"
    );

    // Quiet hours, channels, the store's name, risk as JSON.
    assert_eq!(
        app.post(
            &mut owner,
            "/settings/quiet",
            &[
                ("csrf", &csrf),
                ("quiet_start", "22:00"),
                ("quiet_end", "07:00")
            ]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post(
            &mut owner,
            "/settings/channels",
            &[("csrf", &csrf), ("whatsapp", "on")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert!(!app.engine.settings().channels.email);
    assert_eq!(
        app.post(
            &mut owner,
            "/settings/general",
            &[
                ("csrf", &csrf),
                ("store_name", "Toko Sari"),
                ("store_link", ""),
                ("language", "id"),
                ("timezone", "Asia/Makassar")
            ]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.engine.settings().timezone, "Asia/Makassar");
    let page = app
        .post(
            &mut owner,
            "/settings/general",
            &[
                ("csrf", &csrf),
                ("store_name", "Toko Sari"),
                ("language", "id"),
                ("timezone", "Mars/Olympus"),
                ("store_link", "toko sari.id"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Each refusal beside its field, in words, not the settings' English sentence.
    assert!(page.has(r#"id="e-timezone""#) && page.has("Pilih zona waktu dari daftar"));
    assert!(page.has(r#"id="e-store_link""#) && page.has("Tulis alamat web lengkap"));
    assert!(
        !page.has("unknown time zone") && !page.has("http(s)"),
        "{}",
        page.body
    );
    let page = app
        .post(
            &mut owner,
            "/settings/risk",
            &[("csrf", &csrf), ("trusted_min_score_percent", "150")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.has(r#"id="e-trusted_min_score_percent""#),
        "{}",
        page.body
    );
    assert_eq!(app.engine.settings().timezone, "Asia/Makassar");
}

async fn wrong_passwords_on_sensitive_forms_count_against_the_account(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    let csrf = app.get(&mut owner, "/settings").await.csrf();
    app.clock.advance(SignedDuration::from_mins(11));
    let bank = |password: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("bank_accounts", "BCA | 1234567890 | Sari".to_owned()),
            ("password", password.to_owned()),
        ]
    };
    let post = |pairs: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        serde_urlencoded::to_string(pairs).unwrap()
    };
    for _ in 0..5 {
        let page = app
            .send(
                &mut owner,
                Method::POST,
                "/settings/bank",
                Some(post(bank("bukan sandinya"))),
                &[],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.has("Kata sandi salah"));
    }
    let page = app
        .send(
            &mut owner,
            Method::POST,
            "/settings/bank",
            Some(post(bank(PASSWORD))),
            &[],
        )
        .await;
    assert!(page.has("Terlalu banyak kata sandi salah"), "{}", page.body);
    assert!(app.engine.settings().bank_accounts.is_empty());
    // The account's sign-in is locked too.
    let mut other = Jar::default();
    let page = app.try_sign_in(&mut other, OWNER, PASSWORD, "").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // A form posted after its session ended explains itself and changes nothing.
    app.clock.advance(SignedDuration::from_hours(13));
    let page = app
        .send(
            &mut owner,
            Method::POST,
            "/settings/bank",
            Some(post(bank(PASSWORD))),
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.has("Formulir ini sudah kedaluwarsa"));
    assert!(app.engine.settings().bank_accounts.is_empty());
}

/// The Reminders section's form with `bank_transfer` as the bank transfer's steps and the other
/// methods' steps written each in another of the forms sellers use.
fn reminder_form<'a>(csrf: &'a str, bank_transfer: &'a str) -> [(&'static str, &'a str); 10] {
    [
        ("csrf", csrf),
        ("cadence_bank_transfer", bank_transfer),
        ("max_bank_transfer", "2"),
        ("cadence_virtual_account", "after_order 2h"),
        ("max_virtual_account", "1"),
        ("cadence_ewallet", "10 menit setelah pesan"),
        ("max_ewallet", "1"),
        ("cadence_qris", "15 menit sebelum batas"),
        ("max_qris", "1"),
        ("template", ""),
    ]
}

/// Windows and reminder steps read as sellers say them ("6 jam", "2 jam setelah pesanan"), and
/// the page writes them back that way; the short forms of earlier versions still read.
async fn durations_are_typed_and_shown_as_sellers_say_them(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    let page = app.get(&mut owner, "/settings").await;
    assert!(
        page.has(r#"value="1 hari""#),
        "the default 24 h window in words"
    );
    assert!(
        page.has(r#"name="step_bank_transfer_0_when" value="2 jam""#),
        "the default first reminder in words: {}",
        page.body
    );
    assert!(page.has(r#"<option value="pesanan" selected>setelah pesanan</option>"#));
    assert!(!page.has("after_order"), "no code on the page");
    let csrf = page.csrf();
    // A window shorter than a reminder step is refused in words, not as the API's sentence.
    let page = app
        .post(
            &mut owner,
            "/settings/deadlines",
            &[
                ("csrf", &csrf),
                ("window_bank_transfer", "1 hari"),
                ("window_virtual_account", "6 jam"),
                ("window_ewallet", "1 jam"),
                ("window_qris", "1 jam"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.has("Pengingat ke-2 untuk Virtual account (14 jam setelah pesanan) jatuh pada atau setelah batas bayarnya, yaitu 6 jam setelah pesanan."),
        "{}",
        page.body
    );
    assert!(!page.has("invalid settings"));
    let page = app
        .post(
            &mut owner,
            "/settings/deadlines",
            &[
                ("csrf", &csrf),
                ("window_bank_transfer", "1 hari 6 jam"),
                ("window_virtual_account", "20 jam"),
                ("window_ewallet", "30 menit"),
                ("window_qris", "1h"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let windows = app.engine.settings().payment_windows.clone();
    assert_eq!(
        [
            windows.bank_transfer.seconds(),
            windows.virtual_account.seconds(),
            windows.ewallet.seconds(),
            windows.qris.seconds()
        ],
        [30 * 3600, 20 * 3600, 1800, 3600]
    );
    let page = app.get(&mut owner, "/settings").await;
    assert!(page.has(r#"value="1 hari 6 jam""#));
    let page = app
        .post(
            &mut owner,
            "/settings/reminders",
            &reminder_form(&csrf, "1 jam setelah pesanan\n2 jam sebelum batas bayar"),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let reminders = app.engine.settings().reminders.clone();
    use lunas_core::reminders::Anchor;
    let hours = |h: i64| lunas_core::PayWindow::from_seconds(h * 3600).unwrap();
    let minutes = |m: i64| lunas_core::PayWindow::from_seconds(m * 60).unwrap();
    assert_eq!(
        reminders
            .bank_transfer
            .steps
            .iter()
            .map(|s| s.anchor.clone())
            .collect::<Vec<_>>(),
        [
            Anchor::AfterOrder(hours(1)),
            Anchor::BeforeDeadline(hours(2))
        ]
    );
    assert_eq!(
        reminders.virtual_account.steps[0].anchor,
        Anchor::AfterOrder(hours(2))
    );
    assert_eq!(
        reminders.ewallet.steps[0].anchor,
        Anchor::AfterOrder(minutes(10))
    );
    assert_eq!(
        reminders.qris.steps[0].anchor,
        Anchor::BeforeDeadline(minutes(15))
    );
    // A line that does not read is the field's error, and nothing is saved.
    let page = app
        .post(
            &mut owner,
            "/settings/reminders",
            &reminder_form(&csrf, "besok pagi"),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.has(r#"id="e-cadence_bank_transfer""#));
    assert_eq!(app.engine.settings().reminders, reminders);

    // As rows of fields: a row whose time does not read is named, and nothing is saved.
    let rows = |second: &'static str| {
        let mut form = reminder_form(&csrf, "").to_vec();
        form.retain(|(name, _)| *name != "cadence_bank_transfer");
        form.extend([
            ("step_bank_transfer_0_when", "45 menit"),
            ("step_bank_transfer_0_from", "pesanan"),
            ("step_bank_transfer_1_when", second),
            ("step_bank_transfer_1_from", "batas_bayar"),
            ("step_bank_transfer_2_when", ""),
            ("step_bank_transfer_2_from", "pesanan"),
        ]);
        form
    };
    let page = app
        .post(&mut owner, "/settings/reminders", &rows("besok pagi"))
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.has("Pengingat 2: &quot;besok pagi&quot; tidak terbaca sebagai waktu."),
        "{}",
        page.body
    );
    assert_eq!(app.engine.settings().reminders, reminders);
    let page = app
        .post(&mut owner, "/settings/reminders", &rows("90 menit"))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let steps: Vec<_> = app
        .engine
        .settings()
        .reminders
        .bank_transfer
        .steps
        .iter()
        .map(|s| s.anchor.clone())
        .collect();
    assert_eq!(
        steps,
        [
            Anchor::AfterOrder(minutes(45)),
            Anchor::BeforeDeadline(minutes(90))
        ]
    );
    // Emptying a row's time removes that reminder.
    let mut one = rows("");
    one.retain(|(name, _)| !name.starts_with("step_bank_transfer_1"));
    let page = app.post(&mut owner, "/settings/reminders", &one).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(app.engine.settings().reminders.bank_transfer.steps.len(), 1);
    let page = app.get(&mut owner, "/settings").await;
    assert!(page.has(r#"name="step_bank_transfer_0_when" value="45 menit""#));
    assert!(
        page.has(r#"name="step_bank_transfer_2_when" value="""#),
        "two empty rows to add one"
    );
}

async fn the_risk_policy_is_set_with_fields_per_band(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    let page = app.get(&mut owner, "/settings").await;
    assert!(
        !page.has("JSON") && !page.has("docs/"),
        "no developer syntax on the page"
    );
    // The defaults as fields: watched buyers get two hours, five units, half as a deposit, no COD.
    for shown in [
        r#"name="band_watch_window" type="text"
    value="2 jam""#,
        r#"name="band_watch_max_units" type="number"
    value="5""#,
        r#"name="band_watch_deposit" type="number"
    value="50""#,
        r#"name="band_blocked_refuse" value="on" checked"#,
    ] {
        assert!(page.has(shown), "{shown}: {}", page.body);
    }
    assert!(!page.has(r#"name="band_watch_method_cod" value="on" checked"#));

    // Watched buyers: one hour, bank transfer or QRIS only, 30 % deposit; new buyers trusted sooner.
    let mut pairs: Vec<(&str, &str)> = vec![
        ("trusted_min_score_percent", "85"),
        ("trusted_min_paid", "2"),
        ("watch_below_score_percent", "50"),
        ("watch_after_unpaid_in_a_row", "2"),
        ("half_life_days", "180"),
        ("balance_window", "2 hari"),
        ("forfeited_deposit", "refund"),
        ("band_watch_method_bank_transfer", "on"),
        ("band_watch_method_qris", "on"),
        ("band_watch_window", "1 jam"),
        ("band_watch_max_units", "3"),
        ("band_watch_deposit", "30"),
        ("band_blocked_refuse", "on"),
    ];
    for method in lunas_core::PaymentMethod::ALL {
        for band in ["trusted", "normal"] {
            pairs.push((
                Box::leak(format!("band_{band}_method_{}", method.as_str()).into_boxed_str()),
                "on",
            ));
        }
    }
    let page = app
        .submit(&mut owner, "/settings", "/settings/risk", &pairs)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let risk = app.engine.settings().risk.clone();
    assert_eq!(
        (risk.trusted_min_score_percent, risk.trusted_min_paid),
        (85, 2)
    );
    let watch = &risk.policies.watch;
    assert_eq!(
        watch.allowed_methods,
        Some(vec![
            lunas_core::PaymentMethod::BankTransfer,
            lunas_core::PaymentMethod::Qris
        ])
    );
    assert_eq!(
        watch.pay_within_max.map(|w| w.as_duration().as_secs()),
        Some(3600)
    );
    assert_eq!(
        (watch.max_units, watch.deposit_percent),
        (Some(3), Some(30))
    );
    assert_eq!(
        risk.policies.normal.allowed_methods, None,
        "every method: no restriction"
    );
    assert!(risk.policies.blocked.refuse);
    assert_eq!(
        risk.forfeited_deposit,
        lunas_core::reliability::ForfeitedDeposit::Refund
    );

    // Wrong values are said beside their fields, in words, and nothing changes.
    let mut bad = pairs.clone();
    bad.retain(|(n, _)| !n.starts_with("band_watch_method_") && *n != "band_watch_window");
    bad.push(("band_watch_window", "sebentar"));
    let page = app
        .submit(&mut owner, "/settings", "/settings/risk", &bad)
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.has("Pilih setidaknya satu cara bayar"),
        "{}",
        page.body
    );
    assert!(page.has(r#"id="e-band_watch_window""#), "{}", page.body);
    assert_eq!(app.engine.settings().risk, risk);
}

async fn bank_accounts_are_rows_of_fields(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    let page = app.get(&mut owner, "/settings").await;
    // No accounts yet: two empty rows to fill.
    assert!(page.has(r#"name="bank_1_holder""#) && !page.has(r#"name="bank_2_holder""#));
    assert!(!page.has(" | "), "no pipe syntax to learn");
    let rows = [
        ("bank_0_name", "BCA"),
        ("bank_0_number", "1234567890"),
        ("bank_0_holder", "Sari Wulandari"),
        ("bank_1_name", "BRI"),
        ("bank_1_number", ""),
        ("bank_1_holder", ""),
        ("password", PASSWORD),
    ];
    let page = app
        .submit(&mut owner, "/settings", "/settings/bank", &rows)
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.has("Isi bank, nomor rekening, dan atas nama"),
        "{}",
        page.body
    );
    assert!(app.engine.settings().bank_accounts.is_empty());
    let mut rows = rows.to_vec();
    rows.retain(|(n, _)| !n.starts_with("bank_1_"));
    let page = app
        .submit(&mut owner, "/settings", "/settings/bank", &rows)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let accounts = app.engine.settings().bank_accounts.clone();
    assert_eq!(accounts.len(), 1);
    assert_eq!(
        (accounts[0].bank.as_str(), accounts[0].holder.as_str()),
        ("BCA", "Sari Wulandari")
    );
    // Shown back as a row, with two empty ones after it.
    let page = app.get(&mut owner, "/settings").await;
    assert!(page.has(r#"value="1234567890""#) && page.has(r#"name="bank_2_holder""#));
}

async fn the_shop_section_opens_the_catalogue_with_durations_in_words(backend: Backend) {
    let app = spawn(backend).await;
    let mut owner = app.sign_in(OWNER).await;
    let page = app.get(&mut owner, "/settings").await;
    assert!(page.has("Toko online &amp; halaman pembeli") && page.has(r#"value="6 jam""#));
    let fields = [
        ("shop_enabled", "on"),
        ("open_orders_per_phone", "25"),
        ("proof_pause", "setengah hari"),
        ("waitlist_offer", "45 menit"),
    ];
    let page = app
        .submit(&mut owner, "/settings", "/settings/shop", &fields)
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.has("Isi angka 1 sampai 20") && page.has("6 jam"),
        "{}",
        page.body
    );
    assert!(!app.engine.settings().shop.enabled, "nothing changed");
    let mut fields = fields.to_vec();
    fields[1].1 = "3";
    fields[2].1 = "4 jam";
    let page = app
        .submit(&mut owner, "/settings", "/settings/shop", &fields)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let shop = app.engine.settings().shop;
    assert!(shop.enabled);
    assert_eq!(shop.open_orders_per_phone, 3);
    assert_eq!(shop.proof_pause.seconds(), 4 * 3600);
    assert_eq!(shop.waitlist_offer.seconds(), 45 * 60);
    let page = app.get(&mut owner, "/settings").await;
    assert!(page.has(r#"value="4 jam""#) && page.has(r#"value="45 menit""#));
}

lunas_store::on_both_backends!(
    the_shop_section_opens_the_catalogue_with_durations_in_words,
    bank_accounts_are_rows_of_fields,
    the_risk_policy_is_set_with_fields_per_band,
    durations_are_typed_and_shown_as_sellers_say_them,
    settings_change_through_the_api_rules_with_a_preview_and_an_audit_line,
    wrong_passwords_on_sensitive_forms_count_against_the_account,
);
