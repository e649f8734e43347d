//! CSV for BI tools (C8): RFC 4180 quoting, CRLF line ends, and text that came from outside
//! (a stage, a reason, a tag) which a spreadsheet would run as a formula prefixed with `'`.
//! Values hirelay formats itself (ids, numbers, times) are written as they are. A download is
//! written a chunk of rows at a time ([`chunks`]) and, for Excel, starts with a byte order mark
//! so that it reads Japanese text as UTF-8.

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

/// The UTF-8 byte order mark: Excel reads a CSV file that starts with it as UTF-8 (without it,
/// as the system's legacy code page, which garbles Japanese).
pub const BOM: &str = "\u{feff}";

/// How many rows a chunk of a streamed CSV holds.
pub const ROWS_PER_CHUNK: usize = 500;

/// A CSV document as chunks to stream: the header (after a [`BOM`] when `bom`), then
/// [`ROWS_PER_CHUNK`] items at a time, each written as a row by `row`. Each chunk is formatted
/// only when the download asks for it.
pub fn chunks<T: 'static>(
    header: &'static [&'static str],
    items: Vec<T>,
    bom: bool,
    row: fn(&mut Csv, &T),
) -> impl Iterator<Item = String> + 'static {
    let mut head = Some(if bom {
        format!("{BOM}{}", Csv::new(header).finish())
    } else {
        Csv::new(header).finish()
    });
    let mut items = items.into_iter();
    std::iter::from_fn(move || {
        if let Some(head) = head.take() {
            return Some(head);
        }
        let mut csv = Csv { out: String::new() };
        for item in items.by_ref().take(ROWS_PER_CHUNK) {
            row(&mut csv, &item);
        }
        (!csv.out.is_empty()).then_some(csv.out)
    })
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

    /// C8: a streamed document is the header (after the BOM for Excel) and rows in chunks,
    /// the same bytes as written at once.
    #[test]
    fn c8_a_streamed_csv_is_the_same_document_in_chunks() {
        let items: Vec<usize> = (0..ROWS_PER_CHUNK + 1).collect();
        let row = |csv: &mut Csv, i: &usize| csv.row(&[Field::Value(i.to_string())]);
        let parts: Vec<String> = chunks(&["n"], items.clone(), false, row).collect();
        assert_eq!(parts.len(), 3, "the header and two chunks");
        let mut whole = Csv::new(&["n"]);
        for i in &items {
            row(&mut whole, i);
        }
        assert_eq!(parts.concat(), whole.finish());
        let excel: Vec<String> = chunks(&["n"], Vec::<usize>::new(), true, row).collect();
        assert_eq!(excel, ["\u{feff}n\r\n"]);
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
