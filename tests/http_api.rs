//! The registry through real HTTP on loopback, against the `registry serve` binary.

use registry_testkit::serve::*;

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn journey_is_accepted_processed_and_readable() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&data_file(&dir), &[]);
    let (_, token) = operator_with_token(&server, None).await;
    let doc = journey("j-1");

    let (s, h, receipt) = server.post("/v2/journeys", &token, doc.clone()).await;
    assert_eq!(s, 201, "{receipt}");
    assert_eq!(receipt["journey_id"], "j-1");
    assert_eq!(receipt["status"], "pending");
    assert!(h.get("idempotent-replayed").is_none());

    // The same JSON value again, formatted otherwise and with its keys in another order:
    // the original receipt.
    let reordered: Vec<String> = doc
        .as_object()
        .unwrap()
        .iter()
        .rev()
        .map(|(k, v)| format!("{}: {}", json!(k), serde_json::to_string_pretty(v).unwrap()))
        .collect();
    let reordered = format!("{{ {} }}", reordered.join(",\n"));
    assert_ne!(reordered, doc.to_string());
    assert!(reordered.starts_with("{ \"passenger\""));
    let replay = client()
        .post(server.url("/v2/journeys"))
        .bearer_auth(&token)
        .body(reordered)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status().as_u16(), 200);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.unwrap(), receipt);

    // Another document with the same journey_id: 409 naming the original created_at.
    let (s, _, err) = server
        .post("/v2/journeys", &token, other_journey("j-1", 1))
        .await;
    assert_eq!(s, 409);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains(receipt["created_at"].as_str().unwrap()));

    let status = wait_status(&server, &token, "j-1", "ok").await;
    // A retry after processing still gets the receipt as first answered.
    let (s, _, late) = server.post("/v2/journeys", &token, doc.clone()).await;
    assert_eq!((s, &late), (200, &receipt));
    assert_eq!(status["operator_journey_id"], "trip-j-1");
    assert_eq!(status["created_at"], receipt["created_at"]);
    assert_eq!(status["fraud_labels"], json!([]));
    assert_eq!(status["anomaly_labels"], json!([]));
    // The trip's ends: coordinates resolved to communes (Paris → Versailles).
    let unit = |end: &str, kind: &str| status[end][kind]["code"].as_str().map(str::to_owned);
    assert_eq!(status["start"]["country"], "FR");
    assert_eq!(status["start"]["commune"]["name"], "Paris");
    assert_eq!(unit("start", "commune").as_deref(), Some("75056"));
    assert_eq!(unit("start", "epci").as_deref(), Some("200054781"));
    assert_eq!(unit("start", "departement").as_deref(), Some("75"));
    assert_eq!(unit("end", "commune").as_deref(), Some("78646"));
    assert_eq!(unit("end", "departement").as_deref(), Some("78"));
    assert_eq!(unit("end", "region").as_deref(), Some("11"));
    assert_eq!(status["incentives"], json!([]));
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&data_file(&dir), &[]);
    let (op, token) = operator_with_token(&server, None).await;
    let post = |body: Vec<u8>| {
        let url = server.url("/v2/journeys");
        let token = token.clone();
        async move {
            let r = client()
                .post(url)
                .bearer_auth(token)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let paths = |e: &Value| -> Vec<String> {
        e["error"]["details"]
            .as_array()
            .map(|d| {
                d.iter()
                    .map(|d| d["path"].as_str().unwrap_or("?").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (s, e) = post(b"not json".to_vec()).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("invalid_journey"))
    );
    assert_eq!(paths(&e), vec![""]);
    let (s, e) = post(b"[1,2]".to_vec()).await;
    assert_eq!((s, paths(&e)), (400, vec!["".to_owned()]), "{e}");
    // Every violation at once, each with its pointer.
    let (s, e) = post(b"{\"operator_class\":\"C\"}".to_vec()).await;
    assert_eq!(s, 400);
    let mut found = paths(&e);
    found.sort();
    assert_eq!(found, vec!["/driver", "/journey_id", "/passenger"], "{e}");
    // Well-formed but impossible: 422 with paths (here, a journey ending tomorrow).
    let mut future = journey("future");
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    future["driver"]["end"]["datetime"] = json!(tomorrow);
    let (s, e) = post(future.to_string().into_bytes()).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("impossible_journey")),
        "{e}"
    );
    assert!(
        paths(&e).contains(&"/driver/end/datetime".to_owned()),
        "{e}"
    );
    // A well-formed INSEE code that names no commune: refused with its pointer.
    let mut unknown = journey("unknown-commune");
    unknown["passenger"]["start"] =
        json!({"datetime": unknown["passenger"]["start"]["datetime"], "insee": "17999"});
    let (s, e) = post(unknown.to_string().into_bytes()).await;
    assert!((400..500).contains(&s), "{e}");
    assert_eq!(paths(&e), vec!["/passenger/start/insee"], "{e}");
    let (s, _) = post(b"{\"journey_id\":42}".to_vec()).await;
    assert_eq!(s, 400);
    let (s, _) = post(format!("{{\"journey_id\":\"{}\"}}", "x".repeat(257)).into_bytes()).await;
    assert_eq!(s, 400);
    let (s, _) = post(vec![0xff, 0xfe, b'{']).await;
    assert_eq!(s, 400);
    let (s, _) = post("[".repeat(10_000).into_bytes()).await;
    assert_eq!(s, 400);
    let mut big = format!(
        "{{\"journey_id\":\"big\",\"pad\":\"{}",
        "a".repeat(64 * 1024)
    );
    big.push_str("\"}");
    let (s, e) = post(big.into_bytes()).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    // Exactly at the limit is not refused for its size (its content decides).
    let mut edge = journey("edge");
    edge["pad"] = json!("");
    let base = edge.to_string().len();
    edge["pad"] = json!("a".repeat(64 * 1024 - base));
    let edge = edge.to_string();
    assert_eq!(edge.len(), 64 * 1024);
    let (s, e) = post(edge.into_bytes()).await;
    assert_ne!(s, 413, "{e}");
    assert!(s == 201 || s == 400, "{s} {e}");
    // operator_id of another operator: 403.
    let mut other = journey("other");
    other["operator_id"] = json!(op + 1);
    let (s, _) = post(other.to_string().into_bytes()).await;
    assert_eq!(s, 403);

    // Nothing of the refused ones was stored.
    for id in ["big", "other", "future"] {
        let (s, _, _) = server.get(&format!("/v2/journeys/{id}"), &token).await;
        assert_eq!(s, 404, "{id}");
    }
    // Unknown route: 404 JSON; wrong method: 405 with Allow.
    let (s, _, e) = server.get("/v2/nothing", &token).await;
    assert_eq!((s, e["error"]["code"].as_str()), (404, Some("not_found")));
    let (s, h, _) = server.send(Method::PUT, "/v2/journeys", &token, None).await;
    assert_eq!((s, h["allow"].to_str().unwrap()), (405, "POST, GET"));
}

#[tokio::test]
async fn auth_rules_401_403_404_and_revocation() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&data_file(&dir), &[]);
    let admin = server.admin_token.clone().unwrap();
    let (op_a, token_a) = operator_with_token(&server, None).await;
    let (op_b, token_b) = operator_with_token(&server, Some(&["journey.create"])).await;
    let journeys = server.url("/v2/journeys");
    let doc = journey("shared-id");

    // 401: missing, malformed, unknown.
    for token in [
        None,
        Some("nope"),
        Some("rpc.00000000000000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        let (s, _, e) = call(Method::POST, &journeys, token, Some(doc.clone())).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (401, Some("unauthorized")),
            "{token:?}"
        );
    }
    // A right id with a wrong secret is 401 too.
    let forged = format!(
        "{}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &token_a[..token_a.len() - 43]
    );
    assert_eq!(
        status(Method::POST, &journeys, Some(&forged), Some(doc.clone())).await,
        401
    );

    // 403: valid token without the permission, or the wrong kind of token.
    assert_eq!(
        status(Method::POST, &journeys, Some(&token_b), Some(doc.clone())).await,
        201
    );
    assert_eq!(server.get("/v2/journeys/shared-id", &token_b).await.0, 403);
    assert_eq!(
        status(Method::POST, &journeys, Some(&admin), Some(doc.clone())).await,
        403
    );
    assert_eq!(
        server
            .post("/v2/operators", &token_a, json!({"name": "x"}))
            .await
            .0,
        403
    );

    // 404: another operator's journey, another operator's admin routes.
    assert_eq!(server.get("/v2/journeys/shared-id", &token_a).await.0, 404);
    let (s, _, op_admin) = server
        .create_application(
            op_a,
            &admin,
            json!({"name": "alice", "role": "operator_admin"}),
        )
        .await;
    assert_eq!(s, 201, "{op_admin}");
    let op_admin_id = op_admin["token_id"].as_str().unwrap().to_owned();
    let op_admin = op_admin["token"].as_str().unwrap().to_owned();
    assert_eq!(
        server
            .get(&format!("/v2/operators/{op_b}/applications"), &op_admin)
            .await
            .0,
        404
    );
    assert_eq!(
        server
            .get(&format!("/v2/operators/{op_b}"), &op_admin)
            .await
            .0,
        404
    );
    // An operator admin manages its own application tokens but cannot make admins.
    let (s, _, created) = server
        .create_application(
            op_a,
            &op_admin,
            json!({"name": "reader", "permissions": ["journey.read"]}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(created["permissions"], json!(["journey.read"]));
    assert_eq!(
        server
            .create_application(
                op_a,
                &op_admin,
                json!({"name": "x", "role": "operator_admin"})
            )
            .await
            .0,
        403
    );
    // Bad token requests name the field.
    let (s, _, e) = server
        .create_application(
            op_a,
            &op_admin,
            json!({"name": "x", "permissions": ["journey.fly"]}),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(e["error"]["details"][0]["path"], "/permissions/0");
    let (s, _, e) = server
        .post(
            "/v2/operators",
            &admin,
            json!({"name": "x", "siret": "123"}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["details"][0]["path"].as_str()),
        (400, Some("/siret"))
    );
    assert_eq!(
        server
            .post(
                "/v2/operators/999/applications",
                &admin,
                json!({"name": "x"})
            )
            .await
            .0,
        404
    );

    // Listing shows no secret; revocation holds on the next request and is idempotent.
    let (s, _, list) = server
        .get(&format!("/v2/operators/{op_a}/applications"), &op_admin)
        .await;
    assert_eq!(s, 200);
    let listed = list.to_string();
    assert!(!listed.contains(&token_a[token_a.len() - 43..]) && !listed.contains("secret"));
    let reader_id = created["token_id"].as_str().unwrap();
    let reader = created["token"].as_str().unwrap();
    assert_eq!(server.get("/v2/journeys/shared-id", reader).await.0, 404);
    let revoke = server.url(&format!("/v2/operators/{op_a}/applications/{reader_id}"));
    let (s, _, first) = call(Method::DELETE, &revoke, Some(&op_admin), None).await;
    assert_eq!(s, 200);
    assert!(first["revoked_at"].is_string());
    assert_eq!(server.get("/v2/journeys/shared-id", reader).await.0, 401);
    let (s, _, second) = call(Method::DELETE, &revoke, Some(&op_admin), None).await;
    assert_eq!((s, &second["revoked_at"]), (200, &first["revoked_at"]));
    // An operator admin neither sees nor revokes admin tokens, its own included.
    let listed: Vec<String> = list["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["role"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !listed.is_empty() && listed.iter().all(|r| r == "application"),
        "{listed:?}"
    );
    let own_id = op_admin_id.as_str();
    let own = server.url(&format!("/v2/operators/{op_a}/applications/{own_id}"));
    assert_eq!(
        status(Method::DELETE, &own, Some(&op_admin), None).await,
        404
    );
    // The scheme is case-insensitive; the token is not.
    let lower = client()
        .get(server.url(&format!("/v2/operators/{op_a}")))
        .header("authorization", format!("bearer {op_admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200);
    // A missing field is reported at its own path.
    let (s, _, e) = server.post("/v2/operators", &admin, json!({})).await;
    assert_eq!(
        (s, e["error"]["details"][0]["path"].as_str()),
        (400, Some("/name"))
    );
    // Another operator cannot revoke it (404), and an unknown token is 404.
    assert_eq!(
        server
            .send(
                Method::DELETE,
                &format!("/v2/operators/{op_b}/applications/{reader_id}"),
                &admin,
                None
            )
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn rate_limit_is_per_operator_and_shared_between_processes() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_file(&dir);
    let limit = [("REGISTRY_RATE_LIMIT_PER_MIN", "6")];
    let one = Server::start(&data, &limit);
    let two = Server::start(&data, &limit);
    assert!(
        two.admin_token.is_none(),
        "the admin is bootstrapped once per store"
    );
    let (_, token) = operator_with_token(&one, None).await;
    let (_, other) = operator_with_token(&one, None).await;
    // The limit is per minute: start early in a minute so the 8 requests share one window.
    let second = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            % 60
    };
    while second() > 40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut statuses = Vec::new();
    // 8 requests alternate between the two processes sharing the store.
    for i in 0..8 {
        let server = if i % 2 == 0 { &one } else { &two };
        let (s, h, _) = server
            .post("/v2/journeys", &token, journey(&format!("r-{i}")))
            .await;
        if s == 429 {
            let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&retry));
        }
        statuses.push(s);
    }
    assert_eq!(statuses, vec![201, 201, 201, 201, 201, 201, 429, 429]);
    // The other operator is not limited by the first one's traffic.
    let (s, _, _) = two.post("/v2/journeys", &other, journey("free")).await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn kill_9_after_201_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_file(&dir);
    // A message the worker held when killed is delivered again after its visibility timeout.
    let fast = [("REGISTRY_VISIBILITY_SECS", "1")];
    let server = Server::start(&data, &fast);
    let (_, token) = operator_with_token(&server, None).await;
    let mut accepted = Vec::new();
    for i in 0..40 {
        let id = format!("k-{i}");
        let (s, _, _) = server.post("/v2/journeys", &token, journey(&id)).await;
        assert_eq!(s, 201);
        accepted.push(id);
    }
    server.kill();
    let server = Server::start(&data, &fast);
    // Every accepted journey is there, and the queued work survived: all get processed.
    for id in &accepted {
        wait_status(&server, &token, id, "ok").await;
    }
}

#[tokio::test]
async fn parallel_sends_of_one_journey_create_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&data_file(&dir), &[]);
    let (_, token) = operator_with_token(&server, None).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let url = server.url("/v2/journeys");
        let token = token.clone();
        // Half identical, half conflicting.
        let body = if i % 2 == 0 {
            journey("race")
        } else {
            other_journey("race", i)
        };
        tasks.spawn(async move { status(Method::POST, &url, Some(&token), Some(body)).await });
    }
    let mut statuses = Vec::new();
    while let Some(s) = tasks.join_next().await {
        statuses.push(s.unwrap());
    }
    registry_testkit::api::assert_created_once(&statuses);
}

