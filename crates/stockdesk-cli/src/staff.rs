//! `stockdesk staff`: the shop's profiles; and `--as NAME`, acting as one (PIN from
//! `STOCKDESK_PIN`, else the first line of stdin).

use std::io::BufRead;

use clap::Subcommand;
use serde_json::Value;
use stockdesk::{Error, Result, Role, Stockdesk};
use uuid::Uuid;

use crate::io::to_json;

#[derive(Subcommand)]
pub enum StaffCmd {
    /// Add a profile; its PIN (4–12 digits) is the next line of stdin. The first must be an
    /// owner; after that only an owner adds profiles.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// The shop's profiles (never their PINs).
    List {
        /// Removed profiles too.
        #[arg(long)]
        removed: bool,
    },
    /// Remove a profile (by name or id): it can no longer act; history keeps its name.
    Remove { profile: String },
    /// The latest sign-ins, wrong PINs and lockouts.
    Events {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

fn parse_role(s: &str) -> std::result::Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("{s:?} is not a role: owner, manager or staff"))
}

pub async fn staff(sd: &Stockdesk, op_id: Option<Uuid>, cmd: StaffCmd) -> Result<Value> {
    match cmd {
        StaffCmd::Add { name, role } => {
            let pin = stdin_line("the new profile's PIN")?;
            to_json(&sd.add_staff(op_id, &name, role, &pin).await?)
        }
        StaffCmd::List { removed } => to_json(&sd.staff(removed).await?),
        StaffCmd::Remove { profile } => {
            let all = sd.staff(false).await?;
            let found = all
                .iter()
                .find(|p| p.id.to_string() == profile || p.name.eq_ignore_ascii_case(&profile))
                .ok_or_else(|| Error::not_found("staff profile", &profile))?;
            to_json(&sd.remove_staff(op_id, found.id).await?)
        }
        StaffCmd::Events { limit } => to_json(&sd.staff_events(limit).await?),
    }
}

/// `sd` acting as the profile `name`, signed in with the PIN from `STOCKDESK_PIN` or the first
/// line of stdin (the rest of stdin is then what the command reads).
pub async fn sign_in(sd: Stockdesk, name: &str) -> Result<Stockdesk> {
    let pin = match std::env::var("STOCKDESK_PIN") {
        Ok(pin) if !pin.is_empty() => pin,
        _ => stdin_line("your PIN (or set STOCKDESK_PIN)")?,
    };
    sd.sign_in(name, &pin).await
}

fn stdin_line(what: &str) -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::BadInput(format!("could not read {what} from stdin: {e}")))?;
    let line = line.trim_end_matches(['\r', '\n']).to_string();
    if line.is_empty() {
        return Err(Error::BadInput(format!("expected {what} on stdin")));
    }
    Ok(line)
}
