//! The Lambda side: what each thin `main` in functions/ calls.

use std::convert::Infallible;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use bytes::Bytes;
use lambda_http::{Body, RequestExt};
use lambda_runtime::LambdaEvent;

use crate::api::{self, router::RouteId};
use crate::app::App;
use crate::config::Config;

pub type Error = lambda_runtime::Error;

/// JSON logs for CloudWatch; `RUST_LOG` filters.
pub fn init_logging() {
    crate::logging::init_json();
}

async fn app_from_env() -> Result<App, Error> {
    let config = Config::from_env()?;
    Ok(App::from_config(config).await?)
}

/// Converts an API Gateway request, runs the route, converts the response back.
pub async fn handle_http(
    app: &App,
    route: RouteId,
    request: lambda_http::Request,
) -> lambda_http::Response<Body> {
    let request_id = request_id(&request);
    let (parts, body) = request.into_parts();
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(s) => Bytes::from(s),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    let response = api::handle(
        app,
        http::Request::from_parts(parts, body),
        Some(route),
        request_id,
    )
    .await;
    to_lambda(response)
}

/// API Gateway's request id: the one of the API access log, so one id (also answered in
/// `x-request-id`) finds a request in both logs; else the Lambda invocation's.
fn request_id(request: &lambda_http::Request) -> Option<String> {
    let gateway = match request.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(c)) => c.request_id.clone(),
        _ => None,
    };
    gateway.or_else(|| request.lambda_context_ref().map(|c| c.request_id.clone()))
}

fn to_lambda(response: http::Response<Bytes>) -> lambda_http::Response<Body> {
    let (parts, body) = response.into_parts();
    // PDF and PNG go back base64-encoded (API Gateway's binary bodies), even when their
    // bytes happen to be valid UTF-8.
    let binary = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/pdf") || t.starts_with("image/"));
    let body = if binary {
        Body::Binary(body.to_vec())
    } else {
        match String::from_utf8(body.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    };
    lambda_http::Response::from_parts(parts, body)
}

/// The whole `main` of an HTTP route function.
pub async fn run_http(route: RouteId) -> Result<(), Error> {
    init_logging();
    let app = app_from_env().await?;
    if route.route().phones {
        // The phone-number metadata loads on first use, and France's patterns compile on
        // first use (~7 ms together): pay it during init, not in the first operator
        // request after a cold start.
        let _ = crate::domain::phone::Phone::parse("+33600000000");
    }
    lambda_http::run(lambda_http::service_fn(move |request| {
        let app = app.clone();
        async move { Ok::<_, Infallible>(handle_http(&app, route, request).await) }
    }))
    .await
}

/// Runs every record; the failed ones are reported so only they are retried.
pub async fn handle_sqs(app: &App, event: SqsEvent) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.as_deref().unwrap_or_default();
        if let Err(e) = crate::jobs::run(app, body).await {
            tracing::warn!(message_id = %id, error = %e, "task failed; SQS will retry it");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}

/// The whole `main` of the queue consumer function.
pub async fn run_queue_consumer() -> Result<(), Error> {
    init_logging();
    let app = app_from_env().await?;
    // Parsed once per container, during init rather than on the first message.
    crate::domain::country::warm();
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<SqsEvent>| {
            let app = app.clone();
            async move { Ok::<_, Error>(handle_sqs(&app, event.payload).await) }
        },
    ))
    .await
}

/// The whole `main` of the scheduled sweeper function (EventBridge).
pub async fn run_sweeper() -> Result<(), Error> {
    init_logging();
    let app = app_from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |_: LambdaEvent<serde_json::Value>| {
            let app = app.clone();
            async move {
                let delay = chrono::Duration::minutes(crate::jobs::sweep::DEFAULT_DELAY_MINUTES);
                let report = crate::jobs::sweep::sweep(&app, delay).await?;
                Ok::<_, Error>(serde_json::json!(report))
            }
        },
    ))
    .await
}

/// The day a manual invocation asks the fraud pass to start from: `{"since": "YYYY-MM-DD"}`
/// (or in `detail` of an EventBridge event); a scheduled event has none.
pub fn fraud_pass_since(event: &serde_json::Value) -> Result<Option<chrono::NaiveDate>, Error> {
    let since = event
        .get("since")
        .or_else(|| event.get("detail").and_then(|d| d.get("since")));
    match since {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => {
            Ok(Some(s.parse().map_err(|_| {
                format!("since: {s:?} is not a YYYY-MM-DD date")
            })?))
        }
        Some(other) => Err(format!("since: {other} is not a YYYY-MM-DD date").into()),
    }
}

