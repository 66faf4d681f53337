//! `make bench-app`: the desktop app's start-up and memory on a big shop (100,000 products, or
//! `STOCKDESK_BENCH_PRODUCTS`), side by side in one run with a bare Tauri window showing a static
//! page (the `bare-window` example): the floor of Tauri + WebKitGTK on this machine.
//!
//! Both are launched the same way — tauri-driver under a private Xvfb — and polled over WebDriver
//! for their first content: the app's first product row, the bare page's `#painted`. The polling
//! costs both the same, so the difference between the two is the app's own. Memory is the PSS of
//! the launched process and every process under it (WebKit's web and network processes), so
//! shared libraries count once. The app then scrolls through its whole list and opens 50
//! products, and its PSS is read again.
//!
//! Goals (issue 18): first list within 1.0 s of the bare window's first paint; memory within 1.5×
//! the bare window's; no more than 20 % growth after the scroll-and-open loop.

// The end-to-end tests use the rest of the harness.
#[allow(dead_code)]
#[path = "../tests/window/mod.rs"]
mod window;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use stockdesk::catalog::seed::SeedOptions;
use stockdesk::Stockdesk;
use thirtyfour::prelude::*;
use window::{connect, Driver, WAIT};

/// Launches of each window; the medians are reported.
const RUNS: usize = 3;
/// How long a window is left alone before its memory is read (WebKit settles its caches).
const SETTLE: Duration = Duration::from_secs(3);
/// Products opened after the scroll.
const OPENED: usize = 50;

/// What one launch measured.
struct Launch {
    first_paint: Duration,
    pss_start_kib: u64,
    pss_after_kib: Option<u64>,
}

/// A seeded shop the app opens (kept between runs of the bench: seeding takes a while).
struct Shop {
    db: String,
    data_dir: PathBuf,
}

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(run());
}

async fn run() {
    let products: usize = std::env::var("STOCKDESK_BENCH_PRODUCTS")
        .ok()
        .map(|v| v.parse().expect("STOCKDESK_BENCH_PRODUCTS is a number"))
        .unwrap_or(100_000);
    let app_bin = PathBuf::from(env!("CARGO_BIN_EXE_stockdesk-app"));
    let bare_bin = app_bin.with_file_name("examples").join("bare-window");
    assert!(
        bare_bin.exists(),
        "{} is missing: `make bench-app` builds it (cargo build --release --features \
         custom-protocol --example bare-window)",
        bare_bin.display()
    );
    let shop = prepare(products).await;

    let (mut bare, mut app) = (Vec::new(), Vec::new());
    for run in 1..=RUNS {
        eprintln!("run {run}/{RUNS}: bare window");
        bare.push(launch(&bare_bin, None, "#painted").await);
        eprintln!("run {run}/{RUNS}: Stockdesk on {products} products");
        app.push(launch(&app_bin, Some(&shop), "[data-testid=product-row]").await);
    }
    report(products, &bare, &app);
}

/// The shop at `target/tmp/bench-app/`, seeded once per size.
async fn prepare(products: usize) -> Shop {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-app");
    let file = dir.join(format!("shop-{products}.db"));
    let data_dir = dir.join(format!("data-{products}"));
    let done = dir.join(format!("shop-{products}.done"));
    let db = format!("sqlite://{}", file.display());
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&data_dir).expect("create the bench's folder");
        eprintln!("seeding {products} products into {} (once)", file.display());
        let started = Instant::now();
        let store = stockdesk::Store::open(&db)
            .await
            .expect("open the bench's shop");
        let sd = Stockdesk::on_store(store, "bench", data_dir.clone())
            .await
            .expect("a handle on the bench's shop");
        sd.seed(SeedOptions { products, seed: 18 })
            .await
            .expect("seed the bench's shop");
        std::fs::write(&done, b"").expect("mark the shop seeded");
        eprintln!("seeded in {:.0?}", started.elapsed());
    }
    Shop { db, data_dir }
}

