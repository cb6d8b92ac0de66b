//! The CEE API through the core handlers on every store adapter: memory, SQLite (a real
//! file) and DynamoDB (a local moto server). moto is not atomic under concurrent requests,
//! so the concurrent dedup check runs on memory and SQLite, and moto gets the sequential one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use registry_core::admin::{self, TokenRequest};
use registry_core::app::App;
use registry_core::clock::{rfc3339, Clock, FixedClock};
use registry_core::config::Config;
use registry_core::domain::operator::OperatorId;
use registry_core::domain::token::RoleKind;
use registry_core::queue::memory::MemoryQueue;
use registry_core::store::memory::MemoryStore;
use registry_core::store::{
    Condition, Item, Key, Page, Query, Scan, Store, StoreResult, Update, WriteOp,
};
use registry_testkit::app::{
    dynamodb_store, operators_with_tokens, signing_key, sqlite_store, Interposed,
};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::{json, Value};
use tempfile::TempDir;

const SIRET: &str = "89248032800012";
const NOW: &str = "2025-06-01T12:00:00Z";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn identity(n: u32) -> String {
    format!("{:064x}", u128::from(n) * 7919 + 1)
}

struct Env {
    app: App,
    clock: Arc<FixedClock>,
    /// Two operators and their tokens (every permission).
    ops: Vec<(OperatorId, String)>,
    _dir: Option<TempDir>,
}

async fn env_on(store: Arc<dyn Store>, dir: Option<TempDir>) -> Env {
    let clock = Arc::new(FixedClock::new(at(NOW)));
    let config = Config {
        hash_secret: "cee-test-secret".into(),
        cee_rate_limit_per_min: 1_000_000,
        signing_key: Some(signing_key()),
        ..Config::default()
    };
    let app = App::new(store, Arc::new(MemoryQueue::default()), config).with_clock(clock.clone());
    let ops = operators_with_tokens(&app, &["Covoit", "Karos"], Some(SIRET)).await;
    Env {
        app,
        clock,
        ops,
        _dir: dir,
    }
}

async fn memory() -> Env {
    env_on(Arc::new(MemoryStore::new()), None).await
}

async fn sqlite() -> Env {
    let (store, dir) = sqlite_store();
    env_on(Arc::new(store), Some(dir)).await
}

/// Memory and SQLite stores whose transactions wait 30 ms before they run: both concurrent
/// registrations read the history before either writes, the interleaving a real race can
/// take. Without the lock conditions both would be accepted.
async fn memory_racing() -> Env {
    env_on(
        Arc::new(slow_transactions(Arc::new(MemoryStore::new()))),
        None,
    )
    .await
}

async fn sqlite_racing() -> Env {
    let (store, dir) = sqlite_store();
    env_on(Arc::new(slow_transactions(Arc::new(store))), Some(dir)).await
}

fn slow_transactions(store: Arc<dyn Store>) -> Interposed {
    Interposed::slow_transactions(store, std::time::Duration::from_millis(30))
}

async fn dynamodb() -> Env {
    env_on(Arc::new(dynamodb_store("cee").await), None).await
}

impl Env {
    fn token(&self, i: usize) -> &str {
        &self.ops[i].1
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        registry_testkit::api::call(&self.app, method, path, token, body).await
    }

    async fn register(&self, op: usize, body: Value) -> (u16, Value) {
        self.call("POST", "/v2/policies/cee", self.token(op), Some(body))
            .await
    }

    async fn simulate(&self, op: usize, body: Value) -> (u16, Value) {
        self.call(
            "POST",
            "/v2/policies/cee/simulate",
            self.token(op),
            Some(body),
        )
        .await
    }

    /// A journey of operator `op` sent through `POST /v2/journeys` now, then processed
    /// (status and countries set as the processing does), then the clock moves 8 days on.
    async fn processed_journey(
        &self,
        op: usize,
        id: &str,
        doc: Value,
        countries: Option<(&str, &str)>,
    ) {
        let (operator, token) = &self.ops[op];
        registry_testkit::app::processed_journey(&self.app, (*operator, token), id, doc, countries)
            .await;
    }

    /// The same registry (store, operators, tokens, clock) redeployed with other hash
    /// secrets, as after a rotation of `REGISTRY_HASH_SECRET`.
    fn with_secrets(&self, current: &str, previous: Option<&str>) -> Env {
        let config = Config {
            hash_secret: current.into(),
            hash_secret_previous: previous.map(str::to_owned),
            ..(*self.app.config).clone()
        };
        let app = App::new(
            self.app.store.clone(),
            Arc::new(MemoryQueue::default()),
            config,
        )
        .with_clock(self.clock.clone());
        Env {
            app,
            clock: self.clock.clone(),
            ops: self.ops.clone(),
            _dir: None,
        }
    }

