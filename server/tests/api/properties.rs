//! Issue 15 (hostile input): every parser of outside input under property tests. Whatever the
//! input, a parser answers `Ok` or `Err` and never panics; what it accepts survives a round trip.
//! The seed is fixed, so CI runs the same cases every time; `PROPTEST_CASES` runs more.
use hirelay::domain::email::{Email, Sender};
use hirelay::domain::month::ReportMonth;
use hirelay::domain::payload::InboundEvent;
use hirelay::domain::period::Period;
use hirelay::domain::schedule::Schedule;
use hirelay::domain::status::{AtsStatus, BizreachStatus, Channel, EventSource};
use hirelay::domain::status_mapping::StatusMapping;
use hirelay::domain::time::{parse_rfc3339, rfc3339};
use hirelay::http::client_ip::TrustedProxies;
use hirelay::ingest::signature::WebhookSecrets;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

const SEED: u64 = 0x6869_7265_6c61_7931; // "hirelay1"

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(512);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(SEED),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Text as attackers write it: any Unicode, control characters, and the characters the
/// grammars care about, in any order.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,80}",
        "[@.<>\"\\\\ ,;:*/?0-9a-zA-Z\u{3000}-\u{30ff}\u{0}-\u{1f}-]{0,60}",
    ]
}

/// The shipped sample payloads of the contract, as bytes.
fn samples() -> Vec<(EventSource, Vec<u8>)> {
    let mut samples = Vec::new();
    for (file, source) in [
        ("ats-status-rejected.json", EventSource::Ats),
        ("ats-status-rejected-other-channel.json", EventSource::Ats),
        ("bizreach-direct-application.json", EventSource::Bizreach),
        ("bizreach-scout-reply-rejected.json", EventSource::Bizreach),
        ("career-relay-registration.json", EventSource::CareerRelay),
    ] {
        samples.push((source, crate::helpers::sample(file).into_bytes()));
    }
    samples
}

/// Arbitrary JSON: what a confused or hostile sender could post as a well-formed body.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        hostile_text().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    "type|candidate|email|name|to_status|changed_at|ats_application_id|source|application|channel|registered_at|token|marketing_consent|given_at|method",
                    "[a-z_]{1,12}"
                ],
                inner,
                0..8
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A sample with one value replaced somewhere in its tree by arbitrary JSON.
fn mutate(value: &mut serde_json::Value, path: &[usize], with: serde_json::Value) {
    let Some((&first, rest)) = path.split_first() else {
        *value = with;
        return;
    };
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            let key = map
                .keys()
                .nth(first % map.len())
                .cloned()
                .unwrap_or_default();
            if let Some(child) = map.get_mut(&key) {
                mutate(child, rest, with);
            }
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            let len = items.len();
            mutate(&mut items[first % len], rest, with);
        }
        other => *other = with,
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn issue15_email_parsing_never_panics_and_is_idempotent(raw in hostile_text()) {
        if let Ok(email) = Email::parse(&raw) {
            let again = Email::parse(email.as_str()).expect("an accepted address parses again");
            prop_assert_eq!(again.as_str(), email.as_str());
            prop_assert!(email.redacted().contains(email.domain()));
        }
        let _ = Sender::parse(&raw);
        let _ = hirelay::domain::email::redact_invalid(&raw);
    }

    #[test]
    fn issue15_statuses_accept_exactly_their_vocabulary(raw in hostile_text()) {
        match AtsStatus::parse(&raw) {
            Ok(status) => prop_assert_eq!(status.as_str(), raw.as_str()),
            Err(message) => prop_assert!(message.contains("allowed")),
        }
        if let Ok(status) = BizreachStatus::parse(&raw) {
            prop_assert_eq!(status.as_str(), raw.as_str());
        }
        if let Ok(channel) = Channel::parse(&raw) {
            prop_assert_eq!(channel.as_str(), raw.as_str());
        }
        let _ = raw.parse::<StatusMapping>();
    }

    #[test]
    fn issue15_timestamps_round_trip_and_garbage_is_refused(
        millis in -62_135_596_800_000i64..253_402_300_799_000,
        raw in hostile_text(),
    ) {
        prop_assert_eq!(parse_rfc3339(&rfc3339(millis)).unwrap(), millis);
        let _ = parse_rfc3339(&raw);
        let _ = ReportMonth::parse(&raw);
        let _ = Period::parse(Some(&raw), Some(&raw), millis);
        let _ = Period::parse(Some(&raw), None, millis);
    }

    #[test]
    fn issue15_cron_schedules_never_panic(raw in prop_oneof![
        hostile_text(),
        "([0-9*/,-]{1,6} ){4,6}[0-9*/,-]{1,6}",
        "(\\*/[0-9]{1,3} ){4}\\*",
    ], at in 0i64..4_102_444_800) {
        if let Ok(schedule) = raw.parse::<Schedule>() {
            let after = chrono::DateTime::from_timestamp(at, 0).unwrap();
            if let Some(next) = schedule.after(after) {
                prop_assert!(next > after);
            }
        }
    }

    #[test]
    fn issue15_signatures_verify_what_was_signed_and_nothing_else(
        id in "[ -~]{0,40}",
        body in prop::collection::vec(any::<u8>(), 0..512),
        flip in any::<usize>(),
        junk_id in hostile_text(),
        junk_ts in hostile_text(),
        junk_sig in hostile_text(),
    ) {
        let secrets = WebhookSecrets::parse("whsec_cHJvcGVydHktdGVzdC1zZWNyZXQta2V5LTAxMjM0NTY3").unwrap();
        let now = 1_790_000_000;
        let signature = secrets.sign(&id, now, &body).unwrap();
        prop_assert!(secrets.verify(&id, &now.to_string(), &signature, &body, now).is_ok());
        if !body.is_empty() {
            let mut changed = body.clone();
            changed[flip % body.len()] ^= 0x01;
            prop_assert!(secrets.verify(&id, &now.to_string(), &signature, &changed, now).is_err());
        }
        prop_assert!(secrets.verify(&junk_id, &junk_ts, &junk_sig, &body, now).is_err()
            || junk_sig.contains("v1,"));
        let _ = WebhookSecrets::parse(&junk_sig);
        let _ = junk_sig.parse::<TrustedProxies>();
        let _ = junk_sig.parse::<hirelay::outbound::AllowedHosts>();
    }

    #[test]
    fn issue15_payload_parsing_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        for source in [EventSource::Ats, EventSource::Bizreach, EventSource::CareerRelay] {
            let _ = InboundEvent::parse(source, &bytes);
        }
    }

    #[test]
    fn issue15_payload_parsing_never_panics_on_any_json(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        for source in [EventSource::Ats, EventSource::Bizreach, EventSource::CareerRelay] {
            if let Err(e) = InboundEvent::parse(source, &bytes) {
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    #[test]
    fn issue15_mutated_samples_parse_or_name_what_is_wrong(
        which in any::<usize>(),
        path in prop::collection::vec(any::<usize>(), 0..4),
        with in json_value(),
    ) {
        let samples = samples();
        let (source, body) = &samples[which % samples.len()];
        prop_assert!(InboundEvent::parse(*source, body).is_ok(), "the sample itself is valid");
        let mut value: serde_json::Value = serde_json::from_slice(body).unwrap();
        mutate(&mut value, &path, with);
        let bytes = serde_json::to_vec(&value).unwrap();
        if let Err(e) = InboundEvent::parse(*source, &bytes) {
            prop_assert!(!e.message.is_empty());
        }
    }
}
