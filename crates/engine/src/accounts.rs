//! Staff accounts and sign-in: Argon2id password hashes (OWASP's parameters: 19 MiB, two
//! passes, one lane), sessions with 256-bit random ids kept as SHA-256, the failed-sign-in
//! throttle of `lunas_core::accounts`, an optional TOTP second factor (RFC 6238, 30-second steps,
//! one step of clock skew either way), and the audit log.

use lunas_core::accounts::{self, AccountError, Email, Role, StaffMember};
use lunas_core::accounts::{AuditLine, Session};
use lunas_core::messages::Language;
use lunas_core::{Actor, Timestamp};
use rand::RngCore;

pub use crate::passwords::{ARGON2_LANES, ARGON2_MEMORY_KIB, ARGON2_PASSES};
use crate::passwords::{hash_password, verify_password};
use lunas_store::{Tx, TxResult};

/// Reserves a sign-in attempt against each of `keys` (the account, and for a sign-in the
/// address), unless one of them is throttled: each key's recent failures, with the attempts
/// reserved and not yet forgiven, are counted, and the attempt is written down before its
/// password is hashed. So a burst of concurrent guesses gets no more tries than the limit: each
/// key is locked for the transaction (in key order) before it is counted. `Ok(ids)` are the
/// reserved rows (forgiven on success, left as the failure otherwise); `Err(until)` is when a try
/// is allowed again, and nothing was written.
fn reserve_sign_in(
    tx: &mut Tx<'_>,
    keys: &[(String, u32)],
    now: Timestamp,
) -> TxResult<Result<Vec<i64>, Timestamp>> {
    let mut keys = keys.to_vec();
    keys.sort();
    let mut counted = Vec::with_capacity(keys.len());
    for (key, max) in &keys {
        tx.lock_throttle_key(key)?;
        counted.push((tx.sign_in_failures(key, now)?, *max));
    }
    if let Err(until) = accounts::throttle_keys(&counted, now) {
        return Ok(Err(until));
    }
    let mut ids = Vec::with_capacity(keys.len());
    for (key, _) in &keys {
        ids.extend(tx.reserve_attempt(key, now)?);
    }
    Ok(Ok(ids))
}
use crate::{Engine, Error};

/// How often, at most, a session's last request is written back (a page view is a read).
const SESSION_TOUCH_MS: i64 = 60_000;

/// A hash no password matches, verified when the email is unknown so that an unknown account
/// takes as long to refuse as a wrong password.
async fn decoy_hash() -> String {
    static DECOY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DECOY
        .get_or_init(|| hash_password("lunas decoy password, never a real one".into()))
        .await
        .clone()
}

/// How long a sign-in form's token is good for: its hour and the next.
const LOGIN_TOKEN_HOUR_S: i64 = 3600;

/// A session id or CSRF token: 256 random bits.
fn random_token() -> String {
    crate::tokens::random_hex(32)
}

/// A random password of 24 hex digits (96 bits), for the demo's owner.
pub fn random_password() -> String {
    crate::tokens::random_hex(12)
}

/// How a session cookie's value is kept: its SHA-256, hex.
pub fn session_hash(cookie: &str) -> String {
    crate::tokens::hash_token(cookie)
}

/// What a sign-in form sent.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub email: String,
    pub password: String,
    /// The six digits of the authenticator app, when the account has a second factor.
    pub totp: Option<String>,
    /// The client's address, for the throttle and the audit log.
    pub address: String,
}

/// Why a sign-in did not start a session. Deliberately vague: `Invalid` covers an unknown
/// email, a wrong password and a disabled account alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInRefused {
    Throttled {
        until: Timestamp,
    },
    Invalid,
    /// The password was right; the second factor is missing or wrong.
    TotpNeeded {
        wrong: bool,
    },
}

/// A new session: the cookie's value (given to the browser once, kept only as a hash) and whose
/// it is. Its CSRF token is read with the session.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie: String,
    pub member: StaffMember,
}

/// A TOTP secret being set up: base32, and the `otpauth://` address authenticator apps read.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    pub secret: String,
    pub uri: String,
}

fn totp(secret: &str) -> Option<totp_rs::TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .ok()?;
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).ok()
}

/// TOTP's time step in seconds.
const TOTP_STEP_S: i64 = 30;

/// Whether `code` is the TOTP of `secret` at `now` (or one step either side).
pub fn check_totp(secret: &str, code: &str, now: Timestamp) -> bool {
    totp_step(secret, code, now).is_some()
}

