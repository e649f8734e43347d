//! Failed authentications per client address (issue 18): after [`AuthThrottle::LIMIT`] wrong or
//! expired tokens within a [`AuthThrottle::WINDOW`], that address is refused (`429` with
//! `Retry-After`) until its window ends, whatever token it sends; other addresses are not
//! affected. In memory and per process: a restart forgets, which only shortens a lockout.
//!
//! The address is the TCP peer's: behind a reverse proxy every client shares the proxy's.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Failures of one address in its current window.
#[derive(Clone, Copy, Debug)]
struct Window {
    started: Instant,
    failures: u32,
}

/// The failed-authentication counter of one process.
#[derive(Debug)]
pub struct AuthThrottle {
    windows: Mutex<HashMap<IpAddr, Window>>,
    limit: u32,
    window: Duration,
}

impl Default for AuthThrottle {
    fn default() -> Self {
        AuthThrottle::new(AuthThrottle::LIMIT, AuthThrottle::WINDOW)
    }
}

impl AuthThrottle {
    /// Failures allowed in a window.
    pub const LIMIT: u32 = 10;
    /// How long a window lasts from an address's first failure.
    pub const WINDOW: Duration = Duration::from_secs(60);
    /// Addresses tracked at most; past this, ended windows are forgotten first, and an address
    /// beyond it is not tracked (memory stays bounded however many addresses guess).
    const MAX_TRACKED: usize = 100_000;

    pub fn new(limit: u32, window: Duration) -> Self {
        AuthThrottle {
            windows: Mutex::new(HashMap::new()),
            limit,
            window,
        }
    }

    /// How long `ip` must still wait, while it is locked out.
    pub fn locked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let w = windows.get(&ip)?;
        let elapsed = now.saturating_duration_since(w.started);
        (w.failures >= self.limit && elapsed < self.window).then(|| self.window - elapsed)
    }

    /// Notes one failed authentication from `ip`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if !windows.contains_key(&ip) && windows.len() >= Self::MAX_TRACKED {
            let window = self.window;
            windows.retain(|_, w| now.saturating_duration_since(w.started) < window);
            if windows.len() >= Self::MAX_TRACKED {
                return;
            }
        }
        let w = windows.entry(ip).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.saturating_duration_since(w.started) >= self.window {
            *w = Window {
                started: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
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
