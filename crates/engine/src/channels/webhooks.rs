//! Outgoing webhooks, signed per the Standard Webhooks specification: each delivery carries
//! `webhook-id` (the same on every retry), `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, with a secret per
//! endpoint.
//!
//! A webhook URL must not reach the server's own network: a host that is, or resolves to, a
//! loopback, private, link-local or otherwise non-public address is refused unless the operator
//! allowed it (`webhooks_allow_private`). Names are checked when resolved for the connection
//! itself, so a name that changes its answer between the check and the request is caught too.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use lunas_core::Timestamp;
use lunas_core::outbox::{Message, WebhookEndpoint};
use lunas_store::Store;
use rand::RngCore;
use sha2::Sha256;

use lunas_core::messages::Channel;

use crate::channels::{Deliver, Delivering, DeliveryError, Handed};

/// Longest one delivery may take.
const WEBHOOK_TIMEOUT_SECONDS: u64 = 15;
/// Longest URL accepted.
pub const WEBHOOK_URL_LEN_MAX: usize = 2000;

/// The URLs the API document describes: `http(s)://`, a domain name, a port and any path.
/// [`validate_url`] takes every one of them (a test checks it); it also takes public IP
/// addresses and names in other scripts.
pub const WEBHOOK_URL_PATTERN: &str =
    r"^https?://[a-z][a-z0-9]{0,30}(\.[a-z][a-z0-9]{0,30}){1,3}(:[1-9][0-9]{0,3})?(/[!-~]*)?$";

/// Why a webhook URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WebhookUrlError(pub String);

/// Whether an address is on the public internet (not loopback, private, link-local, shared,
/// unspecified, multicast or reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Checks a webhook URL when it is registered: http(s), a host, not too long, and (unless allowed)
/// not an address literal of a private network. Names are checked again at every delivery.
pub fn validate_url(raw: &str, allow_private: bool) -> Result<url::Url, WebhookUrlError> {
    if raw.len() > WEBHOOK_URL_LEN_MAX {
        return Err(WebhookUrlError(format!(
            "the URL is longer than {WEBHOOK_URL_LEN_MAX} characters"
        )));
    }
    let url = url::Url::parse(raw).map_err(|e| WebhookUrlError(format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(WebhookUrlError(
            "a webhook URL must be http:// or https://".into(),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(WebhookUrlError(
            "a webhook URL must not carry a user or password".into(),
        ));
    }
    let ip = match url.host() {
        None => return Err(WebhookUrlError("a webhook URL needs a host".into())),
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => None,
    };
    if let Some(ip) = ip
        && !allow_private
        && !is_public(ip)
    {
        return Err(WebhookUrlError(format!(
            "{ip} is not a public address; webhooks may not reach private networks"
        )));
    }
    Ok(url)
}

/// A new endpoint secret: `whsec_` and 24 random bytes in base64, as the specification writes them.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The `webhook-signature` value for a delivery.
pub fn sign(secret: &str, id: &str, timestamp: i64, payload: &str) -> Result<String, String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| "the endpoint secret is not base64".to_owned())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| "the endpoint secret is empty".to_owned())?;
    mac.update(format!("{id}.{timestamp}.{payload}").as_bytes());
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// A resolver that drops non-public addresses unless they are allowed.
#[derive(Clone)]
struct GuardedResolver {
    allow_private: bool,
}

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "the host resolves only to addresses webhooks may not reach",
                ));
            }
            Ok(addresses.into_iter())
        })
    }
}

pub struct WebhookChannel {
    client: crate::http::HttpsClient<GuardedResolver>,
    store: Store,
    allow_private: bool,
}

impl WebhookChannel {
    pub fn new(store: Store, allow_private: bool) -> WebhookChannel {
        let http = HttpConnector::new_with_resolver(GuardedResolver { allow_private });
        let client = crate::http::https_client(http, Duration::from_secs(WEBHOOK_TIMEOUT_SECONDS));
        WebhookChannel {
            client,
            store,
            allow_private,
        }
    }