/// The time step whose code `code` is (now's, or one either side), compared in constant time.
fn totp_step(secret: &str, code: &str, now: Timestamp) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let totp = totp(secret).filter(|_| code.len() == 6)?;
    let current = now.as_second().div_euclid(TOTP_STEP_S);
    (current - 1..=current + 1).find(|step| {
        u64::try_from(step * TOTP_STEP_S)
            .is_ok_and(|at| crate::tokens::same_secret(&totp.generate(at), &code))
    })
}

/// The current code of `secret` (for tests and for the setup page's check).
pub fn totp_code(secret: &str, now: Timestamp) -> Option<String> {
    let seconds = u64::try_from(now.as_second()).ok()?;
    Some(totp(secret)?.generate(seconds))
}

/// A fresh 160-bit TOTP secret for `email`, with its `otpauth://` address.
pub fn new_totp(email: &Email, issuer: &str) -> TotpSetup {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    let secret = totp_rs::Secret::Raw(bytes.to_vec())
        .to_encoded()
        .to_string();
    totp_setup(email, issuer, secret)
}

/// The `otpauth://` address of `secret` (Key Uri Format) for `email` at `issuer`.
pub fn totp_setup(email: &Email, issuer: &str, secret: String) -> TotpSetup {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let uri = format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(email.as_str()),
        enc(&secret),
        enc(issuer)
    );
    TotpSetup { secret, uri }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountOpError {
    #[error(transparent)]
    Invalid(#[from] AccountError),
    #[error("there is already an account with this email")]
    EmailTaken,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("the code from the authenticator app is wrong")]
    WrongCode,
    #[error("the last owner cannot be disabled")]
    LastOwner,
    #[error("too many wrong passwords; try again after {until}")]
    Throttled { until: Timestamp },
}

impl Engine {
    /// Creates a staff account (`lunas user add`, or the owner's staff page).
    pub async fn add_user(
        &self,
        email: &str,
        role: Role,
        password: String,
        actor: Actor,
    ) -> Result<StaffMember, Error> {
        let email = Email::parse(email).map_err(AccountOpError::from)?;
        accounts::check_password(&password).map_err(AccountOpError::from)?;
        let hash = hash_password(password).await;
        self.store
            .create_user(email, role, hash, actor, self.now())
            .await?
            .map_err(|_| AccountOpError::EmailTaken.into())
    }

    pub async fn users(&self) -> Result<Vec<StaffMember>, Error> {
        Ok(self.store.users().await?)
    }

    pub async fn user_count(&self) -> Result<i64, Error> {
        Ok(self.store.user_count().await?)
    }