/// Handles one invocation of the `fraud-pass` function: records a run and fans it out.
pub async fn handle_fraud_pass(
    app: &App,
    event: serde_json::Value,
) -> Result<serde_json::Value, Error> {
    let since = fraud_pass_since(&event)?;
    let run = crate::jobs::fraud::fan_out(app, since).await?.header;
    tracing::info!(run_id = %run.run_id, units = run.units, "fraud pass fanned out");
    Ok(serde_json::json!({
        "run_id": run.run_id,
        "first_day": run.first_day,
        "last_day": run.last_day,
        "units": run.units,
    }))
}

/// The whole `main` of the scheduled `fraud-pass` function (EventBridge, daily): one queue
/// message per (day, identity-key shard), run by the queue consumer.
pub async fn run_fraud_pass() -> Result<(), Error> {
    init_logging();
    let app = app_from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<serde_json::Value>| {
            let app = app.clone();
            async move { handle_fraud_pass(&app, event.payload).await }
        },
    ))
    .await
}

/// Handles one invocation of the `policy-monthly` function: plans the monthly policy run
/// of the previous month (Europe/Paris) for every campaign overlapping it and sends its
/// units to the monthly queue (`policy-monthly-worker` runs them). A manual invocation may
/// name the month and force a rerun, `{"month": "YYYY-MM", "force": true}`, or send again
/// the units of a run not done (after dead letters), `{"resume": "RUN_ID"}` (or in
/// `detail`). A month final already is recorded as refused, not an error: a retried
/// scheduled event changes nothing.
pub async fn handle_policy_monthly(
    app: &App,
    event: serde_json::Value,
) -> Result<serde_json::Value, Error> {
    use crate::campaigns::monthly::{fanout, Month};
    let field = |name: &str| {
        event
            .get(name)
            .or_else(|| event.get("detail").and_then(|d| d.get(name)))
            .filter(|v| !v.is_null())
    };
    if let Some(v) = field("resume") {
        let run_id = v
            .as_str()
            .ok_or_else(|| format!("resume: {v} is not a run id"))?;
        let units = fanout::resume(app, run_id).await?;
        tracing::info!(run_id, units = units.len(), "policy-monthly resumed");
        return Ok(serde_json::json!({"run_id": run_id, "units_sent": units.len()}));
    }
    let month = match field("month") {
        None => Month::previous(app.clock.now()),
        Some(v) => v
            .as_str()
            .and_then(Month::parse)
            .ok_or_else(|| format!("month: {v} is not a month YYYY-MM"))?,
    };
    let force = match field("force") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| format!("force: {v} is not true or false"))?,
    };
    let run = fanout::fan_out(app, month, force).await?;
    tracing::info!(run_id = %run.run_id, %month, units = run.units, "policy-monthly fanned out");
    Ok(serde_json::to_value(&run)?)
}

/// The whole `main` of the scheduled `policy-monthly` function (EventBridge Scheduler, the
/// 6th at 04:00 Europe/Paris).
pub async fn run_policy_monthly() -> Result<(), Error> {
    init_logging();
    let app = app_from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<serde_json::Value>| {
            let app = app.clone();
            async move { handle_policy_monthly(&app, event.payload).await }
        },
    ))
    .await
}

/// The whole `main` of the `policy-monthly-worker` function: the monthly queue's units,
/// one per invocation (a unit can take minutes), failures reported for retry.
pub async fn run_policy_monthly_worker() -> Result<(), Error> {
    run_queue_consumer().await
}

/// The whole `main` of the `not-found` function (API Gateway's `$default` route): JSON 404
/// or 405 for what no route takes. It needs no store, so it builds no adapters.
pub async fn run_not_found() -> Result<(), Error> {
    init_logging();
    lambda_http::run(lambda_http::service_fn(|request: lambda_http::Request| async move {
        Ok::<_, Infallible>(handle_unrouted(&request))
    }))
    .await
}

pub fn handle_unrouted(request: &lambda_http::Request) -> lambda_http::Response<Body> {
    let response = api::unrouted(request.method(), request.uri().path());
    tracing::info!(status = response.status().as_u16(), "unrouted request");
    to_lambda(response)
}
