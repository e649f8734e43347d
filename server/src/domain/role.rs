//! API roles and who may use which part of the admin API.
//!
//! | role | may see and do |
//! |---|---|
//! | `admin` | everything |
//! | `viewer` | read applications (candidates as pseudonymous ids only, issue 16) and the KPIs |
//! | `marketer` | email templates (and, per the contract, the outbox); no application or candidate |
//! | `integrator` | outbound webhook subscriptions and their deliveries, and the events of its own webhook source (read, replay); no application or candidate |
//! | any role | its own notification subscription |
//!
//! Roles are not ordered: a marketer or an integrator is not a viewer, because those two are
//! often people outside the company (agencies, vendors) who must not read personal data.
//! Each endpoint names the set of roles it admits ([`grants`]); admin is in every set.
//!
//! An integrator token may be bound to one webhook source ([`integrator_source`]); what it then
//! reaches of the events and the outbound webhooks is its [`Scope`].
use serde::{Deserialize, Serialize};
use std::str::FromStr;

use super::status::EventSource;

/// A token's role; what each may do is in the [module's table](self) and in [`grants`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Integrator,
    Marketer,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Integrator, Role::Marketer, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Integrator => "integrator",
            Role::Marketer => "marketer",
            Role::Viewer => "viewer",
        }
    }

    /// Whether a token of this role is one of `granted` (one of the sets of [`grants`]).
    pub fn is_in(self, granted: &[Role]) -> bool {
        granted.contains(&self)
    }
}

/// The roles admitted to each part of the admin API: the one table endpoints take their
/// role check from (through `http::auth`'s markers).
pub mod grants {
    use super::Role;

    /// Linking, imports, routing, rules, events, jobs, invitations, candidates, audit log.
    pub const ADMINISTRATION: &[Role] = &[Role::Admin];
    /// Applications and the KPIs, read only (a viewer sees candidates as pseudonymous ids).
    pub const APPLICATIONS_AND_KPIS: &[Role] = &[Role::Admin, Role::Viewer];
    /// Email templates (and, per the contract, the outbox: addresses by domain only).
    pub const TEMPLATES: &[Role] = &[Role::Admin, Role::Marketer];
    /// Outbound webhook subscriptions and their deliveries.
    pub const OUTBOUND_WEBHOOKS: &[Role] = &[Role::Admin, Role::Integrator];
    /// Received events, read and replayed: an integrator only its own source's ([`super::Scope`]).
    pub const EVENTS: &[Role] = &[Role::Admin, Role::Integrator];
    /// The calling token's own notification subscription.
    pub const OWN_NOTIFICATIONS: &[Role] = &Role::ALL;
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role `{s}`: one of admin, integrator, marketer, viewer")
            })
    }
}

/// The sources an integrator token can be bound to: those whose webhooks hirelay receives.
pub const INTEGRATOR_SOURCES: [EventSource; 3] = [
    EventSource::Ats,
    EventSource::Bizreach,
    EventSource::CareerRelay,
];

/// Parses the webhook source an integrator token is bound to (`ats`, `bizreach` or
/// `career_relay`; never `hirelay`, whose records are hirelay's own).
pub fn integrator_source(s: &str) -> Result<EventSource, String> {
    EventSource::parse(s)
        .ok()
        .filter(|source| INTEGRATOR_SOURCES.contains(source))
        .ok_or_else(|| format!("unknown source `{s}`: one of ats, bizreach, career_relay"))
}

/// The source a new token of `role` is bound to: `source` parsed, for an integrator; an error
/// for any other role given one (only an integrator posts webhooks).
pub fn token_source(role: Role, source: Option<&str>) -> Result<Option<EventSource>, String> {
    match (role, source) {
        (_, None) => Ok(None),
        (Role::Integrator, Some(s)) => integrator_source(s).map(Some),
        (other, Some(_)) => Err(format!(
            "only an integrator token is bound to a source; a {} token is not",
            other.as_str()
        )),
    }
}

/// What of the received events and the outbound webhooks a caller reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// An admin: every event, subscription and delivery.
    All,
    /// An integrator token bound to a source: that source's events, and the subscriptions
    /// (with their deliveries) that tokens bound to the same source made. A replacement token
    /// for the same source sees what the one it replaces made.
    Source(EventSource),
    /// An integrator token bound to no source (made without one, or before tokens had one):
    /// the subscriptions no source owns, as before, and no event.
    Unbound,
}

