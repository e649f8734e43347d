//! CSV for BI tools (C8): RFC 4180 quoting, CRLF line ends, and text that came from outside
//! (a stage, a reason, a tag) which a spreadsheet would run as a formula prefixed with `'`.
//! Values hirelay formats itself (ids, numbers, times) are written as they are.

/// What a spreadsheet may take for the start of a formula: the ASCII signs and their
/// full-width forms, which Japanese input methods type and some spreadsheets also accept.
const FORMULA_SIGNS: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];

/// Whether a spreadsheet could run `text` as a formula: it starts with a control character, or
/// with a formula sign once leading blanks (which spreadsheets skip) are set aside.
fn runs_as_formula(text: &str) -> bool {
    text.starts_with(['\t', '\r', '\n'])
        || text
            .trim_start_matches([' ', '\u{3000}'])
            .starts_with(FORMULA_SIGNS)
}

/// One field of a row.
pub enum Field<'a> {
    /// Text from outside: guarded against formulas.
    Text(&'a str),
    /// A value hirelay formatted (a number may start with `-`).
    Value(String),
}

/// A CSV document, built a row at a time.
pub struct Csv {
    out: String,
}

impl Csv {
    pub fn new(header: &[&str]) -> Csv {
        let mut csv = Csv { out: String::new() };
        let header: Vec<Field> = header
            .iter()
            .map(|h| Field::Value((*h).to_owned()))
            .collect();
        csv.row(&header);
        csv
    }

    pub fn row(&mut self, fields: &[Field<'_>]) {
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            let value = match field {
                Field::Text(text) if runs_as_formula(text) => format!("'{text}"),
                Field::Text(text) => (*text).to_owned(),
                Field::Value(value) => value.clone(),
            };
            if value.contains([',', '"', '\r', '\n']) {
                self.out.push('"');
                self.out.push_str(&value.replace('"', "\"\""));
                self.out.push('"');
            } else {
                self.out.push_str(&value);
            }
        }
        self.out.push_str("\r\n");
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// C8: quoted where RFC 4180 needs it; outside text that a spreadsheet would run is
    /// neutralised, a negative number of hirelay's is not.
    #[test]
    fn c8_fields_are_quoted_and_formulas_neutralised() {
        let mut csv = Csv::new(&["a", "b", "c"]);
        csv.row(&[
            Field::Text("=HYPERLINK(\"x\")"),
            Field::Text("経験, 不足"),
            Field::Value("-1.5".into()),
        ]);
        assert_eq!(
            csv.finish(),
            "a,b,c\r\n\"'=HYPERLINK(\"\"x\"\")\",\"経験, 不足\",-1.5\r\n"
        );
    }

    /// Issue 18: blanks before a sign, and the full-width signs, are guarded too; text that
    /// merely contains a sign is not.
    #[test]
    fn formulas_behind_blanks_and_in_full_width_are_neutralised() {
        for text in [
            " =1+1",
            "\t=1+1",
            "  +cmd",
            "\u{3000}-1",
            "＝HYPERLINK(\"x\")",
            "＋1",
            "－1",
            "＠SUM(A1)",
            " ＠x",
            "\r=x",
            "\n=x",
        ] {
            assert!(runs_as_formula(text), "{text:?}");
            let mut csv = Csv::new(&["a"]);
            csv.row(&[Field::Text(text)]);
            let line = csv.finish();
            let field = line.split("\r\n").nth(1).unwrap();
            assert!(
                field.trim_start_matches('"').starts_with('\''),
                "{text:?}: {line:?}"
            );
        }
        for text in ["スキル=ミスマッチ", "a-b", "一次面接", " 不足", ""] {
            assert!(!runs_as_formula(text), "{text:?}");
        }
    }
}
