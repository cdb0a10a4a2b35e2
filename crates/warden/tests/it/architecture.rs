//! ARCHITECTURE.md stays true: every crate and every top-level module is named in its code map.

use std::path::Path;

#[test]
fn architecture_md_names_every_crate_and_top_level_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    for crate_entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let crate_path = crate_entry.unwrap().path();
        let crate_name = crate_path.file_name().unwrap().to_string_lossy().into_owned();
        if !architecture.contains(&format!("`crates/{crate_name}`")) {
            missing.push(format!("crate {crate_name}"));
        }
        for module_entry in std::fs::read_dir(crate_path.join("src")).unwrap() {
            let path = module_entry.unwrap().path();
            let module = path.file_stem().unwrap().to_string_lossy().into_owned();
            if ["lib", "main"].contains(&module.as_str()) {
                continue;
            }
            if !architecture.contains(&format!("`{module}`")) {
                missing.push(format!("{crate_name}::{module}"));
            }
        }
    }
    assert!(missing.is_empty(), "ARCHITECTURE.md does not mention: {missing:?}");
}
