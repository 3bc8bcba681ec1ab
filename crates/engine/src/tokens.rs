//! API tokens: random, shown once, stored only as a SHA-256 hash. Also the random secrets and
//! the constant-time comparison the rest of lunas uses for tokens of its own (session ids, CSRF
//! tokens, webhook ids) and for secrets others send (gateway signatures and tokens).

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use lunas_core::Timestamp;
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
