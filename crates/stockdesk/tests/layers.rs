//! The core's modules form layers (see the module docs of `lib.rs`): each may use only the
//! modules below it, so the graph has no cycle and catalog and stock never reach into each
//! other. This test reads every source file, collects the `crate::…` paths it names (in `use`
//! lines and inline), and fails on a use the layers do not allow — a new cycle included.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each module and the modules it may use. `root` is lib.rs (the `Stockdesk` handle and the
/// re-exports): only `api` builds on it, with the handle's methods.
const LAYERS: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("clock", &[]),
    ("error", &["model"]),
    ("failpoint", &["error"]),
    ("store", &["error", "model"]),
    ("ctx", &["store", "clock", "model", "error", "failpoint"]),
    ("product_rows", &["ctx", "store", "model", "error"]),
    ("images", &["ctx", "store", "model", "error"]),
    (
        "catalog",
        &["images", "product_rows", "ctx", "store", "model", "error"],
    ),
    ("stock", &["product_rows", "ctx", "store", "model", "error"]),
    ("check", &["catalog", "ctx", "store", "model", "error"]),
    ("feed", &["ctx", "store", "model", "error"]),
    ("presence", &["ctx", "store", "model", "error"]),
    ("staff", &["ctx", "store", "model", "error"]),
    (
        "sweeper",
        &[
            "stock", "images", "presence", "ctx", "store", "model", "error",
        ],
    ),
    (
        "replica",
        &[
            "catalog",
            "images",
            "product_rows",
            "ctx",
            "store",
            "model",
            "error",
        ],
    ),
    (
        "reports",
        &["sweeper", "product_rows", "ctx", "store", "model", "error"],
    ),
    (
        "commands",
        &[
            "catalog", "stock", "images", "staff", "replica", "reports", "ctx", "store", "model",
            "error",
        ],
    ),
    (
        "sync",
        &[
            "commands", "replica", "feed", "images", "ctx", "store", "model", "error", "clock",
        ],
    ),
    (
        "backup",
        &["check", "images", "ctx", "store", "model", "error"],
    ),
    (
        "transfer",
        &[
            "commands",
            "catalog",
            "images",
            "product_rows",
            "ctx",
            "store",
            "model",
            "error",
        ],
    ),
    (
        "api",
        &[
            "root", "sync", "backup", "transfer", "commands", "replica", "check", "feed",
            "presence", "staff", "reports", "sweeper", "catalog", "stock", "images", "ctx",
            "store", "model", "error", "clock",
        ],
    ),
    (
        "root",
        &[
            "sync",
            "backup",
            "transfer",
            "commands",
            "replica",
            "check",
            "feed",
            "presence",
            "staff",
            "reports",
            "sweeper",
            "catalog",
            "stock",
            "images",
            "product_rows",
            "ctx",
            "store",
            "model",
            "error",
            "failpoint",
            "clock",
        ],
    ),
];

#[test]
fn modules_use_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed: BTreeMap<&str, BTreeSet<&str>> = LAYERS
        .iter()
        .map(|(m, deps)| (*m, deps.iter().copied().collect()))
        .collect();
    let mut root_names = root_reexports(&src.join("lib.rs"));
    // `#[macro_export]` puts a macro at the crate root; it belongs to the module defining it.
    for file in rust_files(&src) {
        let text = std::fs::read_to_string(&file).unwrap();
        for part in text.split("#[macro_export]").skip(1) {
            if let Some(rest) = part.split("macro_rules!").nth(1) {
                root_names.insert(ident(rest.trim_start()), top_module(&src, &file));
            }
        }
    }
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut bad = Vec::new();
    for file in rust_files(&src) {
        let module = top_module(&src, &file);
        assert!(
            allowed.contains_key(module.as_str()),
            "{}: module `{module}` is in no layer; add it to LAYERS (and to lib.rs's docs)",
            file.display()
        );
        let text = std::fs::read_to_string(&file).unwrap();
        for used in crate_paths(&text) {
            let target = if allowed.contains_key(used.as_str()) && used != "root" {
                used.clone()
            } else {
                root_names
                    .get(&used)
                    .cloned()
                    .unwrap_or_else(|| "root".into())
            };
            if target == module {
                continue;
            }
            uses.entry(module.clone())
                .or_default()
                .insert(target.clone());
            if !allowed[module.as_str()].contains(target.as_str()) {
                bad.push(format!(
                    "{}: `{module}` uses `crate::{used}` (layer `{target}`)",
                    file.display()
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "uses the layers do not allow:\n{}",
        bad.join("\n")
    );
    // The allowed graph itself has no cycle (so neither has the real one).
    for (m, _) in LAYERS {
        assert!(
            !reaches(&allowed, m, m, &mut BTreeSet::new()),
            "LAYERS has a cycle through {m}"
        );
    }
    // Catalog and stock share rows through product_rows, never each other.
    for (a, b) in [("catalog", "stock"), ("stock", "catalog")] {
        assert!(!uses.get(a).is_some_and(|u| u.contains(b)), "{a} uses {b}");
    }
}

/// A test of the test: a use against the layers is caught.
#[test]
fn an_upward_use_is_caught() {
    let found = crate_paths("use crate::catalog::Product;\nlet x = crate::stock::level();");
    assert_eq!(found, BTreeSet::from(["catalog".into(), "stock".into()]));
    let grouped = crate_paths("use crate::{images, stock::orders, Stockdesk};");
    assert_eq!(
        grouped,
        BTreeSet::from(["images".into(), "stock".into(), "Stockdesk".into()])
    );
    assert!(crate_paths("macro_rules! m { () => { $crate::store::Tx } }").is_empty());
}

fn reaches(
    graph: &BTreeMap<&str, BTreeSet<&str>>,
    from: &str,
    target: &str,
    seen: &mut BTreeSet<String>,
) -> bool {
    for next in graph.get(from).into_iter().flatten() {
        if *next == target {
            return true;
        }
        if seen.insert(next.to_string()) && reaches(graph, next, target, seen) {
            return true;
        }
    }
    false
}

/// The first name after each `crate::` (not `$crate::`, which macros use for their own crate):
/// `crate::catalog::x` → catalog; `crate::{a, b::c}` → a, b.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let before = &rest[..i];
            rest = &rest[i + "crate::".len()..];
            if before.ends_with('$') || before.ends_with(|c: char| c.is_alphanumeric() || c == '_')
            {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for part in group[..end].split(',') {
                    let name = ident(part.trim());
                    if !name.is_empty() && name != "self" {
                        out.insert(name);
                    }
                }
            } else {
                let name = ident(rest);
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        }
    }
    out
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Names lib.rs re-exports (`pub use error::{Error, Result};`), mapped to their module.
fn root_reexports(lib: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(lib).unwrap();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let module = ident(rest);
        let names = rest[module.len()..].trim_start_matches("::");
        let names = names.trim_matches(|c| c == '{' || c == '}' || c == ';');
        for name in names.split(',') {
            out.insert(ident(name.trim()), module.clone());
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// `src/catalog/merge.rs` → catalog; `src/ctx.rs` → ctx; `src/lib.rs` → root.
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    match first.strip_suffix(".rs") {
        Some("lib") => "root".into(),
        Some(name) => name.into(),
        None => first.into_owned(),
    }
}
