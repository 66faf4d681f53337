//! End to end: the real app (UI embedded, `custom-protocol`) in a real window, driven over
//! WebDriver — `tauri-driver` in front of Debian's `WebKitWebDriver` — while the `stockdesk` CLI
//! changes the same SQLite database from "another terminal".
//!
//! Each test starts its own Xvfb display (so tests can run in parallel and screenshots show one
//! window), its own tauri-driver on free ports and its own database in a temp directory.
//! Screenshots are taken of the X display with ImageMagick's `import` into `target/screenshots/`
//! (never into the source tree: `make screenshots` copies them to `docs/screenshots/` on purpose).
//! A picture is kept only once it is proven to show what its name claims (see
//! [`App::screenshot`]).
//!
//! Every test that gets to its end leaves a marker in `target/e2e-ran/`; `make test` checks that
//! each listed test left one, so a suite that skipped its windows cannot pass as green.
//!
//! Needs: Xvfb, tauri-driver (PATH or ~/.cargo/bin), WebKitWebDriver, import; a missing one fails
//! the test with what to install. `STOCKDESK_E2E=skip` leaves the window tests out, only outside
//! CI (with `CI` set the tests refuse to skip).

mod window;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use stockdesk_testkit::proxy::{upstream_of, Link, Proxy};
use thirtyfour::error::WebDriverErrorInner;
use thirtyfour::prelude::*;

use window::{connect, in_ci, Driver, Procs, WAIT};

const POLL: Duration = Duration::from_millis(100);

// ---- the scenarios ------------------------------------------------------------------------

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
    app.screenshot(
        "list",
        r#"
        const [name, version] = arguments;
        const problems = [];
        if ($$('[data-testid=product-row]').filter(shown).length < 10)
            problems.push('fewer than 10 rows of the product list on screen');
        if (!shown($('[data-testid=editor-title]')) || $('[data-testid=editor-title]').textContent !== name)
            problems.push(`the editor does not show ${name}`);
        if ($('[data-testid=product-version]')?.dataset.version !== String(version))
            problems.push(`the editor is not at version ${version}`);
        return { problems, probes: [] };
        "#,
        vec![product["name"].clone(), json!(version)],
    )
    .await;

    app.type_into("[data-testid=field-name]", "Organic cotton tee, navy")
        .await;
    app.wait_css("[data-testid=save]:not([disabled])").await;
    app.screenshot(
        "editor",
        r#"
        const problems = [];
        if ($('[data-testid=field-name]')?.value !== arguments[0])
            problems.push('the name field does not hold the typed name');
        if (!shown($('.badge-dirty')) || !$('.badge-dirty').textContent.includes('Unsaved changes'))
            problems.push('no "Unsaved changes" badge');
        if (!shown($('[data-testid=save]')) || $('[data-testid=save]').disabled)
            problems.push('Save is not enabled');
        return { problems, probes: [] };
        "#,
        vec![json!("Organic cotton tee, navy")],
    )
    .await;
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
    // The claim is the colour: the page's computed background must be dark, and the picture must
    // show exactly that colour on the page's own background below the history.
    app.screenshot(
        "dark",
        r#"
        const problems = [];
        if (document.documentElement.dataset.theme !== 'dark') problems.push('<html> is not data-theme=dark');
        const bg = rgba(getComputedStyle(document.body).backgroundColor).slice(0, 3);
        if (luma(bg) > 60) problems.push(`the body background ${bg} is not dark`);
        if ($('[data-testid=history-tab]')?.dataset.state !== 'active') problems.push('the history tab is not open');
        const history = $('[data-testid=history]');
        if (!shown(history) || !history.textContent.includes('ana')) problems.push('the history does not show ana');
        const probes = [];
        if (history) {
            const r = history.getBoundingClientRect();
            const [x, y] = [r.left + 20, r.bottom + 40];
            if (bgAt(x, y).join() !== bg.join()) problems.push(`(${x}, ${y}) is not the page background`);
            probes.push({ x, y, rgb: bg, what: 'the dark page background below the history' });
        }
        return { problems, probes };
        "#,
        vec![],
    )
    .await;
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
    app.screenshot(
        "conflict",
        r#"
        const [mine, theirs, version] = arguments;
        const problems = [];
        const dialog = $('[data-testid=conflict-dialog]');
        if (!shown(dialog)) problems.push('the conflict dialog is not on screen');
        else if (!dialog.textContent.includes(`now at version ${version}`)) problems.push(`the dialog does not say version ${version}`);
        const clash = $('[data-testid=clash][data-path=name]');
        if (clash?.querySelector('[data-testid=mine-value]')?.textContent !== mine) problems.push('mine is not shown');
        if (clash?.querySelector('[data-testid=theirs-value]')?.textContent !== theirs) problems.push('theirs is not shown');
        return { problems, probes: [] };
        "#,
        vec![
            json!("Name typed in the app"),
            json!("Name from the terminal"),
            json!(version + 1),
        ],
    )
    .await;

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
    app.screenshot(
        "orders",
        r#"
        const problems = [];
        const cards = $$('[data-testid=order]');
        if (cards.length !== 1 || !shown(cards[0])) problems.push(`${cards.length} order cards, not one on screen`);
        else if (!cards[0].textContent.includes('left to pay') || !cards[0].textContent.includes(arguments[0]))
            problems.push('the order card lacks its countdown or its product');
        return { problems, probes: [] };
        "#,
        vec![product["name"].clone()],
    )
    .await;
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
    app.screenshot(
        "stock",
        r#"
        const [sku, onHand] = arguments;
        const problems = [];
        if ($('[data-testid=stock-tab]')?.dataset.state !== 'active') problems.push('the stock tab is not open');
        const title = $('.ledger .ledger-title');
        if (!shown(title) || title.textContent !== `Movements of ${sku}`) problems.push(`no ledger of ${sku} on screen`);
        const kinds = $$('.ledger tbody .cap').map((td) => td.textContent);
        if (kinds[0] !== 'sale') problems.push(`the ledger's newest movement is ${kinds[0]}, not the sale`);
        const row = $$('[data-testid=stock] tbody tr').find((tr) => tr.cells[0].textContent === sku);
        if (row?.cells[1].textContent !== String(onHand)) problems.push(`on hand of ${sku} does not read ${onHand}`);
        return { problems, probes: [] };
        "#,
        vec![product["variants"][0]["sku"].clone(), json!(on_hand - 1)],
    )
    .await;
    app.stop().await;
}