    async fn error_log(&self, op: usize) -> Vec<registry_core::cee::errorlog::Entry> {
        registry_core::cee::errorlog::latest(&self.app, self.ops[op].0, 100)
            .await
            .unwrap()
    }

    /// Every item of the store except the rate counters and the error log.
    async fn snapshot(&self) -> Vec<Item> {
        let mut items = registry_core::store::scan_all(self.app.store.as_ref())
            .await
            .unwrap();
        items.retain(|i| !i.key.pk.starts_with("RATE#") && !i.key.pk.starts_with("CEEERR#"));
        items
    }
}

fn long(licence: &str, identity_key: &str, phone: &str, datetime: &str) -> Value {
    json!({
        "journey_type": "long",
        "driving_license": licence,
        "last_name_trunc": "DUP",
        "phone_trunc": phone,
        "datetime": datetime,
        "application_timestamp": "2025-05-30T10:00:00+02:00",
        "identity_key": identity_key,
    })
}

fn short(licence: &str, identity_key: &str, journey_id: &str) -> Value {
    json!({
        "journey_type": "short",
        "driving_license": licence,
        "last_name_trunc": "DUP",
        "operator_journey_id": journey_id,
        "application_timestamp": "2025-05-30T10:00:00+02:00",
        "identity_key": identity_key,
    })
}

fn verify(env: &Env, token: &str, message: &str) -> bool {
    let key = rsa::RsaPublicKey::from_public_key_pem(
        env.app
            .config
            .signing_key
            .as_ref()
            .unwrap()
            .public_key_pem(),
    )
    .unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .unwrap();
    let signature = Signature::try_from(bytes.as_slice()).unwrap();
    VerifyingKey::<sha2::Sha512>::new(key)
        .verify(message.as_bytes(), &signature)
        .is_ok()
}

// ---------------------------------------------------------------------------- checks

async fn long_registration_and_dedup_across_operators(env: Env) {
    let body = long(
        "051227308989",
        &identity(1),
        "+336123456",
        "2024-03-15T01:15:00+01:00",
    );
    let (s, first) = env.register(0, body.clone()).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["datetime"], "2024-03-15T00:15:00.000Z");
    let token = first["token"].as_str().unwrap();
    // The id of the key that signed it: the published key's.
    assert_eq!(first["kid"].as_str().map(str::len), Some(16));
    assert!(verify(
        &env,
        token,
        "89248032800012/long/051227308989/2024-03-15T00:15:00.000Z"
    ));
    let uuid = first["uuid"].as_str().unwrap();

    // The caller again, another identity, same licence: 409 with its own uuid.
    let (s, err) = env
        .register(
            0,
            long(
                "051227308989",
                &identity(2),
                "+336000000",
                "2025-01-10T00:00:00Z",
            ),
        )
        .await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(
        err["error"]["data"],
        json!({"datetime": "2024-03-15T00:15:00.000Z", "uuid": uuid})
    );
    // Another operator, same identity key, other licence: 409 without the uuid.
    let (s, err) = env
        .register(
            1,
            long(
                "99-FOREIGN",
                &identity(1),
                "+336000000",
                "2025-01-10T00:00:00Z",
            ),
        )
        .await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(
        err["error"]["data"],
        json!({"datetime": "2024-03-15T00:15:00.000Z"})
    );
    // Short is a separate history.
    let (s, _) = env.simulate(1, json!({"journey_type": "short", "last_name_trunc": "DUP", "phone_trunc": "+336123456", "driving_license": "051227308989"}))
        .await;
    assert_eq!(s, 200);
    // Simulate finds it by licence; by name+phone alone it does not (it has an identity key).
    let (s, err) = env.simulate(1, json!({"journey_type": "long", "last_name_trunc": "DUP", "phone_trunc": "06123456", "driving_license": "051227308989"}))
        .await;
    assert_eq!(
        (s, &err["error"]["data"]["datetime"]),
        (409, &json!("2024-03-15T00:15:00.000Z"))
    );
    let (s, body) = env
        .simulate(
            1,
            json!({"journey_type": "long", "last_name_trunc": "DUP", "phone_trunc": "06123456"}),
        )
        .await;
    assert_eq!((s, body), (200, Value::Null));

    // Find: the caller's own, with its token; another operator's is 404; malformed 400.
    let (s, found) = env
        .call(
            "GET",
            &format!("/v2/policies/cee/{uuid}"),
            env.token(0),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        found,
        json!({"uuid": uuid, "journey_type": "long", "datetime": "2024-03-15T00:15:00.000Z", "journey_id": null, "status": null, "token": token, "kid": first["kid"]})
    );
    let path = format!("/v2/policies/cee/{uuid}");
    assert_eq!(env.call("GET", &path, env.token(1), None).await.0, 404);
    assert_eq!(env.call("DELETE", &path, env.token(1), None).await.0, 404);
    assert_eq!(
        env.call("GET", "/v2/policies/cee/not-a-uuid", env.token(0), None)
            .await
            .0,
        400
    );

    let log = env.error_log(0).await;
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].kind.as_str(), log[0].status), ("conflict", 409));
    assert_eq!(env.error_log(1).await[0].kind, "conflict");
}

