//! C1: the company's free referral slots. Every `ratio` rejected candidates who register with
//! Career Relay earn one slot (the ratio is configuration, `HIRELAY_CAREER_RELAY_RATIO`); each
//! referral Career Relay reports uses one; what was earned and not used is available.
use serde::Serialize;

use crate::store::entities::referral;
use crate::store::referrals::ReferralCounts;

/// The ledger as `GET /v1/career-relay/ledger` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Ledger {
    /// Rejected candidates who registered, each counted once.
    pub registered: u64,
    /// Registrations per slot.
    pub ratio: u32,
    pub slots_earned: u64,
    pub slots_used: u64,
    /// Earned and not used; never below zero (Career Relay may report a use before the
    /// registrations that earn it reach hirelay).
    pub slots_available: u64,
    /// Referrals followed through (C6): hired, joined, still there after the retention period,
    /// or left.
    pub hired: u64,
    pub joined: u64,
    pub retained: u64,
    pub left: u64,
}

impl Ledger {
    /// The ledger of `counts` at `ratio` registrations per slot (at least 1).
    pub fn new(counts: ReferralCounts, ratio: u32) -> Ledger {
        let ratio = ratio.max(1);
        let slots_earned = counts.registered / u64::from(ratio);
        Ledger {
            registered: counts.registered,
            ratio,
            slots_earned,
            slots_used: counts.referrals,
            slots_available: slots_earned.saturating_sub(counts.referrals),
            hired: counts.hired,
            joined: counts.joined,
            retained: counts.retained,
            left: counts.left,
        }
    }
}

/// The counts of the ledger as they stood at `at` (exclusive): `registered` candidates had
/// registered by then (see `Store::registered_candidates_before`), and of `referrals`, those
/// Career Relay had reported by then, with the outcomes reported by then.
pub fn counts_at(registered: u64, referrals: &[referral::Model], at: i64) -> ReferralCounts {
    let by = |time: Option<i64>| time.is_some_and(|t| t < at);
    let count = |f: &dyn Fn(&referral::Model) -> Option<i64>| {
        referrals.iter().filter(|r| by(f(r))).count() as u64
    };
    ReferralCounts {
        registered,
        referrals: count(&super::funnel::slot_used_at),
        hired: count(&|r| r.hired_at),
        joined: count(&|r| r.joined_at),
        retained: count(&|r| r.retained_at),
        left: count(&|r| r.left_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger(registered: u64, referrals: u64, ratio: u32) -> Ledger {
        let counts = ReferralCounts {
            registered,
            referrals,
            ..ReferralCounts::default()
        };
        Ledger::new(counts, ratio)
    }

    /// C1: 10 registered rejected candidates earn 1 slot; 9 earn none; the ratio is configuration.
    #[test]
    fn c1_every_ten_registrations_earn_one_slot() {
        let earned = |registered, ratio| ledger(registered, 0, ratio).slots_earned;
        assert_eq!(earned(9, 10), 0);
        assert_eq!(earned(10, 10), 1);
        assert_eq!(earned(29, 10), 2);
        assert_eq!(earned(25, 5), 5);
        assert_eq!(earned(3, 0), 3, "a ratio of 0 is read as 1");
    }

    /// C8: the ledger at a time counts only what was reported before it.
    #[test]
    fn c8_the_ledger_at_a_time_counts_what_was_reported_before_it() {
        use crate::store::test_support::referral;
        let referrals = [
            referral("r1", 10, Some(20)),
            referral("r2", 15, Some(40)),
            referral("r3", 50, None),
        ];
        let counts = counts_at(7, &referrals, 30);
        assert_eq!(
            counts,
            ReferralCounts {
                registered: 7,
                referrals: 2,
                hired: 1,
                ..ReferralCounts::default()
            }
        );
    }

    /// C1: a referral uses a slot; what is available never goes below zero.
    #[test]
    fn c1_referrals_use_earned_slots() {
        let l = ledger(25, 1, 10);
        assert_eq!((l.slots_earned, l.slots_used, l.slots_available), (2, 1, 1));
        let overdrawn = ledger(5, 2, 10);
        assert_eq!(overdrawn.slots_available, 0);
    }
}