#[tokio::test]
async fn cli_admin_commands_work_on_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_file(&dir);
    let data = data.to_str().unwrap();
    // --data and --json are accepted anywhere on the command line.
    let (ok, out) = cli(&[
        "admin",
        "operator",
        "create",
        "--name",
        "Covoit CLI",
        "--data",
        data,
        "--json",
    ]);
    assert!(ok, "{out}");
    let op: Value = serde_json::from_str(out.trim()).unwrap();
    let id = op["id"].as_u64().unwrap().to_string();
    let (ok, out) = cli(&[
        "--json",
        "--data",
        data,
        "admin",
        "token",
        "create",
        "--operator",
        &id,
        "--name",
        "srv",
        "--permission",
        "journey.create",
        "--permission",
        "journey.read",
    ]);
    assert!(ok, "{out}");
    let token: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        token["permissions"],
        json!(["journey.create", "journey.read"])
    );
    assert!(token["token_id"].is_string());
    let (ok, _) = cli(&[
        "admin",
        "token",
        "create",
        "--operator",
        "999",
        "--name",
        "x",
        "--data",
        data,
    ]);
    assert!(!ok, "unknown operator must fail");
    let (ok, _) = cli(&[
        "admin",
        "token",
        "create",
        "--operator",
        &id,
        "--name",
        "x",
        "--permission",
        "nope",
        "--data",
        data,
    ]);
    assert!(!ok, "unknown permission must fail");

    // The token made by the CLI works against a server on the same file.
    let server = Server::start(dir.path().join("registry.db").as_path(), &[]);
    let secret = token["token"].as_str().unwrap();
    let (s, _, _) = server.post("/v2/journeys", secret, journey("cli-1")).await;
    assert_eq!(s, 201);
    // Revoked from the CLI while the server runs: refused on the next request.
    let (ok, out) = cli(&[
        "admin",
        "token",
        "revoke",
        "--token-id",
        token["token_id"].as_str().unwrap(),
        "--data",
        data,
        "--json",
    ]);
    assert!(ok, "{out}");
    let (s, _, _) = server.get("/v2/journeys/cli-1", secret).await;
    assert_eq!(s, 401);
    let (ok, out) = cli(&[
        "admin",
        "token",
        "list",
        "--operator",
        &id,
        "--data",
        data,
        "--json",
    ]);
    assert!(ok);
    let list: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(list["tokens"][0]["revoked_at"].is_string());
    // Jobs by hand on the same file.
    let (ok, out) = cli(&["jobs", "sweep", "--data", data, "--json"]);
    assert!(ok, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(out.trim()).unwrap()["requeued"],
        0
    );
    let (ok, out) = cli(&["jobs", "dead-letters", "--data", data, "--json"]);
    assert!(ok, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(out.trim()).unwrap()["dead_letters"],
        json!([])
    );
}