async fn short_registration_uses_the_callers_journey(env: Env) {
    let sent = env.clock.now();
    let doc = registry_core::domain::journey::example_document("j-1", sent);
    env.processed_journey(0, "j-1", doc.clone(), Some(("FR", "XX")))
        .await;
    // Not yet J+7.
    let (s, err) = env
        .register(0, short("051227308989", &identity(3), "j-1"))
        .await;
    assert_eq!(s, 400, "{err}");
    assert_eq!(err["error"]["details"][0]["path"], "/operator_journey_id");
    assert!(err["error"]["details"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("J+7"));
    env.clock.advance(Duration::days(8));

    // Another operator cannot use it: 404.
    let (s, _) = env
        .register(1, short("051227308989", &identity(3), "j-1"))
        .await;
    assert_eq!(s, 404);
    let (s, created) = env
        .register(0, short("051227308989", &identity(3), "j-1"))
        .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["journey_id"], "j-1");
    assert_eq!(created["status"], "ok");
    let end = doc["passenger"]["end"]["datetime"].as_str().unwrap();
    assert_eq!(created["datetime"], end);
    assert!(verify(
        &env,
        created["token"].as_str().unwrap(),
        &format!("{SIRET}/short/051227308989/{end}")
    ));
    // The same journey again, whoever the person: 409 naming the first application.
    let (s, err) = env.register(0, short("AB1234", &identity(4), "j-1")).await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(err["error"]["data"]["uuid"], created["uuid"]);
    assert_eq!(err["error"]["data"]["journey_id"], "j-1");
    assert_eq!(err["error"]["data"]["status"], "ok");

    // Dedup by name + the driver's phone only matches imported records without identity.
    let (s, report) = env
        .call(
            "POST",
            "/v2/policies/cee/import",
            env.token(1),
            Some(json!([{"journey_type": "short", "last_name_trunc": "DUP", "phone_trunc": "06987654", "datetime": "2023-01-05T10:00:00+01:00"}])),
        )
        .await;
    assert_eq!((s, report["imported"].clone()), (201, json!(1)));
    let mut doc2 = registry_core::domain::journey::example_document("j-2", env.clock.now());
    doc2["driver"]["identity"]["phone"] = json!("+33698765487"); // same phone_trunc +336987654
    env.processed_journey(0, "j-2", doc2, Some(("XX", "FR")))
        .await;
    env.clock.advance(Duration::days(8));
    let (s, err) = env.register(0, short("XY99", &identity(5), "j-2")).await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(
        err["error"]["data"],
        json!({"datetime": "2023-01-05T09:00:00.000Z"})
    );

    // Not eligible: class B, too long, both ends abroad (Brussels to Antwerp: the
    // countries are the ones acceptance found from the coordinates).
    let fr = Some(("FR", "FR"));
    let cases = [
        ("b", json!({"operator_class": "B"})),
        ("far", json!({"passenger": {"distance": 80_001}})),
        (
            "abroad",
            json!({"lat": [50.8503, 51.2194], "lon": [4.3517, 4.4025]}),
        ),
    ];
    for (id, change) in cases {
        let mut doc = registry_core::domain::journey::example_document(id, env.clock.now());
        if let Some(class) = change.get("operator_class") {
            doc["operator_class"] = class.clone();
        }
        if let Some(distance) = change.pointer("/passenger/distance") {
            doc["passenger"]["distance"] = distance.clone();
        }
        if let (Some(lat), Some(lon)) = (change.get("lat"), change.get("lon")) {
            for role in ["passenger", "driver"] {
                for (i, end) in ["start", "end"].into_iter().enumerate() {
                    doc[role][end]["lat"] = lat[i].clone();
                    doc[role][end]["lon"] = lon[i].clone();
                }
            }
        }
        env.processed_journey(0, id, doc, fr).await;
    }
    env.clock.advance(Duration::days(8));
    for id in ["b", "far", "abroad", "unknown"] {
        let (s, err) = env
            .register(0, short(&format!("L{id}").to_uppercase(), &identity(9), id))
            .await;
        assert_eq!(s, 404, "{id}: {err}");
    }
    let kinds: Vec<String> = env.error_log(0).await.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "non_eligible").count(), 4);
    assert_eq!(kinds.iter().filter(|k| *k == "conflict").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "date").count(), 1);
    assert_eq!(env.error_log(1).await[0].kind, "non_eligible");
}

