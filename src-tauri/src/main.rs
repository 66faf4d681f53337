// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // `stockdesk-app --export-bindings [PATH]` regenerates the UI's TypeScript bindings.
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--export-bindings") {
        let path = args
            .next()
            .unwrap_or_else(|| stockdesk_app::BINDINGS_PATH.to_string());
        if let Err(e) = stockdesk_app::export_bindings(std::path::Path::new(&path)) {
            eprintln!("{e}");
            std::process::exit(1);
        }
        return;
    }
    stockdesk_app::run();
}