#[tokio::test]
async fn journeys_are_canceled_once_kept_and_never_processed_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&data_file(&dir), &[]);
    let (_, token) = operator_with_token(&server, None).await;
    let (_, other) = operator_with_token(&server, None).await;
    let (_, no_delete) =
        operator_with_token(&server, Some(&["journey.create", "journey.read"])).await;
    let (s, _, _) = server.post("/v2/journeys", &token, journey("c-1")).await;
    assert_eq!(s, 201);
    let url = server.url("/v2/journeys/c-1");

    // Bad reasons: 400 with paths, nothing changed.
    let (s, _, e) = call(
        Method::DELETE,
        &url,
        Some(&token),
        Some(json!({"code": "x".repeat(33), "message": ""})),
    )
    .await;
    assert_eq!(s, 400);
    let paths: Vec<&str> = e["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["/code", "/message"]);
    let (s, _, e) = call(
        Method::DELETE,
        &url,
        Some(&token),
        Some(json!({"reason": "x"})),
    )
    .await;
    assert_eq!(
        (s, e["error"]["details"][0]["path"].as_str()),
        (400, Some("/reason"))
    );
    // 403 without the permission; 404 for another operator and for an unknown journey.
    assert_eq!(
        status(Method::DELETE, &url, Some(&no_delete), None).await,
        403
    );
    assert_eq!(status(Method::DELETE, &url, Some(&other), None).await, 404);
    assert_eq!(
        server
            .send(Method::DELETE, "/v2/journeys/nope", &token, None)
            .await
            .0,
        404
    );
    let (_, _, still) = get_url(&url, &token).await;
    assert_ne!(still["status"], "canceled");

    // Canceled with a reason; again: the same canceled_at. An empty body is fine too.
    let (s, _, first) = call(
        Method::DELETE,
        &url,
        Some(&token),
        Some(json!({"code": "user_report", "message": "not a real ride"})),
    )
    .await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(
        (first["journey_id"].as_str(), first["status"].as_str()),
        (Some("c-1"), Some("canceled"))
    );
    let (s, _, again) = call(Method::DELETE, &url, Some(&token), None).await;
    assert_eq!((s, &again["canceled_at"]), (200, &first["canceled_at"]));
    // Kept, and it stays canceled: processing never turns it back to ok.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (s, _, status) = get_url(&url, &token).await;
    assert_eq!((s, status["status"].as_str()), (200, Some("canceled")));
    // The same document sent again is still a replay of the original receipt, not a new journey.
    let (s, _, _) = server.post("/v2/journeys", &token, journey("c-1")).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn late_journeys_are_kept_as_expired_and_never_processed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&data_file(&dir), &[]);
    let (_, token) = operator_with_token(&server, None).await;
    // Ended 120 h and a minute ago: expired at once, in the receipt and in the status.
    let ended = chrono::Utc::now() - chrono::Duration::hours(120) - chrono::Duration::minutes(1);
    let late = registry_core::domain::journey::example_document(
        "late-1",
        ended + chrono::Duration::hours(1),
    );
    let (s, _, receipt) = server.post("/v2/journeys", &token, late.clone()).await;
    assert_eq!(
        (s, receipt["status"].as_str()),
        (201, Some("expired")),
        "{receipt}"
    );
    // 119 h after its end is still on time.
    let ended = chrono::Utc::now() - chrono::Duration::hours(119);
    let on_time = registry_core::domain::journey::example_document(
        "late-2",
        ended + chrono::Duration::hours(1),
    );
    let (s, _, receipt) = server.post("/v2/journeys", &token, on_time).await;
    assert_eq!((s, receipt["status"].as_str()), (201, Some("pending")));
    wait_status(&server, &token, "late-2", "ok").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, _, status) = server.get("/v2/journeys/late-1", &token).await;
    assert_eq!(status["status"], "expired");
    let (s, _, replay) = server.post("/v2/journeys", &token, late).await;
    assert_eq!((s, replay["status"].as_str()), (200, Some("expired")));
}

