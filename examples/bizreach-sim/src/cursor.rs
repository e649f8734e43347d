//! The opaque `next_cursor` of the applications list.
//!
//! A cursor is the key of the last application of the page, (applied_at, id), bound to
//! its group account and written in hex so clients cannot read meaning into it. Paging
//! by key rather than by offset keeps pages stable while applications are added.

use std::fmt::Write as _;

use crate::error::SimError;

/// Where a page ends: the sort key of its last application.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PageKey {
    /// `applied_at` as Unix seconds (applications are stored with whole seconds).
    pub applied_at: i64,
    /// The application id, which breaks ties.
    pub id: String,
}

const VERSION: &str = "c1";

/// Writes the cursor that continues after `key` in `group_id`.
pub fn encode(group_id: &str, key: &PageKey) -> String {
    let plain = format!("{VERSION}\n{group_id}\n{}\n{}", key.applied_at, key.id);
    plain.bytes().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// Reads a cursor given for `group_id`; anything else is a 400 naming `cursor`.
pub fn decode(group_id: &str, cursor: &str) -> Result<PageKey, SimError> {
    let invalid = || SimError::parameter("cursor", "not a cursor from this list");
    if !cursor.len().is_multiple_of(2) || !cursor.is_ascii() {
        return Err(invalid());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| invalid())?;
    let plain = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = plain.split('\n');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(VERSION), Some(group), Some(at), Some(id)) if group == group_id && !id.is_empty() => {
            Ok(PageKey {
                applied_at: at.parse().map_err(|_| invalid())?,
                id: id.to_owned(),
            })
        }
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PageKey {
        PageKey {
            applied_at: 1_795_000_000,
            id: "br-app-000042".into(),
        }
    }

    #[test]
    fn a_cursor_reads_back_as_its_key() {
        let cursor = encode("grp-001", &key());
        assert!(cursor.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(decode("grp-001", &cursor).unwrap(), key());
    }

    #[test]
    fn a_cursor_of_another_group_is_rejected() {
        let cursor = encode("grp-001", &key());
        assert!(decode("grp-002", &cursor).is_err());
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in [
            "",
            "zz",
            "abc",
            "日本",
            "6331",
            &encode("grp-001", &key())[2..],
        ] {
            assert!(decode("grp-001", bad).is_err(), "{bad}");
        }
    }
}
