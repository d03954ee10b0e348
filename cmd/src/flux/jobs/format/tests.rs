//! Unit tests of the format engine.

use std::collections::HashMap;

use super::convert::hms;
use super::spec::format_g;
use super::*;

struct Map(HashMap<&'static str, Value>);

impl Row for Map {
    fn get(&self, name: &str) -> Value {
        self.0.get(name).cloned().unwrap_or(Value::Empty)
    }
}

fn row(pairs: &[(&'static str, Value)]) -> Map {
    Map(pairs.iter().cloned().collect())
}

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

fn any(_: &str) -> bool {
    true
}

fn one(fmt: &str, r: &Map) -> String {
    let f = Format::parse(fmt, &any).unwrap();
    f.render(None, &[r as &dyn Row]).remove(0)
}

#[test]
fn python_specs() {
    let r = row(&[
        ("name", s("sleep")),
        ("long", s("averyverylongname")),
        ("n", Value::Int(42)),
        ("t", Value::Float(1.5)),
        ("zero", Value::Int(0)),
        ("big", Value::Int(1234567)),
    ]);
    assert_eq!(one("[{name:<8}]", &r), "[sleep   ]");
    assert_eq!(one("[{name:>8}]", &r), "[   sleep]");
    assert_eq!(one("[{name:^9}]", &r), "[  sleep  ]");
    assert_eq!(one("[{name:*<7}]", &r), "[sleep**]");
    assert_eq!(one("[{n:6}]", &r), "[    42]");
    assert_eq!(one("[{n:<6}]", &r), "[42    ]");
    assert_eq!(one("[{n:06}]", &r), "[000042]");
    assert_eq!(one("[{t:.3f}]", &r), "[1.500]");
    assert_eq!(one("[{t}]", &r), "[1.5]");
    assert_eq!(one("[{big:,}]", &r), "[1,234,567]");
    assert_eq!(one("[{long:<10.10}]", &r), "[averyveryl]");
    assert_eq!(one("[{long:<10.10+}]", &r), "[averyvery+]");
    assert_eq!(one("[{name:<10.10+}]", &r), "[sleep     ]");
    assert_eq!(one("{{literal}} {n}", &r), "{literal} 42");
}

#[test]
fn h_suffix_and_conversions() {
    let r = row(&[
        ("zero", Value::Float(0.0)),
        ("run", Value::Float(6.5931)),
        ("long", Value::Float(3725.0)),
        ("none", Value::Empty),
        ("nn", Value::Int(2)),
        ("pct", Value::Float(0.5)),
    ]);
    assert_eq!(one("[{none:>6h}]", &r), "[     -]");
    assert_eq!(one("[{nn:>6h}]", &r), "[     2]");
    assert_eq!(one("[{zero!F:>8h}]", &r), "[       -]");
    assert_eq!(one("[{run!F:>8h}]", &r), "[  6.593s]");
    assert_eq!(one("[{long!F}]", &r), "[1.035h]");
    assert_eq!(one("[{long!H}]", &r), "[1:02:05]");
    assert_eq!(one("[{zero!H:h}]", &r), "[-]");
    assert_eq!(one("[{pct!P}]", &r), "[50%]");
    assert_eq!(one("[{none!d:%b%d %R::>12h}]", &r), "[           -]");
    let dated = one("{long!d:%Y::>6}", &r);
    assert_eq!(dated, "  1970");
    assert_eq!(fsd(0.0), "0s");
    assert_eq!(fsd(90.0), "1.5m");
    assert_eq!(fsd(f64::INFINITY), "inf");
    assert_eq!(fsd(0.0004), "0s");
    assert_eq!(fsd(0.0123), "0.012s");
    assert_eq!(fsd(12.3456), "12.35s");
    assert_eq!(hms(90061.0), "1 day, 1:01:01");
    assert_eq!(format_g(1234.5678, 4), "1235");
    assert_eq!(format_g(0.000012345, 3), "1.23e-05");
}

#[test]
fn columns_drop_and_widen() {
    let a = row(&[("id", s("ƒ1")), ("queue", s("")), ("user", s("alice"))]);
    let b = row(&[
        ("id", s("ƒ22")),
        ("queue", s("")),
        ("user", s("bartholomew")),
    ]);
    let f = Format::parse("{id:>4} ?:{queue:<8.8} +:{user:<6} end", &any).unwrap();
    let headings: HashMap<&str, &str> = [("id", "JOBID"), ("queue", "QUEUE"), ("user", "USER")]
        .into_iter()
        .collect();
    let lines = f.render(Some(&headings), &[&a as &dyn Row, &b]);
    assert_eq!(
        lines,
        [
            "JOBID USER        end",
            "  ƒ1 alice       end",
            " ƒ22 bartholomew end"
        ]
    );
    let c = row(&[("id", s("ƒ3")), ("queue", s("batch")), ("user", s("al"))]);
    let lines = f.render(None, &[&c as &dyn Row]);
    assert_eq!(lines, ["  ƒ3 batch    al     end"]);
}

#[test]
fn bad_formats_are_refused() {
    let known = |n: &str| n == "id";
    assert_eq!(
        Format::parse("{id} {bogus}", &known),
        Err(FormatError::UnknownField("bogus".into()))
    );
    assert!(matches!(
        Format::parse("{id", &known),
        Err(FormatError::Braces(_))
    ));
    assert!(matches!(
        Format::parse("{id!X}", &known),
        Err(FormatError::Conversion(_))
    ));
    assert!(matches!(
        Format::parse("{id:>>>}", &known),
        Err(FormatError::Spec(_))
    ));
    assert!(Format::parse("{id:>12} x", &known).is_ok());
}
