//! The records the simulator serves, in the JSON shape of the contract's
//! "BizReach application event" (`application` object) and group-account list.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

/// Japan Standard Time, the offset every `applied_at` is written in.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

/// The current time in JST, truncated to whole seconds (the precision the API shows).
pub fn now_jst() -> DateTime<FixedOffset> {
    to_jst_seconds(Utc::now().fixed_offset())
}

/// The same instant in JST without its sub-second part, so that what is stored is
/// exactly what a client reads back (and can pass again as `since`).
pub fn to_jst_seconds(at: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    let secs = at.timestamp();
    DateTime::from_timestamp(secs, 0)
        .unwrap_or(at.to_utc())
        .with_timezone(&jst())
}

/// Writes an instant as RFC 3339 with whole seconds and its own offset (`…T10:15:00+09:00`).
pub fn rfc3339(at: &DateTime<FixedOffset>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn serialize_rfc3339<S: Serializer>(at: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(at))
}

/// A BizReach group account (one office or division of the client company).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupAccount {
    /// `grp-001`, `grp-002`, …
    pub id: String,
    /// e.g. `株式会社サンプル 東京本社`.
    pub name: String,
    /// Who approves links for this group.
    pub admin_email: String,
}

/// How the candidate came in; the client derives the event type from it
/// (`direct` → `application.received`, `scout` → `scout.replied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The candidate applied to a posting.
    Direct,
    /// The candidate replied to a scout message.
    Scout,
}

/// The five statuses of an application on the BizReach side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not looked at yet.
    New,
    /// Being screened or interviewed.
    InProgress,
    /// Rejected by the company.
    Rejected,
    /// Declined by the candidate.
    Declined,
    /// Hired.
    Hired,
}

/// The person behind an application.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// `br-cand-000123`.
    pub id: String,
    /// `山田 太郎` (surname, a space, given name).
    pub name: String,
    /// Romanised and unique; sometimes in mixed case to exercise normalisation.
    pub email: String,
    /// `090-xxxx-xxxx`.
    pub phone: String,
    /// Free-form; generated ones hold `age`, `current_company`, `years_of_experience`.
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// One application, exactly the contract's `application` object (no `type`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Application {
    /// `br-app-000123`.
    pub id: String,
    /// `direct` or `scout`.
    pub channel: Channel,
    /// A Japanese job title, e.g. `バックエンドエンジニア（Rust）`.
    pub position_name: String,
    /// When it arrived, in JST with whole seconds.
    #[serde(serialize_with = "serialize_rfc3339")]
    pub applied_at: DateTime<FixedOffset>,
    /// Its current status on the BizReach side.
    pub status: Status,
    /// The candidate.
    pub candidate: Candidate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applications_serialise_to_the_contract_shape() {
        let at = DateTime::parse_from_rfc3339("2026-11-20T01:15:00.250Z").unwrap();
        let app = Application {
            id: "br-app-000123".into(),
            channel: Channel::Direct,
            position_name: "バックエンドエンジニア（Rust）".into(),
            applied_at: to_jst_seconds(at),
            status: Status::InProgress,
            candidate: Candidate {
                id: "br-cand-000456".into(),
                name: "山田 太郎".into(),
                email: "Taro.Yamada@Example.jp".into(),
                phone: "090-1234-5678".into(),
                attributes: serde_json::Map::new(),
            },
        };
        let json = serde_json::to_value(&app).unwrap();
        assert_eq!(json["applied_at"], "2026-11-20T10:15:00+09:00");
        assert_eq!(json["status"], "in_progress");
        assert_eq!(json["channel"], "direct");
        assert!(json.get("type").is_none());
        assert_eq!(json.as_object().unwrap().len(), 6);
    }
}