    async fn endpoint(&self, id: &str) -> Result<WebhookEndpoint, DeliveryError> {
        let endpoints = self
            .store
            .webhooks()
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?;
        endpoints
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| DeliveryError::Permanent("the webhook endpoint was removed".into()))
    }

    /// Delivers `message` to its endpoint, signed with the time of this attempt, `now` (the
    /// sender's clock: receivers compare it with their own to refuse replays).
    pub async fn send(&self, message: &Message, now: Timestamp) -> Result<(), DeliveryError> {
        let endpoint = self.endpoint(&message.recipient).await?;
        let url = validate_url(&endpoint.url, self.allow_private)
            .map_err(|e| DeliveryError::Permanent(e.0))?;
        // Resolving here as well as in the connector tells a host that only ever points inward
        // (dead at once, with a clear reason) from a passing connection failure (retried); the
        // connector's own check still catches a name that changes its answer in between.
        if let Some(host) = url
            .host_str()
            .filter(|_| matches!(url.host(), Some(url::Host::Domain(_))))
        {
            let port = url.port_or_known_default().unwrap_or(443);
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| DeliveryError::Transient(format!("cannot resolve {host}: {e}")))?
                .collect();
            if !self.allow_private && !resolved.iter().any(|a| is_public(a.ip())) {
                return Err(DeliveryError::Permanent(format!(
                    "{host} resolves only to loopback, private or link-local addresses; webhooks may not reach them"
                )));
            }
        }
        let timestamp = now.as_second();
        let signature = sign(
            &endpoint.secret,
            message.id.as_str(),
            timestamp,
            &message.body,
        )
        .map_err(DeliveryError::Permanent)?;
        let request = hyper::Request::post(url.as_str())
            .header("content-type", "application/json")
            .header("user-agent", concat!("lunas/", env!("CARGO_PKG_VERSION")))
            .header("webhook-id", message.id.as_str())
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(Full::new(Bytes::from(message.body.clone())))
            .map_err(|e| DeliveryError::Permanent(format!("cannot build the request: {e}")))?;
        let (status, _) = crate::http::send(
            &self.client,
            request,
            Duration::from_secs(WEBHOOK_TIMEOUT_SECONDS),
        )
        .await
        .map_err(DeliveryError::Transient)?;
        match status.as_u16() {
            200..=299 => Ok(()),
            // The endpoint says it is gone for good.
            410 => Err(DeliveryError::Permanent(format!("HTTP {status}"))),
            _ => Err(DeliveryError::Transient(format!("HTTP {status}"))),
        }
    }
}

impl Deliver for WebhookChannel {
    fn channel(&self) -> Channel {
        Channel::Webhook
    }

    fn deliver<'a>(&'a self, message: &'a Message, now: Timestamp) -> Delivering<'a> {
        Box::pin(async move {
            self.send(message, now).await?;
            Ok(Handed::Sent { variant: None })
        })
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #[test]
        fn every_url_the_document_describes_is_taken(
            raw in proptest::string::string_regex(&super::WEBHOOK_URL_PATTERN[1..super::WEBHOOK_URL_PATTERN.len() - 1]).unwrap()
        ) {
            proptest::prop_assert!(super::validate_url(&raw, false).is_ok(), "{raw}");
        }
    }

    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "103.10.20.30", "2001:4860:4860::8888"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn webhook_urls_must_be_http_and_public_unless_allowed() {
        assert!(validate_url("https://hooks.example.com/lunas", false).is_ok());
        assert!(validate_url("ftp://hooks.example.com/", false).is_err());
        assert!(validate_url("javascript:alert(1)", false).is_err());
        assert!(validate_url("http://127.0.0.1:9000/hook", false).is_err());
        assert!(validate_url("http://[::1]/hook", false).is_err());
        assert!(validate_url("http://169.254.169.254/latest/meta-data", false).is_err());
        assert!(validate_url("http://user:pw@hooks.example.com/", false).is_err());
        assert!(validate_url("http://127.0.0.1:9000/hook", true).is_ok());
    }

    #[test]
    fn signatures_follow_the_specification_example() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let payload = r#"{"test": 2432232314}"#;
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, payload).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
