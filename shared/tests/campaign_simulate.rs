//! Simulation of a campaign document (issue 18) on the embedded store (an SQLite file) and
//! on DynamoDB (moto): the monthly run's rules over the stored journeys of two months, the
//! counters carried from one month to the next, nothing stored.

use chrono::TimeZone;
use registry_core::admin;
use registry_core::api::router::RouteId;
use registry_core::app::App;
use registry_core::campaigns::simulate::{self, ReasonCount};
use registry_core::campaigns::{self, CampaignError};
use registry_core::domain::journey::example_document;
use registry_core::domain::operator::OperatorId;
use registry_testkit::api::{request, send};
use registry_testkit::app::{store_processed, Backend, TestApp};
use registry_testkit::docs::campaign_2025;
use serde_json::{json, Value};

/// (journey id, passenger phone, month, day, in Paris).
const JOURNEYS: [(&str, &str, u32, u32, bool); 9] = [
    ("m1", "+33611111111", 3, 3, true),
    ("m2", "+33611111111", 3, 4, true),
    ("m3", "+33611111111", 3, 5, true),
    ("m4", "+33622222222", 3, 6, true),
    ("m5", "+33622222222", 3, 7, false),
    ("m6", "+33644444444", 3, 8, true),
    ("a1", "+33633333333", 4, 1, true),
    ("a2", "+33655555555", 4, 2, true),
    ("a3", "+33666666666", 4, 3, true),
];

fn document() -> Value {
    campaign_2025(
        "sim",
        json!({"name": "Sim", "territory_id": "paris", "pays": ["passenger"], "caps": [
            {"kind": "trips", "per": "month", "max": 2},
            {"kind": "budget", "max": 500}
        ]}),
    )
}

