//! CSV import and export, on both backends: a Shopify-layout file (written here) with
//! multi-variant products, options, images by path and by URL from a local HTTP server, and bad
//! rows; its preview writes nothing; importing it twice changes nothing the second time; export
//! → import is a round trip; a product edited since the file's version is a conflict; a cancel
//! leaves no half product; formulas are neutralised.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::TimeDelta;
use stockdesk::catalog::{PatchRequest, ProductPatch, ProductQuery};
use stockdesk::model::{
    ExportKind, ExportRequest, ImportAction, ImportOptions, ImportReport, MovementKind, ProblemKind,
};
use stockdesk::Stockdesk;
use stockdesk_testkit::http::FileServer;
use stockdesk_testkit::{both_backends, dump, images, order_of, stocked, TestDb};

fn options() -> ImportOptions {
    ImportOptions {
        currency: Some("EUR".into()),
    }
}

async fn import(sd: &Stockdesk, path: &Path, dry_run: bool) -> ImportReport {
    sd.import_products(path, &options(), dry_run, &|_| {}, &AtomicBool::new(false))
        .await
        .unwrap()
}

async fn export(sd: &Stockdesk, req: ExportRequest, to: &Path) -> String {
    let file = std::fs::File::create(to).unwrap();
    sd.export_csv(&req, Box::new(file)).await.unwrap();
    std::fs::read_to_string(to).unwrap()
}

fn products() -> ExportRequest {
    ExportRequest {
        kind: ExportKind::Products,
        from: None,
        to: None,
    }
}

