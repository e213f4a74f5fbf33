//! `polystatus openapi`: each service's OpenAPI document, generated from its code into
//! `swaggers/<service>.yaml`, and the check that the committed files are current.

use std::path::{Path, PathBuf};

/// Every service's document.
pub fn documents() -> Vec<(&'static str, utoipa::openapi::OpenApi)> {
    crate::services::SERVICES.iter().filter_map(|s| s.openapi.map(|doc| (s.name, doc()))).collect()
}

fn path(dir: &Path, service: &str) -> PathBuf {
    dir.join(format!("{service}.yaml"))
}

fn render(api: &utoipa::openapi::OpenApi) -> anyhow::Result<String> {
    Ok(quote_yaml_11_booleans(&api.to_yaml()?))
}

/// Words YAML 1.1 reads as booleans. The documents are YAML 1.2, where they are strings, but
/// most YAML readers (PyYAML, many client generators) still follow 1.1 and would turn a flag
/// property named `on` into `true`.
const YAML_11_BOOLEANS: &[&str] =
    &["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"];

/// Quotes those words where they stand alone as a key or a list item.
fn quote_yaml_11_booleans(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() + 64);
    for line in yaml.lines() {
        let indent = line.len() - line.trim_start().len();
        let (head, rest) = line.split_at(indent);
        let (dash, rest) = rest.strip_prefix("- ").map_or(("", rest), |r| ("- ", r));
        let (word, tail) = match rest.find(':') {
            Some(at) if rest[at + 1..].is_empty() || rest[at + 1..].starts_with(' ') => rest.split_at(at),
            _ => (rest, ""),
        };
        if YAML_11_BOOLEANS.contains(&word) {
            out.push_str(&format!("{head}{dash}'{word}'{tail}"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Writes every document into `dir`.
pub fn write(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    documents()
        .iter()
        .map(|(service, api)| {
            let file = path(dir, service);
            std::fs::write(&file, render(api)?)?;
            Ok(file)
        })
        .collect()
}

/// The files in `dir` that are missing or differ from the code, with what to run.
pub fn check(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut stale = Vec::new();
    for (service, api) in documents() {
        let file = path(dir, service);
        let expected = render(&api)?;
        match std::fs::read_to_string(&file) {
            Ok(actual) if actual == expected => {}
            Ok(_) => stale.push(format!("{} differs from the code", file.display())),
            Err(_) => stale.push(format!("{} is missing", file.display())),
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    #[test]
    fn yaml_11_booleans_are_quoted_as_keys_and_items_only() {
        let yaml =
            "required:\n- id\n- on\nproperties:\n  on:\n    type: boolean\n  off: x\n  description: on and off\n";
        assert_eq!(
            super::quote_yaml_11_booleans(yaml),
            "required:\n- id\n- 'on'\nproperties:\n  'on':\n    type: boolean\n  'off': x\n  description: on and off\n"
        );
    }
}
