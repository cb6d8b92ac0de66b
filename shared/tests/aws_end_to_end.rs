//! The registry end to end on the production adapters: DynamoDB + SQS (a local moto
//! server), requests built like API Gateway builds them, the queue consumer fed from SQS.
//! And when DynamoDB cannot be reached: 503, nothing written.

use std::sync::Arc;
use std::time::Duration;

use registry_core::admin::{self, TokenRequest};
use registry_core::api::{self, router::RouteId};
use registry_core::app::App;
use registry_core::lambda::handle_sqs;
use registry_core::queue::{memory::MemoryQueue, sqs::SqsQueue, Queue};
use registry_core::store::dynamodb::DynamoStore;
use registry_testkit::api::{assert_created_once, request, send, sqs_event};
use registry_testkit::app::{dynamodb_config as config, dynamodb_store};
use registry_testkit::docs::{journey, other_journey};
use registry_testkit::moto::*;
use serde_json::{json, Value};

#[tokio::test]
async fn journey_flows_through_dynamodb_and_sqs() {
    let store = dynamodb_store("registry").await;
    let (queue_url, dlq_url) =
        registry_core::queue::sqs::create_queues(&sqs_client(), &unique_name("work"), 5)
            .await
            .unwrap();
    let queue =
        SqsQueue::new(sqs_client(), queue_url, Some(dlq_url)).with_wait(Duration::from_secs(1));
    let app = App::new(Arc::new(store), Arc::new(queue.clone()), config());

    let admin_token = admin::bootstrap(&app)
        .await
        .unwrap()
        .expect("first bootstrap");
    assert!(
        admin::bootstrap(&app).await.unwrap().is_none(),
        "bootstrap happens once"
    );
    let (s, op) = send(
        &app,
        Some(RouteId::OperatorsCreate),
        request(
            "POST",
            "/v2/operators",
            &admin_token.token,
            Some(json!({"name": "Covoit"})),
        ),
    )
    .await;
    assert_eq!(s, 201, "{op}");
    let op_id = op["id"].as_u64().unwrap();
    let token = admin::create_token(
        &app,
        TokenRequest::application("srv", registry_core::domain::operator::OperatorId(op_id)),
    )
    .await
    .unwrap()
    .token;

    let doc = journey("aws-1");
    let (s, receipt) = send(
        &app,
        Some(RouteId::JourneysCreate),
        request("POST", "/v2/journeys", &token, Some(doc.clone())),
    )
    .await;
    assert_eq!(s, 201, "{receipt}");
    let (s, again) = send(
        &app,
        Some(RouteId::JourneysCreate),
        request("POST", "/v2/journeys", &token, Some(doc)),
    )
    .await;
    assert_eq!((s, &again), (200, &receipt));
    let (s, _) = send(
        &app,
        Some(RouteId::JourneysCreate),
        request(
            "POST",
            "/v2/journeys",
            &token,
            Some(other_journey("aws-1", 1)),
        ),
    )
    .await;
    assert_eq!(s, 409);
    let (_, status) = send(
        &app,
        Some(RouteId::JourneysStatus),
        request("GET", "/v2/journeys/aws-1", &token, None),
    )
    .await;
    assert_eq!(status["status"], "pending");

    // The message went to SQS; the consumer Lambda's handler processes it.
    let deliveries = queue.receive(10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(
        deliveries.len(),
        1,
        "one message per accepted journey, none for the replay"
    );
    let event = sqs_event([("m-1".to_owned(), deliveries[0].body.clone())]);
    assert!(handle_sqs(&app, event).await.batch_item_failures.is_empty());
    queue.ack(&deliveries[0].receipt).await.unwrap();
    let (_, status) = send(
        &app,
        Some(RouteId::JourneysStatus),
        request("GET", "/v2/journeys/aws-1", &token, None),
    )
    .await;
    assert_eq!(status["status"], "ok");

    // Revocation holds on the next request.
    let token_id = token.split('.').nth(1).unwrap();
    admin::revoke_token(&app, token_id, |_| true).await.unwrap();
    let (s, _) = send(
        &app,
        Some(RouteId::JourneysStatus),
        request("GET", "/v2/journeys/aws-1", &token, None),
    )
    .await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn unreachable_dynamodb_is_503_with_retry_after() {
    use aws_sdk_dynamodb::config::{
        retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Credentials, Region,
    };
    // A loopback port with nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-3"))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials_provider(Credentials::new("x", "x", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .build();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), "registry");
    let queue = Arc::new(MemoryQueue::default());
    let app = App::new(Arc::new(store), queue.clone(), config());
    let token = "rpc.0123456789abcdef0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let response = api::handle(
        &app,
        request(
            "POST",
            "/v2/journeys",
            token,
            Some(json!({"journey_id": "x"})),
        ),
        None,
        None,
    )
    .await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(
        queue
            .receive(10, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty(),
        "nothing enqueued"
    );
}

/// The conditional put under concurrency, on moto like the other tests here. It usually
/// passes, but moto's threaded server writes items without a lock (the concurrent counter
/// check saw it return one value twice), so a failure may be moto's: not part of the
/// default run; `cargo test -p registry-core --test aws_end_to_end -- --ignored` runs it.
/// The embedded store proves the same under concurrency in tests/http_api.rs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "moto applies concurrent writes to one item without a lock"]
async fn parallel_sends_of_one_journey_create_it_once_on_dynamodb() {
    let store = dynamodb_store("registry").await;
    let queue = Arc::new(MemoryQueue::default());
    let app = App::new(Arc::new(store), queue.clone(), config());
    let op = admin::create_operator(&app, "Covoit".into(), None)
        .await
        .unwrap();
    let token = admin::create_token(&app, TokenRequest::application("srv", op.id))
        .await
        .unwrap()
        .token;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let app = app.clone();
        let token = token.clone();
        // Half identical documents, half conflicting ones.
        let doc = if i % 2 == 0 {
            journey("race")
        } else {
            other_journey("race", i)
        };
        tasks.spawn(async move {
            send(
                &app,
                Some(RouteId::JourneysCreate),
                request("POST", "/v2/journeys", &token, Some(doc)),
            )
            .await
            .0
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = tasks.join_next().await {
        statuses.push(s.unwrap());
    }
    assert_created_once(&statuses);
    // One journey, one processing message.
    assert_eq!(
        queue
            .receive(200, Duration::from_secs(30))
            .await
            .unwrap()
            .len(),
        1
    );
}
