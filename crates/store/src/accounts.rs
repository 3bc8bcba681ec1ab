//! Staff accounts, their sessions, failed sign-ins (for the throttle) and the audit log, written
//! once for both backends. Password hashes and session ids are made in `engine`; here they are
//! only kept: a session row is found by the SHA-256 of its cookie value.

use lunas_core::accounts::{
    AuditLine, Credentials, Email, EmailTaken, Failures, Role, Session, SignedIn, StaffMember,
    THROTTLE_WINDOW,
};
use lunas_core::messages::Language;
use lunas_core::{Actor, AuditAction, Timestamp};

use crate::repo::{audit_line, millis, timestamp};
use crate::sql::{Db, DbResult, Row, corrupt, params};
use crate::{Store, StoreError};

fn read_member(row: &Row<'_>, first: usize) -> DbResult<StaffMember> {
    let role = row.text(first + 2)?;
    let language = row.text(first + 3)?;
    Ok(StaffMember {
        id: row.int(first)?,
        email: Email::from_stored(row.text(first + 1)?),
        role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
        language: match language.as_str() {
            "en" => Language::English,
            _ => Language::Indonesian,
        },
        totp_enabled: row.opt_text(first + 4)?.is_some(),
        disabled: row.boolean(first + 5)?,
        created_at: timestamp(row.int(first + 6)?)?,
    })
}

fn language_code(language: Language) -> &'static str {
    match language {
        Language::Indonesian => "id",
        Language::English => "en",
    }
}

/// A key's failed (and reserved, not yet forgiven) sign-ins within the throttle window.
pub(crate) fn failures(db: &mut dyn Db, key: &str, now: Timestamp) -> DbResult<Failures> {
    let since = millis(now - THROTTLE_WINDOW);
    db.row(
        "SELECT COUNT(*), MIN(at) FROM login_failures WHERE key = ?1 AND at > ?2",
        params![key, since],
        |row| {
            Ok(Failures {
                count: u32::try_from(row.int(0)?).unwrap_or(u32::MAX),
                oldest: row.opt_int(1)?.map(timestamp).transpose()?,
            })
        },
    )
    .map(Option::unwrap_or_default)
}

/// On PostgreSQL, the key's advisory lock for the rest of the transaction, so that counting its
/// failures and reserving an attempt are one step for concurrent sign-ins (on SQLite the single
/// writer already runs them one after another).
pub(crate) fn lock_throttle_key(db: &mut dyn Db, key: &str) -> DbResult<()> {
    db.row(
        db.pick(
            "SELECT length(?1)",
            "SELECT CAST(1 AS BIGINT) FROM (SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))) AS locked",
        ),
        params![key],
        |row| row.int(0),
    )?;
    Ok(())
}

/// Writes an attempt down as a failure of `key` until it is forgiven; its row id.
pub(crate) fn reserve_attempt(db: &mut dyn Db, key: &str, now: Timestamp) -> DbResult<Option<i64>> {
    db.row(
        "INSERT INTO login_failures (key, at) VALUES (?1, ?2) RETURNING id",
        params![key, millis(now)],
        |row| row.int(0),
    )
}

fn forgive(db: &mut dyn Db, ids: &[i64]) -> DbResult<()> {
    for id in ids {
        db.execute("DELETE FROM login_failures WHERE id = ?1", params![*id])?;
    }
    Ok(())
}

impl Store {
    /// Creates a staff account; the audit log records who created it.
    pub async fn create_user(
        &self,
        email: Email,
        role: Role,
        password_hash: String,
        actor: Actor,
        now: Timestamp,
    ) -> Result<Result<StaffMember, EmailTaken>, StoreError> {
        self.write(move |db| {
            let id = db.row(
                "INSERT INTO users (email, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (email) DO NOTHING RETURNING id",
                params![email.as_str(), role.as_str(), &password_hash, millis(now)],
                |row| row.int(0),
            )?;
            let Some(id) = id else {
                return Ok(Err(EmailTaken));
            };
            audit_line(
                db,
                actor.as_str(),
                AuditAction::StaffAdd,
                email.as_str(),
                &serde_json::json!({ "role": role.as_str() }),
                now,
            )?;
            Ok(Ok(StaffMember {
                id,
                email: email.clone(),
                role,
                language: Language::Indonesian,
                totp_enabled: false,
                disabled: false,
                created_at: now,
            }))
        })
        .await
    }