/// Launches `bin` (on `shop`, for the app) and measures it; the app is browsed too.
async fn launch(bin: &Path, shop: Option<&Shop>, first: &str) -> Launch {
    let home = tempfile::tempdir().expect("a temp folder");
    let mut envs = Vec::new();
    if let Some(shop) = shop {
        envs.push(("STOCKDESK_DB", shop.db.clone()));
        envs.push(("STOCKDESK_DATA_DIR", shop.data_dir.display().to_string()));
        envs.push(("STOCKDESK_ACTOR", "bench".to_string()));
        envs.push(("RUST_LOG", "warn".to_string()));
    }
    let driver = Driver::start(home.path(), envs);
    let tauri_driver = driver.procs.0.last().expect("tauri-driver").id();

    let started = Instant::now();
    let session = connect(driver.port, bin).await;
    loop {
        if let Ok(el) = session.find(By::Css(first)).await {
            if el.is_displayed().await.unwrap_or(false) {
                break;
            }
        }
        assert!(started.elapsed() < WAIT, "{first} never showed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let first_paint = started.elapsed();

    tokio::time::sleep(SETTLE).await;
    let pid = launched(tauri_driver, bin);
    let pss_start_kib = pss_tree(pid);
    let pss_after_kib = if shop.is_some() {
        browse(&session).await;
        tokio::time::sleep(SETTLE).await;
        Some(pss_tree(pid))
    } else {
        None
    };
    let _ = session.quit().await;
    drop(driver);
    eprintln!(
        "  first paint {:.0?}; PSS {} KiB after start, {pss_after_kib:?} KiB after browsing",
        first_paint, pss_start_kib
    );
    Launch {
        first_paint,
        pss_start_kib,
        pss_after_kib,
    }
}

/// Scrolls the product list from top to bottom a page (200 rows) at a time, waiting for each
/// page's rows, then opens `OPENED` products spread over the list, waiting for each editor. One
/// short script per step: WebDriver's client gives up on a request that runs for minutes.
async fn browse(session: &WebDriver) {
    let started = Instant::now();
    let (row_height, rows) = {
        let out = step(
            session,
            "done([$('[data-testid=product-row]').offsetHeight, \
             Math.round(list().scrollHeight / $('[data-testid=product-row]').offsetHeight)])",
            Value::Null,
        )
        .await;
        (out[0].as_i64().unwrap(), out[1].as_i64().unwrap())
    };
    let mut pages = 0;
    for first in (200..rows).step_by(200) {
        step(
            session,
            "list().scrollTop = arguments[0]; settled().then((ok) => done(ok || `rows at ${arguments[0]} never loaded`))",
            json!(first * row_height),
        )
        .await;
        pages += 1;
        if pages % 100 == 0 {
            eprintln!("  {pages} pages scrolled in {:.0?}", started.elapsed());
        }
    }
    for k in 0..OPENED as i64 {
        step(
            session,
            r#"
            list().scrollTop = arguments[0];
            settled().then(async (ok) => {
              if (!ok) return done(`rows at ${arguments[0]} never loaded`);
              const top = list().getBoundingClientRect().top;
              const row = [...document.querySelectorAll('[data-testid=product-row]')]
                .find((r) => r.getBoundingClientRect().top >= top);
              const name = row.querySelector('.name').textContent;
              row.click();
              for (let i = 0; i < 2000; i++) {
                await new Promise((r) => setTimeout(r, 5));
                if ($('[data-testid=editor-title]')?.textContent === name) return done(true);
              }
              done(`the editor never showed ${name}`);
            });
            "#,
            json!((k * rows / OPENED as i64) * row_height),
        )
        .await;
    }
    eprintln!(
        "  scrolled {rows} rows in {pages} pages and opened {OPENED} products in {:.1?}",
        started.elapsed()
    );
}

/// Runs one step of the browse in the page (with `$`, `list()` and `settled()` at hand) and
/// returns what it passed to `done`; any string it passes is a failure.
async fn step(session: &WebDriver, body: &str, arg: Value) -> Value {
    let script = format!(
        r#"
        const done = arguments[arguments.length - 1];
        const $ = (css) => document.querySelector(css);
        const list = () => $('[data-testid=product-list]');
        const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
        const settled = async () => {{
          for (let i = 0; i < 3000; i++) {{
            await frame();
            if (!$('[data-testid=product-row-loading]') && $('[data-testid=product-row]')) return true;
          }}
          return false;
        }};
        {body}
        "#
    );
    let out = session
        .execute_async(&script, vec![arg])
        .await
        .expect("a step of the browse");
    let out = out.json().clone();
    assert!(!out.is_string(), "browsing failed: {out}");
    out
}

/// The process `bin` that tauri-driver (`root`) launched, through WebKitWebDriver.
fn launched(root: u32, bin: &Path) -> u32 {
    let bin = bin.canonicalize().expect("the binary's path");
    descendants(root)
        .into_iter()
        .find(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == bin))
        .unwrap_or_else(|| panic!("no {} under tauri-driver", bin.display()))
}

/// `root` and every process under it.
fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after the last ')'.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        children.entry(ppid).or_default().push(pid);
    }
    let mut all = vec![root];
    let mut i = 0;
    while i < all.len() {
        all.extend(children.get(&all[i]).into_iter().flatten());
        i += 1;
    }
    all
}

