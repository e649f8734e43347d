//! Progress sync's mapping from an ATS status to the BizReach status pushed for it (P2, P4).
//!
//! The default table is below ([`StatusMapping::default`]); `HIRELAY_STATUS_MAPPING`
//! (`"offer=in_progress,joined=hired"`) overrides entries of it. `talent_pool` and `deleted`
//! are never synced (P4) and cannot be mapped.
use std::fmt;
use std::str::FromStr;

use super::status::{AtsStatus, BizreachStatus};

/// What each ATS status becomes on BizReach; `None` for the statuses progress sync leaves alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusMapping {
    /// Indexed like [`AtsStatus::ALL`].
    targets: Vec<Option<BizreachStatus>>,
}

/// A mapping text that could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MappingError {
    #[error("entry `{0}` is not `ats_status=bizreach_status`")]
    NotAPair(String),
    #[error(
        "entry `{entry}`: unknown ATS status `{status}`; allowed: {}",
        AtsStatus::allowed()
    )]
    UnknownAtsStatus { entry: String, status: String },
    #[error(
        "entry `{entry}`: unknown BizReach status `{status}`; allowed: {}",
        BizreachStatus::allowed()
    )]
    UnknownBizreachStatus { entry: String, status: String },
    #[error("entry `{entry}`: `{status}` is never synced (P4: talent pool and deleted applications are not covered)")]
    NotCovered { entry: String, status: String },
    #[error("entry `{entry}`: `{status}` is mapped twice")]
    Repeated { entry: String, status: String },
}

impl Default for StatusMapping {
    /// new→new; screening, interview, offer→in_progress; hired, joined→hired;
    /// rejected→rejected; declined→declined; talent_pool, deleted→not synced.
    fn default() -> Self {
        let targets = AtsStatus::ALL
            .iter()
            .map(|s| match s {
                AtsStatus::New => Some(BizreachStatus::New),
                AtsStatus::Screening | AtsStatus::Interview | AtsStatus::Offer => {
                    Some(BizreachStatus::InProgress)
                }
                AtsStatus::Hired | AtsStatus::Joined => Some(BizreachStatus::Hired),
                AtsStatus::Rejected => Some(BizreachStatus::Rejected),
                AtsStatus::Declined => Some(BizreachStatus::Declined),
                AtsStatus::TalentPool | AtsStatus::Deleted => None,
            })
            .collect();
        StatusMapping { targets }
    }
}

/// What progress sync does with one application of a group whose sync is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncDecision {
    /// Talent pool or deleted (P4): not covered.
    NotCovered,
    /// Its status was pushed and BizReach is not known to show anything else: nothing to do.
    InSync,
    /// Push this status (P2: the ATS wins).
    Push(BizreachStatus),
}

impl StatusMapping {
    /// P2, P4: what to do with an application in ATS status `ats` whose last push was
    /// `last_pushed` and whose BizReach status, as hirelay last saw it, is `shown_now`. A status
    /// BizReach already shows is not pushed; one pushed before is pushed again only when
    /// BizReach is seen showing something else.
    pub fn decide(
        &self,
        ats: AtsStatus,
        last_pushed: Option<&str>,
        shown_now: Option<&str>,
    ) -> SyncDecision {
        let Some(target) = self.map(ats) else {
            return SyncDecision::NotCovered;
        };
        // BizReach already showing the target needs no push (P5's preview agrees); without a
        // sighting, what was pushed last counts.
        let shown = shown_now == Some(target.as_str());
        let pushed = last_pushed == Some(target.as_str());
        if shown || (pushed && shown_now.is_none()) {
            SyncDecision::InSync
        } else {
            SyncDecision::Push(target)
        }
    }

    /// P5: the BizReach status that switching sync on would write over `shown_now`, or `None`
    /// when BizReach already shows it (or the application is not covered).
    pub fn would_overwrite(
        &self,
        ats: AtsStatus,
        shown_now: Option<&str>,
    ) -> Option<BizreachStatus> {
        self.map(ats)
            .filter(|target| shown_now != Some(target.as_str()))
    }

