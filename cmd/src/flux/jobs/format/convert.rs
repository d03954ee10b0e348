//! Flux's conversions: `!F` (FSD), `!H` (h:mm:ss), `!d`/`!D` (dates), `!P` (percent), and
//! the values the `h` suffix prints as `-`.

use super::Value;
use super::spec::format_g;

/// Flux Standard Duration as Flux's tools print it (`6.593s`, `1.5m`, `0s`, `inf`).
pub fn fsd(secs: f64) -> String {
    if secs.is_infinite() {
        return "inf".into();
    }
    if secs < 1.0e-3 {
        "0s".into()
    } else if secs < 10.0 {
        format!("{secs:.3}s")
    } else if secs < 60.0 {
        format!("{}s", format_g(secs, 4))
    } else if secs < 3600.0 {
        format!("{}m", format_g(secs / 60.0, 4))
    } else if secs < 86400.0 {
        format!("{}h", format_g(secs / 3600.0, 4))
    } else {
        format!("{}d", format_g(secs / 86400.0, 4))
    }
}

/// `str(timedelta(seconds=round(secs)))`: `1:02:03`, `2 days, 0:00:01`.
pub fn hms(secs: f64) -> String {
    let secs = if secs > 0.0 && secs < 1.0 { 1.0 } else { secs };
    let total = secs.round().max(0.0) as u64;
    let (days, rest) = (total / 86400, total % 86400);
    let clock = format!("{}:{:02}:{:02}", rest / 3600, rest / 60 % 60, rest % 60);
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        d => format!("{d} days, {clock}"),
    }
}

pub(super) fn strftime(t: f64, fmt: &str) -> String {
    use chrono::{Local, TimeZone};
    let secs = t.floor() as i64;
    let nanos = ((t - t.floor()) * 1e9) as u32;
    match Local.timestamp_opt(secs, nanos).single() {
        Some(dt) => dt.format(fmt).to_string(),
        None => String::new(),
    }
}

/// Apply a conversion; `spec` may lose its strftime part (`!d`).
pub(super) fn convert(value: Value, conv: char, spec: &str) -> (Value, String) {
    if value == Value::Empty || value == Value::Str(String::new()) {
        let rest = spec.split_once("::").map_or(spec, |(_, r)| r);
        let rest = if conv == 'd' && !spec.contains("::") && spec.contains('%') {
            ""
        } else {
            rest
        };
        return (Value::Empty, rest.to_string());
    }
    let num = value.as_f64();
    let text = |v: String| Value::Str(v);
    match (conv, num) {
        ('F', Some(f)) => (text(fsd(f)), spec.to_string()),
        ('H', Some(f)) => (text(hms(f)), spec.to_string()),
        ('P', Some(f)) => {
            let pct = f * 100.0;
            let t = if pct > 0.0 && pct < 1.0 {
                format!("{pct:.2}%")
            } else {
                format!("{}%", format_g(pct, 3))
            };
            (text(t), spec.to_string())
        }
        ('D', Some(0.0)) => (Value::Empty, spec.to_string()),
        ('D', Some(f)) => (text(strftime(f, "%FT%T")), spec.to_string()),
        ('d', Some(f)) => {
            let (fmt, rest) = match spec.split_once("::") {
                Some((fmt, rest)) => (fmt, rest),
                None if spec.contains('%') => (spec, ""),
                None => ("%FT%T", spec),
            };
            let shown = if f == 0.0 {
                String::new()
            } else {
                strftime(f, fmt)
            };
            (text(shown), rest.to_string())
        }
        _ => (text(value.text()), spec.to_string()),
    }
}

/// Values `h` prints as `-`.
pub(super) fn is_base_case(s: &str) -> bool {
    matches!(s, "" | "0s" | "0.0" | "0:00:00" | "1970-01-01T00:00:00")
        || s == strftime(0.0, "%FT%T")
}
