//! CSV for BI tools (C8): RFC 4180 quoting, CRLF line ends, and text that came from outside
//! (a stage, a reason, a tag) which a spreadsheet would run as a formula prefixed with `'`.
//! Values hirelay formats itself (ids, numbers, times) are written as they are.

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
                Field::Text(text) if text.starts_with(['=', '+', '-', '@', '\t', '\r']) => {
                    format!("'{text}")
                }
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
}
