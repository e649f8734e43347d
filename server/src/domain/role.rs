//! API roles, ordered by what they may do.
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A token's role. `Admin` may do everything; `Marketer` edits templates; `Integrator` posts
/// webhooks and manages subscriptions; `Viewer` reads applications and KPIs.
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

    /// Whether a token of this role may use an endpoint that requires `needed`. Admin may use
    /// everything; every role may use what a viewer may.
    pub fn allows(self, needed: Role) -> bool {
        self == Role::Admin || self == needed || needed == Role::Viewer
    }
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

    #[test]
    fn roles_allow_what_the_contract_assigns() {
        assert!(Role::Admin.allows(Role::Marketer));
        assert!(Role::Marketer.allows(Role::Marketer));
        assert!(Role::Marketer.allows(Role::Viewer));
        assert!(!Role::Marketer.allows(Role::Admin));
        assert!(!Role::Viewer.allows(Role::Marketer));
        assert!(!Role::Integrator.allows(Role::Admin));
        assert_eq!("viewer".parse::<Role>(), Ok(Role::Viewer));
        assert!("root".parse::<Role>().is_err());
    }
}
