//! Staff accounts of the dashboard: who may sign in, with which role, and the rules of signing
//! in (what an email and a password must be, when failed attempts lock an account or an address
//! for a while, how long a session lasts). Hashing and randomness live in `engine`; this is the
//! rule book.

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::messages::Language;

/// Longest email address accepted (RFC 5321's limit on a path).
pub const EMAIL_LEN_MAX: usize = 254;
/// Shortest password accepted. NIST SP 800-63B asks at least 8; staff accounts run a shop's
/// money, so lunas asks a little more.
pub const PASSWORD_LEN_MIN: usize = 10;
/// Longest password accepted, so a megabyte of text is not hashed.
pub const PASSWORD_LEN_MAX: usize = 256;

/// Failed sign-ins counted per account and per address within this window…
pub const THROTTLE_WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// …more than this many for one account locks it for the rest of the window…
pub const THROTTLE_ACCOUNT_FAILURES_MAX: u32 = 5;
/// …and more than this many from one address locks the address.
pub const THROTTLE_ADDRESS_FAILURES_MAX: u32 = 20;

/// A session ends after this long without a request…
pub const SESSION_IDLE: SignedDuration = SignedDuration::from_hours(12);
/// …and after this long in any case.
pub const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(24 * 7);
/// A sensitive change (bank accounts, webhooks, staff) needs the password again if the last time
/// it was typed is older than this.
pub const REAUTH_WITHIN: SignedDuration = SignedDuration::from_mins(10);

/// What a staff member may do: the owner manages settings and staff; staff run orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "owner" => Some(Role::Owner),
            "staff" => Some(Role::Staff),
            _ => None,
        }
    }
}

/// A staff member's sign-in address: trimmed, lowercased, one `@` with text on both sides and a
/// dot in the domain. (Whether mail reaches it is not lunas' business: it is a login name.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("an email address looks like name@example.com")]
    Email,
    #[error("a password has {PASSWORD_LEN_MIN} to {PASSWORD_LEN_MAX} characters")]
    PasswordLength,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Email, AccountError> {
        let email = raw.trim().to_lowercase();
        let ok = email.len() <= EMAIL_LEN_MAX
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if ok {
            Ok(Email(email))
        } else {
            Err(AccountError::Email)
        }
    }

    pub fn from_stored(raw: String) -> Email {
        Email(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a new password's length (in characters, so a passphrase in any script counts alike).
pub fn check_password(password: &str) -> Result<(), AccountError> {
    let len = password.chars().count();
    if (PASSWORD_LEN_MIN..=PASSWORD_LEN_MAX).contains(&len) {
        Ok(())
    } else {
        Err(AccountError::PasswordLength)
    }
}

/// A staff member as the dashboard knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub id: i64,
    pub email: Email,
    pub role: Role,
    /// The language of this person's dashboard (Indonesian unless they chose English).
    pub language: Language,
    pub totp_enabled: bool,
    pub disabled: bool,
    pub created_at: Timestamp,
}

/// Recent failed sign-ins: how many, and the oldest of them, within `THROTTLE_WINDOW`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub oldest: Option<Timestamp>,
}

/// Whether a sign-in may be tried now, given recent failures for the account and for the
/// address it comes from. `Err(until)` says when it may be tried again. Checked before the
/// password is, so a locked account learns nothing from a right password.
pub fn throttle(account: Failures, address: Failures, now: Timestamp) -> Result<(), Timestamp> {
    throttle_keys(
        &[
            (account, THROTTLE_ACCOUNT_FAILURES_MAX),
            (address, THROTTLE_ADDRESS_FAILURES_MAX),
        ],
        now,
    )
}

/// `throttle` for any set of keys, each with its own limit: locked while any key has reached
/// its limit within the window, until the latest of their oldest failures leaves it.
pub fn throttle_keys(keys: &[(Failures, u32)], now: Timestamp) -> Result<(), Timestamp> {
    let locked = |failures: Failures, max: u32| {
        (failures.count >= max)
            .then(|| failures.oldest.map(|oldest| oldest + THROTTLE_WINDOW))
            .flatten()
            .filter(|until| *until > now)
    };
    match keys.iter().filter_map(|(f, max)| locked(*f, *max)).max() {
        None => Ok(()),
        Some(until) => Err(until),
    }
}