/// (16) A sale at the counter: a barcode "scanned" (keystrokes ending in Enter) twice adds its
/// variant and then one more; Paid creates and pays the order, and stock follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_sale_is_paid_at_the_counter() {
    let Some(app) = App::start("sale").await else {
        return;
    };
    let product = app.cli_first_product();
    let variant = &product["variants"][0];
    let (variant_id, sku) = (
        variant["id"].as_str().unwrap(),
        variant["sku"].as_str().unwrap(),
    );
    let barcode = variant["barcode"]
        .as_str()
        .expect("the demo seed gives variants barcodes")
        .to_string();
    let on_hand = app.cli(&["stock", "get", variant_id], None)["on_hand"]
        .as_i64()
        .unwrap();
    assert!(on_hand >= 2, "the seeded variant has two units to sell");

    app.click("[data-testid=nav-sale]").await;
    let line = format!("[data-testid=sale-line][data-sku='{sku}']");
    for _ in 0..2 {
        // One burst of keys, as a scanner types it (WebDriver's Enter is U+E007).
        app.wait_css("[data-testid=sale-search]")
            .await
            .send_keys(format!("{barcode}\u{E007}"))
            .await
            .unwrap();
        app.wait_css(&line).await;
    }
    app.wait_value(&format!("{line} input"), "2").await;
    app.screenshot(
        "sale",
        r#"
        const [sku] = arguments;
        const problems = [];
        const lines = $$('[data-testid=sale-line]');
        if (lines.length !== 1 || !shown(lines[0]) || lines[0].dataset.sku !== sku)
            problems.push(`the sale does not show one line of ${sku}`);
        else if (lines[0].querySelector('input').value !== '2') problems.push('the line is not for 2');
        if (!shown($('[data-testid=sale-total]'))) problems.push('no total on screen');
        if (!shown($('[data-testid=sale-paid]'))) problems.push('no Paid button on screen');
        return { problems, probes: [] };
        "#,
        vec![json!(sku)],
    )
    .await;
    app.click("[data-testid=sale-paid]").await;
    app.wait_text_contains("[data-testid=sale-notice]", "Paid")
        .await;
    app.wait_gone("[data-testid=sale-line]").await;
    let after = app.cli(&["stock", "get", variant_id], None);
    assert_eq!(after["on_hand"], on_hand - 2, "the sale took two units");
    assert_eq!(after["reserved"], 0, "a paid sale holds nothing");
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
    let before = app.cli_first_product();
    let id = id_of(&before);
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/swatch.png");
    let version = version_of(&before).to_string();
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
    // The image the CLI added, not one the seed gave the product: its thumbnail is the claim.
    let seeded: Vec<&Value> = before["images"].as_array().unwrap().iter().collect();
    let image = product["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| !seeded.iter().any(|s| s["id"] == i["id"]))
        .expect("the added image in the product")
        .clone();
    let blob_key = image["blob_key"].as_str().unwrap().to_string();
    let thumb_css = format!(".thumb[title='{blob_key}'] [data-testid=image-thumb]");
    app.open_product(&product).await;
    let thumb = app.wait_css(&thumb_css).await;
    let src = thumb.attr("src").await.unwrap().unwrap_or_default();
    assert!(
        src.starts_with("blob:"),
        "thumbnail from a blob: URL, got {src:?}"
    );
    // Bring the images panel into view: the picture is of the added image's thumbnail.
    app.driver
        .execute(
            "document.querySelector('[data-testid=images-panel]').scrollIntoView({block: 'center'})",
            vec![],
        )
        .await
        .unwrap();
    // Loaded, not a broken image (the CSP lets blob: images through), on screen, and the
    // picture shows its pixels where the page puts it: the expected colours are read back from
    // the decoded image drawn into a canvas at the size it is shown.
    app.screenshot(
        "images",
        r#"
        const img = $(arguments[0]);
        const problems = [], probes = [];
        if (!img || !img.complete || img.naturalWidth === 0) problems.push('the added image has no decoded thumbnail');
        else if (!shown(img)) problems.push('the added image is not on screen');
        else {
            const r = img.getBoundingClientRect();
            const canvas = document.createElement('canvas');
            [canvas.width, canvas.height] = [r.width, r.height];
            const ctx = canvas.getContext('2d');
            ctx.drawImage(img, 0, 0, r.width, r.height);
            for (const [fx, fy] of [[0.5, 0.5], [0.3, 0.3], [0.7, 0.3], [0.3, 0.7], [0.7, 0.7]]) {
                const [x, y] = [Math.floor(r.width * fx), Math.floor(r.height * fy)];
                const px = ctx.getImageData(x, y, 1, 1).data;
                probes.push({ x: r.left + x, y: r.top + y, rgb: [px[0], px[1], px[2]], tolerance: 16,
                              what: 'the thumbnail of the image added from the CLI' });
            }
        }
        return { problems, probes };
        "#,
        vec![json!(thumb_css)],
    )
    .await;

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

/// (6) Other terminals on the shop's Postgres change the open product: Bea's app instance (own
/// data directory) renames it and the CLI receives stock; the list and the editor show each
/// within two seconds, without a click. Then, with something typed, the terminal's next change
/// raises the banner (who, which field); "Review now" shows both
/// sides, saving opens the conflict dialog for the clash, and the choice is saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_terminals_changes_show_live_and_the_banner_reviews_them() {
    let db = stockdesk_testkit::postgres().await;
    let Some(app) = App::start_on("live", Some(&db.url), "ana", true).await else {
        return;
    };
    // Bea's terminal: a second app instance (own data directory, display and driver).
    let bea = App::start_on("live-bea", Some(&db.url), "bea", false)
        .await
        .expect("a second app");
    let product = app.cli_first_product();
    let (id, version) = (id_of(&product), version_of(&product));
    app.open_product(&product).await;

    // Bea renames it in her window (still matching the search the list is filtered by).
    let live = format!("{} (live)", product["name"].as_str().unwrap());
    bea.open_product(&product).await;
    bea.type_into("[data-testid=field-name]", &live).await;
    bea.click("[data-testid=save]").await;
    bea.wait_version(version + 1).await;
    let since = Instant::now();
    app.wait_text("[data-testid=editor-title]", &live).await;
    app.wait_version(version + 1).await;
    let row = format!("[data-testid=product-row][data-product-id='{id}']");
    app.wait_content(&format!("{row} .name"), &live).await;
    let took = since.elapsed();
    assert!(
        took <= LIVE,
        "the editor and the list took {took:?} to follow the other app"
    );
    bea.stop().await;

    // Stock received in another terminal: the list's total follows.
    let total: i64 = product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["stock_on_hand"].as_i64().unwrap())
        .sum();
    let variant = product["variants"][0]["id"].as_str().unwrap().to_string();
    app.cli(&["stock", "receive", &variant, "--quantity", "3"], None);
    let since = Instant::now();
    app.wait_text(
        &format!("{row} [data-testid=row-stock]"),
        &(total + 3).to_string(),
    )
    .await;
    let took = since.elapsed();
    assert!(
        took <= LIVE,
        "the list's stock took {took:?} to follow the CLI"
    );

    // Typing, then the terminal saves the same field: the form keeps the typing, a banner says
    // who changed what.
    app.type_into("[data-testid=field-name]", "Name typed in the app")
        .await;
    let now = version_of(&app.cli(&["product", "get", &id], None));
    // Still matching the list's search, so the list shows it too.
    let theirs_name = format!("{live}, renamed in the terminal");
    app.cli(
        &[
            "product",
            "patch",
            &id,
            "--expected-version",
            &now.to_string(),
        ],
        Some(json!({ "name": theirs_name })),
    );
    app.wait_text("[data-testid=stale-who]", "terminal").await;
    app.wait_text("[data-testid=stale-fields]", "name").await;
    app.screenshot(
        "banner",
        r#"
        const problems = [];
        const banner = $('[data-testid=stale-banner]');
        if (!shown(banner)) problems.push('the banner is not on screen');
        else if (!banner.textContent.includes('terminal') || !$('[data-testid=stale-fields]')?.textContent.includes('name'))
            problems.push('the banner does not say who changed what');
        if ($('[data-testid=field-name]')?.value !== arguments[0]) problems.push('the typing is not kept');
        if (!shown($('[data-testid=review-now]'))) problems.push('no Review now button');
        if ($('[data-testid=conflict-dialog]') || $('[data-testid=review-dialog]')) problems.push('a dialog is open');
        if (!$$('[data-testid=product-row] .name').some((n) => n.textContent === arguments[1])) problems.push('the list does not show their name');
        return { problems, probes: [] };
        "#,
        vec![json!("Name typed in the app"), json!(theirs_name)],
    )
    .await;

    app.click("[data-testid=review-now]").await;
    // The core's merge, run and rolled back, names the clash before anything is saved.
    app.wait_text(
        "[data-testid=review-preview]",
        "Saving now keeps nothing else and asks you about one clash.",
    )
    .await;
    app.wait_text("[data-testid=review-both]", "name").await;
    assert_eq!(
        version_of(&app.cli(&["product", "get", &id], None)),
        now + 1,
        "reviewing wrote something"
    );
    app.click("[data-testid=review-save]").await;
    let clash = app.wait_css("[data-testid=clash][data-path=name]").await;
    let theirs = clash
        .find(By::Css("[data-testid=theirs-value]"))
        .await
        .unwrap();
    assert_eq!(theirs.text().await.unwrap(), theirs_name);
    clash
        .find(By::Css("[data-testid=pick-mine]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.click("[data-testid=resolve]").await;
    app.wait_version(now + 2).await;
    app.wait_gone("[data-testid=stale-banner]").await;
    let saved = app.cli(&["product", "get", &id], None);
    assert_eq!(saved["name"], "Name typed in the app");
    assert_eq!(saved["version"], now + 2);
    app.stop().await;
    stockdesk_testkit::drop_postgres(&db.url).await;
}

/// (7) Two terminals of one shop: two app instances (own data directories, displays, drivers)
/// on one Postgres. While B has unsaved changes to a product, A's list and editor say "bea is
/// editing"; when B reverts, it goes. Nothing is locked: A saves meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_terminal_editing_shows_in_the_list_and_the_editor() {
    let db = stockdesk_testkit::postgres().await;
    let Some(a) = App::start_on("presence-a", Some(&db.url), "ana", true).await else {
        return;
    };
    let b = App::start_on("presence-b", Some(&db.url), "bea", false)
        .await
        .expect("a second app");
    let product = a.cli_first_product();
    let id = id_of(&product);
    a.open_product(&product).await;
    b.open_product(&product).await;
    b.type_into("[data-testid=field-description]", "Bea's new description")
        .await;

    let row = format!("[data-testid=product-row][data-product-id='{id}']");
    let since = Instant::now();
    a.wait_text(
        &format!("{row} [data-testid=row-editing]"),
        "bea is editing",
    )
    .await;
    a.wait_text("[data-testid=editor-editing]", "bea is editing")
        .await;
    let took = since.elapsed();
    assert!(took <= Duration::from_secs(5), "presence took {took:?}");
    a.screenshot(
        "presence",
        r#"
        const [row] = arguments;
        const problems = [];
        const marker = $(`${row} [data-testid=row-editing]`);
        if (!shown(marker) || !marker.textContent.includes('bea')) problems.push('the list does not say bea is editing');
        const head = $('[data-testid=editor-editing]');
        if (!shown(head) || !head.textContent.includes('bea is editing')) problems.push('the editor does not say bea is editing');
        if ($('[data-testid=save]')?.disabled === false) problems.push('Save is enabled with nothing typed');
        return { problems, probes: [] };
        "#,
        vec![json!(row)],
    )
    .await;

    // It never locks: A saves while B edits.
    a.type_into("[data-testid=field-name]", "Saved by Ana while Bea edits")
        .await;
    a.click("[data-testid=save]").await;
    a.wait_version(version_of(&product) + 1).await;

    // B reverts (nothing unsaved any more): A's markers go at once, not 150 s later.
    b.click("[data-testid=revert]").await;
    let since = Instant::now();
    a.wait_gone(&format!("{row} [data-testid=row-editing]"))
        .await;
    a.wait_gone("[data-testid=editor-editing]").await;
    let took = since.elapsed();
    assert!(
        took <= Duration::from_secs(5),
        "presence took {took:?} to go"
    );
    b.close().await;
    a.stop().await;
    stockdesk_testkit::drop_postgres(&db.url).await;
}

