//! Names users give to scripts and templates: a newtype each, so a path can never be smuggled
//! in as a name.
use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a valid name: use 1–64 lower-case letters, digits and `_`, starting with a letter")]
pub struct NameError(pub String);

fn valid(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The Career Relay invitation's template: promotional mail, sent only by `invite()`.
pub const INVITATION_TEMPLATE: &str = "career_relay_invitation";

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, NameError> {
                if valid(s) { Ok(Self(s.to_owned())) } else { Err(NameError(s.to_owned())) }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// The name of a rule script (`import`, `status`, `career_relay`), without `.rhai`.
    ScriptName
);
name_type!(
    /// The name of an email template (`career_relay_invitation`, …).
    TemplateName
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_paths_and_odd_characters() {
        assert!(ScriptName::parse("import").is_ok());
        assert!(TemplateName::parse("group_link_approval").is_ok());
        for bad in ["", "../etc", "Import", "a.rhai", "1st", &"x".repeat(65)] {
            assert!(ScriptName::parse(bad).is_err(), "{bad}");
        }
    }
}
