//! The KVS end to end through `flux kvs` and `flux content`: values, directories, links,
//! namespaces, watches, eventlogs, bad input, and durability across restarts and kill -9.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flux_integration::{Instance, output_with_stdin, stderr, stdout};

/// Run `flux ARGS...`, expect failure with a `flux-CMD: ERROR:` message; return stderr.
fn fails(inst: &Instance, args: &[&str]) -> String {
    let out = inst.flux(args);
    assert!(!out.status.success(), "flux {} succeeded", args.join(" "));
    let err = stderr(&out);
    assert!(err.contains(": ERROR: "), "flux {}: {err}", args.join(" "));
    err
}

/// An instance whose primary namespace is empty again (the resource module stores
/// `resource.R` at start), and the root sequence number it is at.
fn empty_instance() -> (Instance, u64) {
    let inst = Instance::start(&[]);
    inst.ok(&["kvs", "get", "--waitcreate", "resource.R"]);
    inst.ok(&["kvs", "unlink", "-R", "resource"]);
    let seq = inst.ok(&["kvs", "getroot", "-s"]).trim().parse().unwrap();
    (inst, seq)
}

#[test]
fn put_get_several_pairs_in_one_transaction() {
    let (inst, seq) = empty_instance();
    inst.ok(&["kvs", "put", "a.b.c=42", "x=hello", "empty="]);
    assert_eq!(
        inst.ok(&["kvs", "getroot", "-s"]),
        format!("{}\n", seq + 1),
        "one commit"
    );
    assert_eq!(inst.ok(&["kvs", "get", "a.b.c", "x"]), "42\nhello\n");
    assert_eq!(inst.ok(&["kvs", "get", "empty"]), "");
    assert_eq!(inst.ok(&["kvs", "get", "--raw", "x"]), "hello");
    assert_eq!(inst.ok(&["kvs", "get", "--label", "x"]), "x=hello\n");
    // Keys are normalized.
    assert_eq!(inst.ok(&["kvs", "get", "..a..b.c"]), "42\n");
    inst.ok(&["kvs", "put", "--json", "j={\"b\": [1, 2]}"]);
    assert_eq!(inst.ok(&["kvs", "get", "--json", "j"]), "{\"b\":[1,2]}\n");
    inst.ok(&["kvs", "put", "--append", "log=one,"]);
    inst.ok(&["kvs", "put", "--append", "log=two"]);
    assert_eq!(inst.ok(&["kvs", "get", "log"]), "one,two\n");
    let big = "v".repeat(5000);
    inst.ok(&["kvs", "put", &format!("big={big}")]);
    assert_eq!(inst.ok(&["kvs", "get", "big"]), format!("{big}\n"));
    let treeobj = inst.ok(&["kvs", "get", "--treeobj", "big"]);
    assert!(
        treeobj.starts_with("{\"ver\":1,\"type\":\"valref\""),
        "{treeobj}"
    );
    // A lookup at an older root sees the older value.
    let root = inst.ok(&["kvs", "getroot"]);
    inst.ok(&["kvs", "put", "x=changed"]);
    assert_eq!(
        inst.ok(&["kvs", "get", "--at", root.trim(), "x"]),
        "hello\n"
    );
    assert_eq!(inst.ok(&["kvs", "get", "x"]), "changed\n");
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let (inst, seq) = empty_instance();
    inst.ok(&["kvs", "put", "d.v=1"]);
    assert!(fails(&inst, &["kvs", "get", "nokey"]).contains("nokey"));
    assert!(fails(&inst, &["kvs", "get", "d"]).contains("is a directory"));
    assert!(fails(&inst, &["kvs", "get", "d.v.w"]).contains("not a directory"));
    assert!(fails(&inst, &["kvs", "put", "novalue"]).contains("KEY=VALUE"));
    assert!(fails(&inst, &["kvs", "put", "--json", "j={bad"]).contains("not JSON"));
    assert!(fails(&inst, &["kvs", "get", "-N", "nons", "d.v"]).contains("nons"));
    assert!(fails(&inst, &["kvs", "unlink", "d"]).contains("non-empty directory"));
    // A transaction with one bad key leaves everything as it was.
    assert!(fails(&inst, &["kvs", "put", "good=1", "=2"]).contains("invalid key"));
    fails(&inst, &["kvs", "get", "good"]);
    assert_eq!(inst.ok(&["kvs", "getroot", "-s"]), format!("{}\n", seq + 1));
    assert!(fails(&inst, &["kvs", "namespace", "remove", "primary"]).contains("primary"));
    // Blobs over the limit: EFBIG, nothing stored.
    inst.ok(&["module", "reload", "kvs", "blob-size-limit=100"]);
    assert_eq!(inst.ok(&["kvs", "get", "d.v"]), "1\n", "store reopened");
    let long = format!("big={}", "x".repeat(300));
    assert!(fails(&inst, &["kvs", "put", &long, "small=1"]).contains("exceeds the limit"));
    fails(&inst, &["kvs", "get", "small"]);
    let out = output_with_stdin(&mut inst.cmd(&["content", "store"]), &[b'z'; 300]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("flux-content: ERROR:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unlink_mkdir_and_listings() {
    let (inst, _) = empty_instance();
    inst.ok(&["kvs", "put", "a.x=1", "a.y=two", "b=3"]);
    inst.ok(&["kvs", "mkdir", "e"]);
    inst.ok(&["kvs", "link", "a.x", "l"]);
    assert_eq!(inst.ok(&["kvs", "ls"]), "a  b  e  l\n");
    assert_eq!(inst.ok(&["kvs", "ls", "-F"]), "a.  b   e.  l@\n");
    assert_eq!(inst.ok(&["kvs", "ls", "-1", "a"]), "x\ny\n");
    assert_eq!(inst.ok(&["kvs", "ls", "-d", "a", "b"]), "a  b\n");
    assert_eq!(
        inst.ok(&["kvs", "ls", "-R"]),
        ".:\na  b  e  l\n\na:\nx  y\n\ne:\n"
    );
    assert_eq!(inst.ok(&["kvs", "dir"]), "a.\nb = 3\ne.\nl -> a.x\n");
    assert_eq!(
        inst.ok(&["kvs", "dir", "-R"]),
        "a.x = 1\na.y = two\nb = 3\nl -> a.x\n"
    );
    assert_eq!(inst.ok(&["kvs", "dir", "-d", "a"]), "a.x\na.y\n");
    inst.ok(&["kvs", "put", &format!("long={}", "z".repeat(100))]);
    let line = inst.ok(&["kvs", "dir", "-w", "20", "."]);
    assert!(line.contains("long = zzzzzzzzzz...\n"), "{line}");
    inst.ok(&["kvs", "unlink", "e", "b"]);
    fails(&inst, &["kvs", "get", "b"]);
    fails(&inst, &["kvs", "unlink", "nope"]);
    inst.ok(&["kvs", "unlink", "-f", "nope"]);
    inst.ok(&["kvs", "unlink", "-R", "a"]);
    assert_eq!(inst.ok(&["kvs", "ls"]), "l     long\n");
}

#[test]
fn links_copy_and_move() {
    let inst = Instance::start(&[]);
    inst.ok(&["kvs", "put", "src.v=1", "src.w=2"]);
    inst.ok(&["kvs", "link", "src.v", "lnk"]);
    assert_eq!(inst.ok(&["kvs", "readlink", "lnk"]), "src.v\n");
    assert_eq!(inst.ok(&["kvs", "get", "lnk"]), "1\n");
    inst.ok(&["kvs", "link", "dangling", "dl"]);
    fails(&inst, &["kvs", "get", "dl"]);
    fails(&inst, &["kvs", "readlink", "src.v"]);
    inst.ok(&["kvs", "namespace", "create", "other"]);
    inst.ok(&["kvs", "-N", "other", "put", "there=3"]);
    inst.ok(&["kvs", "link", "-T", "other", "there", "xl"]);
    assert_eq!(inst.ok(&["kvs", "readlink", "xl"]), "other::there\n");
    assert_eq!(inst.ok(&["kvs", "readlink", "-o", "xl"]), "other\n");
    assert_eq!(inst.ok(&["kvs", "readlink", "-k", "xl"]), "there\n");
    assert_eq!(inst.ok(&["kvs", "get", "xl"]), "3\n");
    inst.ok(&["kvs", "copy", "src", "dst"]);
    assert_eq!(
        inst.ok(&["kvs", "dir", "-R", "dst"]),
        "dst.v = 1\ndst.w = 2\n"
    );
    inst.ok(&["kvs", "move", "-D", "other", "dst", "moved"]);
    fails(&inst, &["kvs", "get", "dst.v"]);
    assert_eq!(inst.ok(&["kvs", "-N", "other", "get", "moved.w"]), "2\n");
}

#[test]
fn namespaces() {
    let inst = Instance::start(&[]);
    inst.ok(&["kvs", "namespace", "create", "ns1", "ns2"]);
    inst.ok(&["kvs", "namespace", "create", "--owner=4242", "guest"]);
    fails(&inst, &["kvs", "namespace", "create", "ns1"]);
    let list = inst.ok(&["kvs", "namespace", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(
        lines[0],
        format!("{:<36} {:<10} FLAGS", "NAMESPACE", "OWNER")
    );
    assert_eq!(lines[1], format!("{:<36} {:>10} 0x00000000", "guest", 4242));
    assert_eq!(lines.len(), 5, "{list}");
    inst.ok(&["kvs", "-N", "ns1", "put", "k=in-ns1"]);
    let out = inst
        .cmd(&["kvs", "get", "k"])
        .env("FLUX_KVS_NAMESPACE", "ns1")
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "in-ns1\n");
    fails(&inst, &["kvs", "get", "k"]);
    assert_eq!(
        inst.ok(&["kvs", "-N", "guest", "getroot", "--owner"]),
        "4242\n"
    );
    inst.ok(&["kvs", "namespace", "remove", "ns1"]);
    fails(&inst, &["kvs", "-N", "ns1", "get", "k"]);
    // A namespace can start from another's root.
    let root = inst.ok(&["kvs", "getroot"]);
    inst.ok(&["kvs", "put", "shared=1"]);
    inst.ok(&[
        "kvs",
        "namespace",
        "create",
        "--rootref",
        root.trim(),
        "snap",
    ]);
    fails(&inst, &["kvs", "-N", "snap", "get", "shared"]);
}

/// Spawn `flux ARGS...` with stdout piped, and a reader of its lines.
fn spawn_lines(
    inst: &Instance,
    args: &[&str],
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStdout>>,
) {
    let mut child = inst.cmd(args).stdout(Stdio::piped()).spawn().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

#[test]
fn watch_waitcreate_and_append_streaming() {
    let inst = Instance::start(&[]);
    inst.ok(&["kvs", "put", "k=0"]);
    let (mut child, mut lines) = spawn_lines(&inst, &["kvs", "get", "--watch", "--count=3", "k"]);
    assert_eq!(lines.next().unwrap().unwrap(), "0", "initial value");
    inst.ok(&["kvs", "put", "other=x"]);
    inst.ok(&["kvs", "put", "k=1"]);
    inst.ok(&["kvs", "put", "k=2"]);
    assert_eq!(lines.next().unwrap().unwrap(), "1");
    assert_eq!(lines.next().unwrap().unwrap(), "2");
    assert!(child.wait().unwrap().success());

    let (mut child, mut lines) = spawn_lines(&inst, &["kvs", "get", "--waitcreate", "later"]);
    std::thread::sleep(Duration::from_millis(300));
    inst.ok(&["kvs", "put", "later=here"]);
    assert_eq!(lines.next().unwrap().unwrap(), "here");
    assert!(child.wait().unwrap().success());

    inst.ok(&["kvs", "put", "--append", "out=a\n"]);
    let args = [
        "kvs",
        "get",
        "--watch",
        "--append",
        "--raw",
        "--count=3",
        "out",
    ];
    let (mut child, mut lines) = spawn_lines(&inst, &args);
    assert_eq!(lines.next().unwrap().unwrap(), "a");
    inst.ok(&["kvs", "put", "--append", "out=b\n"]);
    inst.ok(&["kvs", "put", "--append", "out=c\n"]);
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "b",
        "only the appended bytes"
    );
    assert_eq!(lines.next().unwrap().unwrap(), "c");
    assert!(child.wait().unwrap().success());
}

#[test]
fn eventlogs() {
    let inst = Instance::start(&[]);
    inst.ok(&[
        "kvs",
        "eventlog",
        "append",
        "--timestamp=1.5",
        "ev",
        "submit",
        "{\"userid\":5,\"s\":\"x\"}",
    ]);
    inst.ok(&["kvs", "eventlog", "append", "--timestamp=2", "ev", "start"]);
    assert_eq!(
        inst.ok(&["kvs", "eventlog", "get", "ev"]),
        "1.500000 submit userid=5 s=\"x\"\n2.000000 start\n"
    );
    assert_eq!(
        inst.ok(&["kvs", "eventlog", "get", "-u", "ev"]),
        "{\"timestamp\":1.5,\"name\":\"submit\",\"context\":{\"userid\":5,\"s\":\"x\"}}\n{\"timestamp\":2.0,\"name\":\"start\"}\n"
    );
    assert!(
        fails(&inst, &["kvs", "eventlog", "append", "ev", "bad", "[1]"]).contains("JSON object")
    );
    let (mut child, mut lines) = spawn_lines(
        &inst,
        &["kvs", "eventlog", "wait-event", "-v", "-W", "job", "finish"],
    );
    std::thread::sleep(Duration::from_millis(300));
    inst.ok(&["kvs", "eventlog", "append", "--timestamp=3", "job", "alloc"]);
    inst.ok(&[
        "kvs",
        "eventlog",
        "append",
        "--timestamp=4",
        "job",
        "finish",
        "{\"status\":0}",
    ]);
    assert_eq!(lines.next().unwrap().unwrap(), "3.000000 alloc");
    assert_eq!(lines.next().unwrap().unwrap(), "4.000000 finish status=0");
    assert!(child.wait().unwrap().success());
    let err = fails(
        &inst,
        &["kvs", "eventlog", "wait-event", "-t", "0.3", "job", "never"],
    );
    assert!(err.contains("timeout"), "{err}");
}

#[test]
fn content_store_and_load() {
    let inst = Instance::start(&[]);
    let out = output_with_stdin(&mut inst.cmd(&["content", "store"]), b"foo\n");
    // What sha1sum prints for "foo\n".
    assert_eq!(
        stdout(&out),
        "sha1-f1d2d2f924e986ac86fdf7b36c94bcdf32beec15\n"
    );
    assert_eq!(
        inst.ok(&[
            "content",
            "load",
            "sha1-f1d2d2f924e986ac86fdf7b36c94bcdf32beec15"
        ]),
        "foo\n"
    );
    let missing = "sha1-0000000000000000000000000000000000000000";
    assert!(fails(&inst, &["content", "load", missing]).contains("no such blob"));
    fails(&inst, &["content", "load", "notablobref"]);
    inst.ok(&["content", "flush"]);
    inst.ok(&["content", "dropcache"]);
    inst.ok(&["kvs", "dropcache"]);
    // The KVS root is a blob too.
    let rootref = inst.ok(&["kvs", "getroot", "-b"]);
    let root = inst.ok(&["content", "load", rootref.trim()]);
    assert!(root.starts_with("{\"ver\":1,\"type\":\"dir\""), "{root}");
    let modules = inst.ok(&["module", "list"]);
    assert!(
        modules
            .lines()
            .any(|l| l.starts_with("kvs ") && l.ends_with("kvs-watch,content")),
        "{modules}"
    );
}

#[test]
fn restart_on_the_same_statedir_keeps_the_kvs() {
    let dir = tempfile::tempdir().unwrap();
    let statedir = format!("-Sstatedir={}", dir.path().display());
    let inst = Instance::start(&[&statedir]);
    inst.ok(&["kvs", "put", "a=1", "b.c=2"]);
    inst.ok(&["kvs", "namespace", "create", "--owner=77", "kept"]);
    inst.ok(&["kvs", "-N", "kept", "put", "n=3"]);
    // The resource module writes resource.R once discovery is done: wait for it, so the
    // root below is the last one.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !inst.flux(&["kvs", "get", "resource.R"]).status.success() {
        assert!(
            std::time::Instant::now() < deadline,
            "resource.R never written"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let root = inst.ok(&["kvs", "getroot"]);
    assert_eq!(inst.shutdown(), 0);
    let inst = Instance::start(&[&statedir]);
    assert_eq!(inst.ok(&["kvs", "getroot"]), root);
    assert_eq!(inst.ok(&["kvs", "get", "a", "b.c"]), "1\n2\n");
    assert_eq!(inst.ok(&["kvs", "-N", "kept", "get", "n"]), "3\n");
    assert_eq!(inst.ok(&["kvs", "-N", "kept", "getroot", "-o"]), "77\n");
    inst.shutdown();
}

/// Start an instance on a statedir, run 4 writers committing with `flux kvs put OPTS`,
/// kill -9 fluxd once 60 commits are acknowledged, restart on the same statedir, and
/// check that every acknowledged commit is there.
fn crash_and_check(opts: &'static [&'static str]) {
    let dir = tempfile::tempdir().unwrap();
    let statedir = format!("-Sstatedir={}", dir.path().display());
    let mut inst = Instance::start(&[&statedir]);
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop_at = Instant::now() + Duration::from_secs(20);
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let acked = Arc::clone(&acked);
            let uri = inst.uri().to_string();
            let bin = flux_integration::bin_dir().join("flux");
            std::thread::spawn(move || {
                for i in 0.. {
                    let kv = format!("crash.t{t}.k{i}=v{i}");
                    let out = std::process::Command::new(&bin)
                        .args(["kvs", "put"])
                        .args(opts)
                        .arg(&kv)
                        .env("FLUX_URI", &uri)
                        .output()
                        .unwrap();
                    if !out.status.success() || Instant::now() > stop_at {
                        break;
                    }
                    acked.lock().unwrap().push(kv);
                }
            })
        })
        .collect();
    // Kill while commits are in flight, once a good number are acknowledged.
    while acked.lock().unwrap().len() < 60 {
        assert!(Instant::now() < stop_at, "commits too slow");
        std::thread::sleep(Duration::from_millis(5));
    }
    inst.kill9();
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let inst = Instance::start(&[&statedir]);
    let dump = inst.ok(&["kvs", "dir", "-R", "crash"]);
    for kv in &acked {
        let (key, value) = kv.split_once('=').unwrap();
        assert!(
            dump.contains(&format!("{key} = {value}\n")),
            "acknowledged {kv} lost"
        );
    }
    inst.shutdown();
}

/// Plain commits are acknowledged once journaled: kill -9 loses none of them.
#[test]
fn journaled_commits_survive_kill_9() {
    crash_and_check(&[]);
}

/// Commits with --sync are acknowledged once flushed: kill -9 loses none of them.
#[test]
fn synced_commits_survive_kill_9() {
    crash_and_check(&["--sync"]);
}
