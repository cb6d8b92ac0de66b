//! One local moto server (DynamoDB + SQS) per test binary, and AWS clients configured
//! explicitly to talk to it (no process environment is read or changed, so tests run in
//! parallel). Each test uses its own table or queue names.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const REGION: &str = "eu-west-3";
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `python3 -m moto.server -H 127.0.0.1 -p PORT`, plus a watchdog thread that exits
/// the server when its stdin closes: the server of a test binary lives in a static, which
/// is never dropped, so the server must stop by itself when the test process ends.
/// With a third argument `serial`, the same server answers one request at a time (a lock
/// around the whole application; see [`serial_moto`]).
const LAUNCHER: &str = r#"
import os, runpy, sys, threading
def watch():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
if sys.argv[2:] == ["serial"]:
    os.environ["MOTO_PORT"] = sys.argv[1]
    from werkzeug.serving import run_simple
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    moto_app, lock = DomainDispatcherApplication(create_backend_app), threading.Lock()
    def serial(environ, start_response):
        with lock:
            return list(moto_app(environ, start_response))
    run_simple("127.0.0.1", int(sys.argv[1]), serial, threaded=True)
else:
    sys.argv = ["moto.server", "-H", "127.0.0.1", "-p", sys.argv[1]]
    runpy.run_module("moto.server", run_name="__main__", alter_sys=True)
"#;

fn cannot_start(why: &str) -> ! {
    panic!(
        "cannot start the local moto server ({why}). The DynamoDB and SQS conformance tests \
         need `python3 -m moto.server`: run the README's test script `tests/run.sh`, which \
         installs it (python3 -m pip install 'moto[server]')"
    )
}

/// A moto server on a free loopback port; killed when dropped.
pub struct MotoServer {
    child: Child,
    _stdin: Option<ChildStdin>,
    port: u16,
}

impl MotoServer {
    pub fn start(serial: bool) -> MotoServer {
        // The free port may be taken between our probe and moto's bind: try a few.
        let mut last = String::new();
        for _ in 0..3 {
            match Self::try_start(serial) {
                Ok(server) => return server,
                Err(why) => last = why,
            }
        }
        cannot_start(&last)
    }

    fn try_start(serial: bool) -> Result<MotoServer, String> {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(LAUNCHER)
            .arg(port.to_string())
            .args(serial.then_some("serial"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run python3: {e}"))?;
        let stdin = child.stdin.take();
        let mut server = MotoServer {
            child,
            _stdin: stdin,
            port,
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("python3 -m moto.server exited with {status}"));
            }
            match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(_) => return Ok(server),
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!("no answer on {addr} after {START_TIMEOUT:?}: {e}"))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// The moto server of this test binary, started on first use.
pub fn moto() -> &'static MotoServer {
    static SERVER: OnceLock<MotoServer> = OnceLock::new();
    SERVER.get_or_init(|| MotoServer::start(false))
}

/// A second moto server of this test binary that answers one request at a time, for tests
/// whose requests race on purpose. Moto's DynamoDB does not isolate concurrent requests: a
/// TransactWriteItems checks its conditions and writes without a lock, and a failed one
/// restores a copy of the whole table taken when it started, erasing what other requests
/// wrote meanwhile. DynamoDB runs each request atomically (transactions are serializable);
/// so does this server, while the test's tasks still interleave between requests.
pub fn serial_moto() -> &'static MotoServer {
    static SERVER: OnceLock<MotoServer> = OnceLock::new();
    SERVER.get_or_init(|| MotoServer::start(true))
}

/// A DynamoDB client for the moto server. Build one per test: an SDK client keeps
/// connections tied to the tokio runtime of the test that used it.
pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    dynamodb_client_at(moto())
}

/// [`dynamodb_client`] for the given moto server.
pub fn dynamodb_client_at(server: &MotoServer) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(server.endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// An SQS client for the moto server (one per test, like [`dynamodb_client`]).
pub fn sqs_client() -> aws_sdk_sqs::Client {
    sqs_client_at(moto())
}

/// [`sqs_client`] for the given moto server.
pub fn sqs_client_at(server: &MotoServer) -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(server.endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// A table or queue name no other test uses.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
