//! Where outbound webhooks may go (issue 18, M7). A subscriber URL names a host that hirelay
//! connects to from inside its own network, and what a receiver answers shows up in the delivery
//! log: left unchecked, a webhook subscription reads loopback services, cloud metadata
//! (169.254.169.254) and internal hosts.
//!
//! So internal addresses (loopback, RFC 1918 and fc00::/7, link-local, CGNAT, unspecified,
//! multicast, broadcast) are refused *after resolving the host*: once when a subscription is
//! created, and again on every connection through [`GuardedResolver`], because a name may
//! resolve elsewhere by then (DNS rebinding). `HIRELAY_OUTBOUND_ALLOW_HOSTS` lists hosts and
//! networks allowed anyway; `http://` is only for those (and loopback), anything else needs
//! `https://`.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

/// How long resolving a subscriber's host may take when a subscription is created.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Hosts (by name) and networks (CIDR, or one address) that outbound webhooks may reach
/// although they are internal: `HIRELAY_OUTBOUND_ALLOW_HOSTS`, separated by spaces or commas.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    names: Vec<String>,
    nets: Vec<IpNet>,
}

impl FromStr for AllowedHosts {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut allowed = AllowedHosts::default();
        for entry in s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
        {
            if let Ok(net) = entry.parse::<IpNet>() {
                allowed.nets.push(net.trunc());
            } else if let Ok(ip) = entry.trim_matches(['[', ']']).parse::<IpAddr>() {
                allowed.nets.push(IpNet::from(canonical(ip)));
            } else if is_host_name(entry) {
                allowed.names.push(entry.to_ascii_lowercase());
            } else {
                return Err(format!(
                    "`{entry}` is neither a host name, an IP address nor a CIDR network (e.g. `hooks.internal`, `10.0.0.5`, `10.1.0.0/16`)"
                ));
            }
        }
        Ok(allowed)
    }
}

impl AllowedHosts {
    /// Whether `host` (a name as written in a URL) is listed by name.
    pub fn allows_name(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.names.iter().any(|n| n.eq_ignore_ascii_case(host))
    }

    /// Whether `ip` lies in a listed network.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }
}

fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it reaches.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` is internal: loopback, private (RFC 1918, fc00::/7), link-local (169.254/16 with
/// the metadata address, fe80::/10), unspecified or "this network" (0/8), CGNAT (100.64/10),
/// multicast or broadcast.
pub fn is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        // IPv4-compatible (::a.b.c.d, deprecated) reaches the IPv4 address on some stacks.
        || (ip.segments()[..6].iter().all(|s| *s == 0) && is_internal_v4(Ipv4Addr::from(ip.to_bits() as u32)))
}

/// Why a subscriber URL or address is refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("`{url}` must use https:// (http:// only for hosts in HIRELAY_OUTBOUND_ALLOW_HOSTS)")]
    NotHttps { url: String },
    #[error("`{host}` is (or resolves to) {addr}, an internal address (loopback, private, link-local, CGNAT, multicast…); list it in HIRELAY_OUTBOUND_ALLOW_HOSTS to allow it")]
    Internal { host: String, addr: IpAddr },
    #[error("`{host}` does not resolve: {reason}")]
    Unresolved { host: String, reason: String },
}

/// The rules above with the configured exceptions. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct TargetPolicy {
    allowed: Arc<AllowedHosts>,
}

impl TargetPolicy {
    pub fn new(allowed: AllowedHosts) -> TargetPolicy {
        TargetPolicy {
            allowed: Arc::new(allowed),
        }
    }

    /// Whether hirelay may connect to `ip` for `host`.
    fn address_allowed(&self, host: &str, ip: IpAddr) -> bool {
        !is_internal(ip) || self.allowed.allows_name(host) || self.allowed.allows_ip(ip)
    }

    /// What can be told without resolving: the scheme, and the address when the host is one.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), TargetError> {
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
        let literal = host.parse::<IpAddr>().ok();
        let allowed = self.allowed.allows_name(host)
            || literal.is_some_and(|ip| self.allowed.allows_ip(ip) || ip.is_loopback());
        if url.scheme() != "https" && !(allowed || host.eq_ignore_ascii_case("localhost")) {
            return Err(TargetError::NotHttps {
                url: url.as_str().to_owned(),
            });
        }
        match literal {
            Some(ip) if !self.address_allowed(host, ip) => Err(TargetError::Internal {
                host: host.to_owned(),
                addr: ip,
            }),
            _ => Ok(()),
        }
    }

    /// [`TargetPolicy::check_url`], then every address the host resolves to must be allowed:
    /// the check of a new subscription.
    pub async fn check_subscription(&self, url: &reqwest::Url) -> Result<(), TargetError> {
        self.check_url(url)?;
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
        if host.parse::<IpAddr>().is_ok() {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let unresolved = |reason: String| TargetError::Unresolved {
            host: host.to_owned(),
            reason,
        };
        let addrs: Vec<SocketAddr> =
            tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| unresolved("timed out".to_owned()))?
                .map_err(|e| unresolved(e.to_string()))?
                .collect();
        if addrs.is_empty() {
            return Err(unresolved("no address".to_owned()));
        }
        match addrs.iter().find(|a| !self.address_allowed(host, a.ip())) {
            Some(bad) => Err(TargetError::Internal {
                host: host.to_owned(),
                addr: bad.ip(),
            }),
            None => Ok(()),
        }
    }

    /// The DNS resolver of the delivery client: it hands reqwest only allowed addresses, so the
    /// address connected to is the address checked.
    pub fn resolver(&self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver {
            policy: self.clone(),
        })
    }
}

/// Resolves with the system resolver and drops internal addresses ([`TargetPolicy`]).
pub struct GuardedResolver {
    policy: TargetPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let first = resolved.first().map(SocketAddr::ip);
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|a| policy.address_allowed(&host, a.ip()))
                .collect();
            match (allowed.is_empty(), first) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
                (true, Some(addr)) => Err(Box::new(TargetError::Internal { host, addr }) as _),
                (true, None) => Err(Box::new(TargetError::Unresolved {
                    host,
                    reason: "no address".to_owned(),
                }) as _),
            }
        })
    }
}

/// Whether `err` (a request error) comes from a refused target.
pub fn is_refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if matches!(
            e.downcast_ref::<TargetError>(),
            Some(TargetError::Internal { .. })
        ) {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn m7_internal_addresses_are_recognised() {
        for internal in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
        ] {
            assert!(is_internal(ip(internal)), "{internal} passed as public");
        }
        for public in [
            "93.184.215.14",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_internal(ip(public)), "{public} refused as internal");
        }
    }

    #[test]
    fn m7_allowed_hosts_parse_names_addresses_and_networks() {
        let allowed: AllowedHosts = "hooks.internal, 10.1.0.0/16 127.0.0.1,[::1]"
            .parse()
            .unwrap();
        assert!(allowed.allows_name("Hooks.Internal"));
        assert!(!allowed.allows_name("other.internal"));
        assert!(allowed.allows_ip(ip("10.1.200.3")));
        assert!(!allowed.allows_ip(ip("10.2.0.1")));
        assert!(allowed.allows_ip(ip("127.0.0.1")));
        assert!(allowed.allows_ip(ip("::ffff:127.0.0.1")));
        assert!(allowed.allows_ip(ip("::1")));
        assert!(!allowed.allows_ip(ip("127.0.0.2")));
        assert_eq!("".parse::<AllowedHosts>().unwrap(), AllowedHosts::default());
        let err = "10.0.0.0/33".parse::<AllowedHosts>().unwrap_err();
        assert!(err.contains("10.0.0.0/33"), "{err}");
        assert!("http://x".parse::<AllowedHosts>().is_err());
    }

    #[test]
    fn m7_urls_need_https_and_a_public_address_unless_allowed() {
        let policy = TargetPolicy::default();
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(policy.check_url(&url("https://93.184.215.14/hook")).is_ok());
        assert!(matches!(
            policy.check_url(&url("http://93.184.215.14/hook")),
            Err(TargetError::NotHttps { .. })
        ));
        for bad in [
            "http://127.0.0.1:9/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://100.64.0.1/",
        ] {
            assert!(
                matches!(
                    policy.check_url(&url(bad)),
                    Err(TargetError::Internal { .. })
                ),
                "{bad}"
            );
        }
        let allowing = TargetPolicy::new("127.0.0.1 hooks.internal".parse().unwrap());
        assert!(allowing.check_url(&url("http://127.0.0.1:9/hook")).is_ok());
        assert!(allowing
            .check_url(&url("http://hooks.internal/hook"))
            .is_ok());
        assert!(allowing.check_url(&url("http://127.0.0.2:9/hook")).is_err());
    }
}