/// Issue 17: a journey sent more than 120 h after its end is stored `expired` and never
/// processed, yet its facts (countries included) are known from acceptance: a short
/// registration on it is accepted and reports its status. So is one on a journey still
/// `pending`.
async fn short_registration_on_expired_and_pending_journeys(env: Env) {
    let ended = env.clock.now() - Duration::days(6);
    let doc = registry_core::domain::journey::example_document("late", ended);
    let (s, receipt) = env
        .call("POST", "/v2/journeys", env.token(0), Some(doc))
        .await;
    assert_eq!(
        (s, receipt["status"].as_str()),
        (201, Some("expired")),
        "{receipt}"
    );
    let doc = registry_core::domain::journey::example_document("waiting", env.clock.now());
    let (s, receipt) = env
        .call("POST", "/v2/journeys", env.token(0), Some(doc))
        .await;
    assert_eq!(
        (s, receipt["status"].as_str()),
        (201, Some("pending")),
        "{receipt}"
    );
    env.clock.advance(Duration::days(8));
    for (i, (id, status)) in [("late", "expired"), ("waiting", "pending")]
        .into_iter()
        .enumerate()
    {
        let licence = format!("L{i}TEST");
        let (s, created) = env
            .register(0, short(&licence, &identity(60 + i as u32), id))
            .await;
        assert_eq!(s, 201, "{id}: {created}");
        assert_eq!(
            (created["journey_id"].as_str(), created["status"].as_str()),
            (Some(id), Some(status))
        );
    }
}