/// The Shopify sample: a three-variant tee with two options and two images (one by URL, one
/// by path), a mug without options or SKU whose image URL is missing, a row with a bad price, a
/// row with negative stock, and a row without a handle.
fn shopify_file(dir: &Path, server: &FileServer) -> PathBuf {
    server.serve("/img/front.png", images::png(1));
    images::write(&dir.join("img"), "back.png", &images::png(2));
    let text = format!(
        "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,\
         Option2 Name,Option2 Value,Variant SKU,Variant Grams,Variant Inventory Qty,\
         Variant Price,Variant Barcode,Image Src,Image Position,Image Alt Text,Status\n\
         linen-tee,Linen Tee,<p>Soft linen</p>,Acme,Apparel,summer,TRUE,Size,S,Colour,Navy,\
         TEE-S,200,10,25.00,4006381333931,{front},1,Front,active\n\
         linen-tee,,,,,,,,M,,Navy,TEE-M,200,4,25.00,,img/back.png,2,Back,\n\
         linen-tee,,,,,,,,L,,Navy,TEE-L,200,0,27.50,,,,,\n\
         mug,Stoneware Mug,,Acme,Kitchen,,TRUE,Title,Default Title,,,,,5,12.00,,{missing},1,,active\n\
         broken,Broken Thing,,Acme,,,TRUE,Title,Default Title,,,BR-1,,3,abc,,,,,active\n\
         negative,Negative,,Acme,,,FALSE,Title,Default Title,,,NEG-1,,-2,5.00,,,,,draft\n\
         ,No Handle,,,,,,,,,,,,,1.00,,,,,\n",
        front = server.url("/img/front.png"),
        missing = server.url("/img/mug.png"),
    );
    let path = dir.join("products_export.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn action_of(report: &ImportReport, handle: &str) -> ImportAction {
    report
        .items
        .iter()
        .find(|i| i.handle == handle)
        .unwrap_or_else(|| panic!("no item {handle} in {report:#?}"))
        .action
}

async fn product_by_slug(sd: &Stockdesk, slug: &str) -> stockdesk::catalog::Product {
    let page = sd
        .list_products(ProductQuery {
            search: Some(slug.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let id = page
        .items
        .iter()
        .find(|p| p.slug == slug)
        .unwrap_or_else(|| panic!("no product {slug}"))
        .id;
    sd.get_product(id).await.unwrap()
}

both_backends!(
    a_shopify_file_imports_once_and_round_trips,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        let server = FileServer::start().await;
        let dir = db.data_dir.join("files");
        std::fs::create_dir_all(&dir).unwrap();
        let file = shopify_file(&dir, &server);

        // The preview says what would happen, with every row's problem, and writes nothing.
        let before = dump(&sd).await;
        let preview = import(&sd, &file, true).await;
        assert_eq!(dump(&sd).await, before, "a preview writes nothing");
        assert_eq!(server.requests(), 0, "a preview fetches nothing");
        assert!(preview.dry_run);
        assert_eq!((preview.created, preview.invalid), (2, 2), "{preview:#?}");
        assert_eq!(action_of(&preview, "linen-tee"), ImportAction::Create);
        assert_eq!(preview.images_to_fetch, 3);
        let problem = |row: u32| {
            preview
                .problems
                .iter()
                .find(|p| p.row == row)
                .unwrap_or_else(|| panic!("no problem on row {row}: {:#?}", preview.problems))
        };
        assert_eq!(problem(6).column.as_deref(), Some("Variant Price"));
        assert!(problem(6).reason.contains("\"abc\""), "{:?}", problem(6));
        assert_eq!(problem(7).column.as_deref(), Some("Variant Inventory Qty"));
        assert_eq!(problem(8).column.as_deref(), Some("Handle"));
        let ignored: Vec<&str> = preview
            .ignored_columns
            .iter()
            .map(|c| c.column.as_str())
            .collect();
        for column in ["Vendor", "Tags", "Variant Grams"] {
            assert!(ignored.contains(&column), "{column} in {ignored:?}");
        }
        assert!(!ignored.contains(&"Variant Barcode"), "barcodes are read");

        // The import: two products; the tee whole (options, category, both images, stock counted);
        // the mug without its missing image, which is the row's problem.
        let done = import(&sd, &file, false).await;
        assert_eq!(
            (done.created, done.invalid, done.skipped),
            (2, 2, 0),
            "{done:#?}"
        );
        let image_problem = done
            .problems
            .iter()
            .find(|p| p.kind == ProblemKind::Image)
            .expect("the missing image is a problem");
        assert_eq!(image_problem.row, 5);
        assert!(image_problem.reason.contains("404"), "{image_problem:?}");
        let tee = product_by_slug(&sd, "linen-tee").await;
        assert_eq!(tee.name, "Linen Tee");
        assert_eq!(tee.description, "<p>Soft linen</p>");
        assert_eq!(tee.status, stockdesk::catalog::ProductStatus::Published);
        let skus: Vec<(&str, i64, i64)> = tee
            .variants
            .iter()
            .map(|v| (v.sku.as_str(), v.price_minor, v.stock_on_hand))
            .collect();
        assert_eq!(
            skus,
            [("TEE-S", 2500, 10), ("TEE-M", 2500, 4), ("TEE-L", 2750, 0)]
        );
        let barcodes: Vec<Option<&str>> =
            tee.variants.iter().map(|v| v.barcode.as_deref()).collect();
        assert_eq!(barcodes, [Some("4006381333931"), None, None]);
        assert_eq!(tee.variants[1].attributes["Size"], "M");
        assert_eq!(tee.variants[1].attributes["Colour"], "Navy");
        assert_eq!(tee.images.len(), 2);
        assert_eq!(tee.images[0].alt, "Front");
        assert!(tee.images[0].is_thumbnail);
        let categories = sd.list_categories().await.unwrap();
        let apparel = categories.iter().find(|c| c.name == "Apparel").unwrap();
        let sizes = &apparel
            .attributes
            .iter()
            .find(|a| a.name == "Size")
            .unwrap()
            .values;
        assert_eq!(sizes, &["S", "M", "L"]);
        let counted = sd.stock_movements(tee.variants[0].id).await.unwrap();
        assert_eq!(counted.len(), 1);
        assert_eq!(counted[0].kind, MovementKind::Count);
        assert_eq!(counted[0].quantity, 10);
        assert!(
            counted[0].reason.contains("products_export.csv"),
            "{:?}",
            counted[0]
        );
        let mug = product_by_slug(&sd, "mug").await;
        assert_eq!(mug.variants[0].sku, "mug", "a SKU made from the handle");
        assert!(mug.images.is_empty());
        assert!(sd.check_invariants().await.unwrap().is_empty());

        // The same file again changes nothing; only the image that failed is tried again.
        let before = dump(&sd).await;
        let requests = server.requests();
        let again = import(&sd, &file, false).await;
        assert_eq!(
            (again.unchanged, again.created, again.updated),
            (2, 0, 0),
            "{again:#?}"
        );
        assert_eq!(
            dump(&sd).await,
            before,
            "importing the same file again changes nothing"
        );
        assert_eq!(server.requests(), requests + 1);

        // Once the image is there, the next import adds it.
        server.serve("/img/mug.png", images::png(3));
        let fixed = import(&sd, &file, false).await;
        assert_eq!(action_of(&fixed, "mug"), ImportAction::Update, "{fixed:#?}");
        assert_eq!(product_by_slug(&sd, "mug").await.images.len(), 1);

        // Export → import changes nothing.
        let exported = dir.join("export.csv");
        let text = export(&sd, products(), &exported).await;
        assert!(text.starts_with("Handle,Title,Body (HTML),Type,Published,Option1 Name"));
        assert!(text.contains("Stockdesk Product ID"));
        assert!(
            text.contains("Variant SKU,Variant Barcode,") && text.contains(",TEE-S,4006381333931,"),
            "{text}"
        );
        assert!(text.contains("stockdesk:"), "images are named by their key");
        let before = dump(&sd).await;
        let preview = import(&sd, &exported, true).await;
        assert_eq!(preview.unchanged, 2, "{preview:#?}");
        let round = import(&sd, &exported, false).await;
        assert_eq!(
            (round.unchanged, round.problems.len()),
            (2, 0),
            "{round:#?}"
        );
        assert_eq!(dump(&sd).await, before, "export → import changes nothing");
    }
);

both_backends!(
    an_edit_since_the_export_is_a_conflict_not_overwritten,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        let server = FileServer::start().await;
        let dir = db.data_dir.join("files");
        std::fs::create_dir_all(&dir).unwrap();
        import(&sd, &shopify_file(&dir, &server), false).await;
        let exported = dir.join("export.csv");
        let text = export(&sd, products(), &exported).await;

        // Someone renames the tee in the shop after the export.
        let tee = product_by_slug(&sd, "linen-tee").await;
        sd.patch_product(PatchRequest {
            product_id: tee.id,
            expected_version: tee.version,
            patch: ProductPatch {
                name: Some("Linen Tee Navy".into()),
                ..Default::default()
            },
            op_id: None,
        })
        .await
        .unwrap();

        // The file renames it too: a conflict, reported on its row and column; nothing written.
        let renamed = dir.join("renamed.csv");
        std::fs::write(&renamed, text.replacen(",Linen Tee,", ",Linen T-Shirt,", 1)).unwrap();
        let before = dump(&sd).await;
        let report = import(&sd, &renamed, false).await;
        assert_eq!(
            action_of(&report, "linen-tee"),
            ImportAction::Conflict,
            "{report:#?}"
        );
        let clash = report
            .problems
            .iter()
            .find(|p| p.kind == ProblemKind::Conflict)
            .unwrap();
        assert_eq!(clash.column.as_deref(), Some("Title"));
        assert_eq!(clash.row, 2);
        assert!(clash.reason.contains("Linen Tee Navy"), "{clash:?}");
        assert_eq!(dump(&sd).await, before, "a conflict writes nothing");

        // A change to another field merges with theirs: their name stays, the file's price comes in.
        let repriced = dir.join("repriced.csv");
        std::fs::write(&repriced, text.replacen(",25.00,", ",26.00,", 1)).unwrap();
        let report = import(&sd, &repriced, false).await;
        assert_eq!(
            action_of(&report, "linen-tee"),
            ImportAction::Update,
            "{report:#?}"
        );
        let tee = product_by_slug(&sd, "linen-tee").await;
        assert_eq!(tee.name, "Linen Tee Navy");
        assert_eq!(tee.variants[0].price_minor, 2600);
    }
);

both_backends!(
    a_stock_figure_in_the_file_is_a_count_against_the_exported_one,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        let dir = db.data_dir.join("files");
        std::fs::create_dir_all(&dir).unwrap();
        let cup = stocked(&sd, "cup", &[10]).await[0];
        let exported = dir.join("export.csv");
        let text = export(&sd, products(), &exported).await;
        // Two sold after the export; the sheet counted 12 where the export said 10.
        let order = sd.create_order(order_of(&[(cup, 2)]), None).await.unwrap();
        sd.pay_order(order.id).await.unwrap();
        db.clock.advance(TimeDelta::minutes(5));
        let counted = dir.join("counted.csv");
        std::fs::write(&counted, text.replacen(",10,", ",12,", 1)).unwrap();
        let report = import(&sd, &counted, false).await;
        assert_eq!(
            action_of(&report, "cup"),
            ImportAction::Update,
            "{report:#?}"
        );
        let level = sd.stock_level(cup).await.unwrap();
        assert_eq!(
            level.on_hand, 10,
            "8 left after the sale, and the count found 2 more"
        );
        let last = sd.stock_movements(cup).await.unwrap().pop().unwrap();
        assert_eq!((last.kind, last.quantity), (MovementKind::Count, 2));
        assert!(sd.check_invariants().await.unwrap().is_empty());
    }
);

both_backends!(cancelling_leaves_no_half_product, |db: TestDb| async move {
    let sd = db.sd.clone();
    let dir = db.data_dir.join("files");
    let mut text = String::from(
        "Handle,Title,Type,Option1 Name,Option1 Value,Variant SKU,Variant Inventory Qty,\
         Variant Price,Image Src\n",
    );
    for n in 0..30 {
        images::write(&dir, &format!("p{n}.png"), &images::png(n));
        text.push_str(&format!(
            "p{n},Product {n},Things,Size,S,P{n}-S,3,1.00,p{n}.png\n\
             p{n},,,,M,P{n}-M,4,1.00,\n"
        ));
    }
    let file = dir.join("many.csv");
    std::fs::write(&file, text).unwrap();
    let cancel = AtomicBool::new(false);
    let heard = AtomicUsize::new(0);
    let progress = |p: stockdesk::model::ImportProgress| {
        heard.fetch_add(1, Ordering::SeqCst);
        if p.done >= 5 {
            cancel.store(true, Ordering::SeqCst);
        }
    };
    let report = sd
        .import_products(&file, &options(), false, &progress, &cancel)
        .await
        .unwrap();
    assert!(report.cancelled, "{report:#?}");
    assert!(report.created >= 5 && report.created < 30, "{report:#?}");
    assert_eq!(report.created + report.skipped, 30);
    assert!(heard.load(Ordering::SeqCst) > 5);
    let page = sd.list_products(ProductQuery::default()).await.unwrap();
    assert_eq!(page.total as usize, report.created);
    for summary in page.items {
        let p = sd.get_product(summary.id).await.unwrap();
        assert_eq!(p.variants.len(), 2, "{} is whole", p.name);
        assert_eq!(p.images.len(), 1, "{} has its image", p.name);
    }
    assert!(sd.check_invariants().await.unwrap().is_empty());
    // The uploads of products it did not reach were given back.
    sd.blobs_gc().await.unwrap();
    db.clock.advance(TimeDelta::days(2));
    sd.blobs_gc().await.unwrap();
    assert!(sd.blobs_verify().await.unwrap().ok);
});

both_backends!(
    cells_a_spreadsheet_would_run_are_neutralised,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        let dir = db.data_dir.join("files");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("formulas.csv");
        std::fs::write(
            &file,
            "Handle,Title,Body (HTML),Type,Option1 Name,Option1 Value,Variant SKU,Variant Price\n\
         risky,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",@SUM(1),Things,Size,+1,-A1,1.00\n\
         quoted,'=already quoted,\"\tTabbed\",,,,Q-1,2.00\n",
        )
        .unwrap();
        let report = import(&sd, &file, false).await;
        assert_eq!(report.created, 2, "{report:#?}");
        let risky = product_by_slug(&sd, "risky").await;
        assert_eq!(risky.name, "=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(risky.variants[0].sku, "-A1");

        let exported = dir.join("export.csv");
        let text = export(&sd, products(), &exported).await;
        let mut csv = csv::Reader::from_path(&exported).unwrap();
        for record in csv.records() {
            for cell in record.unwrap().iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{cell:?} would run as a formula in {text}"
                );
            }
        }
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.contains(",'-A1,"), "{text}");
        assert!(text.contains(",'@SUM(1),"), "{text}");
        // A cell that came in as '=… was read as =…, and goes out as '=… again.
        assert_eq!(product_by_slug(&sd, "quoted").await.name, "=already quoted");
        assert!(text.contains(",'=already quoted,"), "{text}");
        assert!(text.contains(",'\tTabbed,"), "{text}");
        // Import undoes exactly that: the round trip changes nothing.
        let before = dump(&sd).await;
        let round = import(&sd, &exported, false).await;
        assert_eq!(round.unchanged, 2, "{round:#?}");
        assert_eq!(dump(&sd).await, before);
    }
);

