//! `flux kvs ls|dir|readlink`: look at directories and links.

use std::collections::BTreeMap;

use flux_actors::modules::kvs::store::{Dir, Symlink, TreeObj};
use flux_actors::modules::kvs::wire::lookup_flags;
use flux_proto::Handle;

use super::client;

/// Default output width.
const WIDTH: usize = 80;

/// List directories.
#[derive(clap::Args, Debug)]
pub struct LsArgs {
    /// List directories recursively
    #[arg(short = 'R', long)]
    recursive: bool,
    /// List directory keys themselves, not their content
    #[arg(short, long)]
    directory: bool,
    /// One name per line
    #[arg(short = '1', long = "1")]
    one: bool,
    /// Append `.` to directories and `@` to symlinks
    #[arg(short = 'F', long)]
    classify: bool,
    /// Output width (columns)
    #[arg(short, long, default_value_t = WIDTH)]
    width: usize,
    /// Keys (default: the root)
    #[arg(value_name = "KEY")]
    keys: Vec<String>,
}

/// Print directory keys and values.
#[derive(clap::Args, Debug)]
pub struct DirArgs {
    /// Descend into subdirectories
    #[arg(short = 'R', long)]
    recursive: bool,
    /// Print keys only, not values
    #[arg(short = 'd', long = "directory")]
    names_only: bool,
    /// Truncate lines to this width (0: no limit)
    #[arg(short, long, default_value_t = WIDTH)]
    width: usize,
    /// Look up at this root (a dirref tree object or blobref)
    #[arg(short, long, value_name = "TREEOBJ")]
    at: Option<String>,
    /// Directory (default: the root)
    #[arg(default_value = ".")]
    key: String,
}

/// Print symlink targets.
#[derive(clap::Args, Debug)]
pub struct ReadlinkArgs {
    /// Look up at this root (a dirref tree object or blobref)
    #[arg(short, long, value_name = "TREEOBJ")]
    at: Option<String>,
    /// Print only the target namespace
    #[arg(short = 'o', long)]
    namespace_only: bool,
    /// Print only the target key
    #[arg(short = 'k', long)]
    key_only: bool,
    /// Keys
    #[arg(required = true, value_name = "KEY")]
    keys: Vec<String>,
}

/// `child` of directory `key`, as a full key.
fn join(key: &str, child: &str) -> String {
    let base = key.trim_matches('.');
    if base.is_empty() {
        child.to_string()
    } else {
        format!("{base}.{child}")
    }
}

fn link_text(link: &Symlink) -> String {
    match &link.namespace {
        Some(ns) => format!("{ns}::{}", link.target),
        None => link.target.clone(),
    }
}

async fn read_dir(h: &Handle, ns: &str, key: &str, at: Option<&TreeObj>) -> anyhow::Result<Dir> {
    match client::lookup(h, ns, key, lookup_flags::READDIR, at).await? {
        TreeObj::Dir(d) => Ok(d),
        other => anyhow::bail!("{key}: unexpected {} object", other.type_name()),
    }
}

/// Run `flux kvs ls`.
pub async fn ls(h: &Handle, ns: &str, args: LsArgs) -> anyhow::Result<i32> {
    let keys = if args.keys.is_empty() {
        vec![".".to_string()]
    } else {
        args.keys.clone()
    };
    // Keys naming values (or -d) are listed together first, then each directory.
    let mut singles = Vec::new();
    let mut dirs = Vec::new();
    for key in &keys {
        let obj = client::lookup(
            h,
            ns,
            key,
            lookup_flags::TREEOBJ | lookup_flags::READLINK,
            None,
        )
        .await?;
        if obj.is_dir() && !args.directory {
            dirs.push(key.clone());
        } else {
            singles.push(decorate(&args, key, &obj));
        }
    }
    let mut blocks = Vec::new();
    if !singles.is_empty() {
        blocks.push((None, singles));
    }
    let show_headers = args.recursive || keys.len() > 1;
    while let Some(key) = (!dirs.is_empty()).then(|| dirs.remove(0)) {
        let dir = read_dir(h, ns, &key, None).await?;
        let names = dir
            .iter()
            .map(|(name, obj)| decorate(&args, name, obj))
            .collect();
        blocks.push((show_headers.then(|| key.clone()), names));
        if args.recursive {
            let subdirs: Vec<String> = dir
                .iter()
                .filter(|(_, obj)| obj.is_dir())
                .map(|(name, _)| join(&key, name))
                .collect();
            for (i, sub) in subdirs.into_iter().enumerate() {
                dirs.insert(i, sub);
            }
        }
    }
    let mut first = true;
    for (header, names) in blocks {
        if !first {
            println!();
        }
        first = false;
        if let Some(h) = header {
            println!("{h}:");
        }
        for line in columns(&names, if args.one { 0 } else { args.width }) {
            println!("{line}");
        }
    }
    Ok(0)
}

