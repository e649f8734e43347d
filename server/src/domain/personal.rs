//! Issue 16 (APPI): one person's values, as hirelay looks for them in the copies it keeps, and
//! the marker left where a stored payload was purged (by erasure or by retention).
use serde_json::{json, Value};

/// What replaces a value of an erased person inside a JSON document or a line of text.
pub const ERASED: &str = "[erased]";

/// Values shorter than this are not looked for inside other text: a one-letter attribute
/// would redact half the log.
const SHORTEST_VALUE: usize = 2;

/// The values of one person that must not survive their erasure: address, name (also without
/// its spaces), phone, BizReach id, the text of their attributes. Looked for case-insensitively
/// inside text (an address arrives in any case).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonalValues {
    lowered: Vec<String>,
}

impl PersonalValues {
    /// The person's values from their stored fields (`attributes` as stored JSON).
    pub fn of(
        email: &str,
        name: &str,
        phone: Option<&str>,
        bizreach_id: Option<&str>,
        attributes: &[&str],
    ) -> PersonalValues {
        let mut values = PersonalValues::default();
        values.add(email);
        values.add(name);
        values.add(&name.split_whitespace().collect::<String>());
        if let Some(phone) = phone {
            values.add(phone);
        }
        if let Some(id) = bizreach_id {
            values.add(id);
        }
        for document in attributes {
            if let Ok(parsed) = serde_json::from_str::<Value>(document) {
                values.add_strings_of(&parsed);
            }
        }
        values
    }

    /// Adds one value (trimmed; too short ones are ignored).
    pub fn add(&mut self, value: &str) {
        let value = value.trim().to_lowercase();
        if value.chars().count() >= SHORTEST_VALUE && !self.lowered.contains(&value) {
            self.lowered.push(value);
        }
    }

    /// Adds every string (and number written as text of 4 or more digits) in a JSON document.
    pub fn add_strings_of(&mut self, document: &Value) {
        match document {
            Value::String(s) => self.add(s),
            Value::Array(items) => items.iter().for_each(|v| self.add_strings_of(v)),
            Value::Object(fields) => fields.values().for_each(|v| self.add_strings_of(v)),
            _ => {}
        }
    }

    /// The values, lowercased, longest first (so a name is replaced before a part of it).
    pub fn values(&self) -> Vec<&str> {
        let mut sorted: Vec<&str> = self.lowered.iter().map(String::as_str).collect();
        sorted.sort_by_key(|v| std::cmp::Reverse(v.len()));
        sorted
    }

    /// Whether `text` holds any of the values.
    pub fn found_in(&self, text: &str) -> bool {
        let lowered = text.to_lowercase();
        self.lowered.iter().any(|v| lowered.contains(v.as_str()))
    }

    /// `text` with every value replaced by [`ERASED`]; the text itself when it holds none.
    pub fn redact_text(&self, text: &str) -> String {
        if !self.found_in(text) {
            return text.to_owned();
        }
        let mut out = text.to_owned();
        for value in self.values() {
            out = replace_case_insensitive(&out, value);
        }
        out
    }

    /// A JSON document with every string (and key) that holds a value redacted.
    pub fn redact_json(&self, document: &Value) -> Value {
        match document {
            Value::String(s) => Value::String(self.redact_text(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_json(v)).collect())
            }
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (self.redact_text(k), self.redact_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// A stored JSON text redacted as [`PersonalValues::redact_json`]; text that is not JSON
    /// is redacted as text.
    pub fn redact_stored(&self, stored: &str) -> String {
        if !self.found_in(stored) {
            return stored.to_owned();
        }
        match serde_json::from_str::<Value>(stored) {
            Ok(document) => self.redact_json(&document).to_string(),
            Err(_) => self.redact_text(stored),
        }
    }
}

/// `text` with each occurrence of `lowered` (in any case) replaced by [`ERASED`].
fn replace_case_insensitive(text: &str, lowered: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let lower_rest = rest.to_lowercase();
        // Lowercasing can change byte lengths outside ASCII: fall back to an exact match then.
        let found = if lower_rest.len() == rest.len() {
            lower_rest.find(lowered)
        } else {
            rest.find(lowered)
        };
        match found {
            Some(at) => {
                out.push_str(&rest[..at]);
                out.push_str(ERASED);
                rest = &rest[at + lowered.len()..];
            }
            None => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// Whether `text` holds `address` as a whole address (any case): not as the tail of a longer
/// one (`b863@example.jp` is not in `b1863@example.jp`), nor followed by more of a domain.
pub fn holds_address(text: &str, address: &str) -> bool {
    let (text, address) = (text.to_lowercase(), address.trim().to_lowercase());
    if address.is_empty() {
        return false;
    }
    let part_of_address = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    text.match_indices(&address).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + address.len()..].chars().next();
        !before.is_some_and(part_of_address)
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// Why a stored payload is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PurgedBy {
    /// `DELETE /v1/candidates/{id}`: the person was erased.
    Erasure,
    /// The retention window for stored payloads ran out.
    Retention,
}

impl PurgedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            PurgedBy::Erasure => "erasure",
            PurgedBy::Retention => "retention",
        }
    }
}