    /// How many accounts there are (none: the first run).
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        self.read(|db| db.scalar("SELECT COUNT(*) FROM users", &[]))
            .await
    }

    pub async fn users(&self) -> Result<Vec<StaffMember>, StoreError> {
        self.read(|db| {
            db.rows(
                "SELECT id, email, role, language, totp_secret, disabled, created_at FROM users ORDER BY id",
                &[],
                |row| read_member(row, 0),
            )
        })
        .await
    }

    /// What signing in as `email` checks, if there is such an account.
    pub async fn credentials(&self, email: Email) -> Result<Option<Credentials>, StoreError> {
        self.read(move |db| credentials(db, Account::Email(email.as_str())))
            .await
    }

    pub async fn credentials_of(&self, id: i64) -> Result<Option<Credentials>, StoreError> {
        self.read(move |db| credentials(db, Account::Id(id))).await
    }

    /// Forgives reserved attempts that did not fail (a right password waiting for its second
    /// factor).
    pub async fn forgive_sign_in(&self, ids: Vec<i64>) -> Result<(), StoreError> {
        self.write_always(move |db| forgive(db, &ids)).await
    }

    /// Records that a reserved attempt failed: its reservation stays as the failure; the audit
    /// log says so as `action` by `actor`, and failures older than the throttle window are
    /// forgotten.
    pub async fn record_login_failure(
        &self,
        actor: String,
        action: AuditAction,
        email: String,
        why: &'static str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_always(move |db| {
            db.execute(
                "DELETE FROM login_failures WHERE at <= ?1",
                params![millis(now - THROTTLE_WINDOW)],
            )?;
            audit_line(
                db,
                &actor,
                action,
                &email,
                &serde_json::json!({ "why": why }),
                now,
            )
        })
        .await
    }

    /// Starts a session for a member who just signed in: forgets the account's failures (and
    /// the attempt's reservations) and records the sign-in.
    pub async fn create_session(
        &self,
        id_hash: String,
        csrf: String,
        member: StaffMember,
        signed_in: SignedIn,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let SignedIn {
            account_key,
            reserved,
            address,
        } = signed_in;
        self.write_always(move |db| {
            forgive(db, &reserved)?;
            db.execute(
                "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen, reauth_at)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?4)",
                params![&id_hash, member.id, &csrf, millis(now)],
            )?;
            db.execute(
                "DELETE FROM login_failures WHERE key = ?1",
                params![&account_key],
            )?;
            audit_line(
                db,
                &format!("staff:{}", member.email.as_str()),
                AuditAction::Login,
                member.email.as_str(),
                &serde_json::json!({ "address": address }),
                now,
            )
        })
        .await
    }

    /// The session with this id hash and whose it is (even if it has ended: the caller decides).
    pub async fn session(&self, id_hash: String) -> Result<Option<Session>, StoreError> {
        self.read(move |db| {
            db.row(
                "SELECT s.csrf, s.created_at, s.last_seen, s.reauth_at,
                        u.id, u.email, u.role, u.language, u.totp_secret, u.disabled, u.created_at
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?1",
                params![&id_hash],
                |row| {
                    Ok(Session {
                        csrf: row.text(0)?,
                        created_at: timestamp(row.int(1)?)?,
                        last_seen: timestamp(row.int(2)?)?,
                        reauth_at: timestamp(row.int(3)?)?,
                        member: read_member(row, 4)?,
                    })
                },
            )
        })
        .await
    }

    /// Moves a session's last request (and, after the password was typed again, its
    /// re-authentication) forward.
    pub async fn touch_session(
        &self,
        id_hash: String,
        now: Timestamp,
        reauthenticated: bool,
    ) -> Result<(), StoreError> {
        self.write_always(move |db| {
            if reauthenticated {
                db.execute(
                    "UPDATE sessions SET last_seen = ?2, reauth_at = ?2 WHERE id_hash = ?1",
                    params![&id_hash, millis(now)],
                )?;
            } else {
                db.execute(
                    "UPDATE sessions SET last_seen = ?2 WHERE id_hash = ?1",
                    params![&id_hash, millis(now)],
                )?;
            }
            Ok(())
        })
        .await
    }

    /// Ends a session (sign-out, or one found expired).
    pub async fn delete_session(&self, id_hash: String) -> Result<(), StoreError> {
        self.write_always(move |db| {
            db.execute("DELETE FROM sessions WHERE id_hash = ?1", params![&id_hash])?;
            Ok(())
        })
        .await
    }

    /// Turns the second factor on (with its secret) or off; records it in the audit log.
    pub async fn set_totp(
        &self,
        id: i64,
        secret: Option<String>,
        actor: Actor,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_always(move |db| {
            db.execute(
                "UPDATE users SET totp_secret = ?2, totp_step = NULL WHERE id = ?1",
                params![id, secret.as_deref()],
            )?;
            let email = member_email(db, id)?;
            audit_line(
                db,
                actor.as_str(),
                if secret.is_some() {
                    AuditAction::TotpOn
                } else {
                    AuditAction::TotpOff
                },
                &email,
                &serde_json::json!({}),
                now,
            )
        })
        .await
    }

    /// Records that the code of TOTP step `step` was used to sign in; false (and nothing
    /// changes) when that step or a later one was used already: a code works once.
    pub async fn use_totp_step(&self, id: i64, step: i64) -> Result<bool, StoreError> {
        self.write_always(move |db| {
            Ok(db.execute(
                "UPDATE users SET totp_step = ?2 WHERE id = ?1 AND (totp_step IS NULL OR totp_step < ?2)",
                params![id, step],
            )? == 1)
        })
        .await
    }

    pub async fn set_language(&self, id: i64, language: Language) -> Result<(), StoreError> {
        self.write_always(move |db| {
            db.execute(
                "UPDATE users SET language = ?2 WHERE id = ?1",
                params![id, language_code(language)],
            )?;
            Ok(())
        })
        .await
    }

    /// Changes a password and ends every other session of the account.
    pub async fn set_password(
        &self,
        id: i64,
        password_hash: String,
        keep_session: Option<String>,
        actor: Actor,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_always(move |db| {
            db.execute(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                params![id, &password_hash],
            )?;
            db.execute(
                "DELETE FROM sessions WHERE user_id = ?1 AND id_hash <> ?2",
                params![id, keep_session.as_deref().unwrap_or("")],
            )?;
            let email = member_email(db, id)?;
            audit_line(
                db,
                actor.as_str(),
                AuditAction::PasswordChange,
                &email,
                &serde_json::json!({}),
                now,
            )
        })
        .await
    }

    /// Disables (ending every session) or enables an account. The last enabled owner cannot be
    /// disabled: `Ok(false)` then, and nothing changes.
    pub async fn set_disabled(
        &self,
        id: i64,
        disabled: bool,
        actor: Actor,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write_always(move |db| {
            if disabled {
                let other_owners = db.scalar(
                    "SELECT COUNT(*) FROM users WHERE role = 'owner' AND NOT disabled AND id <> ?1",
                    params![id],
                )?;
                let is_owner = db.scalar(
                    "SELECT COUNT(*) FROM users WHERE role = 'owner' AND id = ?1",
                    params![id],
                )? > 0;
                if is_owner && other_owners == 0 {
                    return Ok(false);
                }
                db.execute("DELETE FROM sessions WHERE user_id = ?1", params![id])?;
            }
            db.execute(
                "UPDATE users SET disabled = ?2 WHERE id = ?1",
                params![id, disabled],
            )?;
            let email = member_email(db, id)?;
            audit_line(
                db,
                actor.as_str(),
                if disabled {
                    AuditAction::StaffDisable
                } else {
                    AuditAction::StaffEnable
                },
                &email,
                &serde_json::json!({}),
                now,
            )?;
            Ok(true)
        })
        .await
    }

    /// Writes one line of the audit log.
    pub async fn audit(
        &self,
        actor: Actor,
        action: AuditAction,
        subject: String,
        detail: serde_json::Value,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_always(move |db| audit_line(db, actor.as_str(), action, &subject, &detail, now))
            .await
    }

    /// The audit log, newest first, before the line `before` (all when `None`).
    pub async fn audit_log(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditLine>, StoreError> {
        self.read(move |db| {
            db.rows(
                "SELECT id, at, actor, action, subject, detail FROM audit_log
                 WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
                params![before.unwrap_or(i64::MAX), limit as i64],
                |row| {
                    let detail = row.text(5)?;
                    Ok(AuditLine {
                        id: row.int(0)?,
                        at: timestamp(row.int(1)?)?,
                        actor: row.text(2)?,
                        action: row.text(3)?,
                        subject: row.text(4)?,
                        detail: serde_json::from_str(&detail)
                            .map_err(|_| corrupt("audit detail", &detail))?,
                    })
                },
            )
        })
        .await
    }
}

fn member_email(db: &mut dyn Db, id: i64) -> DbResult<String> {
    Ok(db
        .row(
            "SELECT email FROM users WHERE id = ?1",
            params![id],
            |row| row.text(0),
        )?
        .unwrap_or_default())
}

/// Who signs in by email or (re-authenticating in a session) by id.
enum Account<'a> {
    Email(&'a str),
    Id(i64),
}

fn credentials(db: &mut dyn Db, account: Account<'_>) -> DbResult<Option<Credentials>> {
    let read = |row: &Row<'_>| {
        Ok(Credentials {
            member: read_member(row, 0)?,
            password_hash: row.text(7)?,
            totp_secret: row.opt_text(4)?,
        })
    };
    match account {
        Account::Email(email) => db.row(
            "SELECT id, email, role, language, totp_secret, disabled, created_at, password_hash
             FROM users WHERE email = ?1",
            params![email],
            read,
        ),
        Account::Id(id) => db.row(
            "SELECT id, email, role, language, totp_secret, disabled, created_at, password_hash
             FROM users WHERE id = ?1",
            params![id],
            read,
        ),
    }
}
