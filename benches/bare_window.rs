//! The floor the app bench (benches/app.rs) measures Stockdesk's window against: Tauri 2 on
//! WebKitGTK showing one static page, with nothing of Stockdesk in it.

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!("benches/bare/tauri.conf.json"))
        .expect("running the bare window");
}
