//! The retry schedule: exponential backoff with full jitter, as data.

/// Backoff before try `attempt + 1` after `attempt` failed tries (1-based): base 2 s doubling,
/// capped at 10 minutes, with jitter in `[half, full]` so that failing events spread out.
pub fn backoff_millis(attempt: u32, jitter: f64) -> i64 {
    let exp = 2_000f64 * 2f64.powi(attempt.saturating_sub(1).min(20) as i32);
    let capped = exp.min(600_000.0);
    (capped * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))) as i64
}

/// A jitter draw in `[0, 1]`.
pub fn jitter() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        assert_eq!(backoff_millis(1, 1.0), 2_000);
        assert_eq!(backoff_millis(2, 1.0), 4_000);
        assert_eq!(backoff_millis(3, 0.0), 4_000);
        assert_eq!(backoff_millis(30, 1.0), 600_000);
        assert!(backoff_millis(4, 0.5) < backoff_millis(4, 1.0));
    }
}
