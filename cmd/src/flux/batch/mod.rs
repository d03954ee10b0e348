//! `flux batch [OPTIONS] SCRIPT [ARGS...]` / `flux batch --wrap COMMAND...`: submit a job
//! that is a new Flux instance over the job's resources, running SCRIPT as its initial
//! program; print the job id. `#FLUX:` directives in the script's first comment block add
//! options; the command line wins over them. Output goes to `flux-{{id}}.out`.

mod directives;

use anyhow::{Context as _, bail};
use clap::Parser;
use flux_actors::broker::Conf;
use flux_proto::types::Jobspec;
use flux_proto::types::jobspec::TaskCount;

use crate::jobopts::JobOpts;
use crate::{submit, util};

/// Options of commands whose job is a new instance (`flux batch`, `flux alloc`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct InstanceOpts {
    #[command(flatten)]
    pub opts: JobOpts,
    /// Options for each broker of the new instance (e.g. -Sattr=val; repeatable)
    #[arg(long = "broker-opts", value_name = "OPTS", allow_hyphen_values = true)]
    pub broker_opts: Vec<String>,
    /// Configuration of the new instance: KEY=VALUE, or a .toml/.json file (repeatable)
    #[arg(long = "conf", value_name = "FILE|KEY=VAL")]
    pub conf: Vec<String>,
    /// Print the jobspec instead of submitting it
    #[arg(long = "dry-run")]
    pub dry_run: bool,
}

impl InstanceOpts {
    /// The jobspec of an instance job: `-N` nodes (default 1), one broker per node running
    /// `fluxd` with `fluxd_args` (the node's share of the job's resources is what it
    /// schedules). `-n`/`-c` ask for slots of cores as for any job; `-N` alone asks for
    /// whole nodes.
    pub fn jobspec(&self, fluxd_args: &[String]) -> anyhow::Result<Jobspec> {
        let mut opts = self.opts.clone();
        let nodes = *opts.nodes.get_or_insert(1);
        // As in flux-core, where the job's command is `flux broker`.
        opts.job_name.get_or_insert_with(|| "flux".to_string());
        let mut command = vec![crate::start::fluxd_path().display().to_string()];
        command.extend(self.broker_opts.iter().cloned());
        command.extend(fluxd_args.iter().cloned());
        let mut spec = opts.jobspec(&command)?;
        if let Some(task) = spec.tasks.first_mut() {
            task.count = TaskCount::Total(nodes);
        }
        if !self.conf.is_empty() {
            spec.set_attribute("system.conf", self.instance_conf()?.to_json())?;
        }
        Ok(spec)
    }

    /// The `--conf` settings and files, later ones over earlier ones.
    fn instance_conf(&self) -> anyhow::Result<Conf> {
        let mut conf = Conf::default();
        for item in &self.conf {
            let path = std::path::Path::new(item);
            if !item.contains('=') || path.is_file() {
                conf = conf.overlay(&Conf::load(path)?);
            } else {
                conf.set(item)?;
            }
        }
        Ok(conf)
    }
}

/// Submit a batch job.
#[derive(Parser, Debug, Clone)]
#[command(name = "batch", infer_long_args = true, args_override_self = true)]
pub struct Args {
    #[command(flatten)]
    pub inst: InstanceOpts,
    /// Wrap COMMAND in a /bin/sh script instead of reading a script
    #[arg(long)]
    pub wrap: bool,
    /// The script (default: read from stdin) and its arguments, or COMMAND with --wrap
    #[arg(trailing_var_arg = true, value_name = "SCRIPT")]
    pub command: Vec<String>,
}

/// The words of the command line after `batch`.
fn command_line() -> Vec<String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "batch") {
        Some(i) => args[i + 1..].to_vec(),
        None => Vec::new(),
    }
}

/// Quote `word` for /bin/sh when it needs it.
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The script, its name and its arguments.
type Script = (String, String, Vec<String>);

/// Read the script (once: from stdin it cannot be read again).
fn script(args: &Args) -> anyhow::Result<Script> {
    if args.wrap {
        if args.command.is_empty() {
            bail!("--wrap: a command is required");
        }
        let words: Vec<String> = args.command.iter().map(|w| shell_quote(w)).collect();
        let text = format!("#!/bin/sh\n{}\n", words.join(" "));
        return Ok((text, args.command[0].clone(), Vec::new()));
    }
    let (text, name) = match args.command.first() {
        Some(path) => (
            std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?,
            path.rsplit('/').next().unwrap_or(path).to_string(),
        ),
        None => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .context("cannot read the script from stdin")?;
            (text, "stdin".to_string())
        }
    };
    if !text.starts_with("#!") {
        bail!("jobscript does not start with '#!'");
    }
    Ok((text, name, args.command.iter().skip(1).cloned().collect()))
}

