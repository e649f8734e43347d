//! Issue 19 item 4: which edits of rule scripts and templates win, the files on disk or the
//! admin API (`HIRELAY_RULES_SOURCE`).

/// Where rule scripts and templates are edited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RulesSource {
    /// The files on disk always run: a file differing from the running version is taken, and
    /// the API refuses edits.
    Files,
    /// The API edits; a file only seeds a script or template the database does not have.
    Api,
    /// Both: a file is taken when its content changed since it was last taken, so an API edit
    /// stays until that very file changes.
    #[default]
    Both,
}

/// What to do with a file's content, given what the database holds of the same document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileVerdict {
    /// Save it as the newest version.
    Take,
    /// Leave the database as it is.
    Ignore,
}

/// What the database holds of one document, as content hashes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Held<'a> {
    /// The newest version, whatever its origin.
    pub latest: Option<&'a str>,
    /// The newest version that came from a file.
    pub latest_file: Option<&'a str>,
}

impl RulesSource {
    /// Whether a file whose content hashes to `file` is taken as a new version.
    pub fn judge(self, file: &str, held: Held<'_>) -> FileVerdict {
        let take = match self {
            RulesSource::Api => held.latest.is_none(),
            RulesSource::Files => held.latest != Some(file),
            RulesSource::Both => held.latest_file != Some(file) && held.latest != Some(file),
        };
        if take {
            FileVerdict::Take
        } else {
            FileVerdict::Ignore
        }
    }

    /// Whether the admin API may save or roll back versions.
    pub fn api_edits(self) -> bool {
        self != RulesSource::Files
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RulesSource::Files => "files",
            RulesSource::Api => "api",
            RulesSource::Both => "both",
        }
    }
}

impl std::str::FromStr for RulesSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "files" => Ok(RulesSource::Files),
            "api" => Ok(RulesSource::Api),
            "both" => Ok(RulesSource::Both),
            other => Err(format!("must be `files`, `api` or `both`, not `{other}`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FileVerdict::{Ignore, Take};

    const NONE: Held<'static> = Held {
        latest: None,
        latest_file: None,
    };
    /// The file was taken as "a", then someone saved "b" through the API.
    const EDITED: Held<'static> = Held {
        latest: Some("b"),
        latest_file: Some("a"),
    };

    #[test]
    fn every_mode_seeds_a_document_the_database_lacks() {
        for mode in [RulesSource::Files, RulesSource::Api, RulesSource::Both] {
            assert_eq!(mode.judge("a", NONE), Take, "{mode:?}");
        }
    }

    #[test]
    fn both_keeps_an_api_edit_until_that_file_changes() {
        assert_eq!(RulesSource::Both.judge("a", EDITED), Ignore);
        assert_eq!(RulesSource::Both.judge("c", EDITED), Take);
        assert_eq!(RulesSource::Both.judge("b", EDITED), Ignore);
    }

    #[test]
    fn files_always_run_what_is_on_disk() {
        assert_eq!(RulesSource::Files.judge("a", EDITED), Take);
        let same = Held {
            latest: Some("a"),
            latest_file: Some("a"),
        };
        assert_eq!(RulesSource::Files.judge("a", same), Ignore);
        assert!(!RulesSource::Files.api_edits());
    }

    #[test]
    fn api_ignores_files_once_seeded() {
        assert_eq!(RulesSource::Api.judge("c", EDITED), Ignore);
        assert!(RulesSource::Api.api_edits() && RulesSource::Both.api_edits());
    }

    #[test]
    fn parses_the_three_modes_and_names_the_allowed_ones() {
        assert_eq!("api".parse(), Ok(RulesSource::Api));
        assert!("disk"
            .parse::<RulesSource>()
            .unwrap_err()
            .contains("`files`, `api` or `both`"));
    }
}
