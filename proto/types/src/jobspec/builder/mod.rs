//! Build a V1 jobspec from `flux submit`/`flux run` style options (jobspec.md §5).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

mod io;
mod shape;

use io::ShellFlags;

use shape::{SLOT_LABEL, ShapeOptions};

use super::{
    Attributes, Dependency, JobDuration, Jobspec, JobspecError, SystemAttributes, Task,
    normalize_setattr_key, parse_constraint, parse_key_value,
};

/// Builder for the jobspec `flux submit` makes: per-task mode (`-n/-c/-g`,
/// `JobspecV1.from_command`) or per-resource mode (`--cores`, `--tasks-per-node`,
/// `--tasks-per-core`, `--gpus-per-node`, `JobspecV1.per_resource`), plus the common
/// options. Mixing the two modes is an error, as in flux.
///
/// Nothing is read from the process: pass the environment and cwd explicitly.
#[derive(Debug, Clone, Default)]
pub struct JobspecBuilder {
    command: Vec<String>,
    shape: ShapeOptions,
    duration: Option<f64>,
    environment: Option<BTreeMap<String, String>>,
    cwd: Option<String>,
    job_name: Option<String>,
    queue: Option<String>,
    bank: Option<String>,
    dependencies: Vec<Dependency>,
    constraints: Option<Value>,
    requires: Vec<String>,
    shell: ShellFlags,
    /// (path relative to `attributes`, value), applied in order after everything else.
    settings: Vec<(String, Value)>,
}

