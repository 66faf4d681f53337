//! The window harness shared by the end-to-end tests (tests/e2e.rs) and the app's start-up and
//! memory bench (benches/app.rs): a private Xvfb display, tauri-driver in front of Debian's
//! WebKitWebDriver on free ports, and a WebDriver session that launches an app binary.

use std::ffi::OsStr;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use thirtyfour::prelude::*;

/// How long a window may take to answer before a wait fails.
pub const WAIT: Duration = Duration::from_secs(40);

/// A display with tauri-driver listening on `port`, ready for [`connect`] to launch an app.
pub struct Driver {
    pub display: String,
    pub port: u16,
    pub procs: Procs,
}

impl Driver {
    /// Starts Xvfb and tauri-driver; `envs` reach the app the session launches, whose webview
    /// keeps its own storage (theme choice, caches) under `data`.
    pub fn start<K: AsRef<OsStr>, V: AsRef<OsStr>>(
        data: &Path,
        envs: impl IntoIterator<Item = (K, V)>,
    ) -> Driver {
        let tools = Tools::find();
        let mut procs = Procs(Vec::new());
        let display = start_xvfb(&mut procs);
        let port = free_port();
        let native_port = free_port();
        let driver = Command::new(&tools.tauri_driver)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .arg("--native-driver")
            .arg(&tools.webkit_driver)
            .env("DISPLAY", &display)
            .env("XDG_DATA_HOME", data.join("xdg-data"))
            .env("XDG_CONFIG_HOME", data.join("xdg-config"))
            .env("XDG_CACHE_HOME", data.join("xdg-cache"))
            .envs(envs)
            .stdout(Stdio::null())
            // A file, not the caller's stderr: WebKitWebDriver may outlive the test by a moment.
            .stderr(log_file(&display, "driver"))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", tools.tauri_driver.display()));
        procs.0.push(driver);
        Driver {
            display,
            port,
            procs,
        }
    }
}

/// Child processes, stopped with SIGTERM (so tauri-driver also ends WebKitWebDriver) even when
/// a test panics.
pub struct Procs(pub Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for child in self.0.iter_mut().rev() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub async fn connect(port: u16, app_bin: &Path) -> WebDriver {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert(
        "tauri:options".into(),
        json!({ "application": app_bin.display().to_string() }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + WAIT;
    loop {
        match WebDriver::new(&url, Capabilities::from(caps.clone())).await {
            Ok(driver) => return driver,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!("no WebDriver session from tauri-driver on {url}: {e}"),
        }
    }
}

/// Starts a private Xvfb and returns its DISPLAY.
pub fn start_xvfb(procs: &mut Procs) -> String {
    // Tests run in parallel, as threads (cargo test) or processes (nextest): start each one's
    // search at a number from its process id and an in-process counter, so they do not race for
    // the same display.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let slot = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let first = 100 + (std::process::id() % 400) * 8 + (slot % 8);
    for n in (first..first + 64).step_by(8) {
        let socket = format!("/tmp/.X11-unix/X{n}");
        let lock = format!("/tmp/.X{n}-lock");
        if Path::new(&socket).exists() || Path::new(&lock).exists() {
            continue;
        }
        let child = Command::new("Xvfb")
            .arg(format!(":{n}"))
            .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb (apt-get install xvfb)");
        procs.0.push(child);
        // Ours once the socket is there and our Xvfb still runs (another test may have taken
        // the same number a moment earlier; then ours exits and we try the next).
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut lost = false;
        while !Path::new(&socket).exists() || Instant::now() + Duration::from_secs(9) < deadline {
            if let Ok(Some(_)) = procs.0.last_mut().unwrap().try_wait() {
                lost = true;
                break;
            }
            if Path::new(&socket).exists() {
                // Give a losing Xvfb the moment it needs to notice the lock and exit.
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            assert!(Instant::now() < deadline, "Xvfb :{n} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        if !lost && matches!(procs.0.last_mut().unwrap().try_wait(), Ok(None)) {
            return format!(":{n}");
        }
        procs.0.pop();
    }
    panic!("no free X display number");
}

/// target/tmp/e2e-<display>-<what>.log, for reading after a failure.
pub fn log_file(display: &str, what: &str) -> std::fs::File {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "e2e-{}-{what}.log",
        display.trim_start_matches(':')
    ));
    std::fs::File::create(path).expect("create a log file")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The programs the window tests drive, all found before anything starts, so a missing one fails
/// with the whole list and what to install.
pub struct Tools {
    pub tauri_driver: PathBuf,
    pub webkit_driver: PathBuf,
}

impl Tools {
    pub fn find() -> Tools {
        let tauri_driver = std::env::var_os("TAURI_DRIVER")
            .map(PathBuf::from)
            .or_else(|| in_path("tauri-driver"))
            .or_else(|| {
                let p = PathBuf::from(std::env::var_os("HOME")?).join(".cargo/bin/tauri-driver");
                p.exists().then_some(p)
            });
        let webkit_driver = in_path("WebKitWebDriver");
        let mut missing = Vec::new();
        for (found, what) in [
            (in_path("Xvfb").is_some(), "Xvfb (apt-get install xvfb)"),
            (
                webkit_driver.is_some(),
                "WebKitWebDriver (apt-get install webkit2gtk-driver)",
            ),
            (
                tauri_driver.is_some(),
                "tauri-driver (cargo install tauri-driver --locked, or set TAURI_DRIVER)",
            ),
            (
                in_path("import").is_some(),
                "ImageMagick's import (apt-get install imagemagick)",
            ),
        ] {
            if !found {
                missing.push(what);
            }
        }
        assert!(
            missing.is_empty(),
            "the end-to-end tests need programs that are not installed here:\n  {}\n\
             (.ci/run installs them all; outside CI, STOCKDESK_E2E=skip leaves these tests out)",
            missing.join("\n  ")
        );
        Tools {
            tauri_driver: tauri_driver.unwrap(),
            webkit_driver: webkit_driver.unwrap(),
        }
    }
}

pub fn in_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// CI runs (`CI` set, as CI services and .ci/run do) may not skip the window tests.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}
