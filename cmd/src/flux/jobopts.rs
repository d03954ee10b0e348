//! The options `flux submit`, `flux run` and `flux bulksubmit` share, and the jobspec they
//! build (spec/jobspec.md §5).

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use flux_proto::types::Jobspec;
use flux_proto::types::fsd;
use flux_proto::types::jobspec::JobspecBuilder;

/// Submit flags (flux_job_submit(3)).
pub const FLAG_DEBUG: u32 = 2;
pub const FLAG_WAITABLE: u32 = 4;
pub const FLAG_NOVALIDATE: u32 = 8;

/// Job options common to the submission commands.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct JobOpts {
    /// Number of tasks
    #[arg(short = 'n', long = "ntasks", value_name = "N")]
    pub ntasks: Option<u64>,
    /// Cores per task
    #[arg(short = 'c', long = "cores-per-task", value_name = "N")]
    pub cores_per_task: Option<u64>,
    /// GPUs per task
    #[arg(short = 'g', long = "gpus-per-task", value_name = "N")]
    pub gpus_per_task: Option<u64>,
    /// Number of nodes
    #[arg(short = 'N', long = "nodes", value_name = "N")]
    pub nodes: Option<u64>,
    /// Exclusive use of the allocated nodes
    #[arg(short = 'x', long)]
    pub exclusive: bool,
    /// Time limit: minutes, or FSD (e.g. 30s, 2h)
    #[arg(short = 't', long = "time-limit", value_name = "MIN|FSD")]
    pub time_limit: Option<String>,
    /// Queue to submit to
    #[arg(short = 'q', long)]
    pub queue: Option<String>,
    /// Bank to charge
    #[arg(short = 'B', long)]
    pub bank: Option<String>,
    /// Job name
    #[arg(long = "job-name", value_name = "NAME")]
    pub job_name: Option<String>,
    /// Working directory of the job (default: this one)
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<String>,
    /// Urgency: 0-31, hold, default, expedite
    #[arg(long, value_name = "N")]
    pub urgency: Option<String>,
    /// Dependency URI (afterok:ID, afterany:ID, afternotok:ID, after:ID, begin-time:T)
    #[arg(long = "dependency", value_name = "URI")]
    pub dependency: Vec<String>,
    /// Do not start before: +FSD from now, or seconds since the epoch
    #[arg(long = "begin-time", value_name = "+FSD|EPOCH")]
    pub begin_time: Option<String>,
    /// Constraint on the resources (RFC 35 expression)
    #[arg(long, value_name = "EXPR")]
    pub requires: Vec<String>,
    /// Job shell option KEY[=VAL]
    #[arg(short = 'o', long = "setopt", value_name = "KEY[=VAL]")]
    pub setopt: Vec<String>,
    /// Jobspec attribute KEY[=VAL] (under attributes.system unless it starts with user.)
    #[arg(short = 'S', long = "setattr", value_name = "KEY[=VAL]")]
    pub setattr: Vec<String>,
    /// Environment rule: NAME=VAL sets, NAME or PATTERN copies, -PATTERN removes
    #[arg(long = "env", value_name = "RULE")]
    pub env: Vec<String>,
    /// Remove environment variables matching PATTERN
    #[arg(long = "env-remove", value_name = "PATTERN")]
    pub env_remove: Vec<String>,
    /// Read environment rules from FILE
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<String>,
    /// Redirect stdout to FILE ({{id}} is the job id)
    #[arg(long, value_name = "FILE")]
    pub output: Option<String>,
    /// Redirect stderr to FILE
    #[arg(long, value_name = "FILE")]
    pub error: Option<String>,
    /// Redirect stdin from FILE
    #[arg(long, value_name = "FILE")]
    pub input: Option<String>,
    /// Prefix output lines with the task rank
    #[arg(short = 'l', long = "label-io")]
    pub label_io: bool,
    /// Do not buffer output
    #[arg(short = 'u', long)]
    pub unbuffered: bool,
    /// Send signal SIG (default USR1) TIME (default 60s) before the time limit
    #[arg(long, value_name = "SIG@TIME")]
    pub signal: Option<String>,
    /// Submit flags: waitable, debug, novalidate
    #[arg(long, value_name = "FLAGS", value_delimiter = ',')]
    pub flags: Vec<String>,
}

