//! One person, one invitation (C8): a person who registered with Career Relay is never invited
//! again, and one who was invited is not invited again within the cooldown
//! (`HIRELAY_INVITATION_COOLDOWN_DAYS`), however many positions rejected them. A person is a
//! candidate, one per normalised address.

/// How a person gave their consent to promotional mail ("web form checkbox", "説明会で書面"),
/// as the integrator or admin who recorded it says: 1–200 characters of one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentMethod(String);

impl ConsentMethod {
    pub fn parse(raw: &str) -> Result<ConsentMethod, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("must not be empty: say how the consent was given (e.g. `application form checkbox`)".into());
        }
        if s.chars().count() > 200 {
            return Err("must be at most 200 characters".into());
        }
        if s.chars().any(char::is_control) {
            return Err("must be one line without control characters".into());
        }
        Ok(ConsentMethod(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for ConsentMethod {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ConsentMethod::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for ConsentMethod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A person's consent to receive a kind of promotional mail: when and how it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    /// Unix millis.
    pub given_at: i64,
    pub method: ConsentMethod,
}

/// What an invitation is sent on under 特定電子メール法 (Act on Specified Electronic Mail): the
/// recipient's consent, or the exemption that applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Basis {
    /// Art. 3(1)(i): the recipient consented beforehand, when and how recorded.
    Consent(Consent),
    /// Art. 3(1)(iii): the recipient is in a business relationship with the sender (here: an
    /// applicant to one of the company's positions, invited about that application).
    BusinessRelationship,
}

/// The stored name of [`Basis::Consent`].
const CONSENT: &str = "consent";
/// The stored name of [`Basis::BusinessRelationship`].
const BUSINESS_RELATIONSHIP: &str = "exemption:business_relationship";

impl Basis {
    /// C8: consent when the person gave it (recorded consent is the stronger basis and says
    /// when and how), otherwise the exemption for applicants.
    pub fn for_invitation(consent: Option<Consent>) -> Basis {
        consent.map_or(Basis::BusinessRelationship, Basis::Consent)
    }

    /// As stored and shown.
    pub fn as_str(&self) -> &'static str {
        match self {
            Basis::Consent(_) => CONSENT,
            Basis::BusinessRelationship => BUSINESS_RELATIONSHIP,
        }
    }

    /// The consent it rests on, if it does.
    pub fn consent(&self) -> Option<&Consent> {
        match self {
            Basis::Consent(c) => Some(c),
            Basis::BusinessRelationship => None,
        }
    }

    /// The sentence `GET /v1/invitations` shows.
    pub fn describe(stored: &str) -> &'static str {
        match stored {
            CONSENT => "the recipient consented beforehand (特定電子メール法 Art. 3(1)(i)); when and how: `consent`",
            BUSINESS_RELATIONSHIP => {
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

    #[test]
    fn c8_recorded_consent_is_the_basis_and_otherwise_the_applicant_exemption() {
        let consent = Consent {
            given_at: 5,
            method: ConsentMethod::parse(" web form checkbox ").unwrap(),
        };
        let basis = Basis::for_invitation(Some(consent.clone()));
        assert_eq!(basis.as_str(), "consent");
        assert_eq!(basis.consent(), Some(&consent));
        assert_eq!(consent.method.as_str(), "web form checkbox");
        assert!(Basis::describe(basis.as_str()).contains("Art. 3(1)(i)"));
        let exempt = Basis::for_invitation(None);
        assert_eq!(exempt.as_str(), "exemption:business_relationship");
        assert!(Basis::describe(exempt.as_str()).contains("Art. 3(1)(iii)"));
        assert!(ConsentMethod::parse("  ").is_err());
        assert!(ConsentMethod::parse("a\nb").is_err());
        assert!(ConsentMethod::parse(&"x".repeat(201)).is_err());
    }
}
