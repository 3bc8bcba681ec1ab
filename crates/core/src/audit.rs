//! What the audit log records: one enum of actions, each with the one string it is stored as.
//! A new action is a new variant, so every place that names or shows actions is checked by the
//! compiler.

/// An action in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    Login,
    LoginFailed,
    Logout,
    ReauthFailed,
    PasswordChange,
    TotpOn,
    TotpOff,
    StaffAdd,
    StaffDisable,
    StaffEnable,
    SettingsUpdate,
    WebhookAdd,
    WebhookDelete,
    TokenRevoke,
    CustomerBand,
    CustomerNotes,
    CustomerErase,
    OrderAcceptShort,
}

impl AuditAction {
    pub const ALL: [AuditAction; 18] = [
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::ReauthFailed,
        AuditAction::PasswordChange,
        AuditAction::TotpOn,
        AuditAction::TotpOff,
        AuditAction::StaffAdd,
        AuditAction::StaffDisable,
        AuditAction::StaffEnable,
        AuditAction::SettingsUpdate,
        AuditAction::WebhookAdd,
        AuditAction::WebhookDelete,
        AuditAction::TokenRevoke,
        AuditAction::CustomerBand,
        AuditAction::CustomerNotes,
        AuditAction::CustomerErase,
        AuditAction::OrderAcceptShort,
    ];

    /// How it is stored (and read back by `parse`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Login => "auth.login",
            AuditAction::LoginFailed => "auth.login_failed",
            AuditAction::Logout => "auth.logout",
            AuditAction::ReauthFailed => "auth.reauth_failed",
            AuditAction::PasswordChange => "auth.password",
            AuditAction::TotpOn => "auth.totp_on",
            AuditAction::TotpOff => "auth.totp_off",
            AuditAction::StaffAdd => "staff.add",
            AuditAction::StaffDisable => "staff.disable",
            AuditAction::StaffEnable => "staff.enable",
            AuditAction::SettingsUpdate => "settings.update",
            AuditAction::WebhookAdd => "webhook.add",
            AuditAction::WebhookDelete => "webhook.delete",
            AuditAction::TokenRevoke => "token.revoke",
            AuditAction::CustomerBand => "customer.band",
            AuditAction::CustomerNotes => "customer.notes",
            AuditAction::CustomerErase => "customer.erase",
            AuditAction::OrderAcceptShort => "order.accept_short",
        }
    }

    pub fn parse(raw: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_what_it_is_stored_as() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(action));
        }
        let stored: std::collections::HashSet<_> =
            AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            stored.len(),
            AuditAction::ALL.len(),
            "no two share a string"
        );
        assert_eq!(AuditAction::parse("auth.unknown"), None);
    }
}