impl JobOpts {
    /// The jobspec for `command` with these options.
    pub fn jobspec(&self, command: &[String]) -> anyhow::Result<Jobspec> {
        if command.is_empty() {
            bail!("job command and arguments are missing");
        }
        let mut b = JobspecBuilder::new(command.iter().cloned());
        if let Some(n) = self.ntasks {
            b = b.ntasks(positive(n, "--ntasks")?);
        }
        if let Some(n) = self.cores_per_task {
            b = b.cores_per_task(positive(n, "--cores-per-task")?);
        }
        if let Some(n) = self.gpus_per_task {
            b = b.gpus_per_task(n);
        }
        if let Some(n) = self.nodes {
            b = b.nodes(positive(n, "--nodes")?);
        }
        if self.exclusive {
            b = b.exclusive(true);
        }
        if let Some(t) = &self.time_limit {
            b = b
                .time_limit(t)
                .with_context(|| format!("invalid --time-limit '{t}'"))?;
        }
        if let Some(q) = &self.queue {
            b = b.queue(q);
        }
        if let Some(bank) = &self.bank {
            b = b.bank(bank);
        }
        if let Some(name) = &self.job_name {
            b = b.job_name(name);
        }
        let cwd = match &self.cwd {
            Some(dir) => dir.clone(),
            None => std::env::current_dir()?.display().to_string(),
        };
        b = b.cwd(&cwd).environment(self.environment()?);
        for dep in &self.dependency {
            b = b.dependency_uri(dep)?;
        }
        if let Some(t) = &self.begin_time {
            b = b.begin_time(parse_begin_time(t)?);
        }
        for r in &self.requires {
            b = b.requires(r);
        }
        if let Some(path) = &self.output {
            b = b.output(path);
        }
        if let Some(path) = &self.error {
            b = b.error(path);
        }
        if let Some(path) = &self.input {
            b = b.input(path);
        }
        b = b.label_io(self.label_io).unbuffered(self.unbuffered);
        if let Some(text) = &self.signal {
            let (signum, timeleft) = parse_signal_at(text)?;
            b = b.signal(signum, timeleft);
        }
        // The tasks get the submitter's soft limits, as in flux-core.
        let limits = flux_shell::jobshell::spec::current_rlimits()
            .into_iter()
            .map(|(name, value)| (name, serde_json::Value::from(value)))
            .collect();
        b = b.rlimits(limits);
        for kv in &self.setopt {
            b = b.setopt(kv)?;
        }
        for kv in &self.setattr {
            b = b.setattr(kv)?;
        }
        let spec = b.build()?;
        flux_shell::jobshell::options::validate(&spec.shell_options())?;
        Ok(spec)
    }

    /// `--urgency` as a number.
    pub fn urgency(&self) -> anyhow::Result<u32> {
        match self.urgency.as_deref() {
            None | Some("default") => Ok(16),
            Some("hold") => Ok(0),
            Some("expedite") => Ok(31),
            Some(text) => match text.parse::<u32>() {
                Ok(n) if n <= 31 => Ok(n),
                _ => bail!("invalid --urgency '{text}': expected 0-31, hold, default or expedite"),
            },
        }
    }

    /// `--flags` as a bit mask.
    pub fn submit_flags(&self) -> anyhow::Result<u32> {
        self.flags.iter().try_fold(0, |acc, f| {
            Ok(acc
                | match f.as_str() {
                    "waitable" => FLAG_WAITABLE,
                    "debug" => FLAG_DEBUG,
                    "novalidate" => FLAG_NOVALIDATE,
                    "" => 0,
                    other => bail!("unknown flag '{other}' (expected waitable, debug, novalidate)"),
                })
        })
    }

    /// The job's environment: this one, filtered by the `--env*` rules in order.
    fn environment(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let original: BTreeMap<String, String> = std::env::vars().collect();
        let mut env = original.clone();
        for pattern in &self.env_remove {
            env.retain(|k, _| !glob(pattern, k));
        }
        let mut rules = Vec::new();
        for file in &self.env_file {
            let text =
                std::fs::read_to_string(file).with_context(|| format!("--env-file {file}"))?;
            rules.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(String::from),
            );
        }
        rules.extend(self.env.iter().cloned());
        for rule in rules {
            if let Some(pattern) = rule.strip_prefix('-') {
                env.retain(|k, _| !glob(pattern, k));
            } else if let Some((name, value)) = rule.split_once('=') {
                env.insert(name.to_string(), expand(value, &original));
            } else {
                for (k, v) in original.iter().filter(|(k, _)| glob(&rule, k)) {
                    env.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(env)
    }
}

fn positive(n: u64, what: &str) -> anyhow::Result<u64> {
    if n == 0 {
        bail!("{what} must be a positive integer");
    }
    Ok(n)
}

/// `--signal=[SIG][@TIME]`: the signal (default SIGUSR1) and how long before the time
/// limit (default 60 s).
fn parse_signal_at(text: &str) -> anyhow::Result<(i32, f64)> {
    let (sig, time) = text.split_once('@').unwrap_or((text, ""));
    let signum = if sig.is_empty() {
        libc::SIGUSR1
    } else {
        crate::job::parse_signal(sig).with_context(|| format!("invalid --signal '{text}'"))?
    };
    let timeleft = if time.is_empty() {
        60.0
    } else {
        fsd::parse(time).with_context(|| format!("invalid --signal '{text}'"))?
    };
    Ok((signum, timeleft))
}

/// `+FSD` from now, or seconds since the epoch.
fn parse_begin_time(text: &str) -> anyhow::Result<f64> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs_f64();
    match text.strip_prefix('+') {
        Some(rel) => {
            Ok(now + fsd::parse(rel).with_context(|| format!("invalid --begin-time '{text}'"))?)
        }
        None => text
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite())
            .with_context(|| {
                format!("invalid --begin-time '{text}': expected +FSD or seconds since the epoch")
            }),
    }
}

