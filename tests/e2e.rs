//! End to end: the real app (UI embedded, `custom-protocol`) in a real window, driven over
//! WebDriver — `tauri-driver` in front of Debian's `WebKitWebDriver` — while the `stockdesk` CLI
//! changes the same SQLite database from "another terminal".
//!
//! Each test starts its own Xvfb display (so tests can run in parallel and screenshots show one
//! window), its own tauri-driver on free ports and its own database in a temp directory.
//! Screenshots are taken of the X display with ImageMagick's `import` (WebDriver's own screenshot
//! is blank under Xvfb) into `docs/screenshots/`.
//!
//! Needs: Xvfb, tauri-driver (PATH or ~/.cargo/bin), WebKitWebDriver, import. Without a display
//! server binary the tests fail unless `STOCKDESK_E2E=skip`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use thirtyfour::prelude::*;

const WAIT: Duration = Duration::from_secs(40);
const POLL: Duration = Duration::from_millis(100);

// ---- the three scenarios ------------------------------------------------------------------

/// (1) Open a product, edit, save, see the new version (in the window and in the database).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_and_save_shows_the_new_version() {
    let Some(app) = App::start("edit").await else {
        return;
    };
    // Open the first row of the list with the keyboard: focus the list, Enter.
    let row = app.wait_css("[data-testid=product-row]").await;
    let id = row.attr("data-product-id").await.unwrap().unwrap();
    let product = app.cli(&["product", "get", &id], None);
    let version = version_of(&product);
    app.wait_css("[data-testid=product-list]")
        .await
        .send_keys(Key::Enter)
        .await
        .unwrap();
    app.wait_text(
        "[data-testid=editor-title]",
        product["name"].as_str().unwrap(),
    )
    .await;
    app.wait_version(version).await;
    app.screenshot("list");

    app.type_into("[data-testid=field-name]", "Organic cotton tee, navy")
        .await;
    app.wait_css("[data-testid=save]:not([disabled])").await;
    app.screenshot("editor");
    app.click("[data-testid=save]").await;
    app.wait_version(version + 1).await;
    app.wait_css("[data-testid=toast-success]").await;

    let saved = app.cli(&["product", "get", &id], None);
    assert_eq!(saved["name"], "Organic cotton tee, navy");
    assert_eq!(saved["version"], version + 1);
    assert_eq!(saved["updated_by"], "ana");

    // The history shows who saved what; then the dark theme, for the README.
    app.click("[data-testid=history-tab]").await;
    app.wait_text("[data-testid=history] .who", "ana").await;
    app.click("[data-testid=theme-toggle]").await;
    app.wait_css("html[data-theme=dark]").await;
    app.screenshot("dark");
    app.stop().await;
}

/// (2) Open a product; the same field changes from the CLI; saving shows the conflict dialog with
/// both values; picking mine saves it on top of theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_field_conflict_opens_the_dialog_and_saves_the_choice() {
    let Some(app) = App::start("conflict").await else {
        return;
    };
    let product = app.cli_first_product();
    let (id, version) = (id_of(&product), version_of(&product));
    app.open_product(&product).await;

    app.type_into("[data-testid=field-name]", "Name typed in the app")
        .await;
    let theirs = app.cli(
        &[
            "product",
            "patch",
            &id,
            "--expected-version",
            &version.to_string(),
        ],
        Some(json!({ "name": "Name from the terminal" })),
    );
    assert_eq!(theirs["product"]["version"], version + 1);

    app.click("[data-testid=save]").await;
    let dialog = app.wait_css("[data-testid=conflict-dialog]").await;
    let clash = app.wait_css("[data-testid=clash][data-path=name]").await;
    let mine = clash
        .find(By::Css("[data-testid=mine-value]"))
        .await
        .unwrap();
    let their = clash
        .find(By::Css("[data-testid=theirs-value]"))
        .await
        .unwrap();
    assert_eq!(mine.text().await.unwrap(), "Name typed in the app");
    assert_eq!(their.text().await.unwrap(), "Name from the terminal");
    let who = clash.text().await.unwrap();
    assert!(who.contains("terminal"), "who changed it is shown: {who}");
    assert!(dialog
        .text()
        .await
        .unwrap()
        .contains(&format!("now at version {}", version + 1)));
    app.screenshot("conflict");

    clash
        .find(By::Css("[data-testid=pick-mine]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.click("[data-testid=resolve]").await;
    app.wait_version(version + 2).await;
    app.wait_gone("[data-testid=conflict-dialog]").await;

    let saved = app.cli(&["product", "get", &id], None);
    assert_eq!(saved["name"], "Name typed in the app");
    assert_eq!(saved["version"], version + 2);
    app.stop().await;
}

/// (3) A change to another field from the CLI merges without a dialog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disjoint_change_merges_without_a_dialog() {
    let Some(app) = App::start("merge").await else {
        return;
    };
    let product = app.cli_first_product();
    let (id, version) = (id_of(&product), version_of(&product));
    app.open_product(&product).await;

    app.type_into(
        "[data-testid=field-description]",
        "Described in the app while someone renamed it.",
    )
    .await;
    app.cli(
        &[
            "product",
            "patch",
            &id,
            "--expected-version",
            &version.to_string(),
        ],
        Some(json!({ "name": "Renamed in the terminal" })),
    );

    app.click("[data-testid=save]").await;
    app.wait_version(version + 2).await;
    let toast = app.wait_css("[data-testid=toast-success]").await;
    assert!(toast
        .text()
        .await
        .unwrap()
        .contains("Merged with changes by terminal"));
    assert!(app
        .driver
        .find_all(By::Css("[data-testid=conflict-dialog]"))
        .await
        .unwrap()
        .is_empty());
    app.wait_text("[data-testid=editor-title]", "Renamed in the terminal")
        .await;

    let saved = app.cli(&["product", "get", &id], None);
    assert_eq!(saved["name"], "Renamed in the terminal");
    assert_eq!(
        saved["description"],
        "Described in the app while someone renamed it."
    );
    assert_eq!(saved["version"], version + 2);
    app.stop().await;
}