#[test]
fn offline_validator_reports_each_invalid_line_and_fails_only_then() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, example) = cli(&["journeys", "example", "--id", "ex-1"]);
    assert!(ok);
    let example: Value = serde_json::from_str(example.trim()).unwrap();
    assert_eq!(example["journey_id"], "ex-1");
    let mut bad = example.clone();
    bad["passenger"]["seats"] = json!(9);
    bad["driver"]["identity"] = json!({});
    let file = dir.path().join("journeys.ndjson");
    std::fs::write(&file, format!("{example}\n\n{bad}\nnot json\n{example}\n")).unwrap();
    let (ok, out) = cli(&["journeys", "validate", file.to_str().unwrap(), "--json"]);
    assert!(!ok, "invalid lines must fail the command");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(
        (lines[0]["line"].as_u64(), lines[0]["status"].as_u64()),
        (Some(3), Some(400))
    );
    let mut paths: Vec<&str> = lines[0]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, vec!["/driver/identity", "/passenger/seats"]);
    assert_eq!(lines[1]["line"], 4);
    assert_eq!(lines[2], json!({"valid": 2, "invalid": 2}));
    std::fs::write(&file, format!("{example}\n{example}\n")).unwrap();
    let (ok, out) = cli(&["journeys", "validate", file.to_str().unwrap(), "--json"]);
    assert!(ok, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(out.trim()).unwrap(),
        json!({"valid": 2, "invalid": 0})
    );
}

#[tokio::test]
async fn anomalies_are_found_at_processing_and_shown_by_the_status_route() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&data_file(&dir), &[]);
    let (_, token) = operator_with_token(&server, None).await;
    // ~18 km as the crow flies, declared 1 km: shorter than the straight line, and too short.
    let mut doc = journey("odd-1");
    doc["passenger"]["distance"] = json!(1000);
    let (s, _, _) = server.post("/v2/journeys", &token, doc).await;
    assert_eq!(s, 201);
    let status = wait_status(&server, &token, "odd-1", "anomaly_error").await;
    assert_eq!(
        status["anomaly_labels"],
        json!(["distance_shorter_than_straight_line", "distance_too_short"])
    );
    assert_eq!(status["fraud_labels"], json!([]));
    // A sound journey is ok with no labels.
    let (s, _, _) = server.post("/v2/journeys", &token, journey("fine-1")).await;
    assert_eq!(s, 201);
    let ok = wait_status(&server, &token, "fine-1", "ok").await;
    assert_eq!(ok["anomaly_labels"], json!([]));
}

