//! Rate limits kept in memory, per process: at most `max` hits per key (a token, a client
//! address) in a sliding window. A restart forgets, which only shortens a wait.
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Keys tracked at most; past this, keys whose window has passed are forgotten first, and a
/// new key beyond it is not tracked (memory stays bounded however many keys arrive).
const MAX_TRACKED: usize = 100_000;

/// A sliding-window limit per key.
pub struct RateLimit<K = String> {
    max: usize,
    window: Duration,
    hits: Mutex<HashMap<K, VecDeque<Instant>>>,
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    pub fn new(max: usize, window: Duration) -> RateLimit<K> {
        RateLimit {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a hit for `key` if it is under its limit; else counts nothing and answers how
    /// long until it is.
    pub fn hit(&self, key: &K, now: Instant) -> Result<(), Duration> {
        match self.wait(key, now) {
            Some(wait) => Err(wait),
            None => {
                self.record(key, now);
                Ok(())
            }
        }
    }

    /// While `key` is at its limit, how long until it is not; counts nothing.
    pub fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        let mut hits = self.hits.lock().unwrap_or_else(PoisonError::into_inner);
        let times = hits.get_mut(key)?;
        self.forget_old(times, now);
        (times.len() >= self.max)
            .then(|| times.front().copied())
            .flatten()
            .map(|oldest| {
                self.window
                    .saturating_sub(now.saturating_duration_since(oldest))
            })
    }

    /// Counts a hit for `key`, whatever its count (e.g. a failed sign-in).
    pub fn record(&self, key: &K, now: Instant) {
        let mut hits = self.hits.lock().unwrap_or_else(PoisonError::into_inner);
        if !hits.contains_key(key) && hits.len() >= MAX_TRACKED {
            hits.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < self.window)
            });
            if hits.len() >= MAX_TRACKED {
                return;
            }
        }
        let times = hits.entry(key.clone()).or_default();
        self.forget_old(times, now);
        times.push_back(now);
        if times.len() > self.max {
            times.pop_front();
        }
    }

    fn forget_old(&self, times: &mut VecDeque<Instant>, now: Instant) {
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_limit_waits_for_the_window_and_others_do_not() {
        let limit = RateLimit::new(2, Duration::from_secs(60));
        let (a, b) = ("a".to_owned(), "b".to_owned());
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        assert!(limit.hit(&a, t0).is_ok());
        assert!(limit.hit(&a, at(10)).is_ok());
        assert_eq!(limit.hit(&a, at(20)), Err(Duration::from_secs(40)));
        assert_eq!(limit.wait(&a, at(20)), Some(Duration::from_secs(40)));
        assert!(limit.hit(&b, at(20)).is_ok());
        assert!(limit.hit(&a, at(61)).is_ok());
    }

    #[test]
    fn recorded_failures_lock_a_key_until_the_oldest_leaves_the_window() {
        let limit = RateLimit::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        for i in 0..5 {
            limit.record(&1u8, at(i));
        }
        // The last three count: the lock lasts until the third-newest is a window old.
        assert_eq!(limit.wait(&1u8, at(10)), Some(Duration::from_secs(52)));
        assert_eq!(limit.wait(&2u8, at(10)), None);
        assert_eq!(limit.wait(&1u8, at(62)), None);
    }
}
