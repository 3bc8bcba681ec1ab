//! API tokens: random, shown once, stored only as a SHA-256 hash. Also the random secrets and
//! the constant-time comparison the rest of lunas uses for tokens of its own (session ids, CSRF
//! tokens, webhook ids) and for secrets others send (gateway signatures and tokens).

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use lunas_core::accounts::ApiToken;
use lunas_core::{Actor, Timestamp};
use lunas_store::{Store, StoreError};

/// Prefix that makes a lunas token recognisable in a secret scanner.
pub const TOKEN_PREFIX: &str = "lunas_";
/// Random bytes in a token: 256 bits.
const TOKEN_BYTES: usize = 32;
/// Longest token name.
pub const TOKEN_NAME_LEN_MAX: usize = 64;

/// `len` random bytes from the OS-seeded generator, as hex.
pub fn random_hex(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The hash under which a token is stored and looked up.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a token named `name` and returns it; this is the only time it is ever visible.
pub async fn create(store: &Store, name: &str, now: Timestamp) -> Result<String, StoreError> {
    let token = format!("{TOKEN_PREFIX}{}", random_hex(TOKEN_BYTES));
    store
        .create_api_token(name.to_owned(), hash_token(&token), now)
        .await?;
    Ok(token)
}

/// Checks a token name: 1 to 64 printable characters.
pub fn valid_name(name: &str) -> bool {
    let name = name.trim();
    !name.is_empty()
        && name.chars().count() <= TOKEN_NAME_LEN_MAX
        && !name.chars().any(char::is_control)
}

/// The API tokens, by name.
pub async fn list(store: &Store) -> Result<Vec<ApiToken>, StoreError> {
    store.api_tokens().await
}

/// Revokes every token named `name`; returns how many there were. A revoked token is refused at
/// its next request, in every process: each request's token is read from the database by a read
/// that began after the request arrived.
pub async fn revoke(
    store: &Store,
    name: &str,
    actor: Actor,
    now: Timestamp,
) -> Result<u64, StoreError> {
    store
        .revoke_api_token(name.trim().to_owned(), actor, now)
        .await
}

/// The token of an `Authorization` header value: the `Bearer` scheme in any case (RFC 9110
/// makes schemes case-insensitive), then the token, at most 256 characters.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 256)
        .then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        for header in ["Bearer lunas_ab", "bearer lunas_ab", "BEARER  lunas_ab "] {
            assert_eq!(bearer(header), Some("lunas_ab"), "{header}");
        }
        for header in [
            "Basic lunas_ab",
            "Bearer",
            "Bearer ",
            "lunas_ab",
            "Bearerlunas_ab",
        ] {
            assert_eq!(bearer(header), None, "{header}");
        }
        assert_eq!(bearer(&format!("Bearer {}", "a".repeat(257))), None);
    }
}