    /// The BizReach status pushed for `status`, or `None` when it is not synced (P4).
    pub fn map(&self, status: AtsStatus) -> Option<BizreachStatus> {
        let index = AtsStatus::ALL.iter().position(|s| *s == status)?;
        self.targets.get(index).copied().flatten()
    }

    /// Every ATS status with what it becomes, in the contract's order.
    pub fn table(&self) -> Vec<(AtsStatus, Option<BizreachStatus>)> {
        AtsStatus::ALL.iter().map(|s| (*s, self.map(*s))).collect()
    }

    /// The ATS statuses that become `target`.
    pub fn sources_of(&self, target: BizreachStatus) -> Vec<AtsStatus> {
        self.table()
            .into_iter()
            .filter(|(_, t)| *t == Some(target))
            .map(|(s, _)| s)
            .collect()
    }

    /// The default table with the entries of `overrides` (`ats=bizreach`, comma-separated)
    /// laid over it.
    pub fn with_overrides(overrides: &str) -> Result<StatusMapping, MappingError> {
        let mut mapping = StatusMapping::default();
        let mut seen = Vec::new();
        for entry in overrides
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (ats, target) = entry
                .split_once('=')
                .map(|(a, b)| (a.trim(), b.trim()))
                .ok_or_else(|| MappingError::NotAPair(entry.to_owned()))?;
            let ats_status = AtsStatus::parse(ats).map_err(|_| MappingError::UnknownAtsStatus {
                entry: entry.to_owned(),
                status: ats.to_owned(),
            })?;
            if ats_status.leaves_progress_sync() {
                return Err(MappingError::NotCovered {
                    entry: entry.to_owned(),
                    status: ats.to_owned(),
                });
            }
            if seen.contains(&ats_status) {
                return Err(MappingError::Repeated {
                    entry: entry.to_owned(),
                    status: ats.to_owned(),
                });
            }
            seen.push(ats_status);
            let target =
                BizreachStatus::parse(target).map_err(|_| MappingError::UnknownBizreachStatus {
                    entry: entry.to_owned(),
                    status: target.to_owned(),
                })?;
            if let Some(index) = AtsStatus::ALL.iter().position(|s| *s == ats_status) {
                mapping.targets[index] = Some(target);
            }
        }
        Ok(mapping)
    }
}

impl FromStr for StatusMapping {
    type Err = MappingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::with_overrides(s)
    }
}