/// (8) Another terminal (the CLI, on the shop's Postgres, whose images live in the database)
/// replaces the file of an image while the app edits that image's alt text: saving opens the
/// conflict dialog with both pictures; "use their picture" keeps the alt text typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_image_file_shows_both_pictures_in_the_dialog() {
    let db = stockdesk_testkit::postgres().await;
    let Some(app) = App::start_on("image-clash", Some(&db.url), "ana", true).await else {
        return;
    };
    let before = app.cli_first_product();
    let id = id_of(&before);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let added = app.cli(
        &[
            "image",
            "add",
            &id,
            "--expected-version",
            &version_of(&before).to_string(),
            fixtures.join("swatch.png").to_str().unwrap(),
        ],
        None,
    );
    let product = added["product"].clone();
    let seeded: Vec<&Value> = before["images"].as_array().unwrap().iter().collect();
    let image = product["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| !seeded.iter().any(|s| s["id"] == i["id"]))
        .expect("the added image")
        .clone();
    let image_id = image["id"].as_str().unwrap().to_string();
    let old_key = image["blob_key"].as_str().unwrap().to_string();
    app.open_product(&product).await;
    let alt = format!("[data-testid=image-alt][data-image-id='{image_id}']");
    app.type_into(&alt, "Swatch, in daylight").await;

    let replaced = app.cli(
        &[
            "image",
            "replace",
            &id,
            &image_id,
            "--expected-version",
            &version_of(&product).to_string(),
            fixtures.join("tide.png").to_str().unwrap(),
        ],
        None,
    );
    let new_key = replaced["product"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == image_id.as_str())
        .unwrap()["blob_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_key, old_key);
    // The form keeps the typing (no banner moves it); saving finds the clash.
    app.wait_css("[data-testid=stale-banner]").await;
    app.click("[data-testid=save]").await;
    let path = format!("images.{image_id}.blob_key");
    app.wait_css(&format!(
        "[data-testid=clash][data-path='{path}'] [data-testid=picture-theirs] img"
    ))
    .await;
    app.wait_css(&format!(
        "[data-testid=clash][data-path='{path}'] [data-testid=picture-mine] img"
    ))
    .await;
    app.screenshot(
        "image-clash",
        r#"
        const [path, oldKey, newKey] = arguments;
        const problems = [];
        const clash = $(`[data-testid=clash][data-path='${path}']`);
        const mine = clash?.querySelector('[data-testid=picture-mine] img');
        const theirs = clash?.querySelector('[data-testid=picture-theirs] img');
        for (const [img, key, what] of [[mine, oldKey, 'mine'], [theirs, newKey, 'theirs']]) {
            if (!img || !img.complete || img.naturalWidth === 0) problems.push(`${what}: no decoded picture`);
            else if (!shown(img)) problems.push(`${what}: the picture is not on screen`);
            else if (img.title !== key) problems.push(`${what}: shows ${img.title}, not ${key}`);
        }
        if (!clash?.textContent.includes('Use their picture (keep my other changes)')) problems.push('no "use their picture" choice');
        if (!clash?.textContent.includes('Drop my changes to this image')) problems.push('no "drop my changes" choice');
        return { problems, probes: [] };
        "#,
        vec![json!(path), json!(old_key), json!(new_key)],
    )
    .await;
    app.click(&format!(
        "[data-testid=clash][data-path='{path}'] [data-testid=pick-theirs]"
    ))
    .await;
    app.click("[data-testid=resolve]").await;
    app.wait_css("[data-testid=toast-success]").await;
    let saved = app.cli(&["product", "get", &id], None);
    let saved_image = saved["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == image_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(saved_image["alt"], "Swatch, in daylight");
    assert_eq!(saved_image["blob_key"], new_key.as_str());
    app.stop().await;
    stockdesk_testkit::drop_postgres(&db.url).await;
}

/// How soon another terminal's change must show in the window.
const LIVE: Duration = Duration::from_secs(2);

// ---- harness -------------------------------------------------------------------------------

struct App {
    driver: WebDriver,
    db: String,
    cli_bin: PathBuf,
    display: String,
    _data: tempfile::TempDir,
    procs: Procs,
    /// The pictures this test took, for its marker in target/e2e-ran/.
    shots: std::sync::Mutex<Vec<String>>,
}

impl App {
    /// `None` only when the window tests were asked to be left out (`STOCKDESK_E2E=skip`), which
    /// CI may not do.
    async fn start(name: &str) -> Option<App> {
        App::start_on(name, None, "ana", true).await
    }

    /// An app on `db` (`None`: a new SQLite file in its own folder) acting as `actor`, with its
    /// own data directory, display and driver: two of them on one Postgres database are two
    /// terminals of one shop. `seed` fills the database with the demo catalog first.
    async fn start_on(name: &str, db: Option<&str>, actor: &str, seed: bool) -> Option<App> {
        App::start_in(name, tempfile::tempdir().unwrap(), db, actor, seed, true).await
    }

    /// An app on `db` in the data directory `data` (prepared by the test: a terminal joined to a
    /// shop, say); `rows`: wait for the product list to show rows.
    async fn start_in(
        name: &str,
        data: tempfile::TempDir,
        db: Option<&str>,
        actor: &str,
        seed: bool,
        rows: bool,
    ) -> Option<App> {
        if std::env::var("STOCKDESK_E2E").as_deref() == Ok("skip") {
            assert!(
                !in_ci(),
                "STOCKDESK_E2E=skip while CI is set: in CI the window tests must run"
            );
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
        let db = db
            .map(str::to_string)
            .unwrap_or_else(|| format!("sqlite://{}/shop.db", data.path().display()));
        let dir = data.path().display().to_string();
        let Driver {
            display,
            port,
            procs,
        } = Driver::start(
            data.path(),
            [
                ("STOCKDESK_DB", db.as_str()),
                ("STOCKDESK_DATA_DIR", dir.as_str()),
                ("STOCKDESK_ACTOR", actor),
            ],
        );

        let app = App {
            driver: connect(port, &app_bin).await,
            db,
            cli_bin,
            display,
            _data: data,
            procs,
            shots: Default::default(),
        };
        // Demo data from the CLI, then let the list show it.
        if seed {
            app.cli(&["seed", "--products", "40"], None);
        }
        app.driver.refresh().await.unwrap();
        if rows {
            app.wait_css("[data-testid=product-row]").await;
        }
        Some(app)
    }

    /// Ends the app and leaves this test's marker: `make test` fails unless every end-to-end
    /// test got here (one that was skipped, returned early or panicked leaves none).
    async fn stop(self) {
        let App {
            driver,
            procs,
            shots,
            ..
        } = self;
        let _ = driver.quit().await;
        drop(procs);
        // libtest runs each test on a thread named after it (nextest: one test per process).
        let test = std::thread::current()
            .name()
            .filter(|n| *n != "main")
            .expect("a test thread named after its test")
            .rsplit("::")
            .next()
            .unwrap()
            .to_string();
        let dir = target_dir().join("e2e-ran");
        std::fs::create_dir_all(&dir).unwrap();
        let shots = shots.into_inner().unwrap().join(" ");
        std::fs::write(dir.join(&test), format!("screenshots: {shots}\n")).unwrap();
    }

    /// Ends a second app of a test (the test's marker is left by the first one's `stop`).
    async fn close(self) {
        let App { driver, procs, .. } = self;
        let _ = driver.quit().await;
        drop(procs);
    }

    /// Runs the CLI against the app's database as user "terminal"; returns its JSON output.
    fn cli(&self, args: &[&str], stdin: Option<Value>) -> Value {
        self.cli_at(&self.db, args, stdin)
    }

    /// Runs the CLI against `db` (another terminal's, or the shop's) as user "terminal".
    fn cli_at(&self, db: &str, args: &[&str], stdin: Option<Value>) -> Value {
        let mut cmd = Command::new(&self.cli_bin);
        cmd.args(["--db", db, "--actor", "terminal"])
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
            // A re-render between finding and testing an element makes it stale: look again.
            .ignore_errors(true)
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

    /// Asked in the page in one step: a WebDriver element query races the re-render that removes
    /// the element and can fail with "stale element" although it is gone.
    async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let gone = self
                .driver
                .execute(
                    "return document.querySelector(arguments[0]) === null;",
                    vec![json!(css)],
                )
                .await
                .ok()
                .and_then(|r| r.json().as_bool());
            if gone == Some(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waiting for {css} to go (screen: {})",
                self.failure_shot()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the element's text holds `part`.
    async fn wait_text_contains(&self, css: &str, part: &str) {
        self.wait_until(css, "text", part, |el| async move {
            el.text().await.ok().is_some_and(|t| t.contains(part))
        })
        .await
    }

    /// Waits until the input's value is `value`.
    async fn wait_value(&self, css: &str, value: &str) {
        self.wait_until(css, "value", value, |el| async move {
            el.prop("value").await.ok().flatten().as_deref() == Some(value)
        })
        .await
    }

    async fn wait_until<F, Fut>(&self, css: &str, what: &str, want: &str, ok: F)
    where
        F: Fn(WebElement) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(el) = self.driver.find(By::Css(css)).await {
                if ok(el).await {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "waiting for the {what} of {css} to be {want:?} (screen: {})",
                self.failure_shot()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    async fn wait_text(&self, css: &str, text: &str) {
        self.driver
            .query(By::Css(css))
            // A re-render between finding and testing an element makes it stale: look again.
            .ignore_errors(true)
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

    /// Waits until the element's `textContent` is `text` (also when it is cut off with an
    /// ellipsis on screen, as the list's names are).
    async fn wait_content(&self, css: &str, text: &str) {
        let deadline = Instant::now() + WAIT;
        let mut seen = Value::Null;
        while Instant::now() < deadline {
            seen = self
                .driver
                .execute(
                    "return document.querySelector(arguments[0])?.textContent ?? null",
                    vec![json!(css), json!(text)],
                )
                .await
                .unwrap()
                .json()
                .clone();
            if seen == json!(text) {
                return;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!(
            "waiting for {css} to read {text:?}; it reads {seen} (screen: {})",
            self.failure_shot()
        );
    }

    async fn wait_version(&self, version: i64) {
        self.wait_css(&format!(
            "[data-testid=product-version][data-version='{version}']"
        ))
        .await;
    }

    async fn click(&self, css: &str) {
        // React may replace the node between finding it and clicking it (a query refetched, a
        // list re-keyed): a stale node was never clicked, so it is found again. Any other error
        // fails the test.
        for _ in 0..5 {
            let el = self.wait_css(css).await;
            let clicked = match el.scroll_into_view().await {
                Ok(()) => el.click().await,
                Err(e) => Err(e),
            };
            match clicked {
                Ok(()) => return,
                Err(e) if matches!(&*e, WebDriverErrorInner::StaleElementReference(_)) => {
                    tokio::time::sleep(POLL).await
                }
                Err(e) => panic!("clicking {css}: {e} (screen: {})", self.failure_shot()),
            }
        }
        panic!(
            "clicking {css}: it was replaced five times in a row (screen: {})",
            self.failure_shot()
        );
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

    /// What a person sees — the whole X display, via ImageMagick — saved as
    /// target/screenshots/<name>.png once it is proven to show the state the test claims.
    ///
    /// The window's pixels reach the X server a moment after the DOM changes (WebKit renders in
    /// its web process and hands the frame to the UI process, which draws it into the window);
    /// on a busy machine that is seconds, so a picture taken after a fixed pause can show an
    /// older state (dark.png once showed the light editor from before the save). So:
    /// 1. `check`, the body of a JS function run with `args`, returns
    ///    `{problems: [...], probes: [{x, y, rgb, what, tolerance?}]}`: what is wrong with the page
    ///    now (nothing, or the test fails) and colours the picture must have at those points;
    /// 2. the capture of the display is taken again until it equals WebKit's own rendering of
    ///    the page now (WebDriver's screenshot), apart from scrollbars (drawn by GTK, not in
    ///    WebKit's picture), countdowns and a few pixels of a blinking caret;
    /// 3. the check runs again (the state held throughout), the probes are read from the
    ///    picture, and only then is the picture saved.
    async fn screenshot(&self, name: &str, check: &str, args: Vec<Value>) {
        let script = format!("{CHECK_HELPERS}\n{check}");
        let claims = self.page_claims(name, &script, args.clone()).await;
        let capture = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "e2e-{}-{name}.png",
            self.display.trim_start_matches(':')
        ));
        let deadline = Instant::now() + WAIT;
        let picture = loop {
            let webkit = self.driver.screenshot_as_png().await.unwrap();
            let webkit = image::load_from_memory(&webkit).unwrap().to_rgb8();
            let masks: Vec<[f64; 4]> = serde_json::from_value(
                self.driver
                    .execute(NOT_COMPARED, vec![])
                    .await
                    .unwrap()
                    .json()
                    .clone(),
            )
            .unwrap();
            self.capture_display(&capture);
            let display = image::open(&capture).unwrap().to_rgb8();
            let differing = differing_pixels(&webkit, &display, &masks);
            if differing.is_some_and(|n| n <= LIVE_PIXELS) {
                break display;
            }
            if Instant::now() > deadline {
                let seen = capture.with_extension("webkit.png");
                webkit.save(&seen).unwrap();
                panic!(
                    "screenshot {name}: the display never showed what WebKit renders for the \
                     page ({} pixels differ; display {}x{}, page {}x{}): compare {} with {}",
                    differing.map_or("all".to_string(), |n| n.to_string()),
                    display.width(),
                    display.height(),
                    webkit.width(),
                    webkit.height(),
                    capture.display(),
                    seen.display()
                );
            }
            tokio::time::sleep(POLL).await;
        };
        self.page_claims(name, &script, args).await;
        for probe in &claims.probes {
            let (x, y) = (probe.x.floor() as u32, probe.y.floor() as u32);
            let seen = picture.get_pixel_checked(x, y).map(|p| p.0);
            let close = seen.is_some_and(|seen| {
                seen.iter()
                    .zip(probe.rgb)
                    .all(|(&a, b)| (i32::from(a) - i32::from(b)).abs() <= probe.tolerance)
            });
            assert!(
                close,
                "screenshot {name}: at ({x}, {y}) the picture has {seen:?}, not {:?} ({}); see {}",
                probe.rgb,
                probe.what,
                capture.display()
            );
        }
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&capture, dir.join(format!("{name}.png"))).unwrap();
        self.shots.lock().unwrap().push(name.to_string());
    }

    /// Runs a screenshot's check; fails the test with the problems it reports.
    async fn page_claims(&self, name: &str, script: &str, args: Vec<Value>) -> Claims {
        let ret = self.driver.execute(script, args).await;
        let ret = ret.unwrap_or_else(|e| panic!("screenshot {name}: its check failed to run: {e}"));
        let claims: Claims = serde_json::from_value(ret.json().clone()).unwrap_or_else(|e| {
            panic!(
                "screenshot {name}: its check returned {:?}: {e}",
                ret.json()
            )
        });
        assert!(
            claims.problems.is_empty(),
            "screenshot {name}: the page does not show what the picture claims: {:?} (screen: {})",
            claims.problems,
            self.failure_shot()
        );
        claims
    }

    fn capture_display(&self, path: &Path) {
        let status = Command::new("import")
            .args(["-window", "root"])
            .arg(path)
            .env("DISPLAY", &self.display)
            .status()
            .expect("run ImageMagick import");
        assert!(status.success(), "import -window root failed");
    }
}

/// What a screenshot's check reports (see [`App::screenshot`]).
#[derive(serde::Deserialize)]
struct Claims {
    problems: Vec<String>,
    probes: Vec<Probe>,
}

/// A colour the picture must have at a point of the viewport (CSS pixels; the display has one
/// device pixel per CSS pixel and the window sits at its origin).
#[derive(serde::Deserialize)]
struct Probe {
    x: f64,
    y: f64,
    rgb: [u8; 3],
    what: String,
    #[serde(default = "exact")]
    tolerance: i32,
}

fn exact() -> i32 {
    4
}

/// Pixels that may differ between WebKit's picture of the page and the display and still count
/// as the same state: a blinking caret (1×17). A state a test claims differs by far more (Save
/// turning blue alone is ≈1,700; a display still one step behind differed by 747 and more).
const LIVE_PIXELS: usize = 64;

/// Pixels (outside `masks`, rectangles [x0, y0, x1, y1]) whose colour differs by more than a
/// rounding error; `None` when the pictures are not the same size.
fn differing_pixels(a: &image::RgbImage, b: &image::RgbImage, masks: &[[f64; 4]]) -> Option<usize> {
    if a.dimensions() != b.dimensions() {
        return None;
    }
    let masked = |x: u32, y: u32| {
        let (x, y) = (f64::from(x), f64::from(y));
        masks
            .iter()
            .any(|m| x >= m[0] && x < m[2] && y >= m[1] && y < m[3])
    };
    let n = a
        .enumerate_pixels()
        .filter(|&(x, y, p)| {
            let q = b.get_pixel(x, y);
            p.0.iter().zip(q.0).any(|(&u, v)| u.abs_diff(v) > 2) && !masked(x, y)
        })
        .count();
    Some(n)
}

/// Helpers for screenshot checks (prepended to each check's body).
const CHECK_HELPERS: &str = r#"
const $ = (css) => document.querySelector(css);
const $$ = (css) => [...document.querySelectorAll(css)];
// Laid out and wholly inside the window.
const shown = (el) => {
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight;
};
// "rgb(1, 2, 3)" / "rgba(1, 2, 3, 0.5)" → [1, 2, 3, 0.5]
const rgba = (css) => { const v = css.match(/[\d.]+/g).map(Number); return v.length > 3 ? v : [...v, 1]; };
const luma = ([r, g, b]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;
// The background colour painted at a point: the backgrounds of the elements there, top down,
// blended until opaque (over the white WebKit paints under the page). Plain colours only.
const bgAt = (x, y) => {
    let c = [0, 0, 0], a = 0;
    for (const el of document.elementsFromPoint(x, y)) {
        const [r, g, b, alpha] = rgba(getComputedStyle(el).backgroundColor);
        const k = (1 - a) * alpha;
        c = [c[0] + r * k, c[1] + g * k, c[2] + b * k];
        a += k;
        if (a > 0.999) break;
    }
    return c.map((v) => Math.round(v + 255 * (1 - a)));
};
"#;

/// What is not compared: where GTK may draw overlay scrollbars (WebKit's own picture has none), a
/// strip along the right and bottom edge of every scrolling box; and the orders' countdowns,
/// which tick every second.
const NOT_COMPARED: &str = r#"
const strips = [...document.querySelectorAll('.countdown')].map((el) => {
    const r = el.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
});
for (const el of [document.documentElement, ...document.querySelectorAll('body *')]) {
    const s = getComputedStyle(el);
    const r = el === document.documentElement ? new DOMRect(0, 0, innerWidth, innerHeight) : el.getBoundingClientRect();
    const root = el === document.documentElement;
    if (el.scrollHeight > el.clientHeight && (root || /auto|scroll/.test(s.overflowY))) strips.push([r.right - 16, r.top, r.right, r.bottom]);
    if (el.scrollWidth > el.clientWidth && (root || /auto|scroll/.test(s.overflowX))) strips.push([r.left, r.bottom - 16, r.right, r.bottom]);
}
return strips;
"#;

fn id_of(product: &Value) -> String {
    product["id"].as_str().unwrap().to_string()
}

fn version_of(product: &Value) -> i64 {
    product["version"].as_i64().unwrap()
}

/// Cargo's target directory (CARGO_TARGET_TMPDIR is its tmp/): pictures and markers go there,
/// never into the source tree.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

// ---- staff sign-in and roles (issue 14) -----------------------------------------------------

/// (9) The shop gets staff profiles while the app runs: it asks "Who is working?". A wrong PIN
/// (typed on the keyboard) says how many tries are left; staff signed in (on the on-screen keys)
/// sees prices read-only with the reason, and saves a description; switching to a manager takes
/// two taps and the PIN, and the manager saves a new price. The CLI reads who saved what.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_see_prices_read_only_and_a_manager_two_taps_away_changes_them() {
    let Some(app) = App::start("staff").await else {
        return;
    };
    let product = app.cli_first_product();
    let id = id_of(&product);
    let version = version_of(&product);
    app.cli_input(&["staff", "add", "Olu", "--role", "owner"], "2468\n");
    app.cli_input(
        &["--as", "Olu", "staff", "add", "Mia", "--role", "manager"],
        "2468\n5791\n",
    );
    app.cli_input(
        &["--as", "Olu", "staff", "add", "Sam", "--role", "staff"],
        "2468\n1357\n",
    );
    app.click("[data-testid=who-is-working][data-mode=start] [data-testid=person][data-name=Sam]")
        .await;
    app.wait_css("[data-testid=pin-pad][data-person=Sam]").await;
    app.pin_keyboard("9999").await;
    app.wait_text("[data-testid=pin-message]", "Wrong PIN. 4 tries left.")
        .await;
    app.screenshot(
        "pin-wrong",
        r#"
        const problems = [];
        const pad = $('[data-testid=pin-pad]');
        if (!shown(pad) || pad.dataset.person !== 'Sam') problems.push('no PIN pad for Sam');
        if ($('[data-testid=pin-message]')?.textContent !== 'Wrong PIN. 4 tries left.') problems.push('the tries left are not shown');
        if ($('[data-testid=pin-dots]')?.dataset.length !== '0') problems.push('the wrong PIN was not cleared');
        if ($$('[data-testid^=pin-key-]').filter(shown).length !== 10) problems.push('not all ten digit keys on screen');
        return { problems, probes: [] };
        "#,
        vec![],
    )
    .await;
    for digit in ["1", "3", "5", "7"] {
        app.click(&format!("[data-testid=pin-key-{digit}]")).await;
    }
    app.click("[data-testid=pin-enter]").await;
    app.wait_gone("[data-testid=who-is-working]").await;
    app.wait_css("[data-testid=signed-in][data-name=Sam][data-role=staff]")
        .await;

    // Staff: prices are read-only, and the form says why; the description is theirs to edit.
    app.wait_css("[data-testid=new-product][aria-disabled=true]")
        .await;
    app.open_product(&product).await;
    app.wait_text(
        "[data-testid=perm-hint][data-permission=edit_prices]",
        "Prices need a manager",
    )
    .await;
    let price = "[data-testid=variants] tbody tr:first-child input[aria-label=Price]";
    let field = app.wait_css(&format!("{price}[readonly]")).await;
    let shown_price = field.prop("value").await.unwrap();
    field.click().await.unwrap();
    field.send_keys("9").await.unwrap();
    assert_eq!(
        field.prop("value").await.unwrap(),
        shown_price,
        "typed into a read-only price"
    );
    let sku = app
        .wait_css("[data-testid=variants] tbody tr:first-child input[aria-label=SKU]")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let text = "Hand-stitched; described by Sam.";
    app.type_into("[data-testid=field-description]", text).await;
    app.wait_css("[data-testid=save]:not([disabled])").await;
    app.screenshot(
        "staff-prices",
        r#"
        const [text] = arguments;
        const problems = [];
        const me = $('[data-testid=signed-in]');
        if (!shown(me) || me.dataset.name !== 'Sam') problems.push('the title bar does not show Sam');
        const prices = $$('[data-testid=variants] input[aria-label=Price]');
        if (prices.length === 0 || prices.some((p) => !p.readOnly)) problems.push('a price is editable for staff');
        const hint = $('[data-testid=perm-hint][data-permission=edit_prices]');
        if (!shown(hint) || hint.textContent !== 'Prices need a manager') problems.push('the reason is not shown');
        if ($('[data-testid=field-description]')?.value !== text) problems.push('the description does not hold the typed text');
        if ($('[data-testid=field-description]')?.readOnly) problems.push('the description is read-only');
        if ($('[data-testid=save]')?.disabled !== false) problems.push('Save is not enabled');
        return { problems, probes: [] };
        "#,
        vec![json!(text)],
    )
    .await;
    app.click("[data-testid=save]").await;
    app.wait_version(version + 1).await;
    let saved = app.cli(&["product", "get", &id], None);
    assert_eq!(saved["description"], text);
    assert_eq!(saved["updated_by"], "Sam");

    // Two taps: the name in the title bar, then the manager; then the PIN.
    app.click("[data-testid=signed-in]").await;
    app.wait_css(
        "[data-testid=who-is-working][data-mode=switch] [data-testid=person][data-name=Mia]",
    )
    .await;
    app.screenshot(
        "who-is-working",
        r#"
        const problems = [];
        const names = $$('[data-testid=person]').filter(shown).map((p) => p.dataset.name);
        if (names.join() !== 'Mia,Olu,Sam') problems.push(`the people shown are ${names}`);
        if (!$('[data-testid=person][data-name=Sam]')?.textContent.includes('signed in')) problems.push('Sam is not marked as signed in');
        if ($('[data-testid=who-title]')?.textContent !== 'Who is working?') problems.push('no "Who is working?"');
        for (const b of ['sign-out', 'lock-now', 'switch-cancel']) if (!shown($(`[data-testid=${b}]`))) problems.push(`no ${b}`);
        return { problems, probes: [] };
        "#,
        vec![],
    )
    .await;
    app.click("[data-testid=person][data-name=Mia]").await;
    app.wait_css("[data-testid=pin-pad][data-person=Mia]").await;
    app.pin_keyboard("5791").await;
    app.wait_gone("[data-testid=who-is-working]").await;
    app.wait_css("[data-testid=signed-in][data-name=Mia][data-role=manager]")
        .await;

    // The same product, now with prices Mia may change.
    app.wait_version(version + 1).await;
    app.wait_gone("[data-testid=perm-hint][data-permission=edit_prices]")
        .await;
    app.type_into(&format!("{price}:not([readonly])"), "19.99")
        .await;
    app.click("[data-testid=save]").await;
    app.wait_version(version + 2).await;
    let saved = app.cli(&["product", "get", &id], None);
    let variant = saved["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == sku.as_str())
        .unwrap();
    assert_eq!(variant["price_minor"], 1999);
    assert_eq!(saved["updated_by"], "Mia");
    let history = app.cli(&["product", "history", &id], None);
    let who: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["actor"].as_str().unwrap())
        .collect();
    assert!(
        who.starts_with(&["Mia", "Sam"]) || who.ends_with(&["Sam", "Mia"]),
        "{who:?}"
    );
    app.stop().await;
}

/// (10) A new shop: the owner's profile is made from the offer in the empty editor, and the app
/// goes on as the owner. With the lock set to one minute, a description typed and not saved
/// survives the idle lock; the owner's PIN unlocks to the same text, which then saves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_idle_lock_keeps_what_is_typed() {
    let Some(app) = App::start("idle-lock").await else {
        return;
    };
    app.wait_css("[data-testid=owner-offer]").await;
    app.click("[data-testid=owner-offer-create]").await;
    let form = "[data-testid=owner-form]";
    app.type_into(&format!("{form} [data-testid=staff-name]"), "Olu")
        .await;
    app.type_into(&format!("{form} [data-testid=staff-pin]"), "2468")
        .await;
    app.type_into(&format!("{form} [data-testid=staff-pin-again]"), "2468")
        .await;
    app.screenshot(
        "owner-offer",
        r#"
        const problems = [];
        const offer = $('[data-testid=owner-offer]');
        if (!shown(offer)) problems.push('the offer is not on screen');
        if ($('[data-testid=owner-form] [data-testid=staff-name]')?.value !== 'Olu') problems.push('the name is not typed');
        for (const f of ['staff-pin', 'staff-pin-again']) {
            const input = $(`[data-testid=owner-form] [data-testid=${f}]`);
            if (input?.type !== 'password' || input.value !== '2468') problems.push(`${f} is not a typed, hidden PIN`);
        }
        if ($('[data-testid=owner-form] [data-testid=staff-add]')?.disabled !== false) problems.push('cannot create yet');
        return { problems, probes: [] };
        "#,
        vec![],
    )
    .await;
    app.click(&format!("{form} [data-testid=staff-add]")).await;
    app.wait_css("[data-testid=signed-in][data-name=Olu][data-role=owner]")
        .await;
    let staff = app.cli(&["staff", "list"], None);
    assert_eq!(staff[0]["name"], "Olu");
    assert_eq!(staff[0]["role"], "owner");

    // Settings → Staff and sign-in: lock after one minute.
    app.click("[data-testid=open-settings]").await;
    app.click("[data-testid=settings-staff-tab]").await;
    app.click("[data-testid=idle-lock] [data-minutes='1']")
        .await;
    app.wait_css("[data-testid=idle-lock] [data-minutes='1'][aria-checked=true]")
        .await;
    app.wait_css("[data-testid=staff-events] li").await;
    app.screenshot(
        "staff-settings",
        r#"
        const problems = [];
        if ($('[data-testid=settings-staff-tab]')?.dataset.state !== 'active') problems.push('the staff tab is not open');
        if ($('[data-testid=idle-lock] [aria-checked=true]')?.dataset.minutes !== '1') problems.push('the lock is not at 1 min');
        const row = $('[data-testid=staff-list] tr[data-name=Olu]');
        if (!shown(row) || !row.textContent.includes('(you)') || !row.textContent.includes('Owner')) problems.push('Olu (you), owner, is not listed');
        if (!shown($('[data-testid=staff-form] [data-testid=staff-add]'))) problems.push('no form to add a person');
        if ($('[data-testid=perm-hint][data-permission=manage_staff]')) problems.push('the owner is told they may not manage staff');
        if (!$('[data-testid=staff-events]')?.textContent.includes('Olu signed in')) problems.push('the sign-in is not listed');
        return { problems, probes: [] };
        "#,
        vec![],
    )
    .await;
    app.click("[data-testid=settings-close]").await;
    app.wait_gone("[data-testid=settings]").await;

    let product = app.cli_first_product();
    app.open_product(&product).await;
    let text = "Typed, not saved, before the lock.";
    app.type_into("[data-testid=field-description]", text).await;
    let typed = Instant::now();
    // Nothing touches the window now: after a minute it locks.
    let locked = "[data-testid=who-is-working][data-mode=locked]";
    let deadline = typed + Duration::from_secs(150);
    while app.driver.find(By::Css(locked)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the app did not lock (screen: {})",
            app.failure_shot()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        typed.elapsed() >= Duration::from_secs(55),
        "locked {:?} after the last key, not after the minute set",
        typed.elapsed()
    );
    app.screenshot(
        "locked",
        r#"
        const problems = [];
        if ($('[data-testid=who-title]')?.textContent !== 'Locked') problems.push('the screen does not say Locked');
        if (!$('[data-testid=locked-note]')?.textContent.includes("Olu's work is kept")) problems.push('it does not say the work is kept');
        if ($('[data-testid=pin-pad]')?.dataset.person !== 'Olu') problems.push('no PIN pad for Olu');
        if ($('[data-testid=field-description]')?.value !== arguments[0]) problems.push('the editor underneath lost the typed text');
        const cover = $('[data-testid=who-is-working]').getBoundingClientRect();
        if (cover.width < innerWidth || cover.height < innerHeight) problems.push('the lock does not cover the window');
        return { problems, probes: [] };
        "#,
        vec![json!(text)],
    )
    .await;
    app.pin_keyboard("2468").await;
    app.wait_gone("[data-testid=who-is-working]").await;
    let field = app.wait_css("[data-testid=field-description]").await;
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some(text));
    app.click("[data-testid=save]").await;
    app.wait_version(version_of(&product) + 1).await;
    let saved = app.cli(&["product", "get", &id_of(&product)], None);
    assert_eq!(saved["description"], text);
    assert_eq!(saved["updated_by"], "Olu");
    app.stop().await;
}

impl App {
    /// Runs the CLI like [`App::cli`], with `stdin` as it is (PINs, a line each).
    fn cli_input(&self, args: &[&str], stdin: &str) -> Value {
        use std::io::Write;
        let mut child = Command::new(&self.cli_bin)
            .args(["--db", &self.db])
            .env("STOCKDESK_DATA_DIR", self._data.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run the stockdesk CLI");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "stockdesk {args:?} failed: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("CLI printed {text:?}: {e}"))
    }

    /// Types `pin` and Enter on the keyboard, at the PIN pad on screen.
    async fn pin_keyboard(&self, pin: &str) {
        let pad = self.wait_css("[data-testid=pin-key-5]").await;
        pad.send_keys(pin).await.unwrap();
        pad.send_keys(Key::Enter).await.unwrap();
    }
}

// ==== Reports and accessibility (issue 17) =================================================
//
// The Reports view over a shop with sales, holds that ended every way, a merged edit and a
// conflict, checked against what the CLI did; then axe-core (ui/node_modules/axe-core, injected
// over WebDriver) over every view and dialog of the app, in both themes where colour matters:
// no serious or critical violation may remain.

/// (11) Reports show the shop's figures as charts with their tables, in light and dark; axe-core
/// finds nothing serious or critical in any view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_show_the_figures_and_axe_passes_every_view() {
    let Some(app) = App::start("reports").await else {
        return;
    };
    let product = app.cli_first_product();
    let (id, version) = (id_of(&product), version_of(&product));
    let name = product["name"].as_str().unwrap().to_string();
    let variant = product["variants"][0]["id"].as_str().unwrap().to_string();
    let price = product["variants"][0]["price_minor"].as_i64().unwrap();
    app.cli(&["stock", "receive", &variant, "--quantity", "20"], None);
    let line = |n: i64| json!({ "items": [{ "variant_id": variant, "quantity": n }] });

    // Holds: one paid (3 units), one cancelled, one lapsed and swept.
    let paid = app.cli(&["order", "create"], Some(line(3)));
    app.cli(&["order", "pay", paid["id"].as_str().unwrap()], None);
    let cancelled = app.cli(&["order", "create"], Some(line(1)));
    app.cli(
        &["order", "cancel", cancelled["id"].as_str().unwrap()],
        None,
    );
    app.cli(&["order", "create", "--expires-in", "1s"], Some(line(1)));
    std::thread::sleep(Duration::from_millis(1500));
    app.cli(&["sweep", "--once"], None);

    // Edits from one version: a new name (clean), a description (merged), another name
    // (conflict, exit 3: nothing written, but counted).
    let now = version_of(&app.cli(&["product", "get", &id], None));
    let from = now.to_string();
    app.cli(
        &["product", "patch", &id, "--expected-version", &from],
        Some(json!({ "name": format!("{name} (renamed)") })),
    );
    let merged = app.cli(
        &["product", "patch", &id, "--expected-version", &from],
        Some(json!({ "description": "Merged by itself." })),
    );
    assert!(merged["merge"].is_object(), "{merged}");
    let clash = app.cli_exit(
        &["product", "patch", &id, "--expected-version", &from],
        Some(json!({ "name": "A clashing name" })),
    );
    assert_eq!(clash, 3, "the clashing edit is refused with a conflict");
    assert!(version < now);

    app.click("[data-testid=nav-reports]").await;
    app.wait_text("[data-testid=sales-units] .kpi-value", "3")
        .await;
    app.wait_text("[data-testid=edits-conflicts] .kpi-value", "1")
        .await;
    let checks = r#"
        const [name, revenue] = arguments;
        const problems = [];
        const kpi = (id) => $(`[data-testid=${id}] .kpi-value`)?.textContent;
        const want = { 'sales-units': '3', 'sales-orders': '1', 'holds-paid': '1', 'holds-expired': '1',
                       'holds-cancelled': '1', 'edits-clean': '1', 'edits-merged': '1', 'edits-conflicts': '1' };
        for (const [id, v] of Object.entries(want)) if (kpi(id) !== v) problems.push(`${id} reads ${kpi(id)}, not ${v}`);
        if (kpi('sales-revenue')?.replace(/\D/g, '') !== revenue) problems.push(`revenue ${kpi('sales-revenue')} lacks ${revenue}`);
        const top = $$('[data-testid=top-products] tbody tr');
        if (top.length !== 1 || !top[0].textContent.includes(`${name} (renamed)`) || top[0].cells[1].textContent !== '3')
            problems.push(`top products: ${top.map((r) => r.textContent).join(' | ')}`);
        const conflicts = $('[data-testid=recent-conflicts]')?.textContent ?? '';
        if (!conflicts.includes('terminal') || !conflicts.includes('name')) problems.push(`latest conflicts: ${conflicts}`);
        const soldBars = $$('[data-testid=sales-chart] rect[data-series]').filter((r) => Number(r.dataset.value) > 0);
        if (soldBars.length !== 1) problems.push(`${soldBars.length} sales bars, not one`);
        for (const id of ['sales-chart', 'holds-chart', 'edits-chart', 'sweeper-chart']) {
            const svg = $(`[data-testid=${id}] svg[role=img]`);
            if (!svg?.getAttribute('aria-label')) problems.push(`${id} has no text alternative`);
        }
        const holdsRows = $$('[data-testid=holds-table] tbody tr').map((r) => [...r.cells].slice(1).map((c) => Number(c.textContent)));
        const sum = holdsRows.reduce((s, r) => s.map((v, i) => v + r[i]), [0, 0, 0, 0]).join();
        if (sum !== '1,1,1,0') problems.push(`the holds table sums to ${sum}`);
        if (!shown($('[data-testid=report-sales]'))) problems.push('the sales card is not on screen');
        if (!shown($('[data-testid=report-top]'))) problems.push('the top products are not on screen');
        if (!shown($('[data-testid=holds-chart]'))) problems.push('the holds chart is not on screen');
        return { problems, probes: [] };
    "#;
    let revenue_digits = (price * 3).to_string();
    let args = vec![json!(name), json!(revenue_digits)];
    app.screenshot("reports", checks, args.clone()).await;
    let mut violations = app.axe("reports (light)").await;

    app.click("[data-testid=theme-toggle]").await;
    app.wait_css("html[data-theme=dark]").await;
    let dark = checks.replace(
            "return { problems, probes: [] };",
            "const bg = rgba(getComputedStyle(document.body).backgroundColor).slice(0, 3);\n\
             if (luma(bg) > 60) problems.push(`the body background ${bg} is not dark`);\n\
             const card = rgba(getComputedStyle($('[data-testid=report-sales]')).backgroundColor).slice(0, 3);\n\
             if (luma(card) > 60) problems.push(`the cards ${card} are not dark`);\n\
             return { problems, probes: [] };"
        );
    app.screenshot("reports-dark", &dark, args).await;
    violations.extend(app.axe("reports (dark)").await);

    // Every other view and dialog, in the dark theme and then the light one.
    for theme in ["dark", "light"] {
        app.click("[data-testid=nav-products]").await;
        let product = app.cli(&["product", "get", &id], None);
        app.open_product(&product).await;
        violations.extend(
            app.axe(&format!("product list and editor details ({theme})"))
                .await,
        );
        app.click("[data-testid=stock-tab]").await;
        app.wait_css("[data-testid=stock]").await;
        violations.extend(app.axe(&format!("editor stock tab ({theme})")).await);
        app.click("[data-testid=history-tab]").await;
        app.wait_css("[data-testid=history]").await;
        violations.extend(app.axe(&format!("editor history tab ({theme})")).await);

        app.click("[data-testid=nav-orders]").await;
        app.cli(&["order", "create"], Some(line(1)));
        app.wait_css("[data-testid=order]").await;
        violations.extend(app.axe(&format!("orders ({theme})")).await);

        app.click("[data-testid=open-settings]").await;
        app.wait_css("[role=dialog]").await;
        violations.extend(app.axe(&format!("settings dialog ({theme})")).await);
        app.escape().await;
        app.click("[data-testid=nav-products]").await;
        app.click("[data-testid=new-product]").await;
        app.wait_css("[role=dialog]").await;
        violations.extend(app.axe(&format!("new product dialog ({theme})")).await);
        app.escape().await;

        // Typing, another terminal saves the same field: the banner, the review, the conflict.
        let current = app.cli(&["product", "get", &id], None);
        app.open_product(&current).await;
        app.click(".tab-list [role=tab]:first-child").await;
        app.type_into(
            "[data-testid=field-name]",
            &format!("Typed in the app, {theme}"),
        )
        .await;
        app.cli(
            &[
                "product",
                "patch",
                &id,
                "--expected-version",
                &version_of(&current).to_string(),
            ],
            Some(json!({ "name": format!("From the terminal, {theme}") })),
        );
        app.wait_css("[data-testid=review-now]").await;
        violations.extend(
            app.axe(&format!("editor with the live banner ({theme})"))
                .await,
        );
        app.click("[data-testid=review-now]").await;
        app.wait_css("[data-testid=review-dialog]").await;
        violations.extend(app.axe(&format!("review dialog ({theme})")).await);
        app.escape().await;
        app.click("[data-testid=save]").await;
        app.wait_css("[data-testid=conflict-dialog]").await;
        violations.extend(app.axe(&format!("conflict dialog ({theme})")).await);
        app.escape().await;
        // Opening another product with the typing unsaved asks first.
        let search = app.wait_css("[data-testid=search]").await;
        search.send_keys(Key::Control + "a").await.unwrap();
        search.send_keys(Key::Backspace).await.unwrap();
        app.click(&format!(
            "[data-testid=product-row]:not([data-product-id='{id}'])"
        ))
        .await;
        app.wait_css("[role=alertdialog]").await;
        violations.extend(
            app.axe(&format!("discard changes question ({theme})"))
                .await,
        );
        app.click("[role=alertdialog] .btn-danger").await;
        app.wait_gone("[role=alertdialog]").await;

        app.click("[data-testid=theme-toggle]").await;
    }
    assert!(
        violations.is_empty(),
        "axe-core found serious or critical violations:\n{}",
        violations.join("\n")
    );
    app.stop().await;
}

impl App {
    /// Runs the CLI like `cli`, for a command that is meant to fail: its exit code.
    fn cli_exit(&self, args: &[&str], stdin: Option<Value>) -> i32 {
        let mut child = Command::new(&self.cli_bin)
            .args(["--db", &self.db, "--actor", "terminal"])
            .env("STOCKDESK_DATA_DIR", self._data.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run the stockdesk CLI");
        if let Some(v) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(v.to_string().as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait().unwrap().code().unwrap_or(-1)
    }

    /// Escape, as a person closes a dialog; waits until no dialog is left.
    async fn escape(&self) {
        self.driver
            .action_chain()
            .send_keys(Key::Escape)
            .perform()
            .await
            .unwrap();
        self.wait_gone("[role=dialog], [role=alertdialog]").await;
    }

    /// axe-core's serious and critical violations on the page as it is now, one line each,
    /// named after `view` (nothing when it is clean). axe is injected from the UI's own
    /// node_modules the first time (WebDriver scripts are not subject to the page's CSP).
    async fn axe(&self, view: &str) -> Vec<String> {
        let loaded = self
            .driver
            .execute("return typeof window.axe", vec![])
            .await
            .unwrap();
        if loaded.json() != &json!("object") {
            let path =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/node_modules/axe-core/axe.min.js");
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run npm --prefix ui ci)", path.display()));
            self.driver
                .execute(&format!("{source}\nreturn typeof window.axe;"), vec![])
                .await
                .unwrap();
        }
        let found = self
            .driver
            .execute_async(
                r#"
                const done = arguments[arguments.length - 1];
                window.axe.run(document, { resultTypes: ['violations'] })
                    .then((r) => done(r.violations
                        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                        .map((v) => `${v.id} (${v.impact}): ${v.help}; at ${v.nodes.slice(0, 4)
                            .map((n) => n.target.join(' ') + ' ' + (n.failureSummary || '').split('\n').slice(1, 2).join(''))
                            .join(' | ')}`)))
                    .catch((e) => done([`axe failed: ${e}`]));
                "#,
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("axe on {view}: {e}"));
        let lines: Vec<String> = serde_json::from_value(found.json().clone()).unwrap();
        lines.into_iter().map(|l| format!("{view}: {l}")).collect()
    }
}

// ---- import and export (issue 17) ----------------------------------------------------------
//
// Files are named by typing their path into the dialogs' File fields (the native file picker
// cannot be driven over WebDriver; the field is also how a person pastes a path).

/// (12) "Import…" of a Shopify-layout file: the preview lists what would be created and the bad
/// row's problem (row, column, reason) with nothing written; importing creates the products.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_preview_lists_the_problem_row_then_imports() {
    let Some(app) = App::start("import").await else {
        return;
    };
    let file = app._data.path().join("products_export.csv");
    std::fs::write(
        &file,
        "Handle,Title,Body (HTML),Vendor,Type,Published,Option1 Name,Option1 Value,Variant SKU,\
         Variant Inventory Qty,Variant Price,Status\n\
         canvas-tote,Canvas Tote,<p>Sturdy</p>,Acme,Bags,TRUE,Colour,Sand,TOTE-SAND,12,18.00,active\n\
         canvas-tote,,,,,,,Olive,TOTE-OLIVE,7,18.00,\n\
         field-flask,Field Flask,,Acme,Kitchen,TRUE,Title,Default Title,FLASK-1,5,24.50,active\n\
         broken-mug,Broken Mug,,Acme,Kitchen,TRUE,Title,Default Title,MUG-X,3,12.5x,active\n",
    )
    .unwrap();
    let before = app.cli(&["product", "list", "--limit", "1"], None)["total"].clone();
    app.click("[data-testid=open-import]").await;
    app.type_into("[data-testid=import-path]", &file.display().to_string())
        .await;
    app.type_into("[data-testid=import-currency]", "EUR").await;
    app.click("[data-testid=import-preview]").await;
    app.wait_css("[data-testid=import-problem]").await;
    app.wait_text("[data-testid=import-count-create]", "2 to create")
        .await;
    app.screenshot(
        "import-preview",
        r#"
        const problems = [];
        const dialog = $('[data-testid=import-dialog]');
        if (!shown(dialog)) problems.push('the import dialog is not on screen');
        const summary = $('[data-testid=import-summary]')?.textContent ?? '';
        if (!summary.includes('2 to create') || !summary.includes('1 with problems'))
            problems.push(`the summary reads ${summary}`);
        const row = $$('[data-testid=import-problem]')[0];
        const cells = row ? [...row.querySelectorAll('td')].map((td) => td.textContent) : [];
        if (cells[0] !== '5' || cells[1] !== 'Variant Price' || !cells[3]?.includes('12.5x'))
            problems.push(`the problem row reads ${cells.join(' | ')}`);
        if (!shown(row)) problems.push('the problem row is not on screen');
        if (!shown($('[data-testid=import-run]'))) problems.push('no Import button');
        return { problems, probes: [] };
        "#,
        vec![],
    )
    .await;
    // Nothing was written by the preview.
    assert_eq!(
        app.cli(&["product", "list", "--limit", "1"], None)["total"],
        before
    );

    app.click("[data-testid=import-run]").await;
    app.wait_text("[data-testid=import-count-create]", "2 created")
        .await;
    let tote = app.cli(&["product", "list", "--search", "canvas-tote"], None);
    assert_eq!(tote["total"], 1, "{tote}");
    let tote = app.cli(
        &["product", "get", tote["items"][0]["id"].as_str().unwrap()],
        None,
    );
    assert_eq!(tote["variants"].as_array().unwrap().len(), 2);
    assert_eq!(tote["variants"][1]["attributes"]["Colour"], "Olive");
    let mugs = app.cli(&["product", "list", "--search", "broken-mug"], None);
    assert_eq!(
        mugs["total"], 0,
        "the product with the bad row is not imported"
    );
    app.stop().await;
}

/// (13) "Export…" of the products: the file is written where the person said, in the import's
/// layout, one product a group of rows, and the dialog says how many rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_the_products_file() {
    let Some(app) = App::start("export").await else {
        return;
    };
    let file = app._data.path().join("stockdesk-products.csv");
    app.click("[data-testid=open-export]").await;
    app.click("[data-testid=export-kind-products]").await;
    app.type_into("[data-testid=export-path]", &file.display().to_string())
        .await;
    app.click("[data-testid=export-run]").await;
    app.wait_css("[data-testid=export-result]").await;
    let text = std::fs::read_to_string(&file).unwrap();
    let rows = text.lines().count() - 1;
    let total = app.cli(&["product", "list", "--limit", "1"], None)["total"]
        .as_i64()
        .unwrap();
    assert!(
        text.starts_with("Handle,Title,Body (HTML),Type,Published"),
        "{text}"
    );
    assert!(rows as i64 >= total, "{rows} rows for {total} products");
    app.screenshot(
        "export",
        r#"
        const [rows, file] = arguments;
        const problems = [];
        if (!shown($('[data-testid=export-dialog]'))) problems.push('the export dialog is not on screen');
        if (!$('[data-testid=export-kind-products]')?.checked) problems.push('Products is not chosen');
        const result = $('[data-testid=export-result]')?.textContent ?? '';
        if (result !== `Wrote ${rows} rows to ${file}`) problems.push(`the result reads ${result}`);
        return { problems, probes: [] };
        "#,
        vec![json!(rows), json!(file.display().to_string())],
    )
    .await;
    app.stop().await;
}

// ---- offline-first terminals (issue 13) ----------------------------------------------------
//
// The app runs on a terminal's SQLite replica of a shop whose Postgres it reaches through a TCP
// proxy the test controls (crates/testkit/src/proxy.rs): cutting the proxy is the network going
// down. The shop is read and changed with the CLI on its own URL, as the back office would.

/// A shop on a new Postgres database with a few products, and a proxy in front of it.
async fn shop_behind_a_proxy() -> (stockdesk_testkit::TestDb, Proxy) {
    let shop = stockdesk_testkit::postgres().await;
    let proxy = Proxy::start(upstream_of(&shop.url)).await;
    (shop, proxy)
}

/// Runs the CLI on `db` with `data_dir` as its data directory (before any app exists).
fn cli_on(db: &str, data_dir: &Path, args: &[&str]) -> Value {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_stockdesk-app")).with_file_name("stockdesk");
    let out = Command::new(bin)
        .args(["--db", db, "--actor", "office"])
        .env("STOCKDESK_DATA_DIR", data_dir)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("run the stockdesk CLI");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stockdesk {args:?} failed: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("CLI printed {text:?}: {e}"))
}

impl App {
    /// Waits until the status bar's sync reads `state` with `pending` commands waiting.
    async fn wait_sync(&self, state: &str, pending: i64) {
        self.wait_css(&format!(
            "[data-testid=sync-status][data-state={state}][data-pending='{pending}']"
        ))
        .await;
    }

    /// Types `price` into the first variant's price and saves, in the open editor.
    async fn save_first_price(&self, price: &str, version: i64) {
        self.click(".tab-list [role=tab]:first-child").await;
        self.type_into(FIRST_PRICE, price).await;
        self.click("[data-testid=save]").await;
        self.wait_version(version).await;
    }
}

const FIRST_PRICE: &str = "[data-testid=variants] tbody tr:first-child input[aria-label=Price]";

/// (14) A terminal joined to a shop through a proxy. The proxy is cut: the status bar says
/// Offline, and an edit made in the window waits (1 pending); healed, the terminal says Online
/// with nothing pending and the shop has the edit. Then a clash: while the terminal is offline
/// the shop changes a price that the window changes too; healed, "Needs attention" shows 1, its
/// list opens the conflict dialog with base / mine / theirs, and keeping mine puts my price on
/// the shop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_terminal_keeps_working_and_a_clash_from_sync_reaches_the_dialog() {
    let (shop, proxy) = shop_behind_a_proxy().await;
    let data = tempfile::tempdir().unwrap();
    cli_on(&shop.url, data.path(), &["seed", "--products", "12"]);
    let replica = format!("sqlite://{}/stockdesk.db", data.path().display());
    let joined = cli_on(
        &replica,
        data.path(),
        &[
            "sync",
            "join",
            &proxy.url_for(&shop.url),
            "--terminal",
            "till",
        ],
    );
    assert_eq!(joined["terminal_name"], "till");
    let Some(app) = App::start_in("sync-offline", data, Some(&replica), "ana", false, true).await
    else {
        return;
    };
    // The background sync runs every 5 s: the first one finds the shop.
    app.wait_sync("online", 0).await;

    // (a) Offline: the edit is kept and waits.
    proxy.set(Link::Drop);
    app.wait_sync("offline", 0).await;
    let product = app.cli_first_product();
    let (id, version) = (id_of(&product), version_of(&product));
    app.open_product(&product).await;
    app.type_into("[data-testid=field-name]", "Edited while offline")
        .await;
    app.click("[data-testid=save]").await;
    app.wait_version(version + 1).await;
    app.wait_sync("offline", 1).await;
    app.screenshot(
        "sync-offline",
        r#"
        const problems = [];
        const s = $('[data-testid=sync-status]');
        if (!shown(s) || s.dataset.state !== 'offline') problems.push('the status bar does not say Offline');
        else if (!s.textContent.includes('Offline') || !s.textContent.includes('1 pending')) problems.push(`the status reads ${s.textContent}`);
        if ($('[data-testid=editor-title]')?.textContent !== 'Edited while offline') problems.push('the editor does not show the edit');
        return { problems, probes: [] };
        "#,
        vec![],
    )
    .await;
    let on_shop = app.cli_at(&shop.url, &["product", "get", &id], None);
    assert_eq!(on_shop["version"], version, "the shop has not heard yet");

    proxy.set(Link::Forward);
    app.wait_sync("online", 0).await;
    let on_shop = app.cli_at(&shop.url, &["product", "get", &id], None);
    assert_eq!(on_shop["name"], "Edited while offline");
    assert_eq!(on_shop["version"], version + 1);
    assert_eq!(on_shop["updated_by"], "ana");

    // (b) A clash: the shop changes the first variant's price while the terminal is offline.
    proxy.set(Link::Drop);
    app.wait_sync("offline", 0).await;
    let variant = on_shop["variants"][0]["id"].as_str().unwrap().to_string();
    let base_price = on_shop["variants"][0]["price_minor"].as_i64().unwrap();
    app.cli_at(
        &shop.url,
        &[
            "product",
            "patch",
            &id,
            "--expected-version",
            &(version + 1).to_string(),
        ],
        Some(json!({ "variants": { "update": [{ "id": variant, "price_minor": 5555 }] } })),
    );
    app.save_first_price("77.70", version + 2).await;
    app.wait_sync("offline", 1).await;
    proxy.set(Link::Forward);
    app.wait_text("[data-testid=attention-count]", "1").await;
    app.wait_sync("online", 0).await;
    // The replica shows the shop's price again; my typing is kept in the set-aside command.
    let replica_now = app.cli(&["product", "get", &id], None);
    assert_eq!(replica_now["variants"][0]["price_minor"], 5555);

    app.click("[data-testid=attention-button]").await;
    app.wait_css("[data-testid=attention-item][data-code=conflict]")
        .await;
    app.screenshot(
        "sync-attention",
        r#"
        const problems = [];
        const items = $$('[data-testid=attention-item]');
        if (items.length !== 1 || !shown(items[0])) problems.push(`${items.length} entries in the list`);
        else {
            const t = items[0].textContent;
            if (!t.includes('Patch product') || !t.includes('ana')) problems.push(`the entry reads ${t}`);
            if (!t.includes('Someone else changed it meanwhile')) problems.push('the reason is not given');
        }
        return { problems, probes: [] };
        "#,
        vec![],
    )
    .await;
    let mut violations = app.axe("needs attention list").await;
    app.click("[data-testid=attention-open]").await;
    let path = format!("variants.{variant}.price_minor");
    let clash = app
        .wait_css(&format!("[data-testid=clash][data-path='{path}']"))
        .await;
    let text = |css: &'static str| {
        let clash = clash.clone();
        async move {
            clash
                .find(By::Css(css))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let (mine, theirs) = (
        text("[data-testid=mine-value]").await,
        text("[data-testid=theirs-value]").await,
    );
    assert!(mine.contains("77.70"), "mine: {mine}");
    assert!(theirs.contains("55.55"), "theirs: {theirs}");
    let base = clash.find(By::Css(".clash-base")).await.unwrap();
    // Amounts are shown in the page's locale: thousands may be grouped.
    let base = base.text().await.unwrap().replace(',', "");
    let base_text = format!("{}.{:02}", base_price / 100, base_price % 100);
    assert!(base.contains(&base_text), "base: {base} ({base_text})");
    app.screenshot(
        "sync-clash",
        r#"
        const [path] = arguments;
        const problems = [];
        if (!shown($('[data-testid=conflict-dialog]'))) problems.push('the conflict dialog is not on screen');
        const clash = $(`[data-testid=clash][data-path='${path}']`);
        if (!clash?.querySelector('[data-testid=mine-value]')?.textContent.includes('77.70')) problems.push('mine is not 77.70');
        if (!clash?.querySelector('[data-testid=theirs-value]')?.textContent.includes('55.55')) problems.push('theirs is not 55.55');
        return { problems, probes: [] };
        "#,
        vec![json!(path)],
    )
    .await;
    violations.extend(app.axe("conflict dialog from sync").await);
    clash
        .find(By::Css("[data-testid=pick-mine]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.click("[data-testid=resolve]").await;
    app.wait_gone("[data-testid=conflict-dialog]").await;
    app.wait_gone("[data-testid=attention-count]").await;
    app.wait_sync("online", 0).await;
    let on_shop = app.cli_at(&shop.url, &["product", "get", &id], None);
    assert_eq!(on_shop["variants"][0]["price_minor"], 7770, "{on_shop}");
    assert_eq!(on_shop["version"], version + 3);
    assert!(
        violations.is_empty(),
        "axe-core found serious or critical violations:\n{}",
        violations.join("\n")
    );
    app.stop().await;
    drop(proxy);
    stockdesk_testkit::drop_postgres(&shop.url).await;
}

/// (15) Settings → Shop on a new terminal: joining the shop (its URL, the terminal's name) copies
/// it with a progress bar; then the tab shows the shop with its password hidden, the terminal's
/// name, and "Leave the shop", which is refused while a command waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_a_shop_from_settings_copies_it_and_leaving_waits_for_the_sync() {
    let (shop, proxy) = shop_behind_a_proxy().await;
    let data = tempfile::tempdir().unwrap();
    cli_on(&shop.url, data.path(), &["seed", "--products", "8"]);
    let Some(app) = App::start_in("shop-settings", data, None, "ana", false, false).await else {
        return;
    };
    // The shop's URL with a password, to see it hidden (the test server trusts local logins).
    let url = proxy.url_for(&shop.url).replacen(
        "postgres://postgres@",
        "postgres://postgres:hunter2@",
        1,
    );
    assert!(url.contains("hunter2"), "{url}");
    app.click("[data-testid=open-settings]").await;
    app.click("[data-testid=settings-shop-tab]").await;
    app.type_into("[data-testid=join-url]", &url).await;
    app.type_into("[data-testid=join-name]", "counter").await;
    let mut violations = app.axe("settings, join a shop").await;
    app.click("[data-testid=join-shop]").await;
    app.wait_css("[data-testid=shop-settings][data-joined=true]")
        .await;
    app.wait_text("[data-testid=shop-terminal]", "counter")
        .await;
    let shown = app
        .wait_css("[data-testid=shop-url]")
        .await
        .text()
        .await
        .unwrap();
    assert!(!shown.contains("hunter2"), "the password shows: {shown}");
    violations.extend(app.axe("settings, joined").await);
    let terminals = app.cli_at(&shop.url, &["sync", "terminals"], None);
    assert!(
        terminals.to_string().contains("counter"),
        "the shop knows the terminal: {terminals}"
    );
    // Leaving with a receipt waiting for the shop (queued from the CLI on this terminal's
    // replica while the shop does not answer) is refused, and says why.
    proxy.set(Link::Drop);
    app.wait_sync("offline", 0).await;
    let product = app.cli_first_product();
    let variant = product["variants"][0]["id"].as_str().unwrap();
    app.cli(&["stock", "receive", variant, "--quantity", "1"], None);
    app.wait_sync("offline", 1).await;
    app.click("[data-testid=leave-shop]").await;
    let error = app.wait_css("[data-testid=shop-error]").await;
    let error = error.text().await.unwrap();
    assert!(error.contains("1 command(s) wait"), "{error}");
    app.wait_css("[data-testid=shop-settings][data-joined=true]")
        .await;
    app.screenshot(
        "shop-settings",
        r#"
        const problems = [];
        if (!shown($('[data-testid=shop-settings][data-joined=true]'))) problems.push('the joined shop is not on screen');
        if ($('[data-testid=shop-terminal]')?.textContent !== 'counter') problems.push('the terminal is not counter');
        const url = $('[data-testid=shop-url]')?.textContent ?? '';
        if (!url.includes('***') || url.includes('hunter2')) problems.push(`the shop reads ${url}`);
        if (!$('[data-testid=shop-error]')?.textContent.includes('1 command(s) wait')) problems.push('no refusal to leave');
        return { problems, probes: [] };
        "#,
        vec![],
    )
    .await;
    app.escape().await;
    // The copy is what the app shows now.
    app.wait_css("[data-testid=product-row]").await;
    proxy.set(Link::Forward);
    app.wait_sync("online", 0).await;
    assert!(
        violations.is_empty(),
        "axe-core found serious or critical violations:\n{}",
        violations.join("\n")
    );
    app.stop().await;
    drop(proxy);
    stockdesk_testkit::drop_postgres(&shop.url).await;
}