impl JobspecBuilder {
    /// A builder for `command` (argv).
    pub fn new<I, S>(command: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        JobspecBuilder {
            command: command.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }

    /// `-n`: number of tasks (default 1, or the node count with `-N` alone).
    pub fn ntasks(mut self, n: u64) -> Self {
        self.shape.ntasks = Some(n);
        self
    }

    /// `-c`: cores per task (default 1).
    pub fn cores_per_task(mut self, n: u64) -> Self {
        self.shape.cores_per_task = Some(n);
        self
    }

    /// `-g`: GPUs per task (0 = none).
    pub fn gpus_per_task(mut self, n: u64) -> Self {
        self.shape.gpus_per_task = Some(n);
        self
    }

    /// `--cores`: total cores (per-resource mode).
    pub fn cores(mut self, n: u64) -> Self {
        self.shape.cores = Some(n);
        self
    }

    /// `--tasks-per-node` (per-resource mode).
    pub fn tasks_per_node(mut self, n: u64) -> Self {
        self.shape.tasks_per_node = Some(n);
        self
    }

    /// `--tasks-per-core` (per-resource mode).
    pub fn tasks_per_core(mut self, n: u64) -> Self {
        self.shape.tasks_per_core = Some(n);
        self
    }

    /// `--gpus-per-node` (per-resource mode, requires `-N`).
    pub fn gpus_per_node(mut self, n: u64) -> Self {
        self.shape.gpus_per_node = Some(n);
        self
    }

    /// `-N`: number of nodes.
    pub fn nodes(mut self, n: u64) -> Self {
        self.shape.nodes = Some(n);
        self
    }

    /// `-x`: exclusive nodes (requires `-N`).
    pub fn exclusive(mut self, exclusive: bool) -> Self {
        self.shape.exclusive = exclusive;
        self
    }

    /// Time limit in seconds.
    pub fn duration(mut self, secs: f64) -> Self {
        self.duration = Some(secs);
        self
    }

    /// `-t`: time limit as the CLI takes it (bare number = minutes, else FSD).
    pub fn time_limit(mut self, text: &str) -> Result<Self, JobspecError> {
        self.duration = Some(crate::fsd::parse_time_limit(text)?);
        Ok(self)
    }

    /// `system.environment` (the submitter's filtered environment).
    pub fn environment(mut self, env: BTreeMap<String, String>) -> Self {
        self.environment = Some(env);
        self
    }

    /// `--cwd` (default: the submitter's cwd, which the caller passes).
    pub fn cwd(mut self, dir: &str) -> Self {
        self.cwd = Some(dir.to_string());
        self
    }

    /// `--job-name`.
    pub fn job_name(mut self, name: &str) -> Self {
        self.job_name = Some(name.to_string());
        self
    }

    /// `-q/--queue`.
    pub fn queue(mut self, queue: &str) -> Self {
        self.queue = Some(queue.to_string());
        self
    }

    /// `-B/--bank`.
    pub fn bank(mut self, bank: &str) -> Self {
        self.bank = Some(bank.to_string());
        self
    }

    /// `--dependency` (repeatable).
    pub fn dependency(mut self, dep: Dependency) -> Self {
        self.dependencies.push(dep);
        self
    }

    /// `--dependency=SCHEME:VALUE[?k=v]`.
    pub fn dependency_uri(self, uri: &str) -> Result<Self, JobspecError> {
        Ok(self.dependency(Dependency::parse_uri(uri)?))
    }

    /// `--begin-time`: appends a `begin-time` dependency at `epoch_secs`.
    pub fn begin_time(self, epoch_secs: f64) -> Self {
        self.dependency(Dependency::new("begin-time", &format!("{epoch_secs:.6}")))
    }

    /// `system.constraints` (RFC 31 JSON, e.g. from `--requires`).
    pub fn constraints(mut self, constraints: Value) -> Self {
        self.constraints = Some(constraints);
        self
    }

    /// `--requires` (repeatable): RFC 35 query; several are joined with spaces, as
    /// flux does, and parsed at build time.
    pub fn requires(mut self, query: &str) -> Self {
        self.requires.push(query.to_string());
        self
    }

    /// `--output`: tasks' stdout to a file (`none`/`kvs` keep the default).
    pub fn output(mut self, path: &str) -> Self {
        self.shell.output = Some(path.to_string());
        self
    }

    /// `--error`: tasks' stderr to a file.
    pub fn error(mut self, path: &str) -> Self {
        self.shell.error = Some(path.to_string());
        self
    }

    /// `--input`: stdin from a file (an idset value is left to `flux job attach`).
    pub fn input(mut self, path: &str) -> Self {
        self.shell.input = Some(path.to_string());
        self
    }

    /// `-l/--label-io`: label lines of file output with the task rank.
    pub fn label_io(mut self, on: bool) -> Self {
        self.shell.label_io = on;
        self
    }

    /// `-u/--unbuffered`.
    pub fn unbuffered(mut self, on: bool) -> Self {
        self.shell.unbuffered = on;
        self
    }

    /// `--rlimit`: the limits to propagate (name -> value, -1 = unlimited).
    pub fn rlimits(mut self, limits: Map<String, Value>) -> Self {
        self.shell.rlimit = Some(limits);
        self
    }

    /// `--taskmap=SCHEME[:VALUE]`.
    pub fn taskmap(mut self, uri: &str) -> Self {
        let (scheme, value) = uri.split_once(':').unwrap_or((uri, ""));
        self.shell.taskmap = Some(json!({"scheme": scheme, "value": value}));
        self
    }

    /// `--signal`: send `signum` `timeleft` seconds before the time limit.
    pub fn signal(mut self, signum: i32, timeleft: f64) -> Self {
        self.shell.signal = Some(json!({"signum": signum, "timeleft": timeleft}));
        self
    }

    /// A job shell option (`-o KEY=VAL` after parsing; dotted key nests).
    pub fn shell_option(mut self, key: &str, value: Value) -> Self {
        self.settings
            .push((format!("system.shell.options.{key}"), value));
        self
    }

    /// `-o KEY[=VAL]` as typed on the command line.
    pub fn setopt(self, kv: &str) -> Result<Self, JobspecError> {
        let (key, value) = parse_key_value(kv)?;
        Ok(self.shell_option(&key, value))
    }

    /// An attribute by path relative to `attributes` (e.g. `system.exec.test.run_duration`).
    pub fn attribute(mut self, path: &str, value: Value) -> Self {
        self.settings.push((path.to_string(), value));
        self
    }

    /// `-S KEY[=VAL]` as typed: KEY without `system.`/`user.` goes under `system.`, a
    /// leading `.` means the attributes root.
    pub fn setattr(self, kv: &str) -> Result<Self, JobspecError> {
        let (key, value) = parse_key_value(kv)?;
        Ok(self.attribute(&normalize_setattr_key(&key), value))
    }

    /// Build and validate the jobspec.
    pub fn build(self) -> Result<Jobspec, JobspecError> {
        if self.command.is_empty() {
            return Err(JobspecError::EmptyCommand);
        }
        let shape = self.shape.build()?;
        let constraints = if self.requires.is_empty() {
            self.constraints
        } else {
            Some(parse_constraint(&self.requires.join(" "))?)
        };
        let duration = match self.duration {
            Some(secs) => JobDuration::from_secs(secs)?,
            None => JobDuration::unset(),
        };
        let system = SystemAttributes {
            duration,
            environment: self.environment,
            cwd: self.cwd,
            job: self
                .job_name
                .map(|name| BTreeMap::from([("name".to_string(), name)])),
            queue: self.queue,
            bank: self.bank,
            dependencies: (!self.dependencies.is_empty()).then_some(self.dependencies),
            constraints,
            ..Default::default()
        };
        let mut js = Jobspec {
            resources: vec![shape.resource],
            tasks: vec![Task {
                command: self.command,
                slot: SLOT_LABEL.to_string(),
                count: shape.count,
                distribution: None,
                attributes: None,
            }],
            attributes: Attributes { system, user: None },
            version: 1,
        };
        if let Some(per_resource) = shape.per_resource {
            js.set_shell_option("per-resource", per_resource)?;
        }
        self.shell.apply(&mut js)?;
        for (path, value) in self.settings {
            js.set_attribute(&path, value)?;
        }
        js.validate()?;
        Ok(js)
    }
}