/// The payload kept in place of a purged one: `{"purged": {"by", "at"}}`.
pub fn purged_payload(by: PurgedBy, at_rfc3339: &str) -> String {
    json!({"purged": {"by": by.as_str(), "at": at_rfc3339}}).to_string()
}

/// When a stored payload was purged, a sentence saying so (for replays and dry runs); `None`
/// for a payload still held.
pub fn purge_note(stored: &str) -> Option<String> {
    if !stored.starts_with("{\"purged\"") {
        return None;
    }
    let parsed: Value = serde_json::from_str(stored).ok()?;
    let purged = parsed.get("purged")?;
    let by = purged.get("by").and_then(Value::as_str).unwrap_or("purge");
    let at = purged
        .get("at")
        .and_then(Value::as_str)
        .unwrap_or("an unknown time");
    Some(format!(
        "this event's payload was purged by {by} on {at}: it cannot be run again"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taro() -> PersonalValues {
        PersonalValues::of(
            "taro.yamada@example.jp",
            "山田 太郎",
            Some("090-1234-5678"),
            Some("br-cand-9"),
            &[r#"{"university": "東京大学", "age": 29, "x": "a"}"#],
        )
    }

    #[test]
    fn issue16_values_are_found_in_any_case_and_the_name_without_its_space() {
        let v = taro();
        assert!(v.found_in("mail to Taro.Yamada@EXAMPLE.jp"));
        assert!(v.found_in("log: 山田太郎 さん"));
        assert!(v.found_in("東京大学"));
        assert!(
            !v.found_in("hanako@example.jp a"),
            "one-letter values are not looked for"
        );
    }

    #[test]
    fn issue16_redaction_replaces_each_value_and_keeps_the_rest() {
        let v = taro();
        assert_eq!(
            v.redact_text("invite TARO.yamada@example.jp (山田 太郎)"),
            "invite [erased] ([erased])"
        );
        let doc = json!({"tags": {"school": "東京大学", "stage": "一次面接"}, "n": 29});
        assert_eq!(
            v.redact_json(&doc),
            json!({"tags": {"school": "[erased]", "stage": "一次面接"}, "n": 29})
        );
        assert_eq!(v.redact_stored("plain 090-1234-5678"), "plain [erased]");
        assert_eq!(v.redact_stored("nothing here"), "nothing here");
    }

    #[test]
    fn issue16_an_address_is_found_whole_never_as_the_tail_of_another() {
        assert!(holds_address(
            "To: <B863@example.jp>\r\n",
            "b863@example.jp"
        ));
        assert!(holds_address(
            "\"email\": \" b863@example.jp \"",
            "b863@example.jp"
        ));
        assert!(!holds_address("To: b1863@example.jp", "b863@example.jp"));
        assert!(!holds_address("To: b863@example.jpn", "b863@example.jp"));
        assert!(holds_address("end b863@example.jp.", "b863@example.jp"));
    }

    #[test]
    fn issue16_a_purged_payload_says_when_and_why() {
        let stored = purged_payload(PurgedBy::Retention, "2026-12-01T00:00:00Z");
        let note = purge_note(&stored).unwrap();
        assert!(
            note.contains("retention") && note.contains("2026-12-01"),
            "{note}"
        );
        assert_eq!(purge_note(r#"{"type":"x"}"#), None);
    }
}