async fn imports_identity_and_lookbacks(env: Env) {
    let items = json!([
        {"journey_type": "long", "last_name_trunc": "MAR", "phone_trunc": "+336987654", "datetime": "2016-02-01T00:00:00Z"},
        {"journey_type": "long", "last_name_trunc": "MAR", "phone_trunc": "06987654", "datetime": "2017-02-01T00:00:00Z"},
        {"journey_type": "short", "last_name_trunc": "OLD", "phone_trunc": "+336987654", "datetime": "2019-12-31T22:59:00Z"},
        {"journey_type": "short", "last_name_trunc": "NEW", "phone_trunc": "+336987654", "datetime": "2022-07-01T00:00:00Z"}
    ]);
    let (s, report) = env
        .call(
            "POST",
            "/v2/policies/cee/import",
            env.token(0),
            Some(items.clone()),
        )
        .await;
    assert_eq!(s, 201, "{report}");
    // The second repeats the first (same operator, type, name and phone): conflict.
    assert_eq!(report["imported"], 3);
    assert_eq!(report["failed"], 1);
    let mut failed = items[1].clone();
    failed["error"] = json!("conflict");
    assert_eq!(report["failed_details"], json!([failed]));
    // Another operator may import the same person.
    let (s, report) = env
        .call(
            "POST",
            "/v2/policies/cee/import",
            env.token(1),
            Some(json!([items[0]])),
        )
        .await;
    assert_eq!((s, report["imported"].clone()), (201, json!(1)));

    // Long imported in 2016: 10 years before 2025-06 is 2015-06, so it blocks.
    let sim = |jt: &str, name: &str, extra: Value| {
        let mut body =
            json!({"journey_type": jt, "last_name_trunc": name, "phone_trunc": "+336987654"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body
    };
    let (s, err) = env.simulate(1, sim("long", "MAR", json!({}))).await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(
        err["error"]["data"],
        json!({"datetime": "2016-02-01T00:00:00.000Z"})
    );
    // Short, imported before 2020-01-01 Paris: never counts; 2022-07: within 3 years.
    let (s, _) = env.simulate(1, sim("short", "OLD", json!({}))).await;
    assert_eq!(s, 200);
    let (s, _) = env.simulate(1, sim("short", "NEW", json!({}))).await;
    assert_eq!(s, 409);

    // Attach an identity key: the record now matches by identity, no longer by name+phone.
    let key = identity(42);
    let attach = json!([
        {"cee_application_type": "specific", "identity_key": key, "journey_type": "short", "last_name_trunc": "NEW", "phone_trunc": "+336987654", "datetime": "2022-07-01T02:00:00+02:00"},
        {"cee_application_type": "specific", "identity_key": identity(43), "journey_type": "short", "last_name_trunc": "NEW", "phone_trunc": "+336987654", "datetime": "2022-07-01T00:00:00Z"},
        {"cee_application_type": "specific", "identity_key": key, "journey_type": "short", "last_name_trunc": "NEW", "phone_trunc": "+336987654", "datetime": "2022-07-02T00:00:00Z"},
        {"cee_application_type": "standardized", "cee_application_uuid": "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b", "identity_key": key}
    ]);
    let (s, report) = env
        .call(
            "POST",
            "/v2/policies/cee/import/identity",
            env.token(0),
            Some(attach.clone()),
        )
        .await;
    assert_eq!(s, 200, "{report}");
    let errors: Vec<&Value> = report["failed_details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["error"])
        .collect();
    assert_eq!(report["imported"], 1);
    assert_eq!(
        errors,
        [
            &json!("already_set"),
            &json!("not_found"),
            &json!("not_found")
        ]
    );
    // The same batch again: the key already written is a success, nothing is overwritten.
    let (_, again) = env
        .call(
            "POST",
            "/v2/policies/cee/import/identity",
            env.token(0),
            Some(attach),
        )
        .await;
    assert_eq!(again["imported"], 1);
    let (s, _) = env.simulate(1, sim("short", "NEW", json!({}))).await;
    assert_eq!(
        s, 200,
        "name+phone no longer matches a record with an identity key"
    );
    let (s, err) = env
        .simulate(1, sim("short", "ZZZ", json!({"identity_key": key})))
        .await;
    assert_eq!(
        (s, &err["error"]["data"]["datetime"]),
        (409, &json!("2022-07-01T00:00:00.000Z"))
    );

    // A registration of that person (identity) is refused; imports bypass the window.
    env.clock.advance(Duration::days(400));
    let (s, _) = env
        .register(
            1,
            long("12345678", &key, "+336000000", "2025-06-01T00:00:00Z"),
        )
        .await;
    assert_eq!(s, 201, "long is another history");
}

async fn delete_archives_and_frees_the_person(env: Env) {
    let (s, first) = env
        .register(
            0,
            long(
                "DEL1234",
                &identity(7),
                "+336123456",
                "2024-01-10T00:00:00Z",
            ),
        )
        .await;
    assert_eq!(s, 201, "{first}");
    let uuid = first["uuid"].as_str().unwrap();
    let path = format!("/v2/policies/cee/{uuid}");
    let (s, body) = env.call("DELETE", &path, env.token(0), None).await;
    assert_eq!((s, body), (204, Value::Null));
    assert_eq!(env.call("GET", &path, env.token(0), None).await.0, 404);
    assert_eq!(env.call("DELETE", &path, env.token(0), None).await.0, 404);
    // Kept in the archive with its deletion time.
    let archive = env
        .app
        .store
        .query(Query::partition(format!("CEEDEL#{}", env.ops[0].0)))
        .await
        .unwrap();
    assert_eq!(archive.items.len(), 1);
    assert_eq!(archive.items[0].s("uuid"), Some(uuid));
    assert_eq!(
        archive.items[0].s("deleted_at"),
        Some(rfc3339(env.clock.now()).as_str())
    );
    // No longer counts: another operator registers the same person.
    let (s, second) = env
        .register(
            1,
            long(
                "DEL1234",
                &identity(7),
                "+336123456",
                "2024-02-10T00:00:00Z",
            ),
        )
        .await;
    assert_eq!(s, 201, "{second}");
}

async fn bad_input_is_400_with_pointers_and_writes_nothing(env: Env) {
    let before = env.snapshot().await;
    let cases = [
        (
            json!({"journey_type": "medium"}),
            vec![
                "/driving_license",
                "/last_name_trunc",
                "/application_timestamp",
                "/identity_key",
                "/journey_type",
            ],
        ),
        (
            {
                let mut b = short("051227308989", &identity(1), "j");
                b["phone_trunc"] = json!("+336123456");
                b["extra"] = json!(1);
                b
            },
            vec!["/extra", "/phone_trunc"],
        ),
        (
            {
                let mut b = long("lower", "ABC", "12", "2024-03-15T00:00:00");
                b["operator_journey_id"] = json!("x");
                b
            },
            vec![
                "/driving_license",
                "/identity_key",
                "/operator_journey_id",
                "/phone_trunc",
                "/datetime",
            ],
        ),
    ];
    for (body, mut paths) in cases {
        let (s, err) = env.register(0, body).await;
        assert_eq!(s, 400, "{err}");
        let mut got: Vec<String> = err["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap().to_owned())
            .collect();
        got.sort();
        paths.sort();
        assert_eq!(got, paths, "{err}");
    }
    // Dates: outside the window (400 naming it), in the future, not yet J+7.
    let (s, err) = env
        .register(
            0,
            long("A1", &identity(1), "+336123456", "2022-12-31T22:59:59Z"),
        )
        .await;
    assert_eq!(s, 400);
    assert!(err["error"]["details"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("2022-12-31T23:00:00.000Z"));
    let mut future = long("A1", &identity(1), "+336123456", "2024-01-01T00:00:00Z");
    future["application_timestamp"] = json!("2025-06-01T12:00:01Z");
    assert_eq!(env.register(0, future).await.0, 400);
    let (s, err) = env
        .register(
            0,
            long("A1", &identity(1), "+336123456", "2025-05-28T00:00:00Z"),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(err["error"]["details"][0]["path"], "/datetime");
    // Imports: a schema error anywhere refuses the batch; empty and 1001 items are 400.
    let item = json!({"journey_type": "short", "last_name_trunc": "ABC", "phone_trunc": "+336123456", "datetime": "2022-01-01T00:00:00Z"});
    let mut batch = vec![item.clone(); 5];
    batch[3]["phone_trunc"] = json!("12");
    batch[4]["datetime"] = json!("2022-01-01T00:00:00");
    let (s, err) = env
        .call(
            "POST",
            "/v2/policies/cee/import",
            env.token(0),
            Some(json!(batch)),
        )
        .await;
    assert_eq!(s, 400);
    let paths: Vec<&str> = err["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/3/phone_trunc", "/4/datetime"]);
    for n in [0, 1001] {
        let (s, _) = env
            .call(
                "POST",
                "/v2/policies/cee/import",
                env.token(0),
                Some(json!(vec![item.clone(); n])),
            )
            .await;
        assert_eq!(s, 400, "{n} items");
    }
    let (s, _) = env
        .call("POST", "/v2/policies/cee/import/identity", env.token(0), Some(json!([{"cee_application_type": "standardized", "cee_application_uuid": "x", "identity_key": identity(1)}])))
        .await;
    assert_eq!(s, 400);
    let (s, _) = env.simulate(0, json!({"journey_type": "short"})).await;
    assert_eq!(s, 400);
    assert_eq!(
        env.snapshot().await,
        before,
        "nothing but the error log is written on a 4xx"
    );
    let kinds: Vec<String> = env.error_log(0).await.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "validation").count(), 3);
    assert_eq!(kinds.iter().filter(|k| *k == "date").count(), 3);
    // 401, 403 and the public key.
    assert_eq!(
        env.call("POST", "/v2/policies/cee", "rpc.nope", Some(json!({})))
            .await
            .0,
        401
    );
    let reader = admin::create_token(
        &env.app,
        TokenRequest {
            name: "r".into(),
            role: RoleKind::Application,
            operator: Some(env.ops[0].0),
            permissions: Some([registry_core::domain::token::Permission::CeeRead].into()),
            territory: None,
        },
    )
    .await
    .unwrap()
    .token;
    assert_eq!(env.register_with(&reader).await, 403);
    let (s, pem) = env
        .call("GET", "/v2/policies/cee/public-key", "", None)
        .await;
    assert_eq!(s, 200);
    assert!(pem
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
}

impl Env {
    async fn register_with(&self, token: &str) -> u16 {
        self.call(
            "POST",
            "/v2/policies/cee",
            token,
            Some(long(
                "A1",
                &identity(1),
                "+336123456",
                "2024-01-01T00:00:00Z",
            )),
        )
        .await
        .0
    }
}

/// 1 000 items in one request (about 120 KB), reported in input order.
async fn thousand_items_in_one_import(env: Env) {
    let mut items: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"journey_type": if i % 2 == 0 { "short" } else { "long" },
                   "last_name_trunc": "BIG",
                   "phone_trunc": format!("+3361{:05}", i / 2),
                   "datetime": "2021-03-01T00:00:00+01:00"})
        })
        .collect();
    // The last one repeats the first: it fails, the first does not.
    items[999] = items[0].clone();
    let (s, report) = env
        .call(
            "POST",
            "/v2/policies/cee/import",
            env.token(0),
            Some(json!(items)),
        )
        .await;
    assert_eq!(s, 201, "{report}");
    assert_eq!(
        (report["imported"].clone(), report["failed"].clone()),
        (json!(999), json!(1))
    );
    let mut failed = items[0].clone();
    failed["error"] = json!("conflict");
    assert_eq!(report["failed_details"], json!([failed]));
}