    /// Checks a sign-in: the attempt is first reserved against the throttle (counted before the
    /// password is hashed, so a burst gets no more guesses than the limit), then the password
    /// (Argon2id, also for an unknown email), then the second factor. A failure keeps its
    /// reservation as the failure and is written to the audit log; a success forgives it and
    /// starts a new session (a fresh id, so a session id planted before sign-in is worth
    /// nothing).
    pub async fn sign_in(&self, form: SignIn) -> Result<Result<NewSession, SignInRefused>, Error> {
        let now = self.now();
        let email_key = form.email.trim().to_lowercase();
        let account_key = format!("account:{email_key}");
        let address_key = format!("address:{}", form.address);
        let keys = vec![
            (account_key.clone(), accounts::THROTTLE_ACCOUNT_FAILURES_MAX),
            (address_key.clone(), accounts::THROTTLE_ADDRESS_FAILURES_MAX),
        ];
        let reserved = match self
            .store
            .transact(move |tx| reserve_sign_in(tx, &keys, now))
            .await?
        {
            Ok(reserved) => reserved,
            Err(until) => return Ok(Err(SignInRefused::Throttled { until })),
        };
        let credentials = match Email::parse(&form.email) {
            Ok(email) => self.store.credentials(email).await?,
            Err(_) => None,
        };
        let stored = match &credentials {
            Some(c) => c.password_hash.clone(),
            None => decoy_hash().await,
        };
        let matches = verify_password(form.password, stored).await;
        let refuse = |why: &'static str| {
            let (address_key, email) = (address_key.clone(), email_key.clone());
            async move {
                self.store
                    .record_login_failure(
                        address_key,
                        lunas_core::AuditAction::LoginFailed,
                        email,
                        why,
                        now,
                    )
                    .await
            }
        };
        let credentials = match credentials {
            Some(c) if matches && !c.member.disabled => c,
            Some(_) if matches => {
                refuse("disabled").await?;
                return Ok(Err(SignInRefused::Invalid));
            }
            Some(_) => {
                refuse("password").await?;
                return Ok(Err(SignInRefused::Invalid));
            }
            None => {
                refuse("unknown account").await?;
                return Ok(Err(SignInRefused::Invalid));
            }
        };
        if let Some(secret) = &credentials.totp_secret {
            let Some(code) = form.totp.as_deref().filter(|c| !c.trim().is_empty()) else {
                // The password was right: asking for the second factor is not a failure.
                self.store.forgive_sign_in(reserved).await?;
                return Ok(Err(SignInRefused::TotpNeeded { wrong: false }));
            };
            // A code works once: one seen on the way in (over a shoulder, in a proxy's log) is
            // worth nothing afterwards.
            let fresh = match totp_step(secret, code, now) {
                Some(step) => {
                    self.store
                        .use_totp_step(credentials.member.id, step)
                        .await?
                }
                None => false,
            };
            if !fresh {
                refuse("second factor").await?;
                return Ok(Err(SignInRefused::TotpNeeded { wrong: true }));
            }
        }
        let cookie = random_token();
        self.store
            .create_session(
                session_hash(&cookie),
                random_token(),
                credentials.member.clone(),
                lunas_core::accounts::SignedIn {
                    account_key,
                    reserved,
                    address: form.address,
                },
                now,
            )
            .await?;
        Ok(Ok(NewSession {
            cookie,
            member: credentials.member,
        }))
    }

    /// A token for the sign-in form (the double-submit cookie and the hidden input): 128 random
    /// bits and their HMAC-SHA256, truncated to 128 bits, under the database's login key and the
    /// current hour, in 64 hex digits. Only this server can make one, so a pair an attacker
    /// made up (`Cookie: lunas_login=a` with `csrf=a`) is refused.
    pub async fn login_token(&self) -> Result<String, Error> {
        let nonce = crate::tokens::random_hex(16);
        let mac = self
            .login_mac(
                &nonce,
                self.now().as_second().div_euclid(LOGIN_TOKEN_HOUR_S),
            )
            .await?;
        Ok(format!("{nonce}{mac}"))
    }

    /// Whether `token` is a sign-in token this server made in this hour or the one before.
    pub async fn login_token_valid(&self, token: &str) -> Result<bool, Error> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let (nonce, mac) = token.split_at(32);
        let hour = self.now().as_second().div_euclid(LOGIN_TOKEN_HOUR_S);
        for at in [hour, hour - 1] {
            if crate::tokens::same_secret(&self.login_mac(nonce, at).await?, mac) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn login_mac(&self, nonce: &str, hour: i64) -> Result<String, Error> {
        use hmac::Mac;
        let key = self
            .login_key
            .get_or_try_init(|| async {
                Ok::<_, lunas_store::StoreError>(self.store.login_key().await?.into_bytes())
            })
            .await?;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(format!("lunas sign-in form {nonce} {hour}").as_bytes());
        Ok(hex::encode(&mac.finalize().into_bytes()[..16]))
    }

    /// The session a cookie opens, if it has not ended (idle or too old) and its account is
    /// enabled. An ended session is deleted.
    pub async fn session(&self, cookie: &str) -> Result<Option<Session>, Error> {
        let hash = session_hash(cookie);
        let Some(session) = self.store.session(hash.clone()).await? else {
            return Ok(None);
        };
        let now = self.now();
        if session.member.disabled
            || accounts::session_ends(session.created_at, session.last_seen) <= now
        {
            self.store.delete_session(hash).await?;
            return Ok(None);
        }
        if now.as_millisecond() - session.last_seen.as_millisecond() >= SESSION_TOUCH_MS {
            self.store.touch_session(hash, now, false).await?;
        }
        Ok(Some(session))
    }

    /// Ends the session a cookie opens, if any, without an audit line (a browser signing in
    /// again replaces its session).
    pub async fn end_session(&self, cookie: &str) -> Result<(), Error> {
        Ok(self.store.delete_session(session_hash(cookie)).await?)
    }

    /// Ends a session on the server (sign-out).
    pub async fn sign_out(&self, cookie: &str, member: &StaffMember) -> Result<(), Error> {
        self.store.delete_session(session_hash(cookie)).await?;
        self.store
            .audit(
                staff_actor(member),
                lunas_core::AuditAction::Logout,
                member.email.as_str().to_owned(),
                serde_json::json!({}),
                self.now(),
            )
            .await?;
        Ok(())
    }

    /// Whether the session's password was typed recently enough for a sensitive change.
    pub fn recently_authenticated(&self, session: &Session) -> bool {
        self.now().duration_since(session.reauth_at) < accounts::REAUTH_WITHIN
    }

    /// Checks the member's password again (before a sensitive change) and, when right, records
    /// it in the session. Wrong passwords count against the account's sign-in throttle, so a
    /// stolen session cannot be used to guess the password.
    pub async fn reauthenticate(
        &self,
        cookie: &str,
        member: &StaffMember,
        password: String,
    ) -> Result<(), Error> {
        let now = self.now();
        let account_key = format!("account:{}", member.email.as_str());
        let keys = vec![(account_key, accounts::THROTTLE_ACCOUNT_FAILURES_MAX)];
        let reserved = self
            .store
            .transact(move |tx| reserve_sign_in(tx, &keys, now))
            .await?
            .map_err(|until| AccountOpError::Throttled { until })?;
        let credentials = self
            .store
            .credentials_of(member.id)
            .await?
            .ok_or(AccountOpError::WrongPassword)?;
        if !verify_password(password, credentials.password_hash).await {
            self.store
                .record_login_failure(
                    staff_actor(member).as_str().to_owned(),
                    lunas_core::AuditAction::ReauthFailed,
                    member.email.as_str().to_owned(),
                    "password",
                    now,
                )
                .await?;
            return Err(AccountOpError::WrongPassword.into());
        }
        self.store.forgive_sign_in(reserved).await?;
        self.store
            .touch_session(session_hash(cookie), now, true)
            .await?;
        Ok(())
    }

    /// Turns on the second factor once the member typed a right code for the new secret.
    pub async fn enable_totp(
        &self,
        member: &StaffMember,
        secret: String,
        code: &str,
    ) -> Result<(), Error> {
        let Some(step) = totp_step(&secret, code, self.now()) else {
            return Err(AccountOpError::WrongCode.into());
        };
        self.store
            .set_totp(member.id, Some(secret), staff_actor(member), self.now())
            .await?;
        // The code that turned it on is used up too.
        self.store.use_totp_step(member.id, step).await?;
        Ok(())
    }

    /// An owner turns off another member's second factor (a lost phone); in the audit log.
    pub async fn reset_totp(&self, id: i64, actor: Actor) -> Result<(), Error> {
        Ok(self.store.set_totp(id, None, actor, self.now()).await?)
    }

    pub async fn disable_totp(&self, member: &StaffMember) -> Result<(), Error> {
        Ok(self
            .store
            .set_totp(member.id, None, staff_actor(member), self.now())
            .await?)
    }

    pub async fn set_language(
        &self,
        member: &StaffMember,
        language: Language,
    ) -> Result<(), Error> {
        Ok(self.store.set_language(member.id, language).await?)
    }

    /// Changes a member's own password, ending their other sessions.
    pub async fn change_password(
        &self,
        cookie: &str,
        member: &StaffMember,
        new_password: String,
    ) -> Result<(), Error> {
        accounts::check_password(&new_password).map_err(AccountOpError::from)?;
        let hash = hash_password(new_password).await;
        Ok(self
            .store
            .set_password(
                member.id,
                hash,
                Some(session_hash(cookie)),
                staff_actor(member),
                self.now(),
            )
            .await?)
    }

    /// Disables or enables an account; the last owner stays.
    pub async fn set_user_disabled(
        &self,
        id: i64,
        disabled: bool,
        actor: Actor,
    ) -> Result<(), Error> {
        if self
            .store
            .set_disabled(id, disabled, actor, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(AccountOpError::LastOwner.into())
        }
    }

    /// Writes a line of the audit log at the engine's time.
    pub async fn audit(
        &self,
        actor: Actor,
        action: lunas_core::AuditAction,
        subject: String,
        detail: serde_json::Value,
    ) -> Result<(), Error> {
        Ok(self
            .store
            .audit(actor, action, subject, detail, self.now())
            .await?)
    }

    pub async fn audit_log(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditLine>, Error> {
        Ok(self.store.audit_log(before, limit).await?)
    }
}

/// How a staff member appears as the actor of what they do.
pub fn staff_actor(member: &StaffMember) -> Actor {
    Actor::from_stored(format!("staff:{}", member.email.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_codes_follow_rfc_6238() {
        // RFC 6238 appendix B: the SHA-1 secret "12345678901234567890" at 59 s gives 94287082
        // (8 digits); the 6-digit code is its last six.
        let secret = totp_rs::Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        let at = Timestamp::from_second(59).unwrap();
        assert_eq!(totp_code(&secret, at).as_deref(), Some("287082"));
        assert!(check_totp(&secret, "287 082", at));
        assert!(check_totp(
            &secret,
            "287082",
            Timestamp::from_second(89).unwrap()
        ));
        assert!(!check_totp(
            &secret,
            "287082",
            Timestamp::from_second(200).unwrap()
        ));
        assert!(!check_totp(&secret, "28708", at));
    }

    #[test]
    fn a_new_totp_secret_has_160_bits_and_an_otpauth_address() {
        let setup = new_totp(&Email::parse("owner@toko.id").unwrap(), "Toko Sari");
        assert_eq!(setup.secret.len(), 32);
        assert!(
            setup
                .uri
                .starts_with("otpauth://totp/Toko%20Sari:owner%40toko%2Eid?secret=")
        );
    }
}