fn decorate(args: &LsArgs, name: &str, obj: &TreeObj) -> String {
    match obj {
        _ if !args.classify => name.to_string(),
        TreeObj::Dir(_) | TreeObj::DirRef(_) => format!("{name}."),
        TreeObj::Symlink(_) => format!("{name}@"),
        _ => name.to_string(),
    }
}

/// Lay names out in columns down then across, like ls(1); width 0 means one per line.
fn columns(names: &[String], width: usize) -> Vec<String> {
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let colw = longest + 2;
    let ncols = if width == 0 {
        1
    } else {
        (width / colw.max(1)).max(1)
    };
    let nrows = names.len().div_ceil(ncols);
    (0..nrows)
        .map(|row| {
            let cells: Vec<&String> = (0..ncols)
                .filter_map(|c| names.get(c * nrows + row))
                .collect();
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 < cells.len() {
                    line.push_str(&format!("{cell:<colw$}"));
                } else {
                    line.push_str(cell);
                }
            }
            line
        })
        .collect()
}

/// Run `flux kvs dir`.
pub async fn dir(h: &Handle, ns: &str, args: DirArgs) -> anyhow::Result<i32> {
    let at = args.at.as_deref().map(client::parse_root).transpose()?;
    let mut todo = vec![args.key.clone()];
    let mut lines = BTreeMap::new();
    while let Some(key) = todo.pop() {
        for (name, obj) in read_dir(h, ns, &key, at.as_ref()).await? {
            let full = join(&key, &name);
            let line = match &obj {
                TreeObj::Dir(_) | TreeObj::DirRef(_) if args.recursive => {
                    todo.push(full.clone());
                    continue;
                }
                TreeObj::Dir(_) | TreeObj::DirRef(_) => format!("{full}."),
                TreeObj::Symlink(link) => format!("{full} -> {}", link_text(link)),
                _ if args.names_only => full.clone(),
                TreeObj::Val(v) => format!("{full} = {}", printable(v)),
                TreeObj::ValRef(_) => {
                    let obj = client::lookup(h, ns, &full, 0, at.as_ref()).await?;
                    format!("{full} = {}", printable(&client::value_bytes(obj, &full)?))
                }
            };
            lines.insert(full, truncate(line, args.width));
        }
    }
    for line in lines.values() {
        println!("{line}");
    }
    Ok(0)
}

/// A value as one line of text: control characters (newlines...) become `.`.
fn printable(value: &[u8]) -> String {
    String::from_utf8_lossy(value)
        .trim_end_matches('\n')
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect()
}

fn truncate(line: String, width: usize) -> String {
    if width == 0 || line.chars().count() <= width {
        return line;
    }
    let mut cut: String = line.chars().take(width.saturating_sub(3)).collect();
    cut.push_str("...");
    cut
}

/// Run `flux kvs readlink`.
pub async fn readlink(h: &Handle, ns: &str, args: ReadlinkArgs) -> anyhow::Result<i32> {
    let at = args.at.as_deref().map(client::parse_root).transpose()?;
    for key in &args.keys {
        let link = match client::lookup(h, ns, key, lookup_flags::READLINK, at.as_ref()).await? {
            TreeObj::Symlink(link) => link,
            other => anyhow::bail!("{key}: unexpected {} object", other.type_name()),
        };
        if args.namespace_only {
            println!("{}", link.namespace.as_deref().unwrap_or(ns));
        } else if args.key_only {
            println!("{}", link.target);
        } else {
            println!("{}", link_text(&link));
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn columns_fill_down_then_across() {
        let n = names(&["a", "b", "c", "d", "e"]);
        assert_eq!(columns(&n, 9), ["a  c  e", "b  d"]);
        assert_eq!(columns(&n, 0), ["a", "b", "c", "d", "e"]);
        assert_eq!(columns(&n, 80), ["a  b  c  d  e"]);
        assert!(columns(&[], 80).is_empty());
    }

    #[test]
    fn keys_join_and_lines_truncate() {
        assert_eq!(join(".", "a"), "a");
        assert_eq!(join("a.b", "c"), "a.b.c");
        assert_eq!(join("a.", "c"), "a.c");
        assert_eq!(truncate("abcdefgh".into(), 6), "abc...");
        assert_eq!(truncate("abc".into(), 6), "abc");
        assert_eq!(truncate("abcdefgh".into(), 0), "abcdefgh");
        assert_eq!(printable(b"x\ny\n"), "x.y");
    }
}