/// Orders taken at the till (the CLI) show in the orders view with a countdown; confirming payment
/// there turns the hold into a sale, which the stock tab and the ledger show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_view_confirms_payment_and_stock_follows() {
    let Some(app) = App::start("orders").await else {
        return;
    };
    let product = app.cli_first_product();
    let variant = product["variants"][0]["id"].as_str().unwrap().to_string();
    let before = app.cli(&["stock", "get", &variant], None);
    let on_hand = before["on_hand"].as_i64().unwrap();
    assert!(on_hand >= 1, "the seeded variant has stock");
    let order = app.cli(
        &["order", "create"],
        Some(json!({ "items": [{ "variant_id": variant, "quantity": 1 }] })),
    );
    assert_eq!(order["status"], "pending");

    app.click("[data-testid=nav-orders]").await;
    let card = app.wait_css("[data-testid=order]").await;
    let text = card.text().await.unwrap();
    assert!(text.contains("left to pay"), "countdown shown: {text}");
    assert!(text.contains(product["name"].as_str().unwrap()));
    app.screenshot("orders");
    app.click("[data-testid=order] .btn-primary").await;
    app.wait_css("[data-testid=toast-success]").await;
    app.wait_gone("[data-testid=order]").await;
    let after = app.cli(&["stock", "get", &variant], None);
    assert_eq!(after["on_hand"], on_hand - 1);
    assert_eq!(after["reserved"], 0);

    // The product's stock tab shows the level and the sale in the ledger (a sale is a new
    // version of the product: its history records stock changes too).
    app.click("[data-testid=nav-products]").await;
    let product = app.cli(&["product", "get", &id_of(&product)], None);
    app.open_product(&product).await;
    app.click("[data-testid=stock-tab]").await;
    app.wait_text(".ledger .cap", "Sale").await;
    app.screenshot("stock");
    app.stop().await;
}

