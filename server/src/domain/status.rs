//! The closed vocabularies of the contract: ATS statuses, BizReach statuses, channels.
//! Each is an enum; an unknown value is refused with the allowed list.
use serde::{Deserialize, Serialize};

/// A string enum whose wire form is its snake_case name: `as_str`, `ALL`, `parse` with an error
/// that lists the allowed values, and serde in the same form.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The allowed values, comma-separated, for error messages.
            pub fn allowed() -> String {
                [$($text),+].join(", ")
            }

            pub fn parse(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown value `{other}`; allowed: {}", Self::allowed())),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::parse(s)
            }
        }
    };
}

wire_enum!(
    /// A selection status in the ATS (the contract's status change event).
    AtsStatus {
        New = "new",
        Screening = "screening",
        Interview = "interview",
        Offer = "offer",
        Hired = "hired",
        Joined = "joined",
        Rejected = "rejected",
        Declined = "declined",
        TalentPool = "talent_pool",
        Deleted = "deleted",
    }
);

wire_enum!(
    /// An application's status on the BizReach side.
    BizreachStatus {
        New = "new",
        InProgress = "in_progress",
        Rejected = "rejected",
        Declined = "declined",
        Hired = "hired",
    }
);

wire_enum!(
    /// How a BizReach application came in (I1, I9).
    Channel {
        Direct = "direct",
        Scout = "scout",
    }
);

impl BizreachStatus {
    /// B3: statuses a backfill never imports.
    pub fn excluded_from_backfill(self) -> bool {
        matches!(
            self,
            BizreachStatus::Rejected | BizreachStatus::Declined | BizreachStatus::Hired
        )
    }
}

impl AtsStatus {
    /// P4: applications in these states are no longer covered by progress sync.
    pub fn leaves_progress_sync(self) -> bool {
        matches!(self, AtsStatus::TalentPool | AtsStatus::Deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_list_the_allowed_ones() {
        let err = AtsStatus::parse("ghosted").unwrap_err();
        assert!(
            err.contains("talent_pool") && err.contains("ghosted"),
            "{err}"
        );
        assert_eq!(AtsStatus::parse("talent_pool"), Ok(AtsStatus::TalentPool));
        assert_eq!(
            serde_json::to_string(&BizreachStatus::InProgress).unwrap(),
            "\"in_progress\""
        );
    }

    #[test]
    fn b3_rejected_declined_and_hired_are_excluded_from_backfill() {
        let excluded: Vec<_> = BizreachStatus::ALL
            .iter()
            .filter(|s| s.excluded_from_backfill())
            .collect();
        assert_eq!(
            excluded,
            [
                &BizreachStatus::Rejected,
                &BizreachStatus::Declined,
                &BizreachStatus::Hired
            ]
        );
    }
}

wire_enum!(
    /// Where an event is in the queue: `pending` (waiting or retrying), `processing` (claimed by
    /// a worker), `done`, `failed` (a script error: not retried until replayed), `dead` (gave up
    /// after the configured tries).
    EventStatus {
        Pending = "pending",
        Processing = "processing",
        Done = "done",
        Failed = "failed",
        Dead = "dead",
    }
);

wire_enum!(
    /// Where an event comes from: the system of an inbound webhook, or `hirelay` for the
    /// records hirelay makes of what it did itself (e.g. a progress-sync push). Those are
    /// stored already finished and are never processed by the workers.
    EventSource {
        Bizreach = "bizreach",
        Ats = "ats",
        CareerRelay = "career_relay",
        Hirelay = "hirelay",
    }
);

wire_enum!(
    /// Where an outbound webhook delivery is: `pending` (waiting, retrying, or being sent),
    /// `delivered` (the subscriber answered 2xx), `dead` (given up after the last try).
    DeliveryStatus {
        Pending = "pending",
        Delivered = "delivered",
        Dead = "dead",
    }
);

wire_enum!(
    /// Something a user can ask to be notified of (I5).
    NotificationKind {
        BizreachApplication = "bizreach_application",
    }
);
