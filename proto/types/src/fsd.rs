//! Flux Standard Duration (RFC 23): `N[SUFFIX]` with suffix `ms`, `s`, `m`, `h` or `d`,
//! no suffix meaning seconds, and `inf`/`infinity` for unlimited.
//!
//! Parsing and formatting follow flux-core's `fsd_parse_duration` and
//! `fsd_format_duration_ex`.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Why a string is not a valid FSD, or a value cannot be formatted as one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FsdError {
    /// Not a number followed by an optional unit.
    #[error("invalid duration '{0}'")]
    Syntax(String),
    /// Unknown unit suffix.
    #[error("invalid duration unit '{unit}' in '{input}' (expected ms, s, m, h or d)")]
    Unit {
        /// The whole input.
        input: String,
        /// The unrecognized suffix.
        unit: String,
    },
    /// Units are not allowed after `inf`.
    #[error("invalid duration '{0}': no unit allowed after infinity")]
    InfiniteWithUnit(String),
    /// Negative or NaN.
    #[error("duration must be a non-negative number, got {0}")]
    Negative(String),
}

/// A non-negative duration in seconds (possibly infinite), with FSD `Display`/`FromStr`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Fsd(f64);

impl Fsd {
    /// Unlimited.
    pub const INFINITY: Fsd = Fsd(f64::INFINITY);

    /// A duration of `secs` seconds; errors if negative or NaN.
    pub fn from_secs(secs: f64) -> Result<Self, FsdError> {
        if secs.is_nan() || secs < 0.0 {
            return Err(FsdError::Negative(secs.to_string()));
        }
        Ok(Fsd(secs))
    }

    /// Seconds (may be infinite).
    pub fn secs(self) -> f64 {
        self.0
    }

    /// True for `inf`.
    pub fn is_infinite(self) -> bool {
        self.0.is_infinite()
    }

    /// Format with `precision` significant digits (flux-core uses 6 by default and 2
    /// for compact displays such as `flux uptime`).
    pub fn format_with_precision(self, precision: usize) -> String {
        let d = self.0;
        if d.is_infinite() {
            return "infinity".to_string();
        }
        // Very small durations read better in ms (62.1ms rather than 0.0621s).
        if d < 0.1 && d != 0.0 {
            format!("{}ms", format_g(d * 1000.0, precision))
        } else if d < 60.0 {
            format!("{}s", format_g(d, precision))
        } else if d < 3600.0 {
            format!("{}m", format_g(d / 60.0, precision))
        } else if d < 86400.0 {
            format!("{}h", format_g(d / 3600.0, precision))
        } else {
            format!("{}d", format_g(d / 86400.0, precision))
        }
    }
}

/// Parse an FSD string into seconds (`f64::INFINITY` for `inf`).
pub fn parse(s: &str) -> Result<f64, FsdError> {
    let (number, unit) = split_number(s).ok_or_else(|| FsdError::Syntax(s.to_string()))?;
    let d: f64 = number
        .trim_start()
        .parse()
        .map_err(|_| FsdError::Syntax(s.to_string()))?;
    if d.is_nan() || d < 0.0 {
        return Err(FsdError::Negative(s.to_string()));
    }
    if unit.is_empty() {
        return Ok(d);
    }
    if d.is_infinite() {
        return Err(FsdError::InfiniteWithUnit(s.to_string()));
    }
    let multiplier = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => {
            return Err(FsdError::Unit {
                input: s.to_string(),
                unit: unit.to_string(),
            });
        }
    };
    Ok(d * multiplier)
}

/// Format seconds as FSD with 6 significant digits, like `fsd_format_duration`.
pub fn format(secs: f64) -> Result<String, FsdError> {
    Ok(Fsd::from_secs(secs)?.to_string())
}

/// Parse a `-t/--time-limit` value: a bare number means minutes, anything else is FSD.
pub fn parse_time_limit(s: &str) -> Result<f64, FsdError> {
    let d = parse(s)?;
    let bare = split_number(s).is_some_and(|(_, unit)| unit.is_empty());
    Ok(if bare { d * 60.0 } else { d })
}

/// Split at the end of the longest `strtod`-style decimal prefix (leading whitespace,
/// sign, digits, fraction, exponent, or `inf`/`infinity`/`nan`).
fn split_number(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let rest = &b[i..];
    for word in ["infinity", "inf", "nan"] {
        let w = word.as_bytes();
        // Byte comparison: `word` is ASCII, so a match ends on a char boundary.
        if rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w) {
            return Some(s.split_at(i + word.len()));
        }
    }
    let digits = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let int_end = digits(i);
    let mut end = int_end;
    let mut frac_digits = 0;
    if end < b.len() && b[end] == b'.' {
        let frac_end = digits(end + 1);
        frac_digits = frac_end - end - 1;
        end = frac_end;
    }
    if int_end == i && frac_digits == 0 {
        return None;
    }
    // An exponent counts only if it has digits (`1e` is `1` followed by `e`).
    if end < b.len() && (b[end] == b'e' || b[end] == b'E') {
        let mut j = end + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let exp_end = digits(j);
        if exp_end > j {
            end = exp_end;
        }
    }
    Some(s.split_at(end))
}

