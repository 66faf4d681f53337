//! The UI's TypeScript bindings are generated from the Rust types and checked in. This test fails
//! when they are stale; `UPDATE_BINDINGS=1 cargo test --test bindings` (or `make bindings`)
//! rewrites them.

use std::path::Path;

#[test]
fn checked_in_bindings_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let checked_in = root.join(stockdesk_app::BINDINGS_PATH);
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("index.ts");
    stockdesk_app::export_bindings(&fresh).unwrap();
    let fresh = std::fs::read_to_string(&fresh).unwrap();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&checked_in, &fresh).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&checked_in).unwrap_or_default();
    assert!(
        current == fresh,
        "{} is stale: run `make bindings` and commit the result",
        checked_in.display()
    );
}
