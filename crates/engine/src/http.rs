//! The HTTP client the outgoing channels (webhooks, WhatsApp) and the gateway client share: rustls with the webpki
//! roots, HTTP/1.1, a connect timeout, and one call that sends a request within a time limit.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{HttpConnector, dns::GaiResolver};

pub(crate) type HttpsClient<R = GaiResolver> =
    Client<hyper_rustls::HttpsConnector<HttpConnector<R>>, Full<Bytes>>;

/// A client over `http`, which decides how names are resolved.
pub(crate) fn https_client<R>(mut http: HttpConnector<R>, timeout: Duration) -> HttpsClient<R>
where
    R: tower_service::Service<hyper_util::client::legacy::connect::dns::Name>
        + Clone
        + Send
        + Sync
        + 'static,
    R::Response: Iterator<Item = std::net::SocketAddr>,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R::Future: Send,
{
    http.enforce_http(false);
    http.set_connect_timeout(Some(timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(hyper_util::rt::TokioExecutor::new()).build(https)
}

/// Sends `request` and reads the answer whole, within `timeout`. `Err` says why no answer came
/// (a passing failure: refused, reset, timed out); what an answer says is the caller's to judge.
pub(crate) async fn send<C>(
    client: &Client<C, Full<Bytes>>,
    request: hyper::Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<(hyper::StatusCode, Bytes), String>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Ok((status, body))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| "timed out".to_owned())?
}
