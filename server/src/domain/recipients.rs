//! Who a template test-send may go to (M5): named addresses and whole domains, so a marketer's
//! test reaches colleagues and never an arbitrary outside address from the company's sender.
use std::fmt;
use std::str::FromStr;

use super::email::Email;

/// Addresses (`hr@example.co.jp`) and domains (`@example.co.jp`) allowed as test recipients.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecipientAllowList {
    addresses: Vec<Email>,
    domains: Vec<String>,
}

impl RecipientAllowList {
    /// Only `domain`'s addresses.
    pub fn domain(domain: &str) -> RecipientAllowList {
        RecipientAllowList {
            addresses: Vec::new(),
            domains: vec![domain.trim().trim_start_matches('@').to_lowercase()],
        }
    }

    /// Whether a test-send may go to `to`.
    pub fn allows(&self, to: &Email) -> bool {
        self.addresses.contains(to) || self.domains.iter().any(|d| d == to.domain())
    }
}

impl fmt::Display for RecipientAllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self
            .addresses
            .iter()
            .map(ToString::to_string)
            .chain(self.domains.iter().map(|d| format!("@{d}")))
            .collect();
        f.write_str(&items.join(" "))
    }
}

impl FromStr for RecipientAllowList {
    type Err = String;

    /// Space- or comma-separated addresses and `@domain`s.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut list = RecipientAllowList::default();
        for item in s.split([' ', ',']).filter(|i| !i.is_empty()) {
            match item.strip_prefix('@') {
                Some(domain) => {
                    Email::parse(&format!("x@{domain}"))
                        .map_err(|_| format!("`{item}` is not a domain (e.g. `@example.co.jp`)"))?;
                    list.domains.push(domain.to_lowercase());
                }
                None => list.addresses.push(Email::parse(item).map_err(|e| {
                    format!("`{item}` {e}: give addresses or domains (`hr@example.co.jp @example.co.jp`)")
                })?),
            }
        }
        if list.addresses.is_empty() && list.domains.is_empty() {
            return Err("names no address or domain".into());
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    #[test]
    fn m5_addresses_and_domains_are_allowed_and_nothing_else() {
        let list: RecipientAllowList = "Boss@Other.jp, @Example.co.jp".parse().unwrap();
        assert!(list.allows(&email("boss@other.jp")));
        assert!(list.allows(&email("anyone@example.co.jp")));
        assert!(!list.allows(&email("someone@other.jp")));
        assert!(!list.allows(&email("a@sub.example.co.jp")));
        assert_eq!(list.to_string(), "boss@other.jp @example.co.jp");
        assert!(RecipientAllowList::domain("hirelay.test").allows(&email("x@hirelay.test")));
    }

    #[test]
    fn m5_a_list_that_is_not_addresses_is_refused() {
        assert!("".parse::<RecipientAllowList>().is_err());
        assert!("nobody"
            .parse::<RecipientAllowList>()
            .unwrap_err()
            .contains("`nobody`"));
        assert!("@".parse::<RecipientAllowList>().is_err());
    }
}