/// Two operators register the same person at the same moment, 20 times over: exactly one
/// 201 and one 409 each time.
async fn concurrent_registrations_have_one_winner(env: Env) {
    let env = Arc::new(env);
    for round in 0..20u32 {
        let licence = format!("CONC{round:04}");
        // Both spawned before either is awaited.
        let calls: Vec<_> = (0..2)
            .map(|op| {
                let env = env.clone();
                let body = long(
                    &licence,
                    &identity(1000 + round * 2 + op as u32),
                    "+336123456",
                    "2024-05-01T00:00:00Z",
                );
                tokio::spawn(async move { env.register(op, body).await.0 })
            })
            .collect();
        let mut statuses = Vec::new();
        for call in calls {
            statuses.push(call.await.unwrap());
        }
        statuses.sort();
        assert_eq!(statuses, [201, 409], "round {round}");
    }
}

/// A rotation of the hash secret with the previous one configured: a person registered or
/// imported before it is still found after it; without the previous secret they are not
/// (what `REGISTRY_HASH_SECRET_PREVIOUS` is for).
async fn rotated_secret_still_finds_the_history(env: Env) {
    let body = long(
        "ROT1234",
        &identity(11),
        "+336111111",
        "2024-03-01T00:00:00Z",
    );
    let (s, first) = env.register(0, body).await;
    assert_eq!(s, 201, "{first}");
    let uuid = first["uuid"].as_str().unwrap().to_owned();
    let imported = json!([{"journey_type": "long", "last_name_trunc": "IMP", "phone_trunc": "+336222222", "datetime": "2018-02-01T00:00:00Z"}]);
    let (s, report) = env
        .call(
            "POST",
            "/v2/policies/cee/import",
            env.token(1),
            Some(imported.clone()),
        )
        .await;
    assert_eq!((s, report["imported"].clone()), (201, json!(1)), "{report}");

    let old = env.app.config.hash_secret.clone();
    let rotated = env.with_secrets("rotated-secret", Some(&old));
    // The same identity, another licence and phone, another operator: found by identity
    // under the previous secret, the answer cee.md gives ("already registered").
    let again = long(
        "ROT9999",
        &identity(11),
        "+336000000",
        "2025-01-10T00:00:00Z",
    );
    let (s, err) = rotated.register(1, again.clone()).await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(
        err["error"]["data"],
        json!({"datetime": "2024-03-01T00:00:00.000Z"})
    );
    // Same licence, the registering operator: its own uuid.
    let (s, err) = rotated
        .register(
            0,
            long(
                "ROT1234",
                &identity(12),
                "+336000001",
                "2025-01-10T00:00:00Z",
            ),
        )
        .await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(
        err["error"]["data"],
        json!({"datetime": "2024-03-01T00:00:00.000Z", "uuid": uuid})
    );
    // The imported record by name + phone: simulate refuses, importing it again conflicts.
    let sim =
        json!({"journey_type": "long", "last_name_trunc": "IMP", "phone_trunc": "+336222222"});
    let (s, err) = rotated
        .call(
            "POST",
            "/v2/policies/cee/simulate",
            rotated.token(0),
            Some(sim.clone()),
        )
        .await;
    assert_eq!(s, 409, "{err}");
    let (s, report) = rotated
        .call(
            "POST",
            "/v2/policies/cee/import",
            rotated.token(1),
            Some(imported.clone()),
        )
        .await;
    assert_eq!((s, report["failed"].clone()), (201, json!(1)), "{report}");
    // An identity key attached after the rotation to the record imported before it: the
    // record is found (under the previous secret) and then matches by identity.
    let attach = json!([{"cee_application_type": "specific", "identity_key": identity(13), "journey_type": "long", "last_name_trunc": "IMP", "phone_trunc": "+336222222", "datetime": "2018-02-01T00:00:00Z"},
        {"cee_application_type": "standardized", "cee_application_uuid": uuid, "identity_key": identity(11)}]);
    let (s, report) = rotated
        .call(
            "POST",
            "/v2/policies/cee/import/identity",
            rotated.token(1),
            Some(attach.clone()),
        )
        .await;
    // The standardized one is operator 0's.
    assert_eq!((s, report["imported"].clone()), (200, json!(1)), "{report}");
    assert_eq!(report["failed_details"][0]["error"], "not_found");
    // Its owner confirms the key it registered before the rotation: the same key.
    let (s, report) = rotated
        .call(
            "POST",
            "/v2/policies/cee/import/identity",
            rotated.token(0),
            Some(json!([attach[1]])),
        )
        .await;
    assert_eq!((s, report["imported"].clone()), (200, json!(1)), "{report}");
    let by_identity = json!({"journey_type": "long", "last_name_trunc": "ZZZ", "phone_trunc": "+336999999", "identity_key": identity(13)});
    let (s, _) = rotated
        .call(
            "POST",
            "/v2/policies/cee/simulate",
            rotated.token(0),
            Some(by_identity.clone()),
        )
        .await;
    assert_eq!(s, 409);

    // Without the previous secret the history of before the rotation is invisible.
    let forgetful = env.with_secrets("rotated-secret", None);
    let (s, _) = forgetful
        .call("POST", "/v2/policies/cee/simulate", forgetful.token(1), Some(json!({"journey_type": "long", "last_name_trunc": "DUP", "phone_trunc": "+336000000", "driving_license": "ROT9999", "identity_key": identity(11)})))
        .await;
    assert_eq!(s, 200);

    // Registered after the rotation: written under the new secret only, found by it alone.
    let (s, after) = rotated
        .register(
            1,
            long(
                "ROT5555",
                &identity(14),
                "+336333333",
                "2024-06-01T00:00:00Z",
            ),
        )
        .await;
    assert_eq!(s, 201, "{after}");
    let (s, _) = forgetful
        .call("POST", "/v2/policies/cee/simulate", forgetful.token(0), Some(json!({"journey_type": "long", "last_name_trunc": "DUP", "phone_trunc": "+336000002", "driving_license": "ROT5555", "identity_key": identity(15)})))
        .await;
    assert_eq!(s, 409);
    // Deleting an application of before the rotation frees the person after it.
    let path = format!("/v2/policies/cee/{uuid}");
    assert_eq!(
        rotated
            .call("DELETE", &path, rotated.token(0), None)
            .await
            .0,
        204
    );
    let (s, again) = rotated.register(1, again).await;
    assert_eq!(s, 201, "{again}");
}