#[tokio::test]
async fn a_journey_whose_processing_keeps_failing_is_dead_lettered_and_stays_readable() {
    use registry_core::{
        app::App,
        config::Config,
        domain::{journey, operator::OperatorId},
        jobs::Task,
        queue::Message,
        records::keys,
        store::{Item, WriteOp},
    };

    let dir = tempfile::tempdir().unwrap();
    let data = data_file(&dir);
    let server = Server::start(
        &data,
        &[
            ("REGISTRY_MAX_RECEIVES", "2"),
            ("REGISTRY_VISIBILITY_SECS", "1"),
        ],
    );
    let (op, token) = operator_with_token(&server, None).await;
    // A stored document that no longer parses (a bug or a bad migration): every attempt fails.
    // Written by a second process on the same file, journey and message in one transaction.
    let app = App::from_config(Config {
        db_path: data.clone(),
        ..Config::default()
    })
    .await
    .unwrap();
    let item = Item::new(keys::journey(OperatorId(op), "broken"))
        .with("operator_id", i64::try_from(op).unwrap())
        .with("journey_id", "broken")
        .with("status", "pending")
        .with("created_at", "2026-11-24T10:00:00.000Z")
        .with("updated_at", "2026-11-24T10:00:00.000Z")
        .with(
            registry_core::records::journey::STORED_DOCUMENT,
            journey::pack_document(b"{\"journey_id\": \"broken\", trailing junk"),
        );
    let task = Task::ProcessJourney {
        operator_id: OperatorId(op),
        journey_id: "broken".into(),
    };
    app.commit(
        vec![WriteOp::Put {
            item,
            condition: None,
        }],
        vec![Message::new(task.to_body())],
    )
    .await
    .unwrap();

    let path = data.to_str().unwrap();
    let mut dead = json!([]);
    for _ in 0..100 {
        let (ok, out) = cli(&["jobs", "dead-letters", "--data", path, "--json"]);
        assert!(ok, "{out}");
        dead = serde_json::from_str::<Value>(out.trim()).unwrap()["dead_letters"].clone();
        if dead.as_array().is_some_and(|d| !d.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(dead, json!([{"body": task.to_body(), "receive_count": 2}]));
    // Nothing lost: the journey is still there, still pending, for support to look at.
    let (s, _, body) = server.get("/v2/journeys/broken", &token).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["status"], "pending");
}

/// The fraud pass by hand, on the file of a running server: the same passenger's ride sent
/// by two operators is flagged on both, visible in the status route; a second run writes
/// nothing; `--last` shows the record; the text summary lists every label.
#[tokio::test]
async fn fraud_pass_by_hand_flags_a_ride_sent_by_two_operators() {
    let dir = tempfile::tempdir().unwrap();
    let data_path = data_file(&dir);
    let data = data_path.to_str().unwrap();
    let server = Server::start(&data_path, &[]);
    let (_, first) = operator_with_token(&server, None).await;
    let (_, second) = operator_with_token(&server, None).await;
    let mut other_driver = journey("dup-1");
    other_driver["driver"]["identity"]["phone"] = json!("+33611223344");
    for (token, doc) in [(&first, journey("dup-1")), (&second, other_driver)] {
        let (s, _, body) = server.post("/v2/journeys", token, doc).await;
        assert_eq!(s, 201, "{body}");
    }
    // Processed by the server's queue worker.
    for _ in 0..100 {
        let (_, _, j) = server.get("/v2/journeys/dup-1", &second).await;
        if j["status"] == "ok" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let (ok, out) = cli(&["jobs", "fraud-pass", "--data", data, "--json"]);
    assert!(ok, "{out}");
    let run: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(run["totals"]["written"], 2, "{run}");
    assert_eq!(run["totals"]["labels"]["temporal_overlap"], 2, "{run}");
    assert!(run["finished_at"].is_string());
    for token in [&first, &second] {
        let (_, _, j) = server.get("/v2/journeys/dup-1", token).await;
        assert_eq!(j["status"], "fraud_error", "{j}");
        assert_eq!(j["fraud_labels"], json!(["temporal_overlap"]));
    }

    let (ok, out) = cli(&["jobs", "fraud-pass", "--data", data]);
    assert!(ok, "{out}");
    assert!(out.contains("0 journeys written"), "{out}");
    assert!(out.contains("temporal_overlap"), "{out}");
    assert!(out.contains("too_many_trips_by_day"), "{out}");
    let (ok, out) = cli(&["jobs", "fraud-pass", "--last", "--data", data, "--json"]);
    assert!(ok, "{out}");
    let last: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(last["totals"]["written"], 0);
    assert_eq!(last["totals"]["labels"]["temporal_overlap"], 2);
    let (ok, _) = cli(&[
        "jobs",
        "fraud-pass",
        "--since",
        "not-a-date",
        "--data",
        data,
    ]);
    assert!(!ok);
}

// ---------------------------------------------------------------- CEE

async fn cee_operator(server: &Server) -> (u64, String) {
    let admin = server.admin_token.as_deref().expect("admin token");
    let (s, _, op) = server
        .post(
            "/v2/operators",
            admin,
            json!({"name": "Covoit", "siret": "89248032800012"}),
        )
        .await;
    assert_eq!(s, 201, "{op}");
    let id = op["id"].as_u64().unwrap();
    let (s, _, token) = server
        .create_application(id, admin, json!({"name": "backend"}))
        .await;
    assert_eq!(s, 201, "{token}");
    (id, token["token"].as_str().unwrap().to_owned())
}

fn long_application(licence: &str, identity_n: u32) -> Value {
    json!({
        "journey_type": "long",
        "driving_license": licence,
        "last_name_trunc": "DUP",
        "phone_trunc": "+336123456",
        "datetime": "2024-03-15T01:15:00+01:00",
        "application_timestamp": "2025-01-01T00:00:00Z",
        "identity_key": format!("{:064x}", identity_n),
    })
}

/// docs/OPERATIONS.md "Rotate the hash secret": a person registered under the old secret is
/// still "already registered" (cee.md: 409 with the earlier record) once the server runs
/// with the new secret and the old one as `REGISTRY_HASH_SECRET_PREVIOUS`; not without it.
#[tokio::test]
async fn cee_history_survives_a_hash_secret_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_file(&dir);
    let old = "old-hash-secret-0123456789abcdef0123456789";
    let new = "new-hash-secret-fedcba9876543210fedcba9876";

    let server = Server::start(&data, &[("REGISTRY_HASH_SECRET", old)]);
    let (_, token) = cee_operator(&server).await;
    let url = server.url("/v2/policies/cee");
    let (s, _, first) = post_url(&url, &token, long_application("ROTATE01", 9)).await;
    assert_eq!(s, 201, "{first}");
    drop(server);

    // Same identity key, another licence: found under the previous secret.
    let server = Server::start(
        &data,
        &[
            ("REGISTRY_HASH_SECRET", new),
            ("REGISTRY_HASH_SECRET_PREVIOUS", old),
        ],
    );
    let url = server.url("/v2/policies/cee");
    let (s, _, err) = post_url(&url, &token, long_application("ROTATE02", 9)).await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(
        err["error"]["data"],
        json!({"datetime": "2024-03-15T00:15:00.000Z", "uuid": first["uuid"]})
    );
    drop(server);

    // The previous secret removed: the old registration is no longer found.
    let server = Server::start(&data, &[("REGISTRY_HASH_SECRET", new)]);
    let url = server.url("/v2/policies/cee");
    let (s, _, second) = post_url(&url, &token, long_application("ROTATE02", 9)).await;
    assert_eq!(s, 201, "{second}");
}

/// `registry jobs rekey` on the server's data file after a rotation: the journey's
/// identity keys move to the new secret, with its evidence and trip-index entries, so a
/// server with the new secret alone still certifies the person's trip; a rerun writes
/// nothing; without the previous secret the job refuses.
#[tokio::test]
async fn rekey_job_moves_journeys_to_the_new_hash_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_file(&dir);
    let data_arg = data.to_str().unwrap();
    let old = "old-hash-secret-0123456789abcdef0123456789";
    let new = "new-hash-secret-fedcba9876543210fedcba9876";

    let server = Server::start(&data, &[("REGISTRY_HASH_SECRET", old)]);
    let (_, token) = cee_operator(&server).await;
    let (s, _, body) = server.post("/v2/journeys", &token, journey("rk-1")).await;
    assert_eq!(s, 201, "{body}");
    wait_status(&server, &token, "rk-1", "ok").await;
    drop(server);

    let rekey = |env: &[(&str, &str)]| {
        let (ok, out) = cli_with_env(&["jobs", "rekey", "--json", "--data", data_arg], env);
        (
            ok,
            serde_json::from_str::<Value>(&out).unwrap_or(Value::Null),
        )
    };
    let (ok, _) = rekey(&[("REGISTRY_HASH_SECRET", new)]);
    assert!(!ok, "refuses without REGISTRY_HASH_SECRET_PREVIOUS");
    let both = [
        ("REGISTRY_HASH_SECRET", new),
        ("REGISTRY_HASH_SECRET_PREVIOUS", old),
    ];
    let (ok, report) = rekey(&both);
    assert!(ok, "{report}");
    assert_eq!(
        (
            report["journeys"].clone(),
            report["rekeyed"].clone(),
            report["evidence_moved"].clone(),
            report["trip_entries_moved"].clone()
        ),
        (json!(1), json!(1), json!(2), json!(2)),
        "{report}"
    );
    let (ok, report) = rekey(&both);
    assert!(ok, "{report}");
    assert_eq!(
        (report["current"].clone(), report["rekeyed"].clone()),
        (json!(1), json!(0)),
        "{report}"
    );

    let server = Server::start(&data, &[("REGISTRY_HASH_SECRET", new)]);
    let now = chrono::Utc::now();
    let request = json!({
        "identity": {"phone": "+33612345678"},
        "tz": "Europe/Paris",
        "start_at": (now - chrono::Duration::days(30)).to_rfc3339(),
        "end_at": now.to_rfc3339(),
    });
    let (s, _, cert) = server.post("/v2/certificates", &token, request).await;
    assert_eq!(s, 201, "{cert}");
    assert_eq!(cert["meta"]["total"]["passenger_trips"], 1, "{cert}");
}

