//! RFC 18 eventlogs: one compact JSON object per line,
//! `{"timestamp":T,"name":N,"context":{...}}`, context omitted when empty.

mod context;
mod events;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

pub use context::Context;

/// Why an eventlog or entry could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventlogError {
    /// A single entry is malformed.
    #[error("invalid eventlog entry: {0}")]
    Entry(String),
    /// Line `line` (1-based) of an eventlog is malformed.
    #[error("eventlog line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Seconds since the Unix epoch.
    pub timestamp: f64,
    /// Event name.
    pub name: String,
    /// Event data (omitted from JSON when empty).
    #[serde(default, skip_serializing_if = "Context::is_empty")]
    pub context: Context,
}

impl Entry {
    /// An event without context.
    pub fn new(timestamp: f64, name: impl Into<String>) -> Self {
        Entry {
            timestamp,
            name: name.into(),
            context: Context::new(),
        }
    }

    /// Builder: add a context key.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.context.insert(key, value);
        self
    }

    /// Builder: replace the context.
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// Decode one JSON object (with or without the trailing newline).
    pub fn parse(line: &str) -> Result<Self, EventlogError> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        if line.contains('\n') {
            return Err(EventlogError::Entry("embedded newline".into()));
        }
        let entry: Entry =
            serde_json::from_str(line).map_err(|e| EventlogError::Entry(e.to_string()))?;
        if !entry.timestamp.is_finite() || entry.timestamp < 0.0 {
            return Err(EventlogError::Entry(format!(
                "invalid timestamp {}",
                entry.timestamp
            )));
        }
        if entry.name.is_empty() {
            return Err(EventlogError::Entry("empty event name".into()));
        }
        Ok(entry)
    }

    /// Compact JSON followed by a newline, as flux-core appends it.
    pub fn to_line(&self) -> String {
        // Strings, finite numbers and JSON values only: serialization cannot fail.
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// `flux job eventlog` text form: `<timestamp %f> <name>[ key=<json>]...`.
    pub fn to_text(&self) -> String {
        let mut s = format!("{:.6} {}", self.timestamp, self.name);
        for (k, v) in self.context.iter() {
            s.push_str(&format!(" {k}={v}"));
        }
        s
    }
}

/// Decode a whole eventlog; a final newline is optional, empty input is an empty log.
pub fn parse(text: &str) -> Result<Vec<Entry>, EventlogError> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() {
        return Ok(Vec::new());
    }
    body.split('\n')
        .enumerate()
        .map(|(i, line)| {
            Entry::parse(line).map_err(|e| EventlogError::Line {
                line: i + 1,
                reason: match e {
                    EventlogError::Entry(reason) => reason,
                    other => other.to_string(),
                },
            })
        })
        .collect()
}

/// Encode entries as an eventlog (one line each, newline terminated).
pub fn format(entries: &[Entry]) -> String {
    entries.iter().map(Entry::to_line).collect()
}

#[cfg(test)]
mod tests;
