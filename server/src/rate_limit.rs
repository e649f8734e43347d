//! Rate limits kept in memory, per instance: at most `max` hits per key in a sliding window.
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before the ones whose window has passed are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// A sliding-window limit per key (a token, a client address).
pub struct RateLimit {
    max: usize,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimit {
    pub fn new(max: usize, window: Duration) -> RateLimit {
        RateLimit {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a hit for `key`; when `key` has had `max` in the window already, counts nothing
    /// and answers how long until the next hit is allowed.
    pub fn hit(&self, key: &str) -> Result<(), Duration> {
        self.hit_at(key, Instant::now())
    }

    fn hit_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if hits.len() > PRUNE_ABOVE {
            hits.retain(|_, times| times.back().is_some_and(|t| now - *t < self.window));
        }
        let times = hits.entry(key.to_owned()).or_default();
        while times.front().is_some_and(|t| now - *t >= self.window) {
            times.pop_front();
        }
        if times.len() >= self.max {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now - oldest));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_limit_waits_for_the_window_and_others_do_not() {
        let limit = RateLimit::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(limit.hit_at("a", t0).is_ok());
        assert!(limit.hit_at("a", t0 + Duration::from_secs(10)).is_ok());
        assert_eq!(
            limit.hit_at("a", t0 + Duration::from_secs(20)),
            Err(Duration::from_secs(40))
        );
        assert!(limit.hit_at("b", t0 + Duration::from_secs(20)).is_ok());
        assert!(limit.hit_at("a", t0 + Duration::from_secs(61)).is_ok());
    }
}
