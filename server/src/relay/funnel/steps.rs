//! C1, C2, C5: what each step counts. Every step counts what happened in the period, at the
//! time it happened: a rejection at its `changed_at`, an invitation when it was sent, a click
//! when it was made, a registration at its `registered_at`, a slot when the registration that
//! completes it was made, a referral's outcome at the time Career Relay gave.
use super::{label, Settings, Step, CANDIDATE_STEPS, STEPS};
use crate::store::entities::referral;
use crate::store::referrals::{FirstRegistration, Rejection};

/// C2: when the candidate of a rejection clicked the link. A registration implies the click
/// even when hirelay never saw it (Career Relay may be reached another way), so no later than
/// the registration.
pub(crate) fn clicked_at(r: &Rejection) -> Option<i64> {
    crate::store::funnel::click_step(r.link_clicked_at, r.registered_at)
}

/// The times at which a rejection reached each candidate-side step before `slot_earned`.
fn reached(r: &Rejection) -> [Option<i64>; 4] {
    [
        Some(r.rejected_at),
        r.invitation_sent_at,
        clicked_at(r),
        r.registered_at,
    ]
}

/// Whether a rejection reached any step at a time `counted` accepts.
pub(crate) fn reached_any(r: &Rejection, counted: &dyn Fn(i64) -> bool) -> bool {
    reached(r).into_iter().flatten().any(counted)
}

/// Every time a rejection reached a step.
pub(crate) fn times(r: &Rejection) -> impl Iterator<Item = i64> {
    reached(r).into_iter().flatten()
}

/// A slot earned (C1): when, and by whose registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot<'a> {
    pub at: i64,
    pub candidate_id: &'a str,
}

/// C1: the slots earned: one on the first registration of every `ratio`-th distinct candidate
/// (at least 1), counted in the order they first registered. The ledger at any time counts the
/// candidates registered before it, so the slots earned in a period are what the ledger earned
/// in it.
pub fn slots(registrations: &[FirstRegistration], ratio: u32) -> Vec<Slot<'_>> {
    let mut ordered: Vec<&FirstRegistration> = registrations.iter().collect();
    ordered.sort_by(|a, b| {
        (a.registered_at, &a.candidate_id).cmp(&(b.registered_at, &b.candidate_id))
    });
    let ratio = usize::try_from(ratio.max(1)).unwrap_or(usize::MAX);
    ordered
        .into_iter()
        .skip(ratio - 1)
        .step_by(ratio)
        .map(|r| Slot {
            at: r.registered_at,
            candidate_id: &r.candidate_id,
        })
        .collect()
}

/// The steps of `rows` at times `counted` accepts, with `slots_earned` given; and for the
/// company side (when `referrals` is given) the referrals' outcomes at times `counted` accepts.
pub(crate) fn steps(
    rows: &[&Rejection],
    slots_earned: u64,
    referrals: Option<&[&referral::Model]>,
    settings: &Settings<'_>,
    counted: &dyn Fn(i64) -> bool,
) -> Vec<Step> {
    let count = |f: &dyn Fn(&Rejection) -> Option<i64>| {
        rows.iter().filter(|r| f(r).is_some_and(counted)).count() as u64
    };
    let candidate = [
        count(&|r| Some(r.rejected_at)),
        count(&|r| r.invitation_sent_at),
        count(&clicked_at),
        count(&|r| r.registered_at),
    ];
    steps_of(candidate, slots_earned, referrals, settings, counted)
}

/// The steps from the counts of the candidate side's first four (rejected, invitation_sent,
/// link_clicked, registered) and `slots_earned`; and for the company side (when `referrals` is
/// given) the referrals' outcomes at times `counted` accepts.
pub(crate) fn steps_of(
    candidate: [u64; 4],
    slots_earned: u64,
    referrals: Option<&[&referral::Model]>,
    settings: &Settings<'_>,
    counted: &dyn Fn(i64) -> bool,
) -> Vec<Step> {
    let mut counts = candidate.to_vec();
    counts.push(slots_earned);
    if let Some(referrals) = referrals {
        let reported = |f: &dyn Fn(&referral::Model) -> Option<i64>| {
            referrals
                .iter()
                .filter(|r| f(r).is_some_and(counted))
                .count() as u64
        };
        counts.extend([
            reported(&super::slot_used_at),
            reported(&|r| r.hired_at),
            reported(&|r| r.joined_at),
            reported(&|r| r.retained_at),
        ]);
    }
    debug_assert!(counts.len() == CANDIDATE_STEPS || counts.len() == STEPS.len());
    let mut previous: Option<u64> = None;
    STEPS
        .iter()
        .zip(counts)
        .map(|(name, count)| {
            let rate = previous
                .filter(|p| *p > 0)
                .map(|p| (count as f64 / p as f64 * 10_000.0).round() / 10_000.0);
            previous = Some(count);
            let target_rate = settings.targets.of(name);
            Step {
                name,
                label: label(name),
                count,
                rate_from_previous: rate,
                target_rate,
                on_target: target_rate.zip(rate).map(|(target, rate)| rate >= target),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(candidate: &str, at: i64) -> FirstRegistration {
        FirstRegistration {
            candidate_id: candidate.into(),
            registered_at: at,
        }
    }

    /// C1: the 2nd and 4th candidates to register (ratio 2) earn the slots, at the time they
    /// registered, whatever order they are given in.
    #[test]
    fn c1_a_slot_is_earned_when_the_ratio_th_candidate_registers() {
        let registrations = [
            registration("d", 40),
            registration("a", 10),
            registration("c", 30),
            registration("b", 20),
            registration("e", 50),
        ];
        let at: Vec<(i64, &str)> = slots(&registrations, 2)
            .into_iter()
            .map(|s| (s.at, s.candidate_id))
            .collect();
        assert_eq!(at, [(20, "b"), (40, "d")]);
        assert_eq!(slots(&registrations, 10), []);
        assert_eq!(
            slots(&registrations, 0).len(),
            5,
            "a ratio of 0 is read as 1"
        );
    }

    /// C2: a registration implies the click, at the latest when it registered.
    #[test]
    fn c2_a_registration_implies_the_click() {
        let r = |clicked: Option<i64>, registered: Option<i64>| Rejection {
            link_clicked_at: clicked,
            registered_at: registered,
            ..crate::relay::funnel::tests::rejection("a", 0, "一次面接", 0)
        };
        assert_eq!(clicked_at(&r(None, Some(5))), Some(5));
        assert_eq!(clicked_at(&r(Some(3), Some(5))), Some(3));
        assert_eq!(clicked_at(&r(Some(9), Some(5))), Some(5), "a later click");
        assert_eq!(clicked_at(&r(Some(3), None)), Some(3));
        assert_eq!(clicked_at(&r(None, None)), None);
    }
}