/// An image added from the CLI (`stockdesk image add`) shows its thumbnail in the editor (bytes
/// from `image_file(thumb_key)` as a blob: URL, allowed by the CSP); then a receipt from the stock
/// tab's actions lands in the ledger and the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_image_shows_its_thumbnail_and_stock_can_be_received() {
    let Some(app) = App::start("images").await else {
        return;
    };
    let product = app.cli_first_product();
    let id = id_of(&product);
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/swatch.png");
    let version = version_of(&product).to_string();
    let added = app.cli(
        &[
            "image",
            "add",
            &id,
            "--expected-version",
            &version,
            file.to_str().unwrap(),
        ],
        None,
    );
    let product = added["product"].clone();
    app.open_product(&product).await;
    let thumb = app.wait_css("[data-testid=image-thumb]").await;
    let src = thumb.attr("src").await.unwrap().unwrap_or_default();
    assert!(
        src.starts_with("blob:"),
        "thumbnail from a blob: URL, got {src:?}"
    );
    // Loaded, not a broken image: the CSP lets blob: images through.
    let width = app
        .driver
        .execute(
            "return document.querySelector('[data-testid=image-thumb]').naturalWidth",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        width.json().as_i64().unwrap_or(0) > 0,
        "the thumbnail decoded"
    );
    app.screenshot("images");

    let variant = product["variants"][0]["id"].as_str().unwrap().to_string();
    let on_hand = app.cli(&["stock", "get", &variant], None)["on_hand"]
        .as_i64()
        .unwrap();
    app.click("[data-testid=stock-tab]").await;
    app.click("[data-testid=stock-action-receive]").await;
    app.type_into("[data-testid=stock-amount]", "7").await;
    app.click("[data-testid=stock-submit]").await;
    app.wait_css("[data-testid=toast-success]").await;
    app.wait_text(".ledger .num.pos", "+7").await;
    let after = app.cli(&["stock", "get", &variant], None);
    assert_eq!(after["on_hand"], on_hand + 7);
    app.stop().await;
}

// ---- harness -------------------------------------------------------------------------------

struct App {
    driver: WebDriver,
    db: String,
    cli_bin: PathBuf,
    display: String,
    _data: tempfile::TempDir,
    procs: Procs,
}

/// Child processes, stopped with SIGTERM (so tauri-driver also ends WebKitWebDriver) even when
/// a test panics.
struct Procs(Vec<Child>);

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

impl App {
    async fn start(name: &str) -> Option<App> {
        if std::env::var("STOCKDESK_E2E").as_deref() == Ok("skip") {
            eprintln!("STOCKDESK_E2E=skip: not running the end-to-end test {name}");
            return None;
        }
        let app_bin = PathBuf::from(env!("CARGO_BIN_EXE_stockdesk-app"));
        let cli_bin = app_bin.with_file_name("stockdesk");
        assert!(
            cli_bin.exists(),
            "{} is missing: build the workspace (cargo test --workspace)",
            cli_bin.display()
        );
        let data = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}/shop.db", data.path().display());
        let mut procs = Procs(Vec::new());

        let display = start_xvfb(&mut procs);
        let port = free_port();
        let native_port = free_port();
        let driver_bin = find_tauri_driver();
        let driver = Command::new(&driver_bin)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .env("DISPLAY", &display)
            .env("STOCKDESK_DB", &db)
            .env("STOCKDESK_DATA_DIR", data.path())
            .env("STOCKDESK_ACTOR", "ana")
            // The webview's own storage (theme choice, caches) stays in the test's folder.
            .env("XDG_DATA_HOME", data.path().join("xdg-data"))
            .env("XDG_CONFIG_HOME", data.path().join("xdg-config"))
            .env("XDG_CACHE_HOME", data.path().join("xdg-cache"))
            .stdout(Stdio::null())
            // A file, not the test's stderr: WebKitWebDriver may outlive the test by a moment.
            .stderr(log_file(&display, "driver"))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", driver_bin.display()));
        procs.0.push(driver);

