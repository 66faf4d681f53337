//! Running the real `stockdesk` binary: JSON results, the error contract, and the examples that
//! documents promise run as written.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

pub struct Run {
    pub code: i32,
    pub json: Value,
}

/// Runs `stockdesk ARGS` with `stdin`, and the given environment on top of a clean one.
pub fn stockdesk(env: &[(&str, &str)], args: &[&str], stdin: &str) -> Run {
    run(
        clean(Command::new(env!("CARGO_BIN_EXE_stockdesk"))),
        env,
        args,
        stdin,
    )
}

/// `stockdesk`, in a process whose clocks run `skew` off (`faketime -f +20m`, `-3h`): a terminal
/// with a wrong clock.
pub fn stockdesk_skewed(skew: &str, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Run {
    let mut cmd = clean(Command::new("faketime"));
    cmd.args(["-f", skew, env!("CARGO_BIN_EXE_stockdesk")]);
    run(cmd, env, args, stdin)
}

fn run(mut cmd: Command, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Run {
    let mut child = cmd
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // A command that exits before reading (bad flags) closes the pipe: not an error here.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    Run {
        code: out.status.code().unwrap(),
        json: serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    }
}

pub fn ok(run: Run) -> Value {
    assert_eq!(run.code, 0, "{}", run.json);
    run.json
}

/// A failure with the documented exit code, and exactly `{code, message, details}`.
pub fn assert_error(run: &Run, exit: i32, code: &str) {
    assert_eq!(run.code, exit, "{}", run.json);
    assert_eq!(run.json["code"], code, "{}", run.json);
    let keys: Vec<_> = run.json.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["code", "message", "details"]);
}

/// Runs the ```` ```bash cli-example ```` blocks of a document (path from the repository root)
/// as one script in a temp dir, with `stockdesk` on the PATH. Returns stdout; panics with the
/// output if the script fails.
pub fn run_doc_examples(doc: &str) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(doc),
    )
    .unwrap_or_else(|e| panic!("{doc}: {e}"));
    let mut script = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```bash cli-example") {
            inside = true;
        } else if inside && line.trim_start().starts_with("```") {
            inside = false;
        } else if inside {
            script.push_str(line);
            script.push('\n');
        }
    }
    assert!(script.lines().count() > 5, "{doc} lost its examples");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_stockdesk")).parent().unwrap();
    let work = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = clean(Command::new("bash"))
        .arg("-c")
        .arg(format!("set -euo pipefail\n{script}"))
        .current_dir(work.path())
        .env("PATH", path)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{doc} examples failed:\n{stdout}\n{stderr}"
    );
    stdout
}

/// The command without the caller's Stockdesk settings, so a developer's shell cannot leak in.
fn clean(mut cmd: Command) -> Command {
    for var in [
        "STOCKDESK_DB",
        "STOCKDESK_DATA_DIR",
        "STOCKDESK_ACTOR",
        "STOCKDESK_ORDER_EXPIRES_IN",
        "STOCKDESK_BLOBS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Sends `signal` (`TERM`, `INT`) to a running `stockdesk`, as systemd or Ctrl-C would.
pub fn send_signal(child: &std::process::Child, signal: &str) {
    let sent = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{signal} failed");
}
