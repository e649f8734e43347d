//! The kinds of mail hirelay sends, and who may refuse which (C8, 特定電子メール法): an opt-out
//! is kept per kind, and only promotional mail can be opted out of, so that refusing Career
//! Relay invitations never blocks a link approval or a notice someone asked for.
use std::fmt;

/// A kind of mail hirelay sends; each is one shipped template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// The Career Relay invitation to a rejected candidate: promotional (特定電子メール).
    CareerRelayInvitation,
    /// L4: the approval email to a group account's administrator.
    GroupLinkApproval,
    /// I5: a new BizReach application, to users who asked for it.
    BizreachApplicationNotice,
    /// The monthly Career Relay report, to its recipients.
    CareerRelayMonthlyReport,
}

impl MessageKind {
    pub const ALL: [MessageKind; 4] = [
        MessageKind::CareerRelayInvitation,
        MessageKind::GroupLinkApproval,
        MessageKind::BizreachApplicationNotice,
        MessageKind::CareerRelayMonthlyReport,
    ];

    /// As stored and shown: the template's name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::CareerRelayInvitation => "career_relay_invitation",
            MessageKind::GroupLinkApproval => "group_link_approval",
            MessageKind::BizreachApplicationNotice => "bizreach_application_notice",
            MessageKind::CareerRelayMonthlyReport => "career_relay_monthly_report",
        }
    }

    /// Whether it is promotional mail, which a recipient may refuse (and which then is never
    /// sent to them again). Transactional mail is not blocked by any opt-out.
    pub fn promotional(self) -> bool {
        matches!(self, MessageKind::CareerRelayInvitation)
    }

    /// The kinds a recipient may opt out of.
    pub fn refusable() -> impl Iterator<Item = MessageKind> {
        Self::ALL.into_iter().filter(|k| k.promotional())
    }

    /// A kind a recipient may opt out of, by name; the error says which names are.
    pub fn parse_refusable(s: &str) -> Result<MessageKind, String> {
        let names = || {
            Self::refusable()
                .map(|k| format!("`{}`", k.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match Self::ALL.into_iter().find(|k| k.as_str() == s) {
            Some(kind) if kind.promotional() => Ok(kind),
            Some(kind) => Err(format!(
                "`{}` is transactional mail, which no opt-out blocks; opt-outs are kept for {}",
                kind.as_str(),
                names()
            )),
            None => Err(format!(
                "`{s}` is no kind of mail hirelay sends; one of {}",
                names()
            )),
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an opt-out reached hirelay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptOutChannel {
    /// A mail client's RFC 8058 one-click POST to the `List-Unsubscribe` URL.
    OneClick,
    /// The button on the unsubscribe page the email's link opens.
    ConfirmationPage,
    /// An admin recorded it (`POST /v1/opt-outs`), e.g. after a refusal by mail or phone.
    Admin,
    /// Recorded before hirelay kept opt-outs per kind (a candidate's flag, moved into the
    /// opt-out table at start-up) and not audited with its channel.
    Legacy,
}

impl OptOutChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            OptOutChannel::OneClick => "one_click",
            OptOutChannel::ConfirmationPage => "confirmation_page",
            OptOutChannel::Admin => "admin",
            OptOutChannel::Legacy => "legacy",
        }
    }

    /// A channel by its stored name.
    pub fn parse(s: &str) -> Option<OptOutChannel> {
        [
            OptOutChannel::OneClick,
            OptOutChannel::ConfirmationPage,
            OptOutChannel::Admin,
            OptOutChannel::Legacy,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c8_only_promotional_mail_can_be_opted_out_of() {
        assert_eq!(
            MessageKind::parse_refusable("career_relay_invitation"),
            Ok(MessageKind::CareerRelayInvitation)
        );
        for transactional in [
            "group_link_approval",
            "bizreach_application_notice",
            "career_relay_monthly_report",
        ] {
            let refused = MessageKind::parse_refusable(transactional).unwrap_err();
            assert!(refused.contains("transactional"), "{refused}");
        }
        assert!(MessageKind::parse_refusable("newsletter")
            .unwrap_err()
            .contains("`career_relay_invitation`"));
        assert_eq!(
            OptOutChannel::parse("one_click"),
            Some(OptOutChannel::OneClick)
        );
        assert_eq!(OptOutChannel::parse("phone"), None);
    }
}
