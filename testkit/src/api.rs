//! Requests built like API Gateway builds them, sent to an app in process
//! ([`registry_core::api::handle`]).

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use bytes::Bytes;
use registry_core::api::{self, router::RouteId};
use registry_core::app::App;
use serde_json::Value;

/// A request with the bearer `token` and a JSON body.
pub fn request(method: &str, path: &str, token: &str, body: Option<Value>) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.map(|b| Bytes::from(b.to_string())).unwrap_or_default())
        .expect("request")
}

/// Sends `request` to `app` (to the function of `route` only, when given) and returns the
/// status and the body: JSON, `null` when empty, else the text as a JSON string.
pub async fn send(
    app: &App,
    route: Option<RouteId>,
    request: http::Request<Bytes>,
) -> (u16, Value) {
    let response = api::handle(app, request, route, None).await;
    let status = response.status().as_u16();
    (status, json_body(response.body()))
}

/// [`send`] of [`request`] to any route.
pub async fn call(
    app: &App,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    send(app, None, request(method, path, token, body)).await
}

/// A response body as JSON: `null` when empty, the text as a string when not JSON.
pub fn json_body(body: &[u8]) -> Value {
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
    }
}

/// Of the statuses of concurrent sends of one journey: exactly one 201, the others 200 or
/// 409.
pub fn assert_created_once(statuses: &[u16]) {
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 201, 409].contains(s)),
        "{statuses:?}"
    );
}

/// An SQS event as Lambda hands it to the queue consumer: one record per (message id, body).
pub fn sqs_event(records: impl IntoIterator<Item = (String, String)>) -> SqsEvent {
    let mut event = SqsEvent::default();
    for (id, body) in records {
        let mut message = SqsMessage::default();
        message.message_id = Some(id);
        message.body = Some(body);
        event.records.push(message);
    }
    event
}
