//! L3: the link state of a BizReach group account and the moves allowed between states.
//!
//! ```text
//! unlinked ──request──▶ pending_approval ──approve──▶ linked ◀──resume── suspended
//!                        │  ▲ request (resend)          └────suspend──────▶
//!                        └──┘
//! ```
use std::fmt;

/// A group account's link state (未連携, 承認待ち, 連携済み, 連携停止).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkState {
    Unlinked,
    PendingApproval,
    Linked,
    Suspended,
}

/// What an admin (or the group's administrator, for `Approve`) asks of a group account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkAction {
    /// Ask the group's administrator to approve (L4); asking again resends.
    RequestLink,
    /// The administrator clicked "有効にする" in the approval email.
    Approve,
    /// Stop importing for a linked group.
    Suspend,
    /// Import again after a suspension.
    Resume,
}

/// A move the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a group account that is {from} ({from_ja}); {hint}")]
pub struct LinkTransitionError {
    pub from: &'static str,
    pub from_ja: &'static str,
    pub action: &'static str,
    pub hint: &'static str,
}

impl LinkState {
    pub const ALL: [LinkState; 4] = [
        LinkState::Unlinked,
        LinkState::PendingApproval,
        LinkState::Linked,
        LinkState::Suspended,
    ];

    /// The wire and stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Unlinked => "unlinked",
            LinkState::PendingApproval => "pending_approval",
            LinkState::Linked => "linked",
            LinkState::Suspended => "suspended",
        }
    }

    /// The name the seed document uses.
    pub fn japanese(self) -> &'static str {
        match self {
            LinkState::Unlinked => "未連携",
            LinkState::PendingApproval => "承認待ち",
            LinkState::Linked => "連携済み",
            LinkState::Suspended => "連携停止",
        }
    }

    pub fn parse(s: &str) -> Result<LinkState, String> {
        LinkState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| {
                format!("unknown link state `{s}`; allowed: unlinked, pending_approval, linked, suspended")
            })
    }

    /// The state `action` leads to, or why it is not allowed from here.
    pub fn apply(self, action: LinkAction) -> Result<LinkState, LinkTransitionError> {
        use LinkAction::*;
        use LinkState::*;
        match (self, action) {
            (Unlinked | PendingApproval, RequestLink) => Ok(PendingApproval),
            (PendingApproval, Approve) => Ok(Linked),
            (Linked, Suspend) => Ok(Suspended),
            (Suspended, Resume) => Ok(Linked),
            (from, action) => Err(LinkTransitionError {
                from: from.as_str(),
                from_ja: from.japanese(),
                action: action.verb(),
                hint: match (from, action) {
                    (Linked, RequestLink | Approve | Resume) => "it is already linked",
                    (Suspended, RequestLink) => "resume it instead",
                    (Unlinked, _) => "request a link first",
                    (PendingApproval, _) => "wait for the group administrator to approve the link",
                    (Suspended, _) => "resume it first",
                    _ => "see the allowed moves in the documentation",
                },
            }),
        }
    }
}

impl LinkAction {
    fn verb(self) -> &'static str {
        match self {
            LinkAction::RequestLink => "request a link for",
            LinkAction::Approve => "approve a link for",
            LinkAction::Suspend => "suspend",
            LinkAction::Resume => "resume",
        }
    }
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::LinkAction::*;
    use super::LinkState::*;
    use super::*;

    #[test]
    fn l3_allowed_moves() {
        assert_eq!(Unlinked.apply(RequestLink), Ok(PendingApproval));
        assert_eq!(PendingApproval.apply(RequestLink), Ok(PendingApproval));
        assert_eq!(PendingApproval.apply(Approve), Ok(Linked));
        assert_eq!(Linked.apply(Suspend), Ok(Suspended));
        assert_eq!(Suspended.apply(Resume), Ok(Linked));
    }

    #[test]
    fn l3_every_other_move_is_refused_naming_the_state() {
        let allowed = [
            (Unlinked, RequestLink),
            (PendingApproval, RequestLink),
            (PendingApproval, Approve),
            (Linked, Suspend),
            (Suspended, Resume),
        ];
        for from in LinkState::ALL {
            for action in [RequestLink, Approve, Suspend, Resume] {
                if allowed.contains(&(from, action)) {
                    continue;
                }
                let err = from.apply(action).unwrap_err();
                assert!(err.to_string().contains(from.as_str()), "{err}");
            }
        }
    }

    #[test]
    fn l4_approval_needs_a_pending_request() {
        assert!(Unlinked.apply(Approve).is_err());
        assert!(Suspended.apply(Approve).is_err());
        assert!(Linked.apply(Approve).is_err());
    }

    #[test]
    fn states_round_trip() {
        for s in LinkState::ALL {
            assert_eq!(LinkState::parse(s.as_str()), Ok(s));
        }
        assert!(LinkState::parse("approved").is_err());
    }
}
