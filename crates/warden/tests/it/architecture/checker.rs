//! The checker itself, on small trees written for the purpose.

use super::import_problems;

fn crate_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = directory.path().join("src").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    directory
}

#[test]
fn a_loop_through_a_face_is_named() {
    let directory = crate_with(&[
        ("lib.rs", "mod a;\n"),
        ("a/mod.rs", "//! The face.\nmod x;\nmod y;\npub use x::X;\npub(crate) use y::{Y, helper};\n"),
        ("a/x.rs", "use crate::a::Y;\n/// Uses `crate::a::nothing` in a comment only.\npub struct X(Y);\n"),
        (
            "a/y.rs",
            "pub struct Y;\npub const QUOTES: [char; 2] = ['\\'','\"'];\n\
             pub fn helper() -> usize { let _ = (\"crate::a::X\", r#\"crate::a::X\"#); super::X::size() }\n",
        ),
    ]);
    let problems = import_problems(directory.path(), "a");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("a::x -> a::y (`use crate::a::Y`"), "{problems:?}");
    assert!(problems[0].contains("a::y -> a::x (`super::X::size`"), "{problems:?}");
}

#[test]
fn modules_sharing_a_face_form_no_loop() {
    let directory = crate_with(&[
        ("lib.rs", "mod a;\n"),
        ("a/mod.rs", "mod error;\nmod x;\nmod y;\npub use error::Error;\npub use x::X;\npub use y::Y;\n"),
        ("a/error.rs", "pub struct Error;\n"),
        ("a/x.rs", "use crate::a::{Error, y::{self, Y}};\npub struct X(Y, Error);\nfn f() { y::g() }\n"),
        ("a/y.rs", "use super::Error;\npub struct Y(Error);\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n"),
    ]);
    assert_eq!(import_problems(directory.path(), "a"), Vec::<String>::new());
}

#[test]
fn a_mod_rs_that_defines_items_takes_part() {
    let directory = crate_with(&[
        ("lib.rs", "pub mod a;\n"),
        ("a/mod.rs", "mod x;\npub struct Shared;\npub fn make() -> x::X { x::X(Shared) }\n"),
        ("a/x.rs", "pub struct X(pub crate::a::Shared);\n"),
    ]);
    let problems = import_problems(directory.path(), "a");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("a -> a::x"), "{problems:?}");
}

#[test]
fn a_name_a_face_does_not_re_export_is_reported() {
    let directory = crate_with(&[
        ("lib.rs", "mod a;\n"),
        ("a/mod.rs", "mod x;\npub use x::X;\n"),
        ("a/x.rs", "pub struct X(crate::a::Missing);\n"),
    ]);
    let problems = import_problems(directory.path(), "a");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("`crate::a::Missing`"), "{problems:?}");
}