/// The proportional set size of `pid` and every process under it, in KiB.
fn pss_tree(pid: u32) -> u64 {
    descendants(pid)
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).ok())
        .filter_map(|rollup| {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .sum()
}

fn median<T: Ord + Copy>(mut v: Vec<T>) -> T {
    v.sort();
    v[v.len() / 2]
}

fn report(products: usize, bare: &[Launch], app: &[Launch]) {
    let paint = |l: &[Launch]| median(l.iter().map(|x| x.first_paint).collect());
    let pss = |l: &[Launch]| median(l.iter().map(|x| x.pss_start_kib).collect());
    let after = median(app.iter().filter_map(|x| x.pss_after_kib).collect());
    let (bare_paint, app_paint) = (paint(bare), paint(app));
    let (bare_pss, app_pss) = (pss(bare), pss(app));
    let later = app_paint.as_secs_f64() - bare_paint.as_secs_f64();
    let ratio = app_pss as f64 / bare_pss as f64;
    let growth = after as f64 / app_pss as f64 - 1.0;
    let mib = |k: u64| k as f64 / 1024.0;
    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!("app start-up and memory, {products} products, median of {RUNS} launches each");
    println!(
        "  first paint      bare {:>7.0} ms   app {:>7.0} ms   app later by {:>6.0} ms (goal ≤ 1000)  {}",
        bare_paint.as_secs_f64() * 1e3,
        app_paint.as_secs_f64() * 1e3,
        later * 1e3,
        verdict(later <= 1.0)
    );
    println!(
        "  PSS after start  bare {:>7.1} MiB  app {:>7.1} MiB  {:.2}× (goal ≤ 1.5×)  {}",
        mib(bare_pss),
        mib(app_pss),
        ratio,
        verdict(ratio <= 1.5)
    );
    println!(
        "  PSS after scrolling {products} rows and opening {OPENED} products: {:.1} MiB, {:+.0} % (goal ≤ +20 %)  {}",
        mib(after),
        growth * 100.0,
        verdict(growth <= 0.2)
    );
    println!(
        "{}",
        json!({
            "products": products,
            "runs": RUNS,
            "first_paint_ms": { "bare": bare_paint.as_millis() as u64, "app": app_paint.as_millis() as u64 },
            "pss_kib": { "bare": bare_pss, "app": app_pss, "app_after_browsing": after },
            "app_later_ms": (later * 1e3).round(),
            "pss_ratio": (ratio * 100.0).round() / 100.0,
            "growth_pct": (growth * 1000.0).round() / 10.0,
        })
    );
}