/// C `printf("%.*g", precision, v)` for finite non-negative `v`.
fn format_g(v: f64, precision: usize) -> String {
    let p = precision.max(1);
    if v == 0.0 {
        return "0".to_string();
    }
    // Round to p significant digits first: the exponent after rounding picks the style.
    let sci = format!("{:.*e}", p - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let mantissa = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        // exp in [-4, p), so the decimals count is non-negative.
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

/// Drop trailing fractional zeros and a trailing `.`, as `%g` does.
fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

impl fmt::Display for Fsd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format_with_precision(f.precision().unwrap_or(6)))
    }
}

impl FromStr for Fsd {
    type Err = FsdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s).map(Fsd)
    }
}

impl TryFrom<f64> for Fsd {
    type Error = FsdError;

    fn try_from(secs: f64) -> Result<Self, Self::Error> {
        Fsd::from_secs(secs)
    }
}

impl From<Fsd> for f64 {
    fn from(d: Fsd) -> f64 {
        d.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parse_units() {
        assert_eq!(parse("1.5s"), Ok(1.5));
        assert_eq!(parse("2m"), Ok(120.0));
        assert_eq!(parse("1h"), Ok(3600.0));
        assert_eq!(parse("3d"), Ok(259200.0));
        assert_eq!(parse("10"), Ok(10.0));
        assert_eq!(parse("500ms"), Ok(0.5));
        assert_eq!(parse("0"), Ok(0.0));
        assert_eq!(parse(".5m"), Ok(30.0));
        assert_eq!(parse("1e2s"), Ok(100.0));
        assert_eq!(
            parse("1e"),
            Err(FsdError::Unit {
                input: "1e".into(),
                unit: "e".into()
            })
        );
        assert_eq!(parse("inf"), Ok(f64::INFINITY));
        assert_eq!(parse("infinity"), Ok(f64::INFINITY));
        assert_eq!(parse("INF"), Ok(f64::INFINITY));
        assert_eq!(parse("  5s"), Ok(5.0));
    }

    #[test]
    fn parse_errors() {
        assert!(matches!(parse(""), Err(FsdError::Syntax(_))));
        assert!(matches!(parse("s"), Err(FsdError::Syntax(_))));
        assert!(matches!(parse("abc"), Err(FsdError::Syntax(_))));
        assert!(matches!(parse("-1"), Err(FsdError::Negative(_))));
        assert!(matches!(parse("nan"), Err(FsdError::Negative(_))));
        assert!(matches!(parse("1x"), Err(FsdError::Unit { .. })));
        assert!(matches!(parse("1S"), Err(FsdError::Unit { .. })));
        assert!(matches!(parse("1 s"), Err(FsdError::Unit { .. })));
        assert!(matches!(parse("infs"), Err(FsdError::InfiniteWithUnit(_))));
    }

    #[test]
    fn format_like_flux() {
        let f = |secs: f64| format(secs).unwrap();
        assert_eq!(f(0.0), "0s");
        assert_eq!(f(1.5), "1.5s");
        assert_eq!(f(0.0621), "62.1ms");
        assert_eq!(f(59.0), "59s");
        assert_eq!(f(60.0), "1m");
        assert_eq!(f(90.0), "1.5m");
        assert_eq!(f(3600.0), "1h");
        assert_eq!(f(86400.0 * 3.0), "3d");
        assert_eq!(f(f64::INFINITY), "infinity");
        assert_eq!(f(1.0 / 3.0), "0.333333s");
        assert_eq!(f(1e-8), "1e-05ms");
        assert_eq!(f(86400.0 * 1e7), "1e+07d");
        assert!(format(-1.0).is_err());
        assert!(format(f64::NAN).is_err());
        assert_eq!(format!("{:.2}", Fsd::from_secs(96.0).unwrap()), "1.6m");
        assert_eq!(
            Fsd::from_secs(4000.0).unwrap().format_with_precision(2),
            "1.1h"
        );
    }

    #[test]
    fn time_limit_bare_number_is_minutes() {
        assert_eq!(parse_time_limit("10"), Ok(600.0));
        assert_eq!(parse_time_limit("1.5"), Ok(90.0));
        assert_eq!(parse_time_limit("10s"), Ok(10.0));
        assert_eq!(parse_time_limit("2h"), Ok(7200.0));
        assert_eq!(parse_time_limit("inf"), Ok(f64::INFINITY));
    }

    #[test]
    fn fsd_type() {
        let d: Fsd = "2m".parse().unwrap();
        assert_eq!(d.secs(), 120.0);
        assert_eq!(d.to_string(), "2m");
        assert!(Fsd::INFINITY.is_infinite());
        assert!(Fsd::try_from(-0.5).is_err());
        assert_eq!(f64::from(d), 120.0);
    }

    proptest! {
        #[test]
        fn format_parses_back_close(secs in 0.0f64..1e9) {
            let s = format(secs).unwrap();
            let back = parse(&s).unwrap();
            // 6 significant digits survive.
            prop_assert!((back - secs).abs() <= secs * 1e-5 + 1e-9, "{} -> {} -> {}", secs, s, back);
        }

        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = parse(&s);
            let _ = parse_time_limit(&s);
        }
    }
}