both_backends!(
    orders_and_the_ledger_export_for_a_time_range,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        let dir = db.data_dir.join("files");
        std::fs::create_dir_all(&dir).unwrap();
        let cup = stocked(&sd, "cup", &[10]).await[0];
        db.clock.advance(TimeDelta::hours(1));
        let from = sd.now();
        let first = sd.create_order(order_of(&[(cup, 2)]), None).await.unwrap();
        sd.pay_order(first.id).await.unwrap();
        db.clock.advance(TimeDelta::hours(1));
        let to = sd.now();
        let second = sd.create_order(order_of(&[(cup, 1)]), None).await.unwrap();

        let range = |kind| ExportRequest {
            kind,
            from: Some(from),
            to: Some(to),
        };
        let orders = export(&sd, range(ExportKind::Orders), &dir.join("orders.csv")).await;
        assert!(orders.contains(&first.id.to_string()), "{orders}");
        assert!(!orders.contains(&second.id.to_string()), "{orders}");
        assert!(orders.contains(",cup-0,cup,2,10.00,20.00,EUR"), "{orders}");
        let ledger = export(&sd, range(ExportKind::Ledger), &dir.join("ledger.csv")).await;
        let lines: Vec<&str> = ledger.lines().collect();
        assert_eq!(lines.len(), 2, "the header and the sale: {ledger}");
        assert!(lines[1].contains(",sale,-2,8,"), "{ledger}");
        let all = ExportRequest {
            kind: ExportKind::Stock,
            from: None,
            to: None,
        };
        let stock = export(&sd, all, &dir.join("stock.csv")).await;
        assert!(
            stock.contains(",cup-0,cup,8,1,7"),
            "on hand 8, one held, 7 free: {stock}"
        );
        // A range is for orders and the ledger only, and must run forwards.
        let wrong = ExportRequest {
            kind: ExportKind::Products,
            from: Some(from),
            to: None,
        };
        let out = Box::new(std::fs::File::create(dir.join("x.csv")).unwrap());
        let err = sd.export_csv(&wrong, out).await.unwrap_err();
        assert_eq!(err.code(), "validation");
    }
);