/// The batch job's jobspec (the command line already merged with the directives).
fn jobspec_of(args: &Args, (text, name, script_args): Script) -> anyhow::Result<Jobspec> {
    let mut inst = args.inst.clone();
    inst.opts.job_name.get_or_insert(name);
    inst.opts
        .output
        .get_or_insert_with(|| "flux-{{id}}.out".to_string());
    let mut fluxd_args = vec!["--batch-script".to_string(), "--".to_string()];
    fluxd_args.extend(script_args);
    let mut spec = inst.jobspec(&fluxd_args)?;
    spec.set_attribute("system.batch.script", text.into())?;
    if !inst.broker_opts.is_empty() {
        spec.set_attribute("system.batch.broker-opts", inst.broker_opts.clone().into())?;
    }
    Ok(spec)
}

/// Add the script's directives in front of the command line's options.
fn with_directives(args: Args, text: &str) -> anyhow::Result<Args> {
    if args.wrap {
        return Ok(args);
    }
    let words = directives::parse(text)?;
    if words.is_empty() {
        return Ok(args);
    }
    let argv = std::iter::once("batch".to_string())
        .chain(words)
        .chain(command_line());
    Args::try_parse_from(argv).map_err(|e| {
        let text = e.render().to_string();
        let first = text.lines().next().unwrap_or_default().to_string();
        anyhow::anyhow!(
            "in #FLUX: directives: {}",
            first.trim_start_matches("error: ")
        )
    })
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    // The script is read once (it may come from stdin); its directives come first.
    let script = script(&args)?;
    let args = with_directives(args, &script.0)?;
    let spec = jobspec_of(&args, script)?;
    let opts = &args.inst.opts;
    if args.inst.dry_run {
        println!("{}", spec.to_dry_run_json());
        return Ok(0);
    }
    let h = util::connect().await?;
    submit::submit_all(&h, vec![spec], opts.urgency()?, opts.submit_flags()?, false).await?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobspec(args: &Args) -> anyhow::Result<Jobspec> {
        jobspec_of(args, script(args)?)
    }

    fn parse(words: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("batch").chain(words.iter().copied())).unwrap()
    }

    #[test]
    fn later_options_win() {
        let args = parse(&["-N1", "-t", "5m", "-N2", "script.sh", "-N3"]);
        assert_eq!(args.inst.opts.nodes, Some(2));
        assert_eq!(args.command, ["script.sh", "-N3"]);
    }

    #[test]
    fn wrap_makes_a_script_run_by_one_broker_per_node() {
        let args = parse(&["-N2", "--wrap", "echo", "it's"]);
        let spec = jobspec(&args).unwrap();
        assert_eq!(
            spec.get_attribute("system.batch.script").unwrap(),
            "#!/bin/sh\necho 'it'\\''s'\n"
        );
        assert_eq!(spec.tasks[0].count, TaskCount::Total(2));
        assert_eq!(spec.nnodes(), Some(2));
        assert!(spec.exclusive());
        let cmd = spec.command();
        assert!(cmd[0].ends_with("fluxd"));
        assert_eq!(&cmd[1..], ["--batch-script", "--"]);
        assert_eq!(
            spec.get_attribute("system.shell.options.output.stdout.path")
                .unwrap(),
            "flux-{{id}}.out"
        );
        assert_eq!(spec.job_name().as_deref(), Some("echo"));
    }

    #[test]
    fn slots_of_cores_on_one_node_by_default() {
        let spec = jobspec(&parse(&["-n1", "-c2", "--wrap", "true"])).unwrap();
        assert_eq!(spec.nnodes(), Some(1));
        assert_eq!(spec.cores_per_slot(), 2);
        assert_eq!(spec.tasks[0].count, TaskCount::Total(1));
        assert!(!spec.exclusive());
    }

    #[test]
    fn conf_settings_and_files_go_to_the_jobspec() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("q.toml");
        std::fs::write(&file, "[queues.debug]\nrequires = [\"debug\"]\n").unwrap();
        let spec = jobspec(&parse(&[
            &format!("--conf={}", file.display()),
            "--conf=sched-fluxion-qmanager.queue-policy=easy",
            "--wrap",
            "true",
        ]))
        .unwrap();
        let conf = spec.get_attribute("system.conf").unwrap();
        assert_eq!(conf["queues"]["debug"]["requires"][0], "debug");
        assert_eq!(conf["sched-fluxion-qmanager"]["queue-policy"], "easy");
        let bad = jobspec(&parse(&["--conf=/no/such.toml", "--wrap", "true"]));
        assert!(bad.is_err());
    }
}
