//! `flux bulksubmit [OPTIONS] COMMAND... [::: INPUTS...] [:::+ INPUTS...] [:::: FILE]`: one
//! job per combination of inputs, with `{}` / `{N}` replaced in the command and options.

use std::io::Read;

use crate::jobopts::JobOpts;
use crate::submit::{submit_all, wait_all};
use crate::util;

/// Submit one job per input.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    #[command(flatten)]
    pub opts: JobOpts,
    /// Wait for the jobs to end; exit with the largest exit code
    #[arg(long)]
    pub wait: bool,
    /// Copy the jobs' output to the terminal (implies --wait)
    #[arg(long)]
    pub watch: bool,
    /// Do not print job ids
    #[arg(long)]
    pub quiet: bool,
    /// Print the commands instead of submitting them
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Split stdin inputs on SEP (default: newline; `none`: whitespace)
    #[arg(long, default_value = "\n")]
    pub sep: String,
    /// Command and inputs
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// How a group of inputs combines with the ones before it.
#[derive(Debug, PartialEq)]
enum Join {
    /// `:::`/`::::`: every combination.
    Product,
    /// `:::+`/`::::+`: paired with the previous group, item by item.
    Link,
}

/// One `:::` group of inputs and how it joins the groups before it.
type Group = (Join, Vec<String>);

/// Split `cmd ::: a b :::+ c d :::: file` into the command and its input groups.
fn split(words: &[String]) -> anyhow::Result<(Vec<String>, Vec<Group>)> {
    let mut command = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut file_group = false;
    for word in words {
        let marker = match word.as_str() {
            ":::" => Some((Join::Product, false)),
            ":::+" => Some((Join::Link, false)),
            "::::" => Some((Join::Product, true)),
            "::::+" => Some((Join::Link, true)),
            _ => None,
        };
        match (marker, groups.last_mut()) {
            (Some((join, file)), _) => {
                groups.push((join, Vec::new()));
                file_group = file;
            }
            (None, None) => command.push(word.clone()),
            (None, Some((_, items))) if file_group => {
                let text =
                    std::fs::read_to_string(word).map_err(|e| anyhow::anyhow!("{word}: {e}"))?;
                items.extend(text.lines().filter(|l| !l.is_empty()).map(String::from));
            }
            (None, Some((_, items))) => items.push(word.clone()),
        }
    }
    Ok((command, groups))
}

/// Every input tuple: the cartesian product of groups, linked groups zipped.
fn combinations(groups: &[Group]) -> anyhow::Result<Vec<Vec<String>>> {
    let mut tuples: Vec<Vec<String>> = vec![Vec::new()];
    for (join, items) in groups {
        tuples = match join {
            Join::Product => tuples
                .iter()
                .flat_map(|t| {
                    items.iter().map(move |i| {
                        let mut t = t.clone();
                        t.push(i.clone());
                        t
                    })
                })
                .collect(),
            Join::Link => {
                // Linked inputs cycle when shorter, as GNU parallel's :::+ does.
                if items.is_empty() {
                    anyhow::bail!("empty input list after :::+");
                }
                tuples
                    .into_iter()
                    .enumerate()
                    .map(|(n, mut t)| {
                        t.push(items[n % items.len()].clone());
                        t
                    })
                    .collect()
            }
        };
    }
    Ok(tuples)
}

/// Replace `{}`, `{N}`, `{seq}`, `{seq1}` and the path forms `{.%}` (no extension),
/// `{./}` (basename), `{.//}` (dirname), `{./%}` (basename without extension).
fn substitute(text: &str, inputs: &[String], seq: usize) -> String {
    let first = inputs.first().map(String::as_str).unwrap_or("");
    let path = std::path::Path::new(first);
    let base = path
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .unwrap_or_default();
    let strip_ext = |s: &str| match s.rfind('.') {
        Some(i) if i > 0 && !s[i..].contains('/') => s[..i].to_string(),
        _ => s.to_string(),
    };
    let mut out = text
        .replace("{seq1}", &(seq + 1).to_string())
        .replace("{seq}", &seq.to_string())
        .replace("{./%}", &strip_ext(&base))
        .replace(
            "{.//}",
            &path
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        )
        .replace("{./}", &base)
        .replace("{.%}", &strip_ext(first))
        .replace("{}", first);
    for (n, input) in inputs.iter().enumerate() {
        out = out.replace(&format!("{{{n}}}"), input);
    }
    out
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let (command, mut groups) = split(&args.command)?;
    if command.is_empty() {
        anyhow::bail!("job command and arguments are missing");
    }
    if groups.is_empty() {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        let items = match args.sep.as_str() {
            "none" => text.split_whitespace().map(String::from).collect(),
            sep => text
                .split(sep)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        };
        groups.push((Join::Product, items));
    }
    let mut jobspecs = Vec::new();
    for (seq, inputs) in combinations(&groups)?.iter().enumerate() {
        let argv: Vec<String> = command.iter().map(|w| substitute(w, inputs, seq)).collect();
        if args.dry_run {
            println!("bulksubmit: submit {}", argv.join(" "));
            continue;
        }
        let mut opts = args.opts.clone();
        for field in [
            &mut opts.output,
            &mut opts.error,
            &mut opts.job_name,
            &mut opts.cwd,
        ] {
            if let Some(value) = field.as_mut() {
                *value = substitute(value, inputs, seq);
            }
        }
        for list in [&mut opts.env, &mut opts.setattr, &mut opts.setopt] {
            for value in list.iter_mut() {
                *value = substitute(value, inputs, seq);
            }
        }
        jobspecs.push(opts.jobspec(&argv)?);
    }
    if args.dry_run {
        return Ok(0);
    }
    let (urgency, flags) = (args.opts.urgency()?, args.opts.submit_flags()?);
    let h = util::connect().await?;
    let ids = submit_all(&h, jobspecs, urgency, flags, args.quiet).await?;
    if args.wait || args.watch {
        return wait_all(&h, ids, args.watch, args.opts.label_io).await;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn inputs_combine_and_link() {
        let (cmd, groups) = split(&words("echo {0} {1} ::: a b ::: 1 2")).unwrap();
        assert_eq!(cmd, ["echo", "{0}", "{1}"]);
        let all = combinations(&groups).unwrap();
        assert_eq!(all, [["a", "1"], ["a", "2"], ["b", "1"], ["b", "2"]]);
        let (_, groups) = split(&words("echo ::: a b c :::+ 1 2 3")).unwrap();
        assert_eq!(
            combinations(&groups).unwrap(),
            [["a", "1"], ["b", "2"], ["c", "3"]]
        );
    }

    #[test]
    fn substitutions() {
        let inputs = vec!["dir/file.txt".to_string(), "x".to_string()];
        assert_eq!(
            substitute("{} {1} {seq} {seq1}", &inputs, 4),
            "dir/file.txt x 4 5"
        );
        assert_eq!(
            substitute("{.%} {./} {.//} {./%}", &inputs, 0),
            "dir/file file.txt dir file"
        );
    }
}
