//! Failed authentications per client address (issue 18): after [`AuthThrottle::LIMIT`] wrong or
//! expired tokens within a [`AuthThrottle::WINDOW`], that address is refused (`429` with
//! `Retry-After`) until the oldest of them is a window old, whatever token it sends; other
//! addresses are not affected. A [`RateLimit`] of failures: in memory and per process (a
//! restart forgets, which only shortens a lockout).
//!
//! The address is the client's as [`super::client_ip`] finds it: the TCP peer's, or behind a
//! proxy named in `HIRELAY_TRUSTED_PROXIES` the address that proxy saw.
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::rate_limit::RateLimit;

/// The failed-authentication counter of one process.
pub struct AuthThrottle(RateLimit<IpAddr>);

impl Default for AuthThrottle {
    fn default() -> Self {
        AuthThrottle::new(AuthThrottle::LIMIT, AuthThrottle::WINDOW)
    }
}

impl AuthThrottle {
    /// Failures allowed in a window.
    pub const LIMIT: u32 = 10;
    /// How long a failure counts.
    pub const WINDOW: Duration = Duration::from_secs(60);

    pub fn new(limit: u32, window: Duration) -> Self {
        AuthThrottle(RateLimit::new(limit as usize, window))
    }

    /// How long `ip` must still wait, while it is locked out.
    pub fn locked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        self.0.wait(&ip, now)
    }

    /// Notes one failed authentication from `ip`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        self.0.record(&ip, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn an_address_is_locked_after_the_limit_until_its_window_ends() {
        let throttle = AuthThrottle::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(throttle.locked(A, t0), None, "after {i} failures");
            throttle.failed(A, t0 + Duration::from_secs(i));
        }
        assert_eq!(
            throttle.locked(A, t0 + Duration::from_secs(10)),
            Some(Duration::from_secs(50))
        );
        assert_eq!(throttle.locked(B, t0 + Duration::from_secs(10)), None);
        assert_eq!(throttle.locked(A, t0 + Duration::from_secs(60)), None);
        // A new window starts from scratch.
        throttle.failed(A, t0 + Duration::from_secs(61));
        assert_eq!(throttle.locked(A, t0 + Duration::from_secs(62)), None);
    }
}
