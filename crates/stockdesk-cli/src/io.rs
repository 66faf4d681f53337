//! JSON on stdin and stdout, and exit codes from error codes.

use std::io::Read;
use std::process::ExitCode;

use serde::de::DeserializeOwned;
use serde::Serialize;
use stockdesk::Error;

/// The JSON document on stdin, as `T`. Malformed or unknown keys are bad input (exit 2).
pub fn read_stdin<T: DeserializeOwned>() -> stockdesk::Result<T> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::BadInput(format!("could not read stdin: {e}")))?;
    if text.trim().is_empty() {
        return Err(Error::BadInput("expected a JSON document on stdin".into()));
    }
    serde_json::from_str(&text).map_err(|e| Error::BadInput(format!("invalid JSON on stdin: {e}")))
}

pub fn to_json<T: Serialize>(value: &T) -> stockdesk::Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| Error::BadInput(format!("unprintable result: {e}")))
}

pub fn print(value: &serde_json::Value) -> ExitCode {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values print")
    );
    ExitCode::SUCCESS
}

pub fn fail(e: &Error) -> ExitCode {
    println!(
        "{}",
        serde_json::to_string_pretty(&e.to_api()).expect("errors print")
    );
    ExitCode::from(e.exit_code() as u8)
}
