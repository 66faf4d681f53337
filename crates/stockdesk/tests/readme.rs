//! The README's command-line examples, run as written against a fresh database: a reader who
//! copies them gets what the README says.

use std::path::Path;
use std::process::Command;

fn examples() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("README.md at the repository root");
    let mut script = String::new();
    let mut inside = false;
    for line in readme.lines() {
        if line.trim_start().starts_with("```bash cli-example") {
            inside = true;
        } else if inside && line.trim_start().starts_with("```") {
            inside = false;
        } else if inside {
            script.push_str(line);
            script.push('\n');
        }
    }
    script
}

#[test]
fn readme_cli_examples_run_as_written() {
    let script = examples();
    assert!(script.lines().count() > 20, "the README lost its examples");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_stockdesk")).parent().unwrap();
    let work = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("set -euo pipefail\n{script}"))
        .current_dir(work.path())
        .env("PATH", path)
        .env_remove("STOCKDESK_DB")
        .env_remove("STOCKDESK_ACTOR")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "README examples failed:\n{stdout}\n{stderr}"
    );
    let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
    // What the README promises: the merge, the conflict, the stock delta, the replay.
    assert!(
        lines.contains(&"\"bob\"") || lines.contains(&"\"ana\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"path\": \"name\""),
        "conflict shown: {stdout}"
    );
    assert!(lines.contains(&"13"), "stock merged as a delta: {stdout}");
    let replays: Vec<_> = lines
        .iter()
        .filter(|l| **l == "true" || **l == "false")
        .collect();
    assert_eq!(replays, [&"false", &"true"], "{stdout}");
    assert!(
        stdout.contains("price_minor"),
        "validation names the field: {stdout}"
    );
}
