//! The test suite needs nothing outside the repository: every path a test, benchmark or browser
//! script builds from its crate's directory must resolve inside the clone.

use std::path::{Component, Path, PathBuf};

/// Lexically resolves `..` and `.` (the files need not exist for the check to mean something).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Source files of tests, benchmarks and test support, skipping build output and npm folders.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !matches!(name.as_ref(), "target" | "node_modules" | ".git" | "data" | "fixtures") {
                sources(&path, found);
            }
        } else if name.ends_with(".rs") || name.ends_with(".mjs") || name.ends_with(".sh") || name == "test-all" {
            found.push(path);
        }
    }
}

/// The directory of the crate a file belongs to: the nearest parent with a Cargo.toml.
fn crate_dir(file: &Path) -> PathBuf {
    let mut dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    while !dir.join("Cargo.toml").exists() {
        if !dir.pop() {
            break;
        }
    }
    dir
}

/// The string literals that follow `env!("CARGO_MANIFEST_DIR")` within a few lines.
fn manifest_relative_literals(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices(r#"env!("CARGO_MANIFEST_DIR")"#) {
        let rest = &text[at + r#"env!("CARGO_MANIFEST_DIR")"#.len()..];
        let window: String = rest.chars().take(200).collect();
        // `format!("{}/..", env!(..))` puts the literal before; `concat!(env!(..), "/..")` after.
        let from = text[..at].rfind("format!(").filter(|from| at - from < 160).unwrap_or(at);
        let before = &text[from..at];
        for (candidate, opening) in [(window.as_str(), "\"/"), (before, "\"{}/")] {
            if let Some(start) = candidate.find(opening) {
                let literal = &candidate[start + opening.len() - 1..];
                if let Some(end) = literal.find('"') {
                    found.push(literal[..end].to_owned());
                }
            }
        }
    }
    found
}

#[test]
fn no_test_reads_outside_the_repository() {
    let root = normalise(Path::new(env!("CARGO_MANIFEST_DIR")));
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(files.len() > 20, "found only {} source files under {}", files.len(), root.display());

    let mut outside = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if file == &root.join("tests/hermetic.rs") {
            continue;
        }
        for needle in ["../shared", "shared/fixtures"] {
            if text.contains(needle) {
                outside.push(format!("{} mentions {needle}", file.display()));
            }
        }
        let base = crate_dir(file);
        for literal in manifest_relative_literals(&text) {
            let relative = literal.trim_start_matches('/').replace("{path}", "x").replace("{}", "x");
            let resolved = normalise(&base.join(&relative));
            if !resolved.starts_with(&root) {
                outside.push(format!("{}: {literal} resolves to {}", file.display(), resolved.display()));
            }
        }
    }
    assert!(outside.is_empty(), "paths outside the repository:\n{}", outside.join("\n"));
}

#[test]
fn the_check_sees_a_path_that_leaves_the_repository() {
    let code = r#"const F: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../elsewhere/x");"#;
    assert_eq!(manifest_relative_literals(code), ["/../../../elsewhere/x"]);
    let code = r#"let p = format!("{}/../../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));"#;
    assert_eq!(manifest_relative_literals(code), ["/../../tests/fixtures/{path}"]);
    let crate_dir = Path::new("/repo/services/csp-ingestor");
    assert!(!normalise(&crate_dir.join("../../../elsewhere/x")).starts_with("/repo"));
    assert!(normalise(&crate_dir.join("../../tests/fixtures/x")).starts_with("/repo"));
}
