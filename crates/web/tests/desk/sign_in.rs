use super::*;

async fn anonymous_visitors_are_sent_to_sign_in_and_every_page_has_security_headers(
    backend: Backend,
) {
    let app = spawn(backend).await;
    let mut anonymous = Jar::default();
    for path in PAGES {
        let page = app.get(&mut anonymous, path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location(), "/login", "{path}");
        assert_security_headers(&page, path);
    }
    let login = app.get(&mut anonymous, "/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.has("Masuk"), "Indonesian by default");
    assert_security_headers(&login, "/login");
    let mut owner = app.sign_in(OWNER).await;
    for path in PAGES {
        let page = app.get(&mut owner, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert_security_headers(&page, path);
        assert_eq!(
            page.headers.get("cache-control").unwrap(),
            "no-store",
            "{path}"
        );
    }
    for path in [
        "/assets/desk.css",
        "/assets/desk.js",
        "/healthz",
        "/api/openapi.json",
    ] {
        let page = app.get(&mut owner, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_security_headers(&page, path);
    }
}

async fn signing_in_starts_a_new_session_and_signing_out_ends_it_on_the_server(backend: Backend) {
    let app = spawn(backend).await;
    // A session id planted before sign-in is not the one sign-in gives.
    let mut jar = Jar::default();
    jar.0.insert("lunas_session".into(), "a".repeat(64));
    assert_eq!(app.get(&mut jar, "/").await.location(), "/login");
    let page = app.try_sign_in(&mut jar, OWNER, PASSWORD, "").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("lunas_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let id = jar.0["lunas_session"].clone();
    assert_ne!(id, "a".repeat(64));
    assert_eq!(id.len(), 64, "256 bits, hex");
    assert_eq!(app.get(&mut jar, "/").await.status, StatusCode::OK);

    // Over TLS (a proxy says so), cookies are Secure and carry the __Host- prefix.
    let mut tls = Jar::default();
    let page = app
        .try_sign_in_with(&mut tls, OWNER, PASSWORD, &[("x-forwarded-proto", "https")])
        .await;
    assert!(
        page.headers.get_all("set-cookie").iter().any(|c| c
            .to_str()
            .unwrap()
            .starts_with("__Host-lunas_session=")
            && c.to_str().unwrap().contains("Secure"))
    );

    // Signing out ends the session on the server: the old cookie opens nothing.
    let mut kept = jar.clone();
    let out = app.submit(&mut jar, "/", "/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.location().starts_with("/login"));
    assert_eq!(app.get(&mut kept, "/").await.location(), "/login");
    assert!(
        app.audit_actions()
            .await
            .contains(&"auth.logout".to_owned())
    );

    // A session ends after 12 idle hours.
    let mut idle = app.sign_in(STAFF).await;
    app.clock.advance(SignedDuration::from_hours(13));
    assert_eq!(app.get(&mut idle, "/").await.location(), "/login");
}

async fn failed_sign_ins_are_throttled_per_account_and_per_address_and_audited(backend: Backend) {
    let app = spawn(backend).await;
    let mut jar = Jar::default();
    for _ in 0..5 {
        let page = app
            .try_sign_in(&mut jar, OWNER, "salah salah salah", "")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.has("Email atau kata sandi salah"));
        assert!(page.has(r#"value="owner@toko.id""#), "what was typed stays");
    }
    // The sixth try is refused even with the right password, and says until when.
    let page = app.try_sign_in(&mut jar, OWNER, PASSWORD, "").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert!(page.has("Terlalu banyak percobaan gagal"));
    let failed = app
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "auth.login_failed")
        .count();
    assert_eq!(failed, 5);
    // Other accounts are not locked by it…
    app.sign_in(STAFF).await;
    // …and the account opens again once the window has passed.
    app.clock.advance(SignedDuration::from_mins(16));
    app.sign_in(OWNER).await;

    // Twenty failures from one address lock the address, whatever the account.
    for n in 0..20 {
        let email = format!("tebak{n}@toko.id");
        let page = app
            .try_sign_in(&mut jar, &email, "salah salah salah", "")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "try {n}");
    }
    let page = app.try_sign_in(&mut jar, STAFF, PASSWORD, "").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // Another address (through the local proxy) is not.
    let mut other = Jar::default();
    let page = app
        .try_sign_in_with(
            &mut other,
            STAFF,
            PASSWORD,
            &[("x-forwarded-for", "203.0.113.9")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

/// Sends `count` sign-ins at once for the accounts `email(n)`, the last one with the right
/// password, all from one browser's sign-in form; returns how many of each status came back.
/// `count` sign-ins at once with wrong passwords, each for the account `email` names.
async fn burst_of_sign_ins(
    app: &Arc<App>,
    count: usize,
    email: impl Fn(usize) -> String,
) -> HashMap<StatusCode, usize> {
    let mut jar = Jar::default();
    let csrf = app.get(&mut jar, "/login").await.csrf();
    let mut tries = tokio::task::JoinSet::new();
    for n in 0..count {
        let (app, mut jar, csrf, email) = (app.clone(), jar.clone(), csrf.clone(), email(n));
        tries.spawn(async move {
            let pairs = [
                ("email", email.as_str()),
                ("password", "salah salah salah"),
                ("csrf", &csrf),
            ];
            app.post(&mut jar, "/login", &pairs).await.status
        });
    }
    let mut statuses = HashMap::new();
    while let Some(status) = tries.join_next().await {
        *statuses.entry(status.unwrap()).or_default() += 1;
    }
    statuses
}

async fn a_burst_of_sign_ins_gets_no_more_guesses_than_the_throttle_allows(backend: Backend) {
    let app = Arc::new(spawn(backend).await);
    // 40 wrong guesses at once for one account: at most five are checked at all. (A burst with
    // the right password in it proves nothing: a success forgets the account's failures, as it
    // should for the member who signed in, and the guesses after it are checked again.)
    let statuses = burst_of_sign_ins(&app, 40, |_| OWNER.to_owned()).await;
    let checked = statuses
        .get(&StatusCode::UNAUTHORIZED)
        .copied()
        .unwrap_or(0);
    assert!(checked <= 5, "{statuses:?}");
    assert_eq!(
        statuses
            .get(&StatusCode::TOO_MANY_REQUESTS)
            .copied()
            .unwrap_or(0),
        40 - checked,
        "{statuses:?}"
    );
    // Locked: even the right password is refused until the window passes, and says nothing.
    let mut jar = Jar::default();
    let csrf = app.get(&mut jar, "/login").await.csrf();
    let locked = app
        .post(
            &mut jar,
            "/login",
            &[("email", OWNER), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        app.engine
            .store()
            .consistency_report()
            .await
            .unwrap()
            .is_empty()
    );

    // 60 at once from one address, each for another account: at most twenty are checked.
    app.clock.advance(SignedDuration::from_mins(16));
    let statuses = burst_of_sign_ins(&app, 60, |n| format!("tebak{n}@toko.id")).await;
    let checked = statuses
        .get(&StatusCode::UNAUTHORIZED)
        .copied()
        .unwrap_or(0);
    assert!(checked <= 20, "{statuses:?}");
    assert_eq!(
        statuses
            .get(&StatusCode::TOO_MANY_REQUESTS)
            .copied()
            .unwrap_or(0),
        60 - checked,
        "{statuses:?}"
    );
    let failed = app
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "auth.login_failed")
        .count();
    assert!(failed <= 25, "{failed} failures audited");
}

async fn the_sign_in_form_takes_only_tokens_this_server_made(backend: Backend) {
    let app = spawn(backend).await;
    // A pair an attacker made up (a planted cookie beside their own form) signs nobody in.
    for made_up in ["a", &"ab".repeat(32)] {
        let mut jar = Jar(HashMap::from([(
            "lunas_login".to_owned(),
            made_up.to_owned(),
        )]));
        let page = app
            .post(
                &mut jar,
                "/login",
                &[("email", OWNER), ("password", PASSWORD), ("csrf", made_up)],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{made_up}");
        assert!(!jar.0.keys().any(|k| k.contains("session")));
    }
    // A token this server made works for an hour or two, not for ever.
    let mut jar = Jar::default();
    let csrf = app.get(&mut jar, "/login").await.csrf();
    app.clock.advance(SignedDuration::from_hours(2));
    let page = app
        .post(
            &mut jar,
            "/login",
            &[("email", OWNER), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    // Over HTTPS the cookies carry the __Host- prefix (only this host can set them), and a
    // cookie without it is not read there.
    let https = [("x-forwarded-proto", "https")];
    let mut jar = Jar::default();
    let page = app
        .try_sign_in_with(&mut jar, OWNER, PASSWORD, &https)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let set: Vec<&str> = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        set.iter().any(|c| c.starts_with("__Host-lunas_session=")
            && c.contains("Secure")
            && c.contains("Path=/")),
        "{set:?}"
    );
    let today = app.send(&mut jar, Method::GET, "/", None, &https).await;
    assert_eq!(today.status, StatusCode::OK);
    let session = jar.0["__Host-lunas_session"].clone();
    let mut unprefixed = Jar(HashMap::from([("lunas_session".to_owned(), session)]));
    let page = app
        .send(&mut unprefixed, Method::GET, "/", None, &https)
        .await;
    assert_eq!(page.location(), "/login");
}

async fn owners_revoke_api_tokens_from_the_staff_page(backend: Backend) {
    let app = spawn(backend).await;
    lunas_engine::tokens::create(app.engine.store(), "toko-online", jiff::Timestamp::now())
        .await
        .unwrap();
    let mut staff = app.sign_in(STAFF).await;
    let page = app
        .submit(
            &mut staff,
            "/",
            "/tokens/revoke",
            &[("name", "toko-online"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let mut owner = app.sign_in(OWNER).await;
    let page = app.get(&mut owner, "/staff").await;
    assert!(
        page.has("Token API") && page.has("toko-online"),
        "{}",
        page.body
    );
    let page = app
        .submit(
            &mut owner,
            "/staff",
            "/tokens/revoke",
            &[("name", "toko-online"), ("password", "salah salah salah")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.engine.api_tokens().await.unwrap().len(), 1);
    let page = app
        .submit(
            &mut owner,
            "/staff",
            "/tokens/revoke",
            &[("name", "toko-online"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.location(), "/staff?done=token_revoked");
    assert!(app.engine.api_tokens().await.unwrap().is_empty());
    let page = app.get(&mut owner, "/staff?done=token_revoked").await;
    assert!(page.has("Token dicabut") && page.has("Belum ada token API"));
    assert!(
        app.audit_actions()
            .await
            .contains(&"token.revoke".to_owned())
    );
}

async fn a_second_factor_is_asked_once_enabled(backend: Backend) {
    let app = spawn(backend).await;
    let mut jar = app.sign_in(OWNER).await;
    let setup = app
        .submit(&mut jar, "/account", "/account/totp-setup", &[])
        .await;
    assert_eq!(setup.status, StatusCode::OK);
    let start = setup.body.find(r#"id="totp-secret">"#).unwrap() + r#"id="totp-secret">"#.len();
    let secret = setup.body[start..start + 32].to_owned();
    let csrf = setup.csrf();
    let wrong = app
        .post(
            &mut jar,
            "/account/totp-on",
            &[("csrf", &csrf), ("secret", &secret), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.has("Kode autentikator salah"));
    let code = lunas_engine::accounts::totp_code(&secret, app.engine.now()).unwrap();
    let on = app
        .post(
            &mut jar,
            "/account/totp-on",
            &[("csrf", &csrf), ("secret", &secret), ("code", &code)],
        )
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER, "{}", on.body);

    let mut next = Jar::default();
    let used = app.try_sign_in(&mut next, OWNER, PASSWORD, &code).await;
    assert_eq!(
        used.status,
        StatusCode::UNAUTHORIZED,
        "the code that turned it on is used up"
    );
    let asked = app.try_sign_in(&mut next, OWNER, PASSWORD, "").await;
    assert_eq!(asked.status, StatusCode::UNAUTHORIZED);
    assert!(asked.has(r#"name="totp""#));
    assert!(!next.0.contains_key("lunas_session"));
    let refused = app.try_sign_in(&mut next, OWNER, PASSWORD, "123456").await;
    assert!(refused.has("Kode autentikator salah"));
    app.clock.advance(SignedDuration::from_mins(5));
    let code = lunas_engine::accounts::totp_code(&secret, app.engine.now()).unwrap();
    let page = app.try_sign_in(&mut next, OWNER, PASSWORD, &code).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(
        app.audit_actions()
            .await
            .contains(&"auth.totp_on".to_owned())
    );
}

async fn forms_without_the_sessions_csrf_token_change_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let id = app.place("081234567890", "").await;
    let mut jar = app.sign_in(STAFF).await;
    for csrf in [None, Some("0".repeat(64))] {
        let mut pairs = vec![("amount", "150000")];
        if let Some(csrf) = &csrf {
            pairs.push(("csrf", csrf));
        }
        let page = app
            .post(&mut jar, &format!("/orders/{id}/pay"), &pairs)
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.has("Formulir ini sudah kedaluwarsa"), "{}", page.body);
    }
    let order = app.engine.order(id).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::AwaitingPayment);
    assert!(order.payments.is_empty());
    // A token of an earlier session is stale too.
    let old = app.get(&mut jar, "/").await.csrf();
    app.submit(&mut jar, "/", "/logout", &[]).await;
    let mut jar = app.sign_in(STAFF).await;
    let page = app
        .post(
            &mut jar,
            &format!("/orders/{id}/cancel"),
            &[("csrf", &old), ("cancel_reason", "x")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The sign-in form without its token.
    let mut fresh = Jar::default();
    let page = app
        .post(
            &mut fresh,
            "/login",
            &[("email", OWNER), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.engine.order(id).await.unwrap().unwrap().status,
        OrderStatus::AwaitingPayment
    );
}

async fn staff_cannot_open_owner_pages(backend: Backend) {
    let app = spawn(backend).await;
    let mut staff = app.sign_in(STAFF).await;
    for path in ["/settings", "/staff", "/audit"] {
        let page = app.get(&mut staff, path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.has("hanya untuk pemilik"));
    }
    let today = app.get(&mut staff, "/").await;
    assert!(
        !today.has(r#"href="/settings""#),
        "no link to what staff cannot open"
    );
    let before = app.engine.settings();
    let page = app
        .submit(
            &mut staff,
            "/",
            "/settings/general",
            &[("store_name", "Diambil alih")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(app.engine.settings(), before);
    let page = app
        .submit(
            &mut staff,
            "/",
            "/staff",
            &[
                ("email", "x@y.id"),
                ("role", "owner"),
                ("new_password", PASSWORD),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(app.engine.users().await.unwrap().len(), 2);
}

lunas_store::on_both_backends!(
    anonymous_visitors_are_sent_to_sign_in_and_every_page_has_security_headers,
    signing_in_starts_a_new_session_and_signing_out_ends_it_on_the_server,
    failed_sign_ins_are_throttled_per_account_and_per_address_and_audited,
    a_burst_of_sign_ins_gets_no_more_guesses_than_the_throttle_allows,
    the_sign_in_form_takes_only_tokens_this_server_made,
    owners_revoke_api_tokens_from_the_staff_page,
    a_second_factor_is_asked_once_enabled,
    forms_without_the_sessions_csrf_token_change_nothing,
    staff_cannot_open_owner_pages,
);