both_backends!(
    products_export_in_pages_in_id_order,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        let dir = db.data_dir.join("files");
        std::fs::create_dir_all(&dir).unwrap();
        sd.seed(stockdesk::catalog::seed::SeedOptions {
            products: 1_100,
            seed: 3,
        })
        .await
        .unwrap();
        let exported = dir.join("all.csv");
        export(&sd, products(), &exported).await;
        let mut csv = csv::Reader::from_path(&exported).unwrap();
        let id_column = csv
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "Stockdesk Product ID")
            .unwrap();
        let mut ids: Vec<String> = Vec::new();
        for record in csv.records() {
            let id = record.unwrap()[id_column].to_string();
            if ids.last() != Some(&id) {
                ids.push(id);
            }
        }
        assert_eq!(ids.len(), 1_100, "every product, each once (pages of 500)");
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        // And the export of a whole catalog imports as unchanged.
        let round = import(&sd, &exported, true).await;
        assert_eq!(round.unchanged, 1_100, "{:#?}", round.problems);
    }
);

both_backends!(
    a_file_sets_clears_and_checks_barcodes_by_row,
    |db: TestDb| async move {
        let sd = db.sd.clone();
        let dir = db.data_dir.join("files");
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str, first: &str, second: &str| {
            let path = dir.join(name);
            let text = format!(
                "Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price,Variant Barcode\n\
                 scarf,Wool Scarf,Colour,Red,SCARF-R,30.00,{first}\n\
                 scarf,,,Blue,SCARF-B,30.00,{second}\n"
            );
            std::fs::write(&path, text).unwrap();
            path
        };

        // Spaces as printed under the bars are dropped.
        let done = import(&sd, &file("a.csv", "4 006381 33393 1", ""), false).await;
        assert_eq!((done.created, done.problems.len()), (1, 0), "{done:#?}");
        let scarf = product_by_slug(&sd, "scarf").await;
        assert_eq!(scarf.variants[0].barcode.as_deref(), Some("4006381333931"));
        assert_eq!(scarf.variants[1].barcode, None);

        // A wrong check digit is the row's problem, in the barcode's column; nothing written.
        let before = dump(&sd).await;
        let bad = import(&sd, &file("b.csv", "4006381333931", "96385070"), false).await;
        assert_eq!(bad.invalid, 1, "{bad:#?}");
        let problem = &bad.problems[0];
        assert_eq!(
            (problem.row, problem.column.as_deref()),
            (3, Some("Variant Barcode")),
            "{problem:?}"
        );
        assert!(
            problem.reason.contains("check digit should be 4"),
            "{problem:?}"
        );
        assert_eq!(dump(&sd).await, before);

        // An empty cell clears a barcode; a file without the column leaves them alone.
        let moved = import(&sd, &file("c.csv", "", "96385074"), false).await;
        assert_eq!(moved.updated, 1, "{moved:#?}");
        let scarf = product_by_slug(&sd, "scarf").await;
        let barcodes: Vec<Option<&str>> = scarf
            .variants
            .iter()
            .map(|v| v.barcode.as_deref())
            .collect();
        assert_eq!(barcodes, [None, Some("96385074")]);
        let without = dir.join("d.csv");
        std::fs::write(
            &without,
            "Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price\n\
             scarf,Wool Scarf,Colour,Red,SCARF-R,31.00\n\
             scarf,,,Blue,SCARF-B,30.00\n",
        )
        .unwrap();
        let priced = import(&sd, &without, false).await;
        assert_eq!(priced.updated, 1, "{priced:#?}");
        let scarf = product_by_slug(&sd, "scarf").await;
        assert_eq!(scarf.variants[0].price_minor, 3100);
        assert_eq!(scarf.variants[1].barcode.as_deref(), Some("96385074"));
    }
);
