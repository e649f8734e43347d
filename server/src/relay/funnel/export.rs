//! C8: the funnel's CSV export for BI, one row per rejection with the time of each step.
use chrono::TimeZone;

use crate::domain::time::jst;
use crate::export::{Csv, Field};
use crate::store::referrals::Rejection;

/// The columns of the CSV export.
const EXPORT_HEADER: [&str; 7] = [
    "application_id",
    "rejected_at",
    "stage",
    "reason",
    "invitation_sent_at",
    "link_clicked_at",
    "registered_at",
];

/// The CSV export (C8: for BI): one row per rejection of the period with the time of each step
/// it reached (RFC 3339, JST). No names or addresses. Chunks to stream (see
/// [`crate::export::chunks`]), after a byte order mark for Excel when `bom`.
pub fn export_csv(rejections: Vec<Rejection>, bom: bool) -> impl Iterator<Item = String> {
    crate::export::chunks(&EXPORT_HEADER, rejections, bom, export_row)
}

fn export_row(csv: &mut Csv, r: &Rejection) {
    let time = |at: Option<i64>| {
        Field::Value(
            at.and_then(|at| jst().timestamp_millis_opt(at).single())
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
                .unwrap_or_default(),
        )
    };
    csv.row(&[
        Field::Value(r.application_id.clone()),
        time(Some(r.rejected_at)),
        Field::Text(r.stage.as_deref().unwrap_or_default()),
        Field::Text(r.reason.as_deref().unwrap_or_default()),
        time(r.invitation_sent_at),
        time(r.link_clicked_at),
        time(r.registered_at),
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::funnel::tests::{rejection, NOV_1};

    /// C8: the export has a row per rejection, no personal data, and quotes and neutralises
    /// what a spreadsheet would misread (see `export`).
    #[test]
    fn c8_the_export_is_csv_a_spreadsheet_opens_safely() {
        let mut r = rejection("app_1", NOV_1, "=HYPERLINK(\"x\")", 1);
        r.reason = Some("経験, 不足".into());
        let csv: String = export_csv(vec![r], false).collect();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(lines[0].starts_with("application_id,rejected_at,stage,reason"));
        assert_eq!(
            lines[1],
            "app_1,2026-11-01T00:00:00+09:00,\"'=HYPERLINK(\"\"x\"\")\",\"経験, 不足\",2026-11-01T00:00:00+09:00,,"
        );
        assert_eq!(lines.len(), 3, "header, one row, the final line break");
    }
}
