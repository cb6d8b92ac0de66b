//! The OpenAPI document: it covers exactly the routing table, the committed copy in
//! docs/openapi.json is the generated one, and `registry serve` and `registry openapi`
//! answer it. (Schemathesis checks the real answers against it: tests/schemathesis.sh.)

use registry_testkit::serve::*;

use std::collections::BTreeSet;
use std::path::PathBuf;

use registry_core::api::openapi;
use registry_core::api::router::ROUTES;
use serde_json::Value;

const REGENERATE: &str = "cargo run -p registry-local -- openapi > docs/openapi.json \
     (or UPDATE_OPENAPI=1 cargo test -p registry-local --test openapi)";

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

fn operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in [
            "get", "put", "post", "delete", "patch", "head", "options", "trace",
        ] {
            if item.get(method).is_some() {
                found.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

#[test]
fn the_document_has_every_route_and_only_them() {
    let document: Value = serde_json::from_str(&openapi::json()).expect("JSON");
    assert_eq!(document["openapi"], "3.1.0");
    let documented = operations(&document);
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
        .collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing.is_empty(),
        "routes of shared/src/api/router.rs missing from the OpenAPI document: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "operations of the OpenAPI document that no route serves: {extra:?}"
    );
    // Each operation is named after its Lambda function, and answers something.
    for route in ROUTES {
        let op = &document["paths"][route.path][route.method.as_str().to_lowercase()];
        assert_eq!(op["operationId"], route.function);
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
    }
}

#[test]
fn every_reference_resolves() {
    let text = openapi::json();
    let document: Value = serde_json::from_str(&text).expect("JSON");
    let mut refs = Vec::new();
    collect_refs(&document, &mut refs);
    assert!(refs.len() > 50, "{}", refs.len());
    for r in refs {
        let pointer = r.strip_prefix('#').expect("local reference");
        assert!(
            document.pointer(pointer).is_some(),
            "dangling reference {r}"
        );
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(s)) => out.push(s.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_committed_document_is_the_generated_one() {
    let generated = openapi::json();
    let path = committed_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json differs from the document the code generates; regenerate it with: \
         {REGENERATE}"
    );
}

#[test]
fn registry_openapi_prints_the_document() {
    let (ok, out) = cli(&["openapi"]);
    assert!(ok);
    assert_eq!(out, openapi::json());
}

#[tokio::test]
async fn registry_serve_answers_the_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&data_file(&dir), &[]);
    let response = client()
        .get(server.url("/openapi.json"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "content type"
    );
    let body = response.text().await.expect("body");
    assert_eq!(body, openapi::json());
    // Not a route of the API: other methods are not served.
    let (status, _, _) = call(
        reqwest::Method::POST,
        &server.url("/openapi.json"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
}
