//! The client's address, for the per-address throttles (issue 15: TLS behind a reverse proxy).
//!
//! It is the TCP peer's address, unless the peer is a reverse proxy named in
//! `HIRELAY_TRUSTED_PROXIES`: then it is the right-most address of `X-Forwarded-For` that is not
//! such a proxy. Only proxies the operator named are believed, so a client cannot pick the address
//! it is counted under by sending the header itself; and without the setting, every client
//! behind a proxy would share the proxy's address and one guesser would lock out all of them.
use actix_web::HttpRequest;
use ipnet::IpNet;
use std::net::IpAddr;
use std::str::FromStr;

/// `HIRELAY_TRUSTED_PROXIES`: addresses or CIDR networks of the reverse proxies in front.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .map(|net| net.trunc())
                    .or_else(|_| entry.parse::<IpAddr>().map(|ip| IpNet::from(canonical(ip))))
                    .map_err(|_| {
                        format!(
                            "`{entry}` is neither an IP address nor a CIDR network (e.g. `127.0.0.1`, `10.0.0.0/8`)"
                        )
                    })
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`, given the request's `X-Forwarded-For` values in order.
    fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded: impl DoubleEndedIterator<Item = &'a str>,
    ) -> IpAddr {
        if !self.trusts(peer) {
            return canonical(peer);
        }
        let mut client = peer;
        for hop in forwarded.rev() {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => client = ip,
                Ok(ip) => return canonical(ip),
                // A hop the proxies did not write: stop at the last address they vouch for.
                Err(_) => break,
            }
        }
        canonical(client)
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The address `req` is counted under (see the module's documentation).
pub fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let headers = req.headers().get_all("x-forwarded-for");
    let values: Vec<&str> = headers
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    Some(trusted.client(peer, values.into_iter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("127.0.0.1"), ["203.0.113.9"].into_iter()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client() {
        let proxies: TrustedProxies = "127.0.0.1, 10.0.0.0/8".parse().unwrap();
        // The client claimed 198.51.100.1 itself; the proxies saw 203.0.113.9.
        let hops = ["198.51.100.1", "203.0.113.9", "10.1.2.3"];
        assert_eq!(
            proxies.client(ip("127.0.0.1"), hops.into_iter()),
            ip("203.0.113.9")
        );
        // A peer that is not a proxy is the client, whatever it sends.
        assert_eq!(
            proxies.client(ip("192.0.2.7"), hops.into_iter()),
            ip("192.0.2.7")
        );
        // Garbage in the header stops the walk at the last trusted hop.
        let garbage = ["203.0.113.9", "not-an-ip"];
        assert_eq!(
            proxies.client(ip("127.0.0.1"), garbage.into_iter()),
            ip("127.0.0.1")
        );
        assert_eq!(
            proxies.client(ip("::ffff:127.0.0.1"), ["2001:db8::1"].into_iter()),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn a_bad_entry_is_named() {
        let err = "127.0.0.1 proxy.local"
            .parse::<TrustedProxies>()
            .unwrap_err();
        assert!(err.contains("`proxy.local`"), "{err}");
    }
}
