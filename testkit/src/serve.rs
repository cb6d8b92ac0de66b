//! Starts `registry serve` as a real process on a loopback port and talks HTTP to it; runs
//! the `registry` CLI. For the integration tests of `registry-local` (the top-level
//! `tests/`), which Cargo builds after the `registry` binary.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use serde_json::{json, Value};

pub use crate::docs::{journey, other_journey};
pub use crate::keys::signing_key_pem;

/// The `registry` binary next to the test binary's `deps/` directory (where Cargo puts a
/// package's binaries before its integration tests run; `CARGO_BIN_EXE_registry` is known
/// only when the test itself is compiled).
pub fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target directory");
        let bin = dir.join(format!("registry{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "no registry binary at {}", bin.display());
        bin
    })
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub admin_token: Option<String>,
}

impl Server {
    pub fn start(data: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_with_stderr(data, env, Stdio::null())
    }

    /// [`Server::start`] with the server's log (stderr) sent to `stderr`.
    pub fn start_with_stderr(data: &Path, env: &[(&str, &str)], stderr: Stdio) -> Server {
        let mut cmd = Command::new(bin());
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--json", "--data"])
            .arg(data)
            .env_remove("REGISTRY_STORE")
            .env("RUST_LOG", "warn")
            // One key per test binary (generating one per server would cost seconds each).
            .env("REGISTRY_SIGNING_KEY", signing_key_pem())
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start registry serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read first line");
        let first: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("first line of serve is not JSON ({e}): {line:?}"));
        Server {
            child,
            base: first["listening"].as_str().expect("listening").to_owned(),
            admin_token: first["admin_token"].as_str().map(str::to_owned),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// [`call`] of `method` on `path` of this server with the bearer `token`.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        call(method, &self.url(path), Some(token), body).await
    }

    /// [`Server::send`] of a GET.
    pub async fn get(&self, path: &str, token: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    /// [`Server::send`] of a POST with a JSON body.
    pub async fn post(
        &self,
        path: &str,
        token: &str,
        body: Value,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// `POST /v2/operators/{op}/applications` of `body` with `token`: a new application token.
    pub async fn create_application(
        &self,
        op: impl std::fmt::Display,
        token: &str,
        body: Value,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        self.post(&format!("/v2/operators/{op}/applications"), token, body)
            .await
    }

    pub fn kill(mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix: no chance to flush anything.
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

pub async fn call(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = client().request(method, url);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, headers, value)
}

/// [`call`] of a GET of `url` with the bearer `token`.
pub async fn get_url(url: &str, token: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    call(reqwest::Method::GET, url, Some(token), None).await
}

/// [`call`] of a POST of `body` to `url` with the bearer `token`.
pub async fn post_url(
    url: &str,
    token: &str,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    call(reqwest::Method::POST, url, Some(token), Some(body)).await
}

/// `registry admin campaign load FILE` on the store `data`: whether it succeeded, and its
/// output.
pub fn load_campaign_file(file: &Path, data: &str) -> (bool, String) {
    let file = file.to_str().expect("UTF-8 path");
    cli(&["admin", "campaign", "load", file, "--data", data])
}

/// A new territory token (`registry admin token create --role territory`) on the store
/// `data`.
pub fn territory_token(data: &str, territory: &str, name: &str) -> String {
    let mut args = vec!["--json", "--data", data];
    args.extend("admin token create --role territory --territory".split(' '));
    args.extend([territory, "--name", name]);
    let (ok, out) = cli(&args);
    assert!(ok, "{out}");
    let created: Value = serde_json::from_str(out.trim()).expect("JSON");
    created["token"].as_str().expect("token").to_owned()
}

/// A new operator and an application token with every permission (or the given ones).
pub async fn operator_with_token(server: &Server, permissions: Option<&[&str]>) -> (u64, String) {
    let admin = server.admin_token.as_deref().expect("admin token");
    let (status, _, op) = call(
        reqwest::Method::POST,
        &server.url("/v2/operators"),
        Some(admin),
        Some(json!({"name": "Covoit"})),
    )
    .await;
    assert_eq!(status, 201, "{op}");
    let id = op["id"].as_u64().expect("id");
    let mut body = json!({"name": "backend"});
    if let Some(p) = permissions {
        body["permissions"] = json!(p);
    }
    let (status, _, token) = call(
        reqwest::Method::POST,
        &server.url(&format!("/v2/operators/{id}/applications")),
        Some(admin),
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{token}");
    (id, token["token"].as_str().expect("token").to_owned())
}

pub fn data_file(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("registry.db")
}

/// Runs `registry` with arguments and returns (success, stdout).
pub fn cli(args: &[&str]) -> (bool, String) {
    cli_with_env(args, &[])
}

/// [`cli`] with environment variables.
pub fn cli_with_env(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(bin())
        .args(args)
        .env_remove("REGISTRY_STORE")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .expect("run registry");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Only the status of a call.
pub async fn status(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> u16 {
    call(method, url, token, body).await.0
}

/// Reads the journey's status route until it shows `want` (the server's worker processes
/// journeys in the background), for at most 10 s; returns the last answer.
pub async fn wait_status(server: &Server, token: &str, journey_id: &str, want: &str) -> Value {
    for _ in 0..200 {
        let (s, _, body) = call(
            reqwest::Method::GET,
            &server.url(&format!("/v2/journeys/{journey_id}")),
            Some(token),
            None,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        if body["status"] == want {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("journey {journey_id} never reached {want}");
}

/// A GET asking for CSV (`accept: text/csv`): status, headers and text.
pub async fn get_csv(url: &str, token: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = client()
        .get(url)
        .bearer_auth(token)
        .header("accept", "text/csv")
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}