/// When a session seen at `last_seen`, created at `created_at`, ends.
pub fn session_ends(created_at: Timestamp, last_seen: Timestamp) -> Timestamp {
    (last_seen + SESSION_IDLE).min(created_at + SESSION_LIFETIME)
}

/// A staff member with what signing in checks.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub member: StaffMember,
    /// PHC string (`$argon2id$v=19$m=…`).
    pub password_hash: String,
    /// Base32 TOTP secret, when the second factor is on.
    pub totp_secret: Option<String>,
}

/// A signed-in session and whose it is.
#[derive(Debug, Clone)]
pub struct Session {
    pub member: StaffMember,
    pub csrf: String,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
    /// When the password was last typed in this session.
    pub reauth_at: Timestamp,
}

/// One line of the audit log, newest first when listed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditLine {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: serde_json::Value,
}

/// How a sign-in that succeeded came: the throttle's account key, the attempt's reserved rows
/// (`Store::reserve_sign_in`) and the client's address.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account_key: String,
    pub reserved: Vec<i64>,
    pub address: String,
}

/// An email that already has an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("there is already an account with this email")]
pub struct EmailTaken;

/// API tokens of one name (a name may have been given to several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub name: String,
    /// When the first of them was made.
    pub created_at: Timestamp,
    pub count: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Owner@Toko.ID ").unwrap().as_str(),
            "owner@toko.id"
        );
        for bad in [
            "",
            "owner",
            "@toko.id",
            "owner@",
            "owner@toko",
            "a@b@c.id",
            "o wner@toko.id",
            "owner@.id",
        ] {
            assert_eq!(Email::parse(bad), Err(AccountError::Email), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@toko.id", "a".repeat(250))).is_err());
    }

    #[test]
    fn passwords_count_characters() {
        assert!(check_password("short").is_err());
        assert!(check_password("sepuluh!!!").is_ok());
        assert!(check_password("ééééééééé").is_err());
        assert!(check_password("éééééééééé").is_ok());
        assert!(check_password(&"x".repeat(257)).is_err());
    }

    #[test]
    fn the_throttle_locks_an_account_after_five_failures_until_the_first_is_old() {
        let now = at("2026-12-01T10:00:00Z");
        let first = at("2026-12-01T09:50:00Z");
        let four = Failures {
            count: 4,
            oldest: Some(first),
        };
        assert_eq!(throttle(four, Failures::default(), now), Ok(()));
        let five = Failures { count: 5, ..four };
        assert_eq!(
            throttle(five, Failures::default(), now),
            Err(at("2026-12-01T10:05:00Z"))
        );
        assert_eq!(
            throttle(five, Failures::default(), at("2026-12-01T10:05:00Z")),
            Ok(())
        );
    }

    #[test]
    fn the_throttle_locks_an_address_after_twenty_failures() {
        let now = at("2026-12-01T10:00:00Z");
        let address = Failures {
            count: 20,
            oldest: Some(at("2026-12-01T09:59:00Z")),
        };
        assert_eq!(
            throttle(Failures::default(), address, now),
            Err(at("2026-12-01T10:14:00Z"))
        );
        let nineteen = Failures {
            count: 19,
            ..address
        };
        assert_eq!(throttle(Failures::default(), nineteen, now), Ok(()));
    }

    #[test]
    fn a_session_ends_when_idle_or_old() {
        let created = at("2026-12-01T00:00:00Z");
        assert_eq!(session_ends(created, created), at("2026-12-01T12:00:00Z"));
        assert_eq!(
            session_ends(created, at("2026-12-07T20:00:00Z")),
            at("2026-12-08T00:00:00Z")
        );
    }
}