async fn public_key(server: &Server) -> String {
    let response = client()
        .get(server.url("/v2/policies/cee/public-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn cee_token_verifies_with_openssl_against_the_published_key() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&data_file(&dir), &[]);
    let (_, token) = cee_operator(&server).await;
    let (s, _, created) = server
        .post(
            "/v2/policies/cee",
            &token,
            long_application("051227308989", 1),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let signature = base64::engine::general_purpose::STANDARD
        .decode(created["token"].as_str().unwrap())
        .unwrap();
    std::fs::write(dir.path().join("pub.pem"), public_key(&server).await).unwrap();
    std::fs::write(dir.path().join("sig.bin"), &signature).unwrap();
    let verify = |message: &str| {
        std::fs::write(dir.path().join("msg.txt"), message).unwrap();
        std::process::Command::new("openssl")
            .args([
                "dgst",
                "-sha512",
                "-verify",
                "pub.pem",
                "-signature",
                "sig.bin",
                "msg.txt",
            ])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = verify("89248032800012/long/051227308989/2024-03-15T00:15:00.000Z");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Verified OK");
    assert!(
        !verify("89248032800012/long/051227308989/2024-03-15T00:15:00.001Z")
            .status
            .success()
    );

    // Deterministic: deleted and registered again, the same facts give the same token.
    let uuid = created["uuid"].as_str().unwrap();
    let path = server.url(&format!("/v2/policies/cee/{uuid}"));
    let (s, _, found) = get_url(&path, &token).await;
    assert_eq!((s, &found["token"]), (200, &created["token"]));
    assert_eq!(status(Method::DELETE, &path, Some(&token), None).await, 204);
    let (s, _, again) = server
        .post(
            "/v2/policies/cee",
            &token,
            long_application("051227308989", 1),
        )
        .await;
    assert_eq!(s, 201, "{again}");
    assert_eq!(again["token"], created["token"]);
    assert_ne!(again["uuid"], created["uuid"]);
}

/// `openssl dgst -sha512 -verify` of `token` over `message` with the PEM `public_key`.
fn openssl_verifies(dir: &std::path::Path, public_key: &str, message: &str, token: &str) -> bool {
    use base64::Engine;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(token)
        .unwrap();
    std::fs::write(dir.join("key.pem"), public_key).unwrap();
    std::fs::write(dir.join("token.bin"), signature).unwrap();
    std::fs::write(dir.join("message.txt"), message).unwrap();
    std::process::Command::new("openssl")
        .args([
            "dgst",
            "-sha512",
            "-verify",
            "key.pem",
            "-signature",
            "token.bin",
            "message.txt",
        ])
        .current_dir(dir)
        .output()
        .unwrap()
        .status
        .success()
}

async fn get_key(server: &Server, query: &str) -> (u16, Option<String>, String) {
    let response = client()
        .get(server.url(&format!("/v2/policies/cee/public-key{query}")))
        .send()
        .await
        .unwrap();
    let kid = response
        .headers()
        .get("key-id")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        response.status().as_u16(),
        kid,
        response.text().await.unwrap(),
    )
}

/// A rotation with an overlap: the new key signs, the previous one stays published under
/// its key id, and every token names the key that verifies it.
#[tokio::test]
async fn cee_signing_keys_rotate_with_an_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_file(&dir);
    let message = "89248032800012/long/051227308989/2024-03-15T00:15:00.000Z";

    let server = Server::start(&data, &[]);
    let (_, token) = cee_operator(&server).await;
    let (s, _, first) = server
        .post(
            "/v2/policies/cee",
            &token,
            long_application("051227308989", 1),
        )
        .await;
    assert_eq!(s, 201, "{first}");
    let (s, old_kid, old_pem) = get_key(&server, "").await;
    assert_eq!(s, 200);
    let old_kid = old_kid.expect("Key-Id header");
    assert_eq!(first["kid"], old_kid.as_str());
    assert!(openssl_verifies(
        dir.path(),
        &old_pem,
        message,
        first["token"].as_str().unwrap()
    ));
    drop(server);

    // The new key signs; the old public key is published as the previous one.
    let new_key = registry_testkit::keys::new_key_pem(4096);
    let server = Server::start(
        &data,
        &[
            ("REGISTRY_SIGNING_KEY", new_key.as_str()),
            ("REGISTRY_SIGNING_KEY_PREVIOUS", old_pem.as_str()),
        ],
    );
    let (s, new_kid, new_pem) = get_key(&server, "").await;
    assert_eq!(s, 200);
    let new_kid = new_kid.unwrap();
    assert_ne!(new_kid, old_kid);
    assert_ne!(new_pem, old_pem);
    let (s, kid, pem) = get_key(&server, &format!("?kid={old_kid}")).await;
    assert_eq!(
        (s, kid.as_deref(), pem.as_str()),
        (200, Some(old_kid.as_str()), old_pem.as_str())
    );
    assert_eq!(get_key(&server, "?kid=0000000000000000").await.0, 404);
    let (s, _, listed) = get_key(&server, "?format=json").await;
    assert_eq!(s, 200);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["current_kid"], new_kid.as_str());
    assert_eq!(
        listed["keys"],
        json!([
            {"kid": new_kid, "status": "current", "pem": new_pem},
            {"kid": old_kid, "status": "previous", "pem": old_pem},
        ])
    );

    // The earlier application still names the key that signed it, which still verifies it.
    let uuid = first["uuid"].as_str().unwrap();
    let (s, _, found) = server
        .get(&format!("/v2/policies/cee/{uuid}"), &token)
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (&found["kid"], &found["token"]),
        (&first["kid"], &first["token"])
    );
    let (_, _, by_kid) =
        get_key(&server, &format!("?kid={}", found["kid"].as_str().unwrap())).await;
    assert!(openssl_verifies(
        dir.path(),
        &by_kid,
        message,
        found["token"].as_str().unwrap()
    ));

    // A new application is signed with the new key, and only it verifies the token.
    let (s, _, second) = server
        .post("/v2/policies/cee", &token, long_application("ABC1234", 2))
        .await;
    assert_eq!(s, 201, "{second}");
    assert_eq!(second["kid"], new_kid.as_str());
    let message = "89248032800012/long/ABC1234/2024-03-15T00:15:00.000Z";
    let signed = second["token"].as_str().unwrap();
    assert!(openssl_verifies(dir.path(), &new_pem, message, signed));
    assert!(!openssl_verifies(dir.path(), &old_pem, message, signed));
}

