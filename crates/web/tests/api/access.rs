use super::*;

async fn a_revoked_token_is_refused_at_once_by_every_process(backend: Backend) {
    let app = spawn_app(backend).await;
    // A second server on the same database: another process.
    let other_engine = Arc::new(
        Engine::new(app.store.clone(), app.clock.clone())
            .await
            .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = listener.local_addr().unwrap();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(lunas_web::serve(
        listener,
        lunas_web::AppState::new(other_engine),
        async {
            let _ = stopped.await;
        },
    ));
    let token = lunas_engine::tokens::create(&app.store, "kasir", jiff::Timestamp::now())
        .await
        .unwrap();
    let ask = |addr: std::net::SocketAddr, authorization: String| {
        let client = app.client.clone();
        async move {
            let request = Request::get(format!("http://{addr}/api/v1/orders"))
                .header("authorization", authorization)
                .body(Full::new(Bytes::new()))
                .unwrap();
            client.request(request).await.unwrap().status()
        }
    };
    // The scheme is case-insensitive.
    for scheme in ["Bearer", "bearer", "BEARER"] {
        assert_eq!(
            ask(app.addr, format!("{scheme} {token}")).await,
            StatusCode::OK,
            "{scheme}"
        );
    }
    assert_eq!(ask(other, format!("Bearer {token}")).await, StatusCode::OK);
    assert_eq!(
        ask(app.addr, format!("Basic {token}")).await,
        StatusCode::UNAUTHORIZED
    );
    let tokens = app.engine.api_tokens().await.unwrap();
    assert!(tokens.iter().any(|t| t.name == "kasir" && t.count == 1));
    // Requests with the token keep arriving at both servers while it is revoked, so that reads
    // of it are running when the revocation commits (requests arriving together share reads).
    let busy = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let callers: Vec<_> = (0..8)
        .map(|i| {
            let (busy, client) = (busy.clone(), app.client.clone());
            let (addr, authorization) = ([app.addr, other][i % 2], format!("Bearer {token}"));
            tokio::spawn(async move {
                while busy.load(std::sync::atomic::Ordering::Relaxed) {
                    let request = Request::get(format!("http://{addr}/api/v1/orders"))
                        .header("authorization", &authorization)
                        .body(Full::new(Bytes::new()))
                        .unwrap();
                    client.request(request).await.unwrap();
                }
            })
        })
        .collect();
    assert_eq!(
        app.engine
            .revoke_api_token("kasir", lunas_core::Actor::system())
            .await
            .unwrap(),
        1
    );
    // Refused at once, here and in the other process that used it a moment ago.
    assert_eq!(
        ask(app.addr, format!("Bearer {token}")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ask(other, format!("Bearer {token}")).await,
        StatusCode::UNAUTHORIZED
    );
    busy.store(false, std::sync::atomic::Ordering::Relaxed);
    for caller in callers {
        caller.await.unwrap();
    }
    let audit = app.engine.audit_log(None, 10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|l| l.action == "token.revoke" && l.subject == "kasir")
    );
    // Revoking a name no token has revokes nothing.
    assert_eq!(
        app.engine
            .revoke_api_token("kasir", lunas_core::Actor::system())
            .await
            .unwrap(),
        0
    );
}

lunas_store::on_both_backends!(a_revoked_token_is_refused_at_once_by_every_process,);
