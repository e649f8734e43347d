//! API roles and who may use which part of the admin API.
//!
//! | role | may see and do |
//! |---|---|
//! | `admin` | everything |
//! | `viewer` | read applications (candidates as pseudonymous ids only, issue 16) and the KPIs |
//! | `marketer` | email templates (and, per the contract, the outbox); no application or candidate |
//! | `integrator` | outbound webhook subscriptions and their deliveries; no application or candidate |
//! | any role | its own notification subscription |
//!
//! Roles are not ordered: a marketer or an integrator is not a viewer, because those two are
//! often people outside the company (agencies, vendors) who must not read personal data.
//! Each endpoint names the set of roles it admits ([`grants`]); admin is in every set.
use serde::{Deserialize, Serialize};
use std::str::FromStr;

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
        assert_eq!("viewer".parse::<Role>(), Ok(Role::Viewer));
        assert!("root".parse::<Role>().is_err());
    }
}
