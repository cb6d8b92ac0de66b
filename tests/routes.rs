//! The routing table (shared/src/api/router.rs) is the one declaration of each HTTP route.
//! What must repeat it outside the Rust code is checked against it here, each place naming
//! what it lacks and what it has that no route declares:
//! * functions/src/bin/*.rs and functions/render/src/bin/*.rs: one binary per route, named
//!   after its function, serving that route (`run_http(RouteId::…)`);
//! * template.yaml: the function's `Binary` with one HttpApi event, its method and path;
//! * events/*.json: a sample API Gateway event per route, named after its function;
//! * README.md: the route table's rows (method, path, Lambda).
//!
//! API Gateway's `$default` route (the `not-found` function) is no route of the table.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use registry_core::api::router::{self, ROUTES};
use serde_json::Value;

/// A route as the places outside the code name it: function, method, path.
type Entry = (String, String, String);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    fs::read_to_string(root().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn entry(function: &str, method: &str, path: &str) -> Entry {
    (function.to_owned(), method.to_uppercase(), path.to_owned())
}

fn table() -> BTreeSet<Entry> {
    ROUTES
        .iter()
        .map(|r| entry(r.function, r.method.as_str(), r.path))
        .collect()
}

/// Fails naming what `place` lacks and what it has beyond the routing table.
fn assert_same<T: Ord + std::fmt::Debug>(place: &str, declared: &BTreeSet<T>, found: &BTreeSet<T>) {
    let missing: Vec<_> = declared.difference(found).collect();
    let extra: Vec<_> = found.difference(declared).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{place} differs from the routing table (shared/src/api/router.rs):\n  \
         missing: {missing:?}\n  extra (no such route): {extra:?}"
    );
}

/// `(file stem, text)` of the `.rs` or `.json` files of a directory.
fn files(dir: &str, extension: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for file in fs::read_dir(root().join(dir)).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let path = file.expect("directory entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some(extension) {
            continue;
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file name");
        let text = fs::read_to_string(&path).expect("readable file");
        found.push((stem.to_owned(), text));
    }
    found
}

#[test]
fn every_route_has_its_function_binary_and_only_them() {
    let declared: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.function.to_owned(), format!("{:?}", r.id)))
        .collect();
    let mut found = BTreeSet::new();
    for dir in ["functions/src/bin", "functions/render/src/bin"] {
        for (stem, text) in files(dir, "rs") {
            if !text.contains("run_http(") {
                continue; // Not an HTTP function (queue consumer, schedules, not-found).
            }
            let served = text
                .split("RouteId::")
                .nth(1)
                .map(|rest| {
                    rest.chars()
                        .take_while(char::is_ascii_alphanumeric)
                        .collect()
                })
                .unwrap_or_else(|| format!("{dir}/{stem}.rs: run_http without a RouteId"));
            found.insert((stem, served));
        }
    }
    assert_same("functions/ (binary, RouteId served)", &declared, &found);
}

/// The HttpApi events of template.yaml's functions: `(Binary, Method, Path)`, read line by
/// line (the template's `!Sub`/`!Ref` tags are not plain YAML).
fn template_events(template: &str) -> BTreeSet<Entry> {
    let mut found = BTreeSet::new();
    let mut binary = String::from("(no Binary)");
    let mut in_http_event = false;
    let mut method = None;
    for line in template.lines() {
        let trimmed = line.trim();
        // A resource: two spaces of indent, a name, a colon.
        if line.starts_with("  ") && !line.starts_with("   ") && trimmed.ends_with(':') {
            binary = String::from("(no Binary)");
            in_http_event = false;
        }
        if let Some(name) = trimmed.strip_prefix("Binary:") {
            binary = name.trim().to_owned();
        } else if let Some(kind) = trimmed.strip_prefix("Type:") {
            in_http_event = kind.trim() == "HttpApi";
            method = None;
        } else if let (true, Some(m)) = (in_http_event, trimmed.strip_prefix("Method:")) {
            method = Some(m.trim().to_owned());
        } else if let (true, Some(path)) = (in_http_event, trimmed.strip_prefix("Path:")) {
            let path = path.trim();
            let method = method.take().unwrap_or_else(|| "(no Method)".to_owned());
            if path != "$default" {
                found.insert(entry(&binary, &method, path));
            }
        }
    }
    found
}

