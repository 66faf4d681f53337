//! `stockdesk apply`: one command as JSON on stdin, applied through the core's one entry point.

use serde_json::Value;
use stockdesk::{Command, Error, Result, Stockdesk};

use crate::io::{read_stdin_text, to_json};

/// Reads a command; `actor`, `actor_id` and `made_at` may be left out (then they are this
/// invocation's `--actor` or `--as` profile, and now), `op_id` may not: it is what makes a replay
/// a replay.
pub async fn apply(sd: &Stockdesk) -> Result<Value> {
    let text = read_stdin_text()?;
    let mut json: Value = serde_json::from_str(&text)
        .map_err(|e| Error::BadInput(format!("invalid JSON on stdin: {e}")))?;
    let Some(fields) = json.as_object_mut() else {
        return Err(Error::BadInput("a command is a JSON object".into()));
    };
    if !fields.contains_key("op_id") {
        return Err(Error::validation(
            "op_id",
            "a command needs its op_id (any UUID; the same one applies once)",
        ));
    }
    fields
        .entry("actor")
        .or_insert_with(|| Value::String(sd.actor().to_string()));
    if let Some(id) = sd.actor_id() {
        fields
            .entry("actor_id")
            .or_insert_with(|| serde_json::json!(id));
    }
    fields
        .entry("made_at")
        .or_insert_with(|| serde_json::json!(sd.now()));
    let cmd: Command =
        serde_json::from_value(json).map_err(|e| Error::BadInput(format!("not a command: {e}")))?;
    to_json(&sd.apply(&cmd).await?)
}