async fn setup(backend: Backend) -> (TestApp, String) {
    let t = TestApp::on(backend)
        .await
        .at(chrono::Utc.with_ymd_and_hms(2025, 5, 6, 2, 0, 0).unwrap());
    let app = &t.app;
    let (op, token) = admin::operator_with_token(app, "Covoit", None)
        .await
        .unwrap();
    let op = OperatorId(op.id.0);
    for (id, phone, month, day, paris) in JOURNEYS {
        let at = chrono::Utc
            .with_ymd_and_hms(2025, month, day, 9, 0, 0)
            .unwrap();
        let mut doc = example_document(id, at);
        doc["passenger"]["identity"]["phone"] = json!(phone);
        if !paris {
            // The same trip moved to Lyon.
            for side in ["passenger", "driver"] {
                doc[side]["start"]["lat"] = json!(45.7640);
                doc[side]["start"]["lon"] = json!(4.8357);
                doc[side]["end"]["lat"] = json!(45.7123);
                doc[side]["end"]["lon"] = json!(4.6039);
            }
        }
        store_processed(app, op, &doc, at).await;
    }
    let (s, body) = send(
        app,
        Some(RouteId::JourneysCancel),
        request("DELETE", "/v2/journeys/m6", &token.token, None),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    (t, token.token)
}

fn reasons(list: &[(&str, u64)]) -> Vec<ReasonCount> {
    list.iter()
        .map(|(r, n)| ReasonCount {
            reason: r.to_string(),
            journeys: *n,
        })
        .collect()
}

async fn simulate_on(backend: Backend) {
    let (t, _) = setup(backend).await;
    let app: &App = &t.app;
    let months = simulate::months(Some("2025-03"), Some("2025-04")).unwrap();
    let body = document().to_string();
    let campaign = simulate::parse(app, body.as_bytes()).await.unwrap();
    let s = simulate::simulate(app, campaign, &months).await.unwrap();
    assert_eq!((s.from.as_str(), s.to.as_str()), ("2025-03", "2025-04"));
    assert!(!s.starting_counters);
    let march = &s.months[0];
    // Two trips a month per passenger: m3 gets nothing; m5 starts in Lyon; m6 canceled.
    assert_eq!(
        (
            march.journeys,
            march.eligible,
            march.journeys_paid,
            march.incentives_paid
        ),
        (6, 4, 3, 3),
        "{backend:?} {march:?}"
    );
    assert_eq!((march.amount, march.people_paid), (300, 2));
    assert_eq!(march.capped, [("trips_per_month".to_owned(), 1)].into());
    assert_eq!(
        march.not_paid,
        reasons(&[
            ("journey_canceled", 1),
            ("outside_territory", 1),
            ("trips_per_month", 1)
        ])
    );
    // The budget carried from March: 200 c left for April's three.
    let april = &s.months[1];
    assert_eq!(
        (
            april.journeys,
            april.eligible,
            april.journeys_paid,
            april.amount
        ),
        (3, 3, 2, 200),
        "{april:?}"
    );
    assert_eq!(april.capped, [("budget".to_owned(), 1)].into());
    assert_eq!(april.not_paid, reasons(&[("budget", 1)]));
    assert_eq!(s.amount, 500);
    assert_eq!(
        simulate::CSV_COLUMNS.join(","),
        "month,journeys,eligible,journeys_paid,incentives_paid,amount,people_paid,capped,not_paid"
    );
    assert_eq!(
        s.csv_rows()[0].join(","),
        "2025-03,6,4,3,3,300,2,trips_per_month=1,journey_canceled=1;outside_territory=1;trips_per_month=1"
    );
    // Nothing stored.
    assert!(campaigns::all(app).await.unwrap().is_empty());

    // Bad months and documents: 400s naming the field.
    let field = |e: CampaignError| match e {
        CampaignError::Invalid(d) => d.path,
        CampaignError::InvalidDocument(d) => d[0].path.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(simulate::months(Some("2025-3"), Some("2025-04")).unwrap_err()),
        "from"
    );
    assert_eq!(
        field(simulate::months(Some("2025-04"), Some("2025-03")).unwrap_err()),
        "to"
    );
    assert_eq!(
        field(simulate::months(Some("2025-01"), Some("2026-01")).unwrap_err()),
        "to"
    );
    assert_eq!(
        simulate::months(Some("2025-01"), Some("2025-12"))
            .unwrap()
            .len(),
        12
    );
    let mut bad = document();
    bad["caps"][0]["per"] = json!("week");
    assert_eq!(
        field(
            simulate::parse(app, bad.to_string().as_bytes())
                .await
                .unwrap_err()
        ),
        "/caps/0/per"
    );
}

registry_testkit::each_store!(simulate_on =>
    simulate_on_sqlite: Sqlite,
    simulate_on_dynamodb: DynamoDb);

/// The route: registry admins and the document's own territory; JSON or CSV; 400 and 403
/// naming what is wrong; nothing stored.
#[tokio::test]
async fn the_simulate_route_answers_its_callers() {
    let (t, app_token) = setup(Backend::Sqlite).await;
    let app: &App = &t.app;
    let admin = admin::bootstrap(app).await.unwrap().unwrap().token;
    let token = |territory: &str| {
        let request = admin::TokenRequest::territory("t", territory);
        async move { admin::create_token(app, request).await.unwrap().token }
    };
    let (paris, lyon) = (token("paris").await, token("lyon").await);
    let path = "/v2/campaigns/simulate?from=2025-03&to=2025-04";
    let post = |path: &str, token: &str, body: Value| request("POST", path, token, Some(body));
    let route = Some(RouteId::CampaignsSimulate);
    for who in [&admin, &paris] {
        let (s, body) = send(app, route, post(path, who, document())).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["amount"], 500);
        assert_eq!(
            body["months"][0]["not_paid"][0],
            json!({"reason": "journey_canceled", "journeys": 1})
        );
    }
    let (s, body) = send(app, route, post(path, &lyon, document())).await;
    assert_eq!(s, 403, "{body}");
    let (s, _) = send(app, route, post(path, &app_token, document())).await;
    assert_eq!(s, 403);
    let (s, body) = send(
        app,
        route,
        post("/v2/campaigns/simulate?from=2025-03", &admin, document()),
    )
    .await;
    assert_eq!(
        (s, body["error"]["details"][0]["path"].as_str()),
        (400, Some("to")),
        "{body}"
    );
    let mut bad = document();
    bad["caps"][0]["per"] = json!("week");
    let (s, body) = send(app, route, post(path, &admin, bad)).await;
    assert_eq!(s, 400, "{body}");
    let mut csv = post(path, &admin, document());
    csv.headers_mut()
        .insert("accept", http::HeaderValue::from_static("text/csv"));
    let response = registry_core::api::handle(app, csv, route, None).await;
    assert_eq!(response.status(), 200);
    let text = String::from_utf8(response.body().to_vec()).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains("\n2025-04,3,3,2,2,200,2,budget=1,budget=1"),
        "{text}"
    );
    assert!(campaigns::all(app).await.unwrap().is_empty());
}
