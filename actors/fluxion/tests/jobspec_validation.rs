//! The jobspec validation corpus: every `valid/` file parses, every `invalid/` one fails.

use std::path::{Path, PathBuf};

use flux_fluxion::jobspec::Jobspec;

fn data_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fluxion-data");
    d.join("MANIFEST.tsv").exists().then_some(d)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn validation_corpus() {
    let Some(d) = data_dir() else {
        eprintln!("note: fluxion-data not found; skipping");
        return;
    };
    let base = d.join("jobspecs/validation");
    let mut wrong = Vec::new();
    for (sub, want_ok) in [("valid", true), ("invalid", false)] {
        for f in files(&base.join(sub)) {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            let ok = Jobspec::parse(&text).is_ok();
            if ok != want_ok {
                wrong.push(format!(
                    "{sub}/{}",
                    f.file_name().unwrap_or_default().to_string_lossy()
                ));
            }
        }
    }
    println!("jobspec validation mismatches: {}", wrong.len());
    assert!(wrong.is_empty(), "misjudged jobspecs: {wrong:#?}");
}
