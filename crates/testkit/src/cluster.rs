//! A Postgres server of a test's own (initdb in a temp directory, on a free port), for tests that
//! restart or stop the server: the shared one on 5432 serves every other test at the same time.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Cluster {
    pub port: u16,
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Cluster {
    /// Makes and starts a new cluster (trust authentication on 127.0.0.1).
    pub fn start() -> Cluster {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        own(dir.path());
        let out = as_postgres(&bin.join("initdb"))
            .args([
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {out:?}");
        let cluster = Cluster { port, dir, bin };
        cluster.pg_ctl(&["start", "-w"]);
        cluster
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A restart as an operator does it (`pg_ctl restart -m fast`): connections are ended.
    pub fn restart(&self) {
        self.pg_ctl(&["restart", "-w", "-m", "fast"]);
    }

    /// The server crashes (`-m immediate`: no shutdown checkpoint) and stays down.
    pub fn crash(&self) {
        self.pg_ctl(&["stop", "-w", "-m", "immediate"]);
    }

    pub fn start_again(&self) {
        self.pg_ctl(&["start", "-w"]);
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("log");
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let out = as_postgres(&self.bin.join("pg_ctl"))
            .args(args)
            .args([
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &opts,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl {args:?}: {out:?}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        if args[0] != "stop" {
            let started = Instant::now();
            while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "server did not come up"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .args(["stop", "-m", "immediate", "-D", data.to_str().unwrap()])
            .output();
    }
}

/// Debian's server binaries (the newest installed version).
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("the postgresql package (initdb, pg_ctl) is needed for this test")
        .map(|e| e.unwrap().path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop().expect("no initdb under /usr/lib/postgresql")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// Postgres refuses to run as root: as root the server runs as the `postgres` user.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn own(dir: &Path) {
    if is_root() {
        let out = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "chown: {out:?}");
    }
}
