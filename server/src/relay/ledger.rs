//! C1: the company's free referral slots. Every `ratio` rejected candidates who register with
//! Career Relay earn one slot (the ratio is configuration, `HIRELAY_CAREER_RELAY_RATIO`); each
//! referral Career Relay reports uses one; what was earned and not used is available.
use serde::Serialize;

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

    /// C1: a referral uses a slot; what is available never goes below zero.
    #[test]
    fn c1_referrals_use_earned_slots() {
        let l = ledger(25, 1, 10);
        assert_eq!((l.slots_earned, l.slots_used, l.slots_available), (2, 1, 1));
        let overdrawn = ledger(5, 2, 10);
        assert_eq!(overdrawn.slots_available, 0);
    }
}
