//! What a script decides. The pipeline carries the actions out in the event's transaction;
//! they are stored as JSON in the event's decision record.
use serde::{Deserialize, Serialize};

/// One decision of a rule script.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Add a label to the application (I4, I9).
    Label { label: String },
    /// Remove a label from the application.
    Unlabel { label: String },
    /// Route the application to a job (I7).
    Route { job_id: String },
    /// Send an email rendered from a template, now or at `send_at` (RFC 3339).
    Email {
        template: String,
        to: String,
        data: serde_json::Value,
        send_at: Option<String>,
    },
    /// Record a KPI data point (C3, C5).
    Kpi {
        name: String,
        value: f64,
        tags: serde_json::Map<String, serde_json::Value>,
    },
    /// Notify the users subscribed to `kind` (I5: `bizreach_application`).
    Notify {
        kind: String,
        data: serde_json::Value,
    },
    /// Send an outbound webhook to subscribers (e.g. `application.labeled`).
    Webhook {
        event_type: String,
        payload: serde_json::Value,
    },
    /// Invite this application's candidate to Career Relay, now or at `send_at` (C2).
    Invite { send_at: Option<String> },
}

impl Action {
    /// Every action type, as serialized in `type`.
    pub const TYPES: &'static [&'static str] = &[
        "label", "unlabel", "route", "email", "kpi", "notify", "webhook", "invite",
    ];

    /// The `type` this action is serialized with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Action::Label { .. } => "label",
            Action::Unlabel { .. } => "unlabel",
            Action::Route { .. } => "route",
            Action::Email { .. } => "email",
            Action::Kpi { .. } => "kpi",
            Action::Notify { .. } => "notify",
            Action::Webhook { .. } => "webhook",
            Action::Invite { .. } => "invite",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_a_type_tag() {
        let a = Action::Route {
            job_id: "job_1".into(),
        };
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "route", "job_id": "job_1"})
        );
        assert_eq!(json["type"], a.type_name());
        let back: Action = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
    }
}
