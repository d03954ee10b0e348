//! JSON text as Python's `json.dumps` writes it by default (separators `", "` and
//! `": "`, non-ASCII kept), which is what `flux submit --dry-run` and other Python
//! commands print.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// A serde_json formatter using Python's default separators.
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// Serialize `value` on one line with Python's default separators.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let mut ser = Serializer::with_formatter(&mut out, PythonFormatter);
    value.serialize(&mut ser)?;
    // serde_json only ever writes valid UTF-8.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn python_separators() {
        let v = json!({"a": [1, 2, {"b": "ƒ"}], "c": {}, "d": []});
        assert_eq!(
            super::to_string(&v).unwrap(),
            r#"{"a": [1, 2, {"b": "ƒ"}], "c": {}, "d": []}"#
        );
    }
}
