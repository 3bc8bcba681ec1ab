//! The owner's Staff page (members, roles, API tokens) and each member's own account
//! (language, password, second factor).

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use lunas_core::accounts::Role;
use lunas_core::messages::Language;
use lunas_engine::accounts::{new_totp, totp_setup};
use minijinja::context;
use serde::Deserialize;

use super::i18n::language_options;
use super::pages::Query_;
use super::{Desk, FieldErrors, PageError, Posted, done, notice, reauthenticate, refusal, ser};
use crate::ApiError;

/// A new member: email, role and first password.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NewMemberForm {
    email: String,
    role: String,
    new_password: String,
}

/// The API tokens of one name, to revoke.
#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenForm {
    name: String,
}

/// A member's account turned off (`yes`) or on again.
#[derive(Deserialize, Default)]
#[serde(default)]
struct DisableForm {
    disabled: String,
}

/// The forms of My account: language, password change, second factor.
#[derive(Deserialize, Default)]
#[serde(default)]
struct AccountForm {
    language: String,
    password: String,
    new_password: String,
    secret: String,
    code: String,
}

async fn staff_view(
    desk: &Desk,
    status: StatusCode,
    errors: FieldErrors,
    values: BTreeMap<&str, &str>,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    desk.require_owner()?;
    let users = desk
        .state
        .engine
        .users()
        .await
        .map_err(PageError::from_engine)?;
    let tokens = desk
        .state
        .engine
        .api_tokens()
        .await
        .map_err(PageError::from_engine)?;
    let strings = desk.strings();
    let roles = [
        ("staff", strings.get("role_staff")),
        ("owner", strings.get("role_owner")),
    ];
    desk.page_with_status(
        status,
        "staff.html",
        "staff",
        context! {
            notice => notice,
            users => users.iter().map(|u| context! {
                id => u.id, email => u.email.as_str(), role => u.role.as_str(),
                totp => u.totp_enabled, disabled => u.disabled,
            }).collect::<Vec<_>>(),
            tokens => tokens.iter().enumerate().map(|(i, t)| context! {
                index => i, name => &t.name, created => desk.when(t.created_at), count => t.count,
            }).collect::<Vec<_>>(),
            roles => ser(roles), errors => ser(&errors), values => ser(&values),
        },
    )
}

pub(crate) async fn staff_page(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let notice = notice(desk.strings(), &query);
    staff_view(
        &desk,
        StatusCode::OK,
        FieldErrors::new(),
        BTreeMap::new(),
        notice,
    )
    .await
}

pub(crate) async fn add_staff(posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    desk.require_owner()?;
    let refuse = |field: &'static str, message: String| {
        staff_view(
            &desk,
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from([(field, message)]),
            form.values(),
            None,
        )
    };
    if let Some((field, message)) = reauthenticate(&desk, &form).await? {
        return refuse(field, message).await;
    }
    let typed: NewMemberForm = form.parse()?;
    let role = Role::parse(&typed.role).unwrap_or(Role::Staff);
    match desk
        .state
        .engine
        .add_user(&typed.email, role, typed.new_password, desk.actor())
        .await
    {
        Ok(_) => Ok(done("/staff", "staff_added")),
        Err(e) => {
            let (field, message) = refusal(desk.strings(), ApiError::from(e))?;
            let field = if field == "password" {
                "new_password"
            } else {
                field
            };
            refuse(field, message).await
        }
    }
}

/// An owner revokes the API tokens of one name (`/tokens/revoke`), with the password again.
pub(crate) async fn revoke_token(posted: Posted) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    desk.require_owner()?;
    let refuse = |message: String| {
        staff_view(
            &desk,
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from([("form", message)]),
            BTreeMap::new(),
            None,
        )
    };
    if let Some((_, message)) = reauthenticate(&desk, &form).await? {
        return refuse(message).await;
    }
    match desk
        .state
        .engine
        .revoke_api_token(&form.parse::<TokenForm>()?.name, desk.actor())
        .await
    {
        Ok(0) => Err(PageError::NotFound(desk.language())),
        Ok(_) => Ok(done("/staff", "token_revoked")),
        Err(e) => {
            let (_, message) = refusal(desk.strings(), ApiError::from(e))?;
            refuse(message).await
        }
    }
}