#[tokio::test]
async fn cee_simultaneous_registrations_over_http_have_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&data_file(&dir), &[]);
    let (_, a) = cee_operator(&server).await;
    let (_, b) = cee_operator(&server).await;
    let url = server.url("/v2/policies/cee");
    for round in 0..10u32 {
        let licence = format!("HTTP{round:04}");
        let (ra, rb) = tokio::join!(
            status(
                Method::POST,
                &url,
                Some(&a),
                Some(long_application(&licence, round * 2 + 1))
            ),
            status(
                Method::POST,
                &url,
                Some(&b),
                Some(long_application(&licence, round * 2 + 2))
            ),
        );
        let mut got = [ra, rb];
        got.sort();
        assert_eq!(got, [201, 409], "round {round}");
    }
}

#[tokio::test]
async fn serve_generates_its_signing_key_once_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_file(&dir);
    // An empty REGISTRY_SIGNING_KEY counts as unset.
    let server = Server::start(&data, &[("REGISTRY_SIGNING_KEY", "")]);
    let first = public_key(&server).await;
    assert!(first.starts_with("-----BEGIN PUBLIC KEY-----"));
    let key_file = dir.path().join("cee-signing-key.pem");
    assert!(std::fs::read_to_string(&key_file)
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    server.kill();
    let server = Server::start(&data, &[("REGISTRY_SIGNING_KEY", "")]);
    assert_eq!(public_key(&server).await, first);
}

#[tokio::test]
async fn refused_registrations_are_listed_by_registry_admin_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_file(&dir);
    let server = Server::start(&data, &[]);
    let (id, token) = cee_operator(&server).await;
    let mut bad = long_application("051227308989", 1);
    bad["phone_trunc"] = json!("12");
    let (s, _, _) = server.post("/v2/policies/cee", &token, bad).await;
    assert_eq!(s, 400);
    let (ok, out) = cli(&[
        "--data",
        data.to_str().unwrap(),
        "--json",
        "admin",
        "cee",
        "errors",
        "--operator",
        &id.to_string(),
    ]);
    assert!(ok, "{out}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    let errors = listed["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{listed}");
    assert_eq!(errors[0]["kind"], "validation");
    assert_eq!(errors[0]["details"][0]["path"], "/phone_trunc");
    assert_eq!(errors[0]["journey_type"], "long");
    // No personal data in the log.
    assert!(!out.contains("051227308989"));
}