impl Scope {
    /// The scope of a caller of `role`, bound to `source` if it is an integrator's.
    pub fn of(role: Role, source: Option<EventSource>) -> Scope {
        match (role, source) {
            (Role::Admin, _) => Scope::All,
            (Role::Integrator, Some(source)) => Scope::Source(source),
            _ => Scope::Unbound,
        }
    }

    /// The source a subscription made in this scope belongs to (`None`: no source owns it).
    pub fn owner(self) -> Option<EventSource> {
        match self {
            Scope::Source(source) => Some(source),
            Scope::All | Scope::Unbound => None,
        }
    }

    /// Whether an event of `source` is in this scope.
    pub fn sees_event(self, source: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Source(own) => own.as_str() == source,
            Scope::Unbound => false,
        }
    }

    /// Whether a subscription owned by `owner` (its `owner_source`) is in this scope.
    pub fn sees_subscription(self, owner: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::Source(own) => owner == Some(own.as_str()),
            Scope::Unbound => owner.is_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18 (M2): only admin and viewer read applications; each other role has its own
    /// part; admin has every part.
    #[test]
    fn roles_allow_what_the_contract_assigns() {
        use grants::*;
        for part in [
            ADMINISTRATION,
            APPLICATIONS_AND_KPIS,
            TEMPLATES,
            OUTBOUND_WEBHOOKS,
            OWN_NOTIFICATIONS,
        ] {
            assert!(Role::Admin.is_in(part));
        }
        assert!(Role::Viewer.is_in(APPLICATIONS_AND_KPIS));
        assert!(!Role::Marketer.is_in(APPLICATIONS_AND_KPIS));
        assert!(!Role::Integrator.is_in(APPLICATIONS_AND_KPIS));
        assert!(Role::Marketer.is_in(TEMPLATES));
        assert!(!Role::Viewer.is_in(TEMPLATES));
        assert!(!Role::Integrator.is_in(TEMPLATES));
        assert!(Role::Integrator.is_in(OUTBOUND_WEBHOOKS));
        assert!(!Role::Viewer.is_in(OUTBOUND_WEBHOOKS));
        assert!(!Role::Marketer.is_in(OUTBOUND_WEBHOOKS));
        for role in Role::ALL {
            assert!(role.is_in(OWN_NOTIFICATIONS));
            assert_eq!(role.is_in(ADMINISTRATION), role == Role::Admin);
        }
        assert!(Role::Integrator.is_in(EVENTS));
        assert!(!Role::Viewer.is_in(EVENTS) && !Role::Marketer.is_in(EVENTS));
        assert_eq!("viewer".parse::<Role>(), Ok(Role::Viewer));
        assert!("root".parse::<Role>().is_err());
    }

    /// Issue 15: an integrator bound to a source reaches that source's events and the
    /// subscriptions its source owns, nothing else; one bound to none reaches the unowned
    /// subscriptions and no event; an admin everything.
    #[test]
    fn issue15_an_integrators_scope_is_its_source() {
        let ats = Scope::of(Role::Integrator, Some(EventSource::Ats));
        assert_eq!(ats, Scope::Source(EventSource::Ats));
        assert!(ats.sees_event("ats"));
        assert!(!ats.sees_event("bizreach") && !ats.sees_event("hirelay"));
        assert!(ats.sees_subscription(Some("ats")));
        assert!(!ats.sees_subscription(Some("career_relay")) && !ats.sees_subscription(None));
        assert_eq!(ats.owner(), Some(EventSource::Ats));

        let unbound = Scope::of(Role::Integrator, None);
        assert_eq!(unbound, Scope::Unbound);
        assert!(!unbound.sees_event("ats"));
        assert!(unbound.sees_subscription(None) && !unbound.sees_subscription(Some("ats")));
        assert_eq!(unbound.owner(), None);

        let admin = Scope::of(Role::Admin, None);
        assert!(admin.sees_event("bizreach") && admin.sees_subscription(Some("ats")));
        assert_eq!(admin.owner(), None);

        assert_eq!(
            integrator_source("career_relay"),
            Ok(EventSource::CareerRelay)
        );
        assert!(integrator_source("hirelay").is_err());
        assert!(integrator_source("ATS").is_err());
        assert_eq!(
            token_source(Role::Integrator, Some("ats")),
            Ok(Some(EventSource::Ats))
        );
        assert_eq!(token_source(Role::Integrator, None), Ok(None));
        assert!(token_source(Role::Viewer, Some("ats")).is_err());
    }
}
