//! Named points on the image write path where a failure can be injected, so that tests can prove
//! that a crash or an I/O error at any step leaves nothing that recovery and a sweep cannot fix.
//!
//! Two switches: `Stockdesk::with_failpoints` (in-process: the step returns an injected I/O
//! error, as a failed disk or a dropped connection would) and the environment variable
//! `STOCKDESK_FAILPOINT_ABORT=<name>` (the process aborts at that step, as in a power cut; used
//! by tests that kill the CLI). Both exist only with the `failpoints` cargo feature, which only
//! the test kit turns on: in a shipped build `Ctx::failpoint` is an empty inline function.

use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};

/// Every failpoint, in write-path order.
pub const POINTS: &[&str] = &[
    "stage.before_write",
    "stage.after_write",
    "stage.in_tx",
    "stage.after_commit",
    "commit.in_tx",
    "commit.after_commit",
    "outbox.before_delete",
    "outbox.after_delete",
    "sweep.expire_in_tx",
];

pub const ABORT_ENV: &str = "STOCKDESK_FAILPOINT_ABORT";

/// Decides, per failpoint name, whether this pass through it fails.
#[derive(Clone)]
pub struct Failpoints(Arc<dyn Fn(&str) -> bool + Send + Sync>);

impl Failpoints {
    pub fn new(fail: impl Fn(&str) -> bool + Send + Sync + 'static) -> Failpoints {
        Failpoints(Arc::new(fail))
    }
}

impl std::fmt::Debug for Failpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Failpoints")
    }
}

/// Passes failpoint `name`: aborts the process if the environment says so, or returns the
/// injected error if `injected` decides this pass fails.
pub fn pass(injected: Option<&Failpoints>, name: &'static str) -> Result<()> {
    debug_assert!(POINTS.contains(&name), "unlisted failpoint {name}");
    static ABORT_AT: OnceLock<Option<String>> = OnceLock::new();
    if ABORT_AT
        .get_or_init(|| std::env::var(ABORT_ENV).ok())
        .as_deref()
        == Some(name)
    {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
    match injected {
        Some(f) if (f.0)(name) => Err(Error::Io(std::io::Error::other(format!(
            "injected failure at {name}"
        )))),
        _ => Ok(()),
    }
}