/// `body` sent as is, with `content_type` when given; the status and the JSON answer.
async fn send_raw(
    server: &Server,
    method: Method,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut request = client()
        .request(method, server.url(path))
        .bearer_auth(token)
        .body(body.to_owned());
    if let Some(t) = content_type {
        request = request.header("content-type", t);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn error_paths(e: &Value) -> Vec<&str> {
    e["error"]["details"]
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["path"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn duplicate_keys_control_characters_and_non_json_bodies_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&data_file(&dir), &[]);
    let admin = server.admin_token.clone().unwrap();
    let (op, token) = operator_with_token(&server, None).await;
    let json = Some("application/json");

    // Duplicate keys: 400 at the pointer of the repeated key, on every body-taking route.
    let cases: &[(Method, String, &str, &str, &str)] = &[
        (
            Method::POST,
            "/v2/journeys".into(),
            &token,
            r#"{"journey_id":"a","journey_id":"b"}"#,
            "/journey_id",
        ),
        (
            Method::POST,
            "/v2/journeys".into(),
            &token,
            r#"{"passenger":{"identity":{"phone":"1","phone":"2"}}}"#,
            "/passenger/identity/phone",
        ),
        (
            Method::DELETE,
            "/v2/journeys/j1".into(),
            &token,
            r#"{"reason":"a","reason":"b"}"#,
            "/reason",
        ),
        (
            Method::POST,
            "/v2/operators".into(),
            &admin,
            r#"{"name":"a","name":"b"}"#,
            "/name",
        ),
        (
            Method::POST,
            format!("/v2/operators/{op}/applications"),
            &admin,
            r#"{"name":"a","permissions":["journey.read"],"name":"b"}"#,
            "/name",
        ),
        (
            Method::POST,
            "/v2/campaigns".into(),
            &admin,
            r#"{"id":"c1","territory":{"rule":"start","rule":"end"}}"#,
            "/territory/rule",
        ),
        (
            Method::POST,
            "/v2/policies/cee/simulate".into(),
            &token,
            r#"{"journey_type":"short","journey_type":"long"}"#,
            "/journey_type",
        ),
        (
            Method::POST,
            "/v2/policies/cee/import".into(),
            &token,
            r#"[{"journey_type":"short"},{"phone_trunc":"1","phone_trunc":"1"}]"#,
            "/1/phone_trunc",
        ),
        (
            Method::POST,
            "/v2/certificates".into(),
            &token,
            r#"{"identity":{"phone":"0612345678"},"identity":{}}"#,
            "/identity",
        ),
    ];
    for (method, path, who, body, pointer) in cases {
        let (s, e) = send_raw(&server, method.clone(), path, who, json, body).await;
        assert_eq!((s, error_paths(&e)), (400, vec![*pointer]), "{path} {e}");
        assert_eq!(e["error"]["details"][0]["reason"], "duplicate key", "{e}");
    }
    // The same key in two objects is no duplicate.
    let (s, e) = send_raw(
        &server,
        Method::POST,
        "/v2/journeys",
        &token,
        json,
        &journey("same-keys").to_string(),
    )
    .await;
    assert_eq!(s, 201, "{e}");

    // Control characters, line breaks and bidirectional formatting in identifiers and
    // names: 400 at the field; other Unicode stays accepted.
    for bad in [
        "a\nb",
        "a\u{0}b",
        "a\u{85}b",
        "\u{202E}gpj.exe",
        "a\u{2066}b",
    ] {
        let mut doc = journey("ctl");
        doc["journey_id"] = json!(bad);
        let (s, _, e) = server.post("/v2/journeys", &token, doc).await;
        assert_eq!(
            (s, error_paths(&e)),
            (400, vec!["/journey_id"]),
            "{bad:?} {e}"
        );
        let mut doc = journey("ctl");
        doc["operator_journey_id"] = json!(bad);
        doc["driver"]["identity"]["operator_user_id"] = json!(bad);
        let (s, _, e) = server.post("/v2/journeys", &token, doc).await;
        let mut paths = error_paths(&e);
        paths.sort();
        assert_eq!(
            (s, paths),
            (
                400,
                vec!["/driver/identity/operator_user_id", "/operator_journey_id"]
            ),
            "{bad:?} {e}"
        );
        let (s, _, e) = server
            .post("/v2/operators", &admin, json!({"name": bad}))
            .await;
        assert_eq!((s, error_paths(&e)), (400, vec!["/name"]), "{bad:?} {e}");
        let (s, _, e) = server
            .create_application(op, &admin, json!({"name": bad}))
            .await;
        assert_eq!((s, error_paths(&e)), (400, vec!["/name"]), "{bad:?} {e}");
        let mut campaign =
            registry_testkit::docs::paris_campaign("ctl", chrono::Utc::now().date_naive());
        campaign["name"] = json!(bad);
        let (s, _, e) = server.post("/v2/campaigns", &admin, campaign).await;
        assert_eq!(s, 400, "{bad:?} {e}");
        assert!(error_paths(&e).contains(&"/name"), "{bad:?} {e}");
    }
    let good = "Trajet n°42 — Zoé 李";
    let mut doc = journey(good);
    doc["operator_journey_id"] = json!(good);
    doc["driver"]["identity"]["operator_user_id"] = json!(good);
    let (s, _, e) = server.post("/v2/journeys", &token, doc).await;
    assert_eq!(s, 201, "{e}");
    let (s, _, e) = server
        .post("/v2/operators", &admin, json!({"name": good}))
        .await;
    assert_eq!(s, 201, "{e}");
    let (s, _, e) = server
        .create_application(op, &admin, json!({"name": good}))
        .await;
    assert_eq!(s, 201, "{e}");

    // Content type: a body that says it is not JSON is 415; JSON with parameters, a
    // +json type or no Content-Type at all are read.
    for (i, content_type) in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/json",
    ]
    .into_iter()
    .enumerate()
    {
        let doc = journey(&format!("ct-refused-{i}")).to_string();
        let (s, e) = send_raw(
            &server,
            Method::POST,
            "/v2/journeys",
            &token,
            Some(content_type),
            &doc,
        )
        .await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (415, Some("unsupported_media_type")),
            "{content_type} {e}"
        );
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("application/json"),
            "{e}"
        );
        let (s, _) = send_raw(
            &server,
            Method::POST,
            "/v2/operators",
            &admin,
            Some(content_type),
            r#"{"name":"x"}"#,
        )
        .await;
        assert_eq!(s, 415, "{content_type}");
    }
    for (i, content_type) in [
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("Application/JSON;charset=UTF-8"),
        Some("application/merge-patch+json"),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        let doc = journey(&format!("ct-accepted-{i}")).to_string();
        let (s, e) = send_raw(
            &server,
            Method::POST,
            "/v2/journeys",
            &token,
            content_type,
            &doc,
        )
        .await;
        assert_eq!(s, 201, "{content_type:?} {e}");
    }
    // Nothing of the refused ones was stored.
    let (s, _, _) = server.get("/v2/journeys/ct-refused-0", &token).await;
    assert_eq!(s, 404);
    // Without a body, the Content-Type is not looked at.
    let (s, e) = send_raw(
        &server,
        Method::GET,
        "/v2/journeys/ct-accepted-0",
        &token,
        Some("text/plain"),
        "",
    )
    .await;
    assert_eq!(s, 200, "{e}");
    let (s, e) = send_raw(
        &server,
        Method::DELETE,
        "/v2/journeys/ct-accepted-1",
        &token,
        Some("text/plain"),
        "",
    )
    .await;
    assert_eq!(s, 200, "{e}");
}