/// An owner's change to another account (`/staff/{id}/{action}`): `disable` (or enable, with
/// `disabled=no`) or `totp-off` (a member who lost the phone with the authenticator). Both need
/// the owner's password again.
pub(crate) async fn staff_action(
    Path((id, action)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    desk.require_owner()?;
    let id = id
        .parse::<i64>()
        .map_err(|_| PageError::NotFound(desk.language()))?;
    if !matches!(action.as_str(), "disable" | "totp-off") {
        return Err(PageError::NotFound(desk.language()));
    }
    let refuse = |field: &'static str, message: String| {
        staff_view(
            &desk,
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from([(field, message)]),
            BTreeMap::new(),
            None,
        )
    };
    if let Some((_, message)) = reauthenticate(&desk, &form).await? {
        return refuse("form", message).await;
    }
    let engine = &desk.state.engine;
    let result = match action.as_str() {
        "totp-off" => engine.reset_totp(id, desk.actor()).await,
        _ => {
            engine
                .set_user_disabled(
                    id,
                    form.parse::<DisableForm>()?.disabled == "yes",
                    desk.actor(),
                )
                .await
        }
    };
    match result {
        Ok(()) => Ok(done("/staff", "saved")),
        Err(e) => {
            let (_, message) = refusal(desk.strings(), ApiError::from(e))?;
            refuse("form", message).await
        }
    }
}

async fn account_view(
    desk: &Desk,
    status: StatusCode,
    errors: FieldErrors,
    setup: Option<lunas_engine::accounts::TotpSetup>,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    desk.page_with_status(
        status,
        "account.html",
        "account",
        context! {
            notice => notice,
            errors => ser(&errors),
            languages => ser(language_options(desk.strings())),
            totp_on => desk.member().totp_enabled,
            setup => setup.map(|s| context! { secret => s.secret, uri => s.uri }),
        },
    )
}

pub(crate) async fn account_page(desk: Desk, Query(query): Query_) -> Result<Response, PageError> {
    let notice = notice(desk.strings(), &query);
    account_view(&desk, StatusCode::OK, FieldErrors::new(), None, notice).await
}

pub(crate) async fn account_action(
    Path(action): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { desk, form } = posted;
    let typed: AccountForm = form.parse()?;
    let engine = &desk.state.engine;
    let member = desk.member().clone();
    let refuse = |e: lunas_engine::Error, setup| {
        let e = ApiError::from(e);
        let desk = &desk;
        async move {
            let (field, message) = refusal(desk.strings(), e)?;
            account_view(
                desk,
                StatusCode::UNPROCESSABLE_ENTITY,
                FieldErrors::from([(field, message)]),
                setup,
                None,
            )
            .await
        }
    };
    match action.as_str() {
        "language" => {
            let language = if typed.language == "en" {
                Language::English
            } else {
                Language::Indonesian
            };
            engine
                .set_language(&member, language)
                .await
                .map_err(PageError::from_engine)?;
            Ok(done("/account", "saved"))
        }
        "password" => {
            if let Err(e) = engine
                .reauthenticate(&desk.cookie, &member, typed.password.clone())
                .await
            {
                return refuse(e, None).await;
            }
            match engine
                .change_password(&desk.cookie, &member, typed.new_password.clone())
                .await
            {
                Ok(()) => Ok(done("/account", "saved")),
                Err(e) => {
                    let (_, message) = refusal(desk.strings(), ApiError::from(e))?;
                    account_view(
                        &desk,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        FieldErrors::from([("new_password", message)]),
                        None,
                        None,
                    )
                    .await
                }
            }
        }
        "totp-setup" => {
            let setup = new_totp(&member.email, &engine.settings().store_name);
            account_view(&desk, StatusCode::OK, FieldErrors::new(), Some(setup), None).await
        }
        "totp-on" => {
            let secret = typed.secret.clone();
            match engine
                .enable_totp(&member, secret.clone(), &typed.code)
                .await
            {
                Ok(()) => Ok(done("/account", "totp_on")),
                Err(e) => {
                    let setup = totp_setup(&member.email, &engine.settings().store_name, secret);
                    refuse(e, Some(setup)).await
                }
            }
        }
        "totp-off" => {
            if let Err(e) = engine
                .reauthenticate(&desk.cookie, &member, typed.password.clone())
                .await
            {
                return refuse(e, None).await;
            }
            engine
                .disable_totp(&member)
                .await
                .map_err(PageError::from_engine)?;
            Ok(done("/account", "totp_off"))
        }
        _ => Err(PageError::NotFound(desk.language())),
    }
}
