fn main() {
    // Capabilities live beside the shell's sources, not in the default ./capabilities.
    tauri_build::try_build(
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*"),
    )
    .expect("failed to run tauri-build");
}
