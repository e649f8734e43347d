//! One person, one invitation (C8): a person who registered with Career Relay is never invited
//! again, and one who was invited is not invited again within the cooldown
//! (`HIRELAY_INVITATION_COOLDOWN_DAYS`), however many positions rejected them. A person is a
//! candidate, one per normalised address.

/// What an invitation is sent on under 特定電子メール法 (Act on Specified Electronic Mail): the
/// recipient's consent, or the exemption that applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// Art. 3(1)(iii): the recipient is in a business relationship with the sender (here: an
    /// applicant to one of the company's positions, invited about that application).
    BusinessRelationship,
}

impl Basis {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::BusinessRelationship => "exemption:business_relationship",
        }
    }

    /// The sentence `GET /v1/invitations` shows.
    pub fn describe(stored: &str) -> &'static str {
        match stored {
            "exemption:business_relationship" => {
                "exempt from prior consent (特定電子メール法 Art. 3(1)(iii)): the recipient applied to the company's position"
            }
            _ => "not recorded (the invitation was made before hirelay recorded a basis)",
        }
    }
}

/// Milliseconds in a day.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What hirelay knows of the invitations one person has had.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PastInvitations {
    /// When the latest one is (or was) sent, unix millis.
    pub latest_send_at: Option<i64>,
    /// Whether they registered through any of them.
    pub registered: bool,
}

/// Why a person gets no new invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotAgain {
    /// They registered with Career Relay already.
    Registered,
    /// They were invited within the cooldown; the latest invitation's send time.
    Recent { latest_send_at: i64 },
}

impl std::fmt::Display for NotAgain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotAgain::Registered => f.write_str("registered already"),
            NotAgain::Recent { .. } => f.write_str("invited within the cooldown"),
        }
    }
}

impl PastInvitations {
    /// Whether an invitation sent at `send_at` may go to this person.
    pub fn allow(&self, send_at: i64, cooldown_days: u32) -> Result<(), NotAgain> {
        if self.registered {
            return Err(NotAgain::Registered);
        }
        match self.latest_send_at {
            Some(latest) if send_at - latest < i64::from(cooldown_days) * DAY_MS => {
                Err(NotAgain::Recent {
                    latest_send_at: latest,
                })
            }
            _ => Ok(()),
        }
    }

    /// The same, with one more invitation sent at `send_at`.
    pub fn with_invitation(self, send_at: i64) -> PastInvitations {
        PastInvitations {
            latest_send_at: Some(self.latest_send_at.map_or(send_at, |l| l.max(send_at))),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c8_one_invitation_per_person_within_the_cooldown_and_none_after_registering() {
        let none = PastInvitations::default();
        assert_eq!(none.allow(0, 365), Ok(()));
        let invited = none.with_invitation(10 * DAY_MS);
        // Three rejections the same morning: the first invites, the others do not.
        assert_eq!(
            invited.allow(10 * DAY_MS, 365),
            Err(NotAgain::Recent {
                latest_send_at: 10 * DAY_MS
            })
        );
        assert!(invited.allow(374 * DAY_MS, 365).is_err());
        assert_eq!(invited.allow(375 * DAY_MS, 365), Ok(()));
        assert_eq!(invited.allow(11 * DAY_MS, 0), Ok(()));
        let registered = PastInvitations {
            registered: true,
            ..invited
        };
        assert_eq!(
            registered.allow(5000 * DAY_MS, 365),
            Err(NotAgain::Registered)
        );
    }
}