#[test]
fn template_yaml_has_an_http_event_per_route_and_only_them() {
    let found = template_events(&read("template.yaml"));
    assert_same(
        "template.yaml (Binary, HttpApi Method, Path)",
        &table(),
        &found,
    );
}

#[test]
fn events_has_a_sample_per_route_and_only_them() {
    let mut found = BTreeSet::new();
    let mut wrong = Vec::new();
    for (stem, text) in files("events", "json") {
        let event: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("events/{stem}.json: {e}"));
        let Some(key) = event["routeKey"].as_str().filter(|k| *k != "$default") else {
            continue; // Not an HTTP route's event (queue, schedule, $default).
        };
        let (method, path) = key.split_once(' ').unwrap_or((key, ""));
        found.insert(entry(&stem, method, path));
        // The request itself is one of that route.
        let raw_method = event["requestContext"]["http"]["method"].as_str();
        let raw_path = event["rawPath"].as_str().unwrap_or_default();
        let routed = raw_method
            .and_then(|m| m.parse().ok())
            .and_then(|m| router::find(&m, raw_path).ok())
            .map(|(route, _)| route.function);
        if routed != Some(stem.as_str()) {
            wrong.push(format!(
                "events/{stem}.json: {raw_method:?} {raw_path} is routed to {routed:?}"
            ));
        }
    }
    assert_same("events/ (file, routeKey)", &table(), &found);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The rows of README.md whose first cells are a method and a path: `(Lambda, method,
/// path)`, the path without its query string, the Lambda the first name in backquotes of
/// the last cell.
fn readme_rows(readme: &str) -> BTreeSet<Entry> {
    const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
    let mut found = BTreeSet::new();
    for line in readme.lines() {
        let Some(row) = line.trim().strip_prefix('|') else {
            continue;
        };
        let row = row.replace("\\|", "/");
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (Some(method), Some(path)) = (cells.first(), cells.get(1)) else {
            continue;
        };
        let Some(path) = path.strip_prefix('`').and_then(|p| p.split('`').next()) else {
            continue;
        };
        if !METHODS.contains(method) || !path.starts_with('/') {
            continue;
        }
        let path = path.split('?').next().unwrap_or_default();
        let lambda = cells
            .iter()
            .rev()
            .find(|c| !c.is_empty())
            .and_then(|c| c.split('`').nth(1))
            .unwrap_or("(no Lambda)");
        found.insert(entry(lambda, method, path));
    }
    found
}

#[test]
fn the_readme_route_table_has_every_route_and_only_them() {
    let found = readme_rows(&read("README.md"));
    assert_same(
        "README.md's route table (Lambda, method, path)",
        &table(),
        &found,
    );
}

#[test]
fn the_parsers_see_what_they_should() {
    let template = "Resources:\n  AFunction:\n    Metadata:\n      BuildProperties:\n        \
                    Binary: a\n    Properties:\n      Events:\n        Api:\n          \
                    Type: HttpApi\n          Properties:\n            Method: GET\n            \
                    Path: /v2/a/{id}\n  Other:\n    Type: AWS::Logs::LogGroup\n";
    assert_eq!(
        template_events(template),
        BTreeSet::from([entry("a", "GET", "/v2/a/{id}")])
    );
    let readme = "| method | path | who | Lambda |\n|---|---|---|---|\n\
                  | GET | `/v2/a?x=1\\|2` | anyone | `a` (note) |\n| `x` | y |\n";
    assert_eq!(
        readme_rows(readme),
        BTreeSet::from([entry("a", "GET", "/v2/a")])
    );
}
