//! Postgres's own tools (`pg_dump`, `pg_restore`, `psql`), run with the shop's database URL.
//! The password goes in the environment (`PGPASSWORD`), never on a command line other users
//! can read; a tool that is not installed is the typed `tool_missing`.

use std::path::Path;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::backup_error;
use crate::error::{Error, Result};
use crate::model::BackupProblem;
use crate::store::url::redact;

/// The Debian package that has the tools.
const PACKAGE: &str = "postgresql-client";

/// How to reach the shop's database from a tool: the URL without its password, and the password.
pub struct PgTarget {
    url: String,
    password: Option<String>,
}

impl PgTarget {
    pub fn new(database_url: &str) -> Result<PgTarget> {
        let mut url = url::Url::parse(database_url).map_err(|e| {
            Error::BadInput(format!("bad Postgres URL {:?}: {e}", redact(database_url)))
        })?;
        let password = url.password().map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        });
        let _ = url.set_password(None);
        Ok(PgTarget {
            url: url.to_string(),
            password,
        })
    }

    fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(tool);
        cmd.env_remove("PGPASSWORD");
        if let Some(p) = &self.password {
            cmd.env("PGPASSWORD", p);
        }
        cmd.kill_on_drop(true);
        cmd
    }

    /// `pg_dump` of the whole database in its custom format (compressed, checked by
    /// `pg_restore`), at the exported `snapshot` (the one the backup reads its manifest in).
    pub async fn dump(&self, snapshot: &str, to: &Path) -> Result<()> {
        let mut cmd = self.command("pg_dump");
        cmd.arg("--format=custom")
            .arg("--no-owner")
            .arg("--no-privileges")
            .arg(format!("--snapshot={snapshot}"))
            .arg("--file")
            .arg(to)
            .arg("--dbname")
            .arg(&self.url);
        run(cmd, "pg_dump").await
    }

    /// Checks that `dump` is a dump `pg_restore` can read (its table of contents).
    pub async fn check_dump(&self, dump: &Path) -> Result<()> {
        let mut cmd = self.command("pg_restore");
        cmd.arg("--list").arg(dump).stdout(Stdio::null());
        run(cmd, "pg_restore").await
    }

    /// Replaces everything in the database's `public` schema with `dump`, in one transaction:
    /// `pg_restore` turns the dump into SQL, which `psql` runs after dropping the schema. Any
    /// error rolls all of it back.
    pub async fn restore(&self, dump: &Path) -> Result<()> {
        let mut reader = self.command("pg_restore");
        reader
            .arg("--no-owner")
            .arg("--no-privileges")
            .arg("--file=-")
            .arg(dump)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut reader = spawn(reader, "pg_restore")?;
        let mut psql = self.command("psql");
        psql.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-", "--dbname"])
            .arg(&self.url)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut psql = spawn(psql, "psql")?;
        let mut to_psql = psql.stdin.take().expect("piped");
        let mut sql = reader.stdout.take().expect("piped");
        let feed = async {
            // A terminal holding a table waits at most this long for it (then nothing changes).
            to_psql
                .write_all(
                    b"BEGIN;\nSET lock_timeout = '10s';\nDROP SCHEMA public CASCADE;\n\
                      CREATE SCHEMA public;\nGRANT USAGE ON SCHEMA public TO PUBLIC;\n",
                )
                .await?;
            tokio::io::copy(&mut sql, &mut to_psql).await?;
            to_psql.write_all(b"COMMIT;\n").await?;
            to_psql.shutdown().await?;
            drop(to_psql);
            Ok::<_, std::io::Error>(())
        };
        let fed = feed.await;
        let read = reader.wait_with_output().await?;
        let ran = psql.wait_with_output().await?;
        if !read.status.success() {
            return Err(failed("pg_restore", read.status, &read.stderr));
        }
        if !ran.status.success() {
            return Err(failed("psql", ran.status, &ran.stderr));
        }
        fed?;
        Ok(())
    }
}

fn spawn(mut cmd: Command, tool: &str) -> Result<tokio::process::Child> {
    cmd.spawn().map_err(|e| not_run(tool, e))
}

async fn run(mut cmd: Command, tool: &str) -> Result<()> {
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .await
        .map_err(|e| not_run(tool, e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(failed(tool, out.status, &out.stderr))
    }
}

fn not_run(tool: &str, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        backup_error(
            format!(
                "{tool} is not installed: backups of a Postgres shop need PostgreSQL's client \
                 tools (Debian: apt install {PACKAGE})"
            ),
            BackupProblem::ToolMissing {
                tool: tool.into(),
                package: PACKAGE.into(),
            },
        )
    } else {
        Error::Io(e)
    }
}

fn failed(tool: &str, status: std::process::ExitStatus, stderr: &[u8]) -> Error {
    let text = String::from_utf8_lossy(stderr);
    // The last lines say why; a URL in them has its password hidden.
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    let stderr = lines
        .into_iter()
        .rev()
        .map(|l| {
            l.split_whitespace()
                .map(|w| {
                    if w.contains("://") {
                        redact(w)
                    } else {
                        w.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n");
    backup_error(
        format!("{tool} failed ({status}): {stderr}"),
        BackupProblem::ToolFailed {
            tool: tool.into(),
            status: status.to_string(),
            stderr,
        },
    )
}