/// `$NAME` and `${NAME}` from the original environment.
fn expand(value: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, tail) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], &inner[end + 1..]),
                None => ("", after),
            }
        } else {
            // A name starts with a letter or underscore (`$5` stays as it is).
            let end = match after.chars().next() {
                Some(c) if c.is_ascii_alphabetic() || c == '_' => after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len()),
                _ => 0,
            };
            (&after[..end], &after[end..])
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
        } else {
            out.push_str(env.get(name).map(String::as_str).unwrap_or(""));
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Shell-style glob with `*` and `?`.
fn glob(pattern: &str, name: &str) -> bool {
    fn matches(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => matches(&p[1..], n) || (!n.is_empty() && matches(p, &n[1..])),
            (Some(b'?'), Some(_)) => matches(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => matches(&p[1..], &n[1..]),
            _ => false,
        }
    }
    matches(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_expansion() {
        assert!(glob("FLUX_*", "FLUX_URI"));
        assert!(glob("*", "X"));
        assert!(glob("A?C", "ABC"));
        assert!(!glob("A?C", "AC"));
        let env: BTreeMap<String, String> = [("HOME".to_string(), "/h".to_string())].into();
        assert_eq!(expand("$HOME/x:${HOME}", &env), "/h/x:/h");
        assert_eq!(expand("cost $5", &env), "cost $5");
    }

    #[test]
    fn signal_warnings() {
        assert_eq!(parse_signal_at("USR2@2m").unwrap(), (libc::SIGUSR2, 120.0));
        assert_eq!(parse_signal_at("@5").unwrap(), (libc::SIGUSR1, 5.0));
        assert_eq!(parse_signal_at("TERM").unwrap(), (libc::SIGTERM, 60.0));
        assert!(parse_signal_at("NOPE@1").is_err());
        assert!(parse_signal_at("USR1@soon").is_err());
    }

    #[test]
    fn urgency_and_flags() {
        let mut o = JobOpts::default();
        assert_eq!(o.urgency().unwrap(), 16);
        o.urgency = Some("hold".into());
        assert_eq!(o.urgency().unwrap(), 0);
        o.urgency = Some("32".into());
        assert!(o.urgency().is_err());
        o.flags = vec!["waitable".into(), "debug".into()];
        assert_eq!(o.submit_flags().unwrap(), FLAG_WAITABLE | FLAG_DEBUG);
        o.flags = vec!["bogus".into()];
        assert!(o.submit_flags().is_err());
    }

    #[test]
    fn builds_jobspecs() {
        let o = JobOpts {
            ntasks: Some(4),
            cores_per_task: Some(2),
            time_limit: Some("1h".into()),
            env: vec!["-*".into(), "ONLY=1".into()],
            ..Default::default()
        };
        let spec = o.jobspec(&["hostname".to_string()]).unwrap();
        assert_eq!(spec.ntasks(), 4);
        assert_eq!(spec.duration(), 3600.0);
        assert_eq!(
            spec.attributes.system.environment.as_ref().unwrap().len(),
            1
        );
        let bad = JobOpts {
            ntasks: Some(0),
            ..Default::default()
        };
        assert!(bad.jobspec(&["x".to_string()]).is_err());
        assert!(JobOpts::default().jobspec(&[]).is_err());
        let bad = JobOpts {
            time_limit: Some("soon".into()),
            ..Default::default()
        };
        assert!(bad.jobspec(&["x".to_string()]).is_err());
    }
}
