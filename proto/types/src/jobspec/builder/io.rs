//! Job shell options set by dedicated `flux submit` flags (I/O redirection, labels,
//! buffering, rlimits, taskmap, signal), applied before `-o`/`-S` so those can override.

use serde_json::{Map, Value, json};

use crate::idset::IdSet;
use crate::jobspec::{Jobspec, JobspecError};

/// The flags' values, kept until build.
#[derive(Debug, Clone, Default)]
pub(super) struct ShellFlags {
    pub output: Option<String>,
    pub error: Option<String>,
    pub input: Option<String>,
    pub label_io: bool,
    pub unbuffered: bool,
    pub rlimit: Option<Map<String, Value>>,
    pub taskmap: Option<Value>,
    pub signal: Option<Value>,
}

fn file(path: &str) -> Value {
    json!({"type": "file", "path": path})
}

impl ShellFlags {
    /// Set the shell options these flags imply.
    pub(super) fn apply(&self, js: &mut Jobspec) -> Result<(), JobspecError> {
        if let Some(rlimit) = &self.rlimit {
            js.set_shell_option("rlimit", Value::Object(rlimit.clone()))?;
        }
        if let Some(taskmap) = &self.taskmap {
            js.set_shell_option("taskmap", taskmap.clone())?;
        }
        // An idset (or `all`) names the ranks that get stdin (handled by attach), not a file.
        if let Some(input) = self
            .input
            .as_deref()
            .filter(|i| *i != "all" && i.parse::<IdSet>().is_err())
        {
            js.set_shell_option("input.stdin", file(input))?;
        }
        // `none` and `kvs` mean the default: output goes to the KVS.
        if let Some(out) = self
            .output
            .as_deref()
            .filter(|o| !matches!(*o, "none" | "kvs"))
        {
            js.set_shell_option("output.stdout", file(out))?;
            if self.label_io {
                js.set_shell_option("output.stdout.label", json!(true))?;
            }
        }
        if let Some(err) = &self.error {
            js.set_shell_option("output.stderr", file(err))?;
            if self.label_io {
                js.set_shell_option("output.stderr.label", json!(true))?;
            }
        }
        if self.unbuffered {
            js.set_shell_option("output.stdout.buffer.type", json!("none"))?;
            js.set_shell_option("output.stderr.buffer.type", json!("none"))?;
            js.set_shell_option("output.batch-timeout", json!(0.05))?;
            js.set_shell_option("input.batch-timeout", json!(0.0))?;
        }
        if let Some(signal) = &self.signal {
            js.set_shell_option("signal", signal.clone())?;
        }
        Ok(())
    }
}
