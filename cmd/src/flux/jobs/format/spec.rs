//! Python's format spec mini-language (`[[fill]align][0][width][,][.precision][type]`) for
//! the values rows give, and `%g`.

use super::{FormatError, Value};

/// Python format spec, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Spec {
    pub(super) fill: Option<char>,
    pub(super) align: Option<char>,
    pub(super) zero: bool,
    pub(super) width: usize,
    pub(super) grouping: bool,
    pub(super) precision: Option<usize>,
    pub(super) kind: Option<char>,
}

pub(super) fn parse_spec(text: &str) -> Result<Spec, FormatError> {
    let bad = || FormatError::Spec(text.to_string());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut spec = Spec::default();
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        spec.fill = Some(chars[0]);
        spec.align = Some(chars[1]);
        i = 2;
    } else if chars.first().is_some_and(|c| is_align(*c)) {
        spec.align = Some(chars[0]);
        i = 1;
    }
    if chars.get(i).is_some_and(|c| matches!(c, '+' | '-' | ' ')) {
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        spec.zero = true;
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        chars[start..*i]
            .iter()
            .collect::<String>()
            .parse::<usize>()
            .ok()
    };
    spec.width = digits(&mut i).unwrap_or(0);
    if chars.get(i).is_some_and(|c| matches!(c, ',' | '_')) {
        spec.grouping = true;
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        spec.precision = Some(digits(&mut i).ok_or_else(bad)?);
    }
    if let Some(c) = chars.get(i) {
        if !"sdfFeEgG%xXob".contains(*c) {
            return Err(bad());
        }
        spec.kind = Some(*c);
        i += 1;
    }
    if i != chars.len() {
        return Err(bad());
    }
    Ok(spec)
}

fn group_thousands(digits: &str) -> String {
    let (sign, digits) = digits.strip_prefix('-').map_or(("", digits), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// Python's `format(value, spec)` for the types rows give.
pub(super) fn format_value(value: &Value, spec: &Spec) -> String {
    let numeric = matches!(value, Value::Int(_) | Value::Float(_));
    let body = match (value, spec.kind) {
        (Value::Int(i), None | Some('d')) => {
            let s = i.to_string();
            if spec.grouping {
                group_thousands(&s)
            } else {
                s
            }
        }
        (Value::Int(i), Some('x')) => format!("{i:x}"),
        (Value::Int(i), Some('X')) => format!("{i:X}"),
        (Value::Int(i), Some('o')) => format!("{i:o}"),
        (Value::Int(i), Some('b')) => format!("{i:b}"),
        (v, Some(k @ ('f' | 'F' | 'e' | 'E' | 'g' | 'G' | '%'))) if v.as_f64().is_some() => {
            let f = v.as_f64().unwrap_or(0.0);
            let p = spec.precision.unwrap_or(6);
            match k {
                'e' => format!("{f:.p$e}"),
                'E' => format!("{f:.p$E}"),
                'g' | 'G' => format_g(f, p.max(1)),
                '%' => format!("{:.p$}%", f * 100.0),
                _ => format!("{f:.p$}"),
            }
        }
        (Value::Float(f), None) => match spec.precision {
            Some(p) => format_g(*f, p.max(1)),
            None => value.text(),
        },
        (v, _) => {
            let mut s = v.text();
            if let Some(p) = spec.precision
                && !numeric
            {
                s = s.chars().take(p).collect();
            }
            s
        }
    };
    let len = body.chars().count();
    if len >= spec.width {
        return body;
    }
    let pad = spec.width - len;
    let fill = spec
        .fill
        .unwrap_or(if spec.zero && numeric { '0' } else { ' ' });
    let align = spec
        .align
        .unwrap_or(if numeric && !matches!(value, Value::Bool(_)) {
            '>'
        } else {
            '<'
        });
    let fills = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
    match align {
        '>' | '=' => format!("{}{body}", fills(pad)),
        '^' => format!("{}{body}{}", fills(pad / 2), fills(pad - pad / 2)),
        _ => format!("{body}{}", fills(pad)),
    }
}

/// `%g` with `precision` significant digits, trailing zeros removed.
pub fn format_g(f: f64, precision: usize) -> String {
    if f == 0.0 || !f.is_finite() {
        return Value::Float(f).text().trim_end_matches(".0").to_string();
    }
    let exp = f.abs().log10().floor() as i32;
    if exp < -4 || exp >= precision as i32 {
        let s = format!("{:.*e}", precision.saturating_sub(1), f);
        let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = trim_zeros(mant);
        let e: i32 = e.parse().unwrap_or(0);
        return format!("{mant}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    let decimals = (precision as i32 - 1 - exp).max(0) as usize;
    trim_zeros(&format!("{f:.decimals$}"))
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}
