//! JSON on stdin and stdout, exit codes from error codes, and the one way the CLI writes.

use std::io::{Read, Write};
use std::process::ExitCode;

use serde::de::DeserializeOwned;
use serde::Serialize;
use stockdesk::{CommandKind, Error, Outcome, Stockdesk};
use uuid::Uuid;

/// The most stdin the CLI reads: far more than any command or patch, and a bound on memory
/// when something else is piped in by mistake.
pub const MAX_STDIN: u64 = 16 * 1024 * 1024;

/// The JSON document on stdin, as `T`. Malformed or unknown keys are bad input (exit 2).
pub fn read_stdin<T: DeserializeOwned>() -> stockdesk::Result<T> {
    let text = read_stdin_text()?;
    serde_json::from_str(&text).map_err(|e| Error::BadInput(format!("invalid JSON on stdin: {e}")))
}

/// All of stdin as text, refused beyond `MAX_STDIN`.
pub fn read_stdin_text() -> stockdesk::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_STDIN + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::BadInput(format!("could not read stdin: {e}")))?;
    if text.len() as u64 > MAX_STDIN {
        return Err(Error::BadInput(format!(
            "stdin is larger than {} MiB",
            MAX_STDIN / 1024 / 1024
        )));
    }
    if text.trim().is_empty() {
        return Err(Error::BadInput("expected a JSON document on stdin".into()));
    }
    Ok(text)
}

/// Applies a command of `kind` (under `op_id`, or a new one) and returns its outcome's value,
/// the JSON each write subcommand prints.
pub async fn write(
    sd: &Stockdesk,
    op_id: Option<Uuid>,
    kind: CommandKind,
) -> stockdesk::Result<serde_json::Value> {
    let applied = sd.apply(&sd.command(op_id, kind)).await?;
    outcome_value(&applied.outcome)
}

fn outcome_value(outcome: &Outcome) -> stockdesk::Result<serde_json::Value> {
    let mut tagged = to_json(outcome)?;
    Ok(tagged["value"].take())
}

pub fn to_json<T: Serialize>(value: &T) -> stockdesk::Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| Error::Internal(format!("unprintable result: {e}")))
}

pub fn print(value: &serde_json::Value) -> ExitCode {
    emit(value);
    ExitCode::SUCCESS
}

/// Prints a table for people (`report`, `bench`). A reader that stopped reading (`| head`) is
/// not a failure, as for JSON.
pub fn print_text(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
    ExitCode::SUCCESS
}

pub fn fail(e: &Error) -> ExitCode {
    emit(&e.to_api());
    ExitCode::from(e.exit_code() as u8)
}

/// Writes the one JSON document of a run. A reader that stopped reading (`| head`) is not a
/// crash: the work is done (and committed) either way, so a closed pipe is ignored.
fn emit<T: Serialize>(value: &T) {
    let text = serde_json::to_string_pretty(value).expect("JSON values print");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// Prints one JSON document on a line of its own, at once (for output that streams: a sweep
/// every so often, the change feed). False when the reader went away.
pub fn line<T: Serialize>(value: &T) -> stockdesk::Result<bool> {
    let text = serde_json::to_string(&to_json(value)?).expect("JSON values print");
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT) or SIGTERM (systemd, `kill`).
pub async fn interrupted() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
