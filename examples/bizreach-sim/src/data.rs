//! Deterministic generation of group accounts, candidates and applications.
//!
//! Everything comes from one seeded RNG, so the same seed gives the same records
//! (relative to the same "now"). Ids come from counters, so applications added later
//! through the control API never collide with the seeded ones.

use chrono::{DateTime, Duration, FixedOffset};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::model::{to_jst_seconds, Application, Candidate, Channel, GroupAccount, Status};

/// Surnames as (kanji, romanisation).
const SURNAMES: &[(&str, &str)] = &[
    ("山田", "yamada"),
    ("佐藤", "sato"),
    ("鈴木", "suzuki"),
    ("高橋", "takahashi"),
    ("田中", "tanaka"),
    ("伊藤", "ito"),
    ("渡辺", "watanabe"),
    ("中村", "nakamura"),
    ("小林", "kobayashi"),
    ("加藤", "kato"),
    ("吉田", "yoshida"),
    ("山本", "yamamoto"),
    ("佐々木", "sasaki"),
    ("松本", "matsumoto"),
    ("井上", "inoue"),
    ("木村", "kimura"),
    ("林", "hayashi"),
    ("清水", "shimizu"),
    ("山口", "yamaguchi"),
    ("森", "mori"),
];

/// Given names as (kanji or kana, romanisation).
const GIVEN_NAMES: &[(&str, &str)] = &[
    ("太郎", "taro"),
    ("花子", "hanako"),
    ("翔太", "shota"),
    ("結衣", "yui"),
    ("大輔", "daisuke"),
    ("美咲", "misaki"),
    ("健太", "kenta"),
    ("陽菜", "hina"),
    ("拓海", "takumi"),
    ("さくら", "sakura"),
    ("直樹", "naoki"),
    ("愛", "ai"),
    ("悠斗", "yuto"),
    ("彩", "aya"),
    ("蓮", "ren"),
    ("葵", "aoi"),
    ("大翔", "hiroto"),
    ("真央", "mao"),
    ("亮", "ryo"),
    ("恵", "megumi"),
];

/// Job titles as recruiters in Japan write them.
const POSITIONS: &[&str] = &[
    "バックエンドエンジニア（Rust）",
    "フロントエンドエンジニア（TypeScript）",
    "プロダクトマネージャー",
    "カスタマーサクセス",
    "インサイドセールス",
    "法人営業",
    "データサイエンティスト",
    "SRE",
    "UI/UXデザイナー",
    "人事（採用担当）",
];

/// Where candidates work now.
const COMPANIES: &[&str] = &[
    "株式会社サンプル",
    "株式会社テックフロンティア",
    "合同会社ミライ",
    "株式会社グローバルソリューションズ",
    "株式会社ネクストステージ",
    "株式会社さくら商事",
    "フリーランス",
];

/// Offices that name the group accounts, as (name, romanisation).
const OFFICES: &[(&str, &str)] = &[
    ("東京本社", "tokyo"),
    ("大阪支社", "osaka"),
    ("名古屋支社", "nagoya"),
    ("福岡支社", "fukuoka"),
    ("札幌支社", "sapporo"),
    ("仙台支社", "sendai"),
    ("横浜支社", "yokohama"),
    ("広島支社", "hiroshima"),
];

/// Statuses with their weights: mostly new or in progress, some closed.
const STATUS_WEIGHTS: &[(Status, u32)] = &[
    (Status::New, 40),
    (Status::InProgress, 30),
    (Status::Rejected, 15),
    (Status::Declined, 8),
    (Status::Hired, 7),
];

/// The company every group account belongs to.
const COMPANY_NAME: &str = "株式会社サンプル";

/// Makes records from a seeded RNG and running id counters.
#[derive(Debug)]
pub struct Generator {
    rng: StdRng,
    next_application: u64,
    next_candidate: u64,
}