        let app = App {
            driver: connect(port, &app_bin).await,
            db,
            cli_bin,
            display,
            _data: data,
            procs,
        };
        // Demo data from the CLI, then let the list show it.
        app.cli(&["seed", "--products", "40"], None);
        app.driver.refresh().await.unwrap();
        app.wait_css("[data-testid=product-row]").await;
        Some(app)
    }

    async fn stop(self) {
        let App { driver, procs, .. } = self;
        let _ = driver.quit().await;
        drop(procs);
    }

    /// Runs the CLI against the app's database as user "terminal"; returns its JSON output.
    fn cli(&self, args: &[&str], stdin: Option<Value>) -> Value {
        let mut cmd = Command::new(&self.cli_bin);
        cmd.args(["--db", &self.db, "--actor", "terminal"])
            // The app's data directory, so both see the same image files.
            .env("STOCKDESK_DATA_DIR", self._data.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("run the stockdesk CLI");
        {
            use std::io::Write;
            let mut input = child.stdin.take().unwrap();
            if let Some(v) = stdin {
                input.write_all(v.to_string().as_bytes()).unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "stockdesk {args:?} failed: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("CLI printed {text:?}: {e}"))
    }

    /// A product with a plain name, fetched through the CLI.
    fn cli_first_product(&self) -> Value {
        let list = self.cli(&["product", "list", "--limit", "5"], None);
        let id = list["items"][0]["id"].as_str().expect("seeded products");
        self.cli(&["product", "get", id], None)
    }

    /// Finds the product with search-as-you-type and opens it in the editor.
    async fn open_product(&self, product: &Value) {
        let name = product["name"].as_str().unwrap();
        let id = id_of(product);
        self.type_into("[data-testid=search]", name).await;
        self.click(&format!(
            "[data-testid=product-row][data-product-id='{id}']"
        ))
        .await;
        self.wait_text("[data-testid=editor-title]", name).await;
        self.wait_version(version_of(product)).await;
    }

    async fn wait_css(&self, css: &str) -> WebElement {
        match self
            .driver
            .query(By::Css(css))
            .wait(WAIT, POLL)
            .and_displayed()
            .first()
            .await
        {
            Ok(el) => el,
            Err(e) => panic!("waiting for {css}: {e} (screen: {})", self.failure_shot()),
        }
    }

    /// A picture of the screen when a wait fails, to see what the app showed instead.
    fn failure_shot(&self) -> String {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join(format!(
            "e2e-failure-{}.png",
            self.display.trim_start_matches(':')
        ));
        let _ = Command::new("import")
            .args(["-window", "root"])
            .arg(&path)
            .env("DISPLAY", &self.display)
            .status();
        path.display().to_string()
    }

    async fn wait_gone(&self, css: &str) {
        self.driver
            .query(By::Css(css))
            .wait(WAIT, POLL)
            .not_exists()
            .await
            .unwrap_or_else(|e| panic!("waiting for {css} to go: {e}"));
    }

    async fn wait_text(&self, css: &str, text: &str) {
        self.driver
            .query(By::Css(css))
            .wait(WAIT, POLL)
            .with_text(text.to_string())
            .first()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "waiting for {css} to read {text:?}: {e} (screen: {})",
                    self.failure_shot()
                )
            });
    }

    async fn wait_version(&self, version: i64) {
        self.wait_css(&format!(
            "[data-testid=product-version][data-version='{version}']"
        ))
        .await;
    }

    async fn click(&self, css: &str) {
        let el = self.wait_css(css).await;
        el.scroll_into_view().await.unwrap();
        el.click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Replaces the text of an input the way a person does: select all, type.
    async fn type_into(&self, css: &str, text: &str) {
        let el = self.wait_css(css).await;
        let fail = |e: WebDriverError| -> ! {
            panic!("typing into {css}: {e} (screen: {})", self.failure_shot())
        };
        el.click().await.unwrap_or_else(|e| fail(e));
        el.send_keys(Key::Control + "a")
            .await
            .unwrap_or_else(|e| fail(e));
        el.send_keys(Key::Backspace)
            .await
            .unwrap_or_else(|e| fail(e));
        el.send_keys(text).await.unwrap_or_else(|e| fail(e));
        let deadline = Instant::now() + WAIT;
        loop {
            let el = self.wait_css(css).await;
            if el.prop("value").await.ok().flatten().as_deref() == Some(text) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{css} did not take {text:?} (screen: {})",
                self.failure_shot()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// What a person sees: the whole X display, via ImageMagick.
    fn screenshot(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        // Let the last paint land (this only delays the picture, it asserts nothing).
        std::thread::sleep(Duration::from_millis(400));
        let status = Command::new("import")
            .args(["-window", "root"])
            .arg(dir.join(format!("{name}.png")))
            .env("DISPLAY", &self.display)
            .status()
            .expect("run ImageMagick import");
        assert!(status.success(), "screenshot {name} failed");
    }
}

fn id_of(product: &Value) -> String {
    product["id"].as_str().unwrap().to_string()
}

fn version_of(product: &Value) -> i64 {
    product["version"].as_i64().unwrap()
}

async fn connect(port: u16, app_bin: &Path) -> WebDriver {
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
fn start_xvfb(procs: &mut Procs) -> String {
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
fn log_file(display: &str, what: &str) -> std::fs::File {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "e2e-{}-{what}.log",
        display.trim_start_matches(':')
    ));
    std::fs::File::create(path).expect("create a log file")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn find_tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let in_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("tauri-driver"))
            .find(|p| p.exists())
    });
    in_path
        .or_else(|| {
            let p = PathBuf::from(std::env::var_os("HOME")?).join(".cargo/bin/tauri-driver");
            p.exists().then_some(p)
        })
        .expect("tauri-driver not found: cargo install tauri-driver --locked")
}