impl fmt::Display for StatusMapping {
    /// The whole table in the override syntax (`new=new,screening=in_progress,…`), skipping
    /// the statuses that are not synced.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self
            .table()
            .into_iter()
            .filter_map(|(s, t)| t.map(|t| format!("{s}={t}")))
            .collect();
        f.write_str(&entries.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AtsStatus as A;
    use BizreachStatus as B;

    #[test]
    fn p2_default_table() {
        let m = StatusMapping::default();
        let expected = [
            (A::New, Some(B::New)),
            (A::Screening, Some(B::InProgress)),
            (A::Interview, Some(B::InProgress)),
            (A::Offer, Some(B::InProgress)),
            (A::Hired, Some(B::Hired)),
            (A::Joined, Some(B::Hired)),
            (A::Rejected, Some(B::Rejected)),
            (A::Declined, Some(B::Declined)),
            (A::TalentPool, None),
            (A::Deleted, None),
        ];
        assert_eq!(m.table(), expected);
        assert_eq!(
            m.to_string(),
            "new=new,screening=in_progress,interview=in_progress,offer=in_progress,hired=hired,joined=hired,rejected=rejected,declined=declined"
        );
        assert_eq!(
            m.sources_of(B::InProgress),
            [A::Screening, A::Interview, A::Offer]
        );
    }

    #[test]
    fn the_documented_table_is_the_default() {
        let doc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/progress-sync.md");
        let doc = std::fs::read_to_string(doc).unwrap();
        for (ats, target) in StatusMapping::default().table() {
            let shown = match target {
                Some(t) => format!("`{t}`"),
                None => "not synced (P4)".to_owned(),
            };
            let row = format!("| `{ats}` | {shown} |");
            assert!(
                doc.contains(&row),
                "docs/progress-sync.md lacks the row {row}"
            );
        }
    }

    #[test]
    fn p4_talent_pool_and_deleted_are_never_synced() {
        let m = StatusMapping::default();
        assert_eq!(m.map(A::TalentPool), None);
        assert_eq!(m.map(A::Deleted), None);
        let err = "talent_pool=rejected".parse::<StatusMapping>().unwrap_err();
        assert!(matches!(err, MappingError::NotCovered { .. }), "{err}");
        assert!(err.to_string().contains("P4"), "{err}");
    }

    #[test]
    fn p2_a_status_is_pushed_once_and_again_only_when_bizreach_shows_otherwise() {
        let m = StatusMapping::default();
        assert_eq!(
            m.decide(A::Interview, None, Some("new")),
            SyncDecision::Push(B::InProgress)
        );
        assert_eq!(
            m.decide(A::Interview, None, None),
            SyncDecision::Push(B::InProgress)
        );
        assert_eq!(
            m.decide(A::Interview, Some("in_progress"), Some("in_progress")),
            SyncDecision::InSync
        );
        // interview → offer is the same BizReach status: nothing to push.
        assert_eq!(
            m.decide(A::Offer, Some("in_progress"), None),
            SyncDecision::InSync
        );
        assert_eq!(
            m.decide(A::Rejected, Some("in_progress"), Some("in_progress")),
            SyncDecision::Push(B::Rejected)
        );
        // Someone changed it on BizReach after the push: the ATS wins.
        assert_eq!(
            m.decide(A::Interview, Some("in_progress"), Some("declined")),
            SyncDecision::Push(B::InProgress)
        );
        assert_eq!(
            m.decide(A::TalentPool, None, Some("new")),
            SyncDecision::NotCovered
        );
    }

    #[test]
    fn p5_would_overwrite_only_what_differs() {
        let m = StatusMapping::default();
        assert_eq!(
            m.would_overwrite(A::Offer, Some("new")),
            Some(B::InProgress)
        );
        assert_eq!(m.would_overwrite(A::Offer, None), Some(B::InProgress));
        assert_eq!(m.would_overwrite(A::New, Some("new")), None);
        assert_eq!(m.would_overwrite(A::Deleted, Some("new")), None);
    }

    #[test]
    fn overrides_replace_entries_of_the_default() {
        let m: StatusMapping = " offer = hired , screening=new ".parse().unwrap();
        assert_eq!(m.map(A::Offer), Some(B::Hired));
        assert_eq!(m.map(A::Screening), Some(B::New));
        assert_eq!(m.map(A::Interview), Some(B::InProgress));
        assert_eq!(
            "".parse::<StatusMapping>().unwrap(),
            StatusMapping::default()
        );
    }

    #[test]
    fn bad_overrides_name_the_entry_and_the_allowed_values() {
        let err = "offer=pending".parse::<StatusMapping>().unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("offer=pending") && text.contains("in_progress"),
            "{text}"
        );
        let err = "ghosted=new".parse::<StatusMapping>().unwrap_err();
        assert!(err.to_string().contains("talent_pool"), "{err}");
        assert!(matches!(
            "offer".parse::<StatusMapping>().unwrap_err(),
            MappingError::NotAPair(_)
        ));
        assert!(matches!(
            "offer=new,offer=hired"
                .parse::<StatusMapping>()
                .unwrap_err(),
            MappingError::Repeated { .. }
        ));
    }
}