/// The same race played one after the other (moto is not atomic under concurrency).
async fn sequential_conflict(env: Env) {
    let (a, _) = env
        .register(
            0,
            long("SEQ1", &identity(1), "+336123456", "2024-05-01T00:00:00Z"),
        )
        .await;
    let (b, err) = env
        .register(
            1,
            long("SEQ1", &identity(2), "+336123457", "2024-06-01T00:00:00Z"),
        )
        .await;
    assert_eq!((a, b), (201, 409), "{err}");
}

macro_rules! checks {
    ($fixture:ident => $($check:ident),+ $(,)?) => {
        mod $fixture {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::$check(super::$fixture().await).await;
                }
            )+
        }
    };
}

checks!(memory =>
    thousand_items_in_one_import,
    long_registration_and_dedup_across_operators,
    short_registration_uses_the_callers_journey,
    short_registration_on_expired_and_pending_journeys,
    imports_identity_and_lookbacks,
    delete_archives_and_frees_the_person,
    bad_input_is_400_with_pointers_and_writes_nothing,
    concurrent_registrations_have_one_winner,
    sequential_conflict,
    rotated_secret_still_finds_the_history,
);
checks!(memory_racing => concurrent_registrations_have_one_winner);
checks!(sqlite_racing => concurrent_registrations_have_one_winner);
checks!(sqlite =>
    thousand_items_in_one_import,
    long_registration_and_dedup_across_operators,
    short_registration_uses_the_callers_journey,
    short_registration_on_expired_and_pending_journeys,
    imports_identity_and_lookbacks,
    delete_archives_and_frees_the_person,
    bad_input_is_400_with_pointers_and_writes_nothing,
    concurrent_registrations_have_one_winner,
    sequential_conflict,
    rotated_secret_still_finds_the_history,
);
checks!(dynamodb =>
    thousand_items_in_one_import,
    long_registration_and_dedup_across_operators,
    short_registration_uses_the_callers_journey,
    short_registration_on_expired_and_pending_journeys,
    imports_identity_and_lookbacks,
    delete_archives_and_frees_the_person,
    bad_input_is_400_with_pointers_and_writes_nothing,
    sequential_conflict,
    rotated_secret_still_finds_the_history,
);