impl Generator {
    /// A generator whose output depends only on `seed` (and the `now` given to it).
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            next_application: 1,
            next_candidate: 1,
        }
    }

    /// The group accounts `grp-001` … `grp-{count}`, named after offices.
    pub fn group_accounts(count: usize) -> Vec<GroupAccount> {
        (1..=count)
            .map(|n| {
                let (office, slug) = match OFFICES.get(n - 1) {
                    Some(&(office, slug)) => (office.to_owned(), slug.to_owned()),
                    None => (format!("第{n}拠点"), format!("site{n}")),
                };
                GroupAccount {
                    id: format!("grp-{n:03}"),
                    name: format!("{COMPANY_NAME} {office}"),
                    admin_email: format!("recruit.{slug}@example.jp"),
                }
            })
            .collect()
    }

    /// The next application id, `br-app-000123`.
    pub fn next_application_id(&mut self) -> String {
        let id = format!("br-app-{:06}", self.next_application);
        self.next_application += 1;
        id
    }

    /// A whole application, applied at a random second in `(now - days_back days, now]`.
    pub fn application(&mut self, now: DateTime<FixedOffset>, days_back: i64) -> Application {
        let span = days_back.max(0) * 86_400;
        let seconds_ago = if span == 0 {
            0
        } else {
            self.rng.gen_range(0..span)
        };
        self.application_at(now - Duration::seconds(seconds_ago))
    }

    /// A whole application applied at `applied_at`.
    pub fn application_at(&mut self, applied_at: DateTime<FixedOffset>) -> Application {
        let id = self.next_application_id();
        let channel = if self.rng.gen_bool(0.6) {
            Channel::Direct
        } else {
            Channel::Scout
        };
        let position_name = self.position_name();
        let status = self.status();
        let candidate = self.candidate();
        Application {
            id,
            channel,
            position_name,
            applied_at: to_jst_seconds(applied_at),
            status,
            candidate,
        }
    }

    /// A job title from the list.
    pub fn position_name(&mut self) -> String {
        self.pick(POSITIONS).to_string()
    }

    /// A status, weighted towards open ones.
    pub fn status(&mut self) -> Status {
        STATUS_WEIGHTS
            .choose_weighted(&mut self.rng, |&(_, weight)| weight)
            .map(|&(status, _)| status)
            .unwrap_or(Status::New)
    }

    /// A new candidate with the next id and an email no other candidate has.
    pub fn candidate(&mut self) -> Candidate {
        let number = self.next_candidate;
        self.next_candidate += 1;
        let (surname, surname_roman) = *self.pick(SURNAMES);
        let (given, given_roman) = *self.pick(GIVEN_NAMES);
        // The running number makes the address unique even in mixed case.
        let email = if self.rng.gen_bool(0.2) {
            format!(
                "{}.{}.{number:04}@Example.jp",
                capitalise(given_roman),
                capitalise(surname_roman)
            )
        } else {
            format!("{given_roman}.{surname_roman}.{number:04}@example.jp")
        };
        let phone = format!(
            "090-{:04}-{:04}",
            self.rng.gen_range(0..10_000),
            self.rng.gen_range(0..10_000)
        );
        let age: i64 = self.rng.gen_range(22..=60);
        let years_of_experience = self.rng.gen_range(0..=(age - 22));
        let current_company = *self.pick(COMPANIES);
        let attributes = json!({
            "age": age,
            "current_company": current_company,
            "years_of_experience": years_of_experience,
        });
        Candidate {
            id: format!("br-cand-{number:06}"),
            name: format!("{surname} {given}"),
            email,
            phone,
            attributes: match attributes {
                serde_json::Value::Object(map) => map,
                _ => serde_json::Map::new(),
            },
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.gen_range(0..items.len())]
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-20T10:15:00+09:00").unwrap()
    }

    fn batch(seed: u64, count: usize) -> Vec<Application> {
        let mut generator = Generator::new(seed);
        (0..count)
            .map(|_| generator.application(now(), 400))
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_applications() {
        assert_eq!(batch(42, 200), batch(42, 200));
    }

    #[test]
    fn another_seed_gives_other_applications() {
        assert_ne!(batch(42, 50), batch(43, 50));
    }

    #[test]
    fn ids_and_emails_are_unique_ignoring_case() {
        let apps = batch(7, 2_000);
        let ids: HashSet<_> = apps.iter().map(|a| a.id.clone()).collect();
        let cands: HashSet<_> = apps.iter().map(|a| a.candidate.id.clone()).collect();
        let emails: HashSet<_> = apps
            .iter()
            .map(|a| a.candidate.email.to_lowercase())
            .collect();
        assert_eq!(ids.len(), apps.len());
        assert_eq!(cands.len(), apps.len());
        assert_eq!(emails.len(), apps.len());
    }

    #[test]
    fn applications_fall_within_the_window_in_jst() {
        let earliest = now() - Duration::days(400);
        for app in batch(1, 500) {
            assert!(app.applied_at <= now() && app.applied_at > earliest);
            assert_eq!(app.applied_at.offset().local_minus_utc(), 9 * 3600);
        }
    }

    #[test]
    fn the_data_has_the_expected_variety_and_forms() {
        let apps = batch(42, 500);
        assert!(apps
            .iter()
            .any(|a| a.candidate.email.contains("@Example.jp")));
        assert!(apps
            .iter()
            .any(|a| a.candidate.email.ends_with("@example.jp")));
        assert!(apps.iter().any(|a| a.channel == Channel::Scout));
        assert!(apps.iter().any(|a| a.channel == Channel::Direct));
        for status in STATUS_WEIGHTS.iter().map(|&(s, _)| s) {
            assert!(apps.iter().any(|a| a.status == status), "{status:?}");
        }
        for app in &apps {
            let c = &app.candidate;
            assert_eq!(c.name.split(' ').count(), 2, "{}", c.name);
            assert!(c.phone.starts_with("090-") && c.phone.len() == 13);
            let age = c.attributes["age"].as_i64().unwrap();
            let years = c.attributes["years_of_experience"].as_i64().unwrap();
            assert!((22..=60).contains(&age) && years <= age - 22);
            assert!(c.attributes["current_company"].is_string());
        }
    }

    #[test]
    fn group_accounts_are_numbered_and_named_after_offices() {
        let groups = Generator::group_accounts(10);
        assert_eq!(groups[0].id, "grp-001");
        assert_eq!(groups[0].name, "株式会社サンプル 東京本社");
        assert_eq!(groups[9].id, "grp-010");
        assert_eq!(groups[9].name, "株式会社サンプル 第10拠点");
        let emails: HashSet<_> = groups.iter().map(|g| &g.admin_email).collect();
        assert_eq!(emails.len(), 10);
    }
}