// ---------------------------------------------------------------------------- cost

/// Counts the store calls a registration makes.
struct Counting {
    inner: MemoryStore,
    reads: AtomicUsize,
    writes: AtomicUsize,
}

#[async_trait]
impl Store for Counting {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> StoreResult<Item> {
        // Rate-limit leases are taken once for many requests: not a registration's cost.
        if !key.pk.starts_with("RATE#") {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.update(key, update, condition).await
    }
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        self.writes.fetch_add(ops.len(), Ordering::SeqCst);
        self.inner.transact(ops).await
    }
    async fn query(&self, query: Query) -> StoreResult<Page> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.query(query).await
    }
    async fn scan(&self, scan: Scan) -> StoreResult<Page> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.scan(scan).await
    }
}

/// Store calls of one registration (docs/BENCHMARKS.md): besides the token read every route
/// pays (and the rate-limit lease, not counted), a long registration reads 3 times and writes 3
/// items in one transaction; a short one reads its journey too.
#[tokio::test]
async fn one_registration_costs_at_most_4_reads_and_3_writes() {
    let store = Arc::new(Counting {
        inner: MemoryStore::new(),
        reads: AtomicUsize::new(0),
        writes: AtomicUsize::new(0),
    });
    let env = env_on(store.clone(), None).await;
    let doc = registry_core::domain::journey::example_document("cost", env.clock.now());
    env.processed_journey(0, "cost", doc, Some(("FR", "FR")))
        .await;
    env.clock.advance(Duration::days(8));
    // The first registration reads the operator's SIRET once per process.
    let (s, _) = env
        .register(
            0,
            long("WARM1", &identity(1), "+336111111", "2024-01-01T00:00:00Z"),
        )
        .await;
    assert_eq!(s, 201);
    let mut costs = Vec::new();
    for body in [
        long("COST1", &identity(2), "+336123456", "2024-01-01T00:00:00Z"),
        short("COST2", &identity(3), "cost"),
    ] {
        let (r0, w0) = (
            store.reads.load(Ordering::SeqCst),
            store.writes.load(Ordering::SeqCst),
        );
        let (s, body) = env.register(0, body).await;
        assert_eq!(s, 201, "{body}");
        // Minus the token read.
        let reads = store.reads.load(Ordering::SeqCst) - r0 - 1;
        let writes = store.writes.load(Ordering::SeqCst) - w0;
        costs.push((reads, writes));
    }
    println!(
        "long: {:?}, short: {:?} (reads, writes)",
        costs[0], costs[1]
    );
    assert_eq!(costs, [(3, 3), (4, 3)]);
}
