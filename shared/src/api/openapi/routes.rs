//! What each route takes and answers, one function per route (paths, methods, operation
//! ids and security come from the routing table, in [`super::document`]).

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};

use super::{
    bodies, body, empty_answer, json_answer, month_query, optional_body, page_queries, query,
    string_schema, Doc, Schemas,
};
use crate::admin::{CreatedToken, TokenInfo};
use crate::api::router::RouteId;
use crate::api::{campaigns, cee, certificates, journeys, operators};
use crate::campaigns::Stored as Campaign;
use crate::domain::journey::{CancelReason, Receipt};
use crate::domain::operator::Operator;

/// The one place that says what each route takes and answers.
pub(super) fn describe(route: RouteId, s: &mut Schemas) -> Doc {
    match route {
        RouteId::JourneysCreate => journeys_create(s),
        RouteId::JourneysList => super::listing::journeys_list(s),
        RouteId::JourneysStatus => journeys_status(s),
        RouteId::JourneysCancel => journeys_cancel(s),
        RouteId::OperatorsCreate => operators_create(s),
        RouteId::OperatorsList => operators_list(s),
        RouteId::OperatorsGet => operators_get(s),
        RouteId::OperatorsIncentives => operators_incentives(s),
        RouteId::ApplicationsCreate => applications_create(s),
        RouteId::ApplicationsList => applications_list(s),
        RouteId::ApplicationsRevoke => applications_revoke(s),
        RouteId::CeePublicKey => cee_public_key(s),
        RouteId::CeeSimulate => cee_simulate(s),
        RouteId::CeeRegister => cee_register(s),
        RouteId::CeeImport => cee_import(s),
        RouteId::CeeImportIdentity => cee_import_identity(s),
        RouteId::CeeFind => cee_find(s),
        RouteId::CeeDelete => cee_delete(s),
        RouteId::CampaignsCreate => campaigns_create(s),
        RouteId::CampaignsList => campaigns_list(s),
        RouteId::CampaignsGet => campaigns_get(s),
        RouteId::CampaignsUpdate => campaigns_update(s),
        RouteId::CampaignsClose => campaigns_close(s),
        RouteId::CampaignsIncentives => campaigns_incentives(s),
        RouteId::CertificatesCreate => certificates_create(s),
        RouteId::CertificatesFind => certificates_find(s),
        RouteId::CertificatesAttachment => certificates_attachment(s),
    }
}

/// A route's doc with its tag and summary, the rest empty.
pub(super) fn doc(tag: &'static str, summary: &'static str) -> Doc {
    Doc {
        tag,
        summary,
        description: None,
        query: Vec::new(),
        body: None,
        ok: Vec::new(),
        errors: &[],
    }
}

fn journeys_create(s: &mut Schemas) -> Doc {
    let receipt = s.of::<Receipt>();
    let journey = bodies::journey(s);
    Doc {
        description: Some(
            "Sends the proof of one driver + passenger couple (journey-v2.md). 400 lists \
                 every violation of the document with its JSON pointer; 422 a well-formed \
                 but impossible journey (a date more than 5 minutes in the future, payments \
                 above the contribution, the same person driving and riding). A journey \
                 received 120 h or more after its end is stored with status `expired`.",
        ),
        body: body(journey),
        ok: vec![
            (
                201,
                json_answer("Stored, and queued for processing.", receipt.clone()),
            ),
            (
                200,
                ResponseBuilder::new()
                    .description("The same document was already received: the original receipt.")
                    .header(
                        "Idempotent-Replayed",
                        HeaderBuilder::new()
                            .schema(string_schema().enum_values(Some(["true"])))
                            .build(),
                    )
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(receipt)).build(),
                    )
                    .build(),
            ),
        ],
        errors: &[400, 409, 413, 422, 503],
        ..doc("journeys", "Send a journey")
    }
}

fn journeys_status(s: &mut Schemas) -> Doc {
    Doc {
        ok: vec![(
            200,
            json_answer("The journey.", s.of::<journeys::JourneyView>()),
        )],
        errors: &[404, 503],
        ..doc("journeys", "A journey's status")
    }
}

fn journeys_cancel(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "Invalidates a journey (kept, marked canceled). Repeating the call answers the \
             first `canceled_at`.",
        ),
        body: optional_body(s.of::<CancelReason>(), "Why (kept for audit)."),
        ok: vec![(200, json_answer("Canceled.", s.of::<journeys::Canceled>()))],
        errors: &[400, 404, 413, 503],
        ..doc("journeys", "Invalidate a journey")
    }
}

fn operators_create(s: &mut Schemas) -> Doc {
    Doc {
        body: body(s.of::<operators::NewOperator>()),
        ok: vec![(201, json_answer("Created.", s.of::<Operator>()))],
        errors: &[400, 413, 503],
        ..doc("operators", "Create an operator")
    }
}

fn operators_list(s: &mut Schemas) -> Doc {
    Doc {
        ok: vec![(
            200,
            json_answer("Every operator.", s.of::<operators::OperatorList>()),
        )],
        errors: &[503],
        ..doc("operators", "List the operators")
    }
}

fn operators_get(s: &mut Schemas) -> Doc {
    Doc {
        ok: vec![(200, json_answer("The operator.", s.of::<Operator>()))],
        errors: &[404, 503],
        ..doc("operators", "An operator")
    }
}

fn operators_incentives(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "What the operator's users earned in a month, per campaign: the basis of \
             payments. Always 200 for a valid month: `final` says whether every campaign \
             of the month is final; campaigns not final yet are listed without lines. \
             `Accept: text/csv` gives the lines as CSV.",
        ),
        query: [
            vec![month_query("The month, in each campaign's time zone.")],
            page_queries(),
        ]
        .concat(),
        ok: vec![(
            200,
            ResponseBuilder::new()
                .description("One page of the operator's statement.")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(
                            s.of::<crate::campaigns::monthly::statement::Statement>(),
                        ))
                        .build(),
                )
                .content(
                    "text/csv",
                    ContentBuilder::new().schema(Some(string_schema())).build(),
                )
                .build(),
        )],
        errors: &[400, 404, 503],
        ..doc("operators", "An operator's monthly incentive statement")
    }
}

fn applications_create(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "Creates an application token (default: every permission) or, for registry \
             admins, an operator admin token. The token is in this answer only.",
        ),
        body: body(s.of::<operators::NewToken>()),
        ok: vec![(201, json_answer("Created.", s.of::<CreatedToken>()))],
        errors: &[400, 404, 413, 503],
        ..doc("operators", "Create a token")
    }
}

fn applications_list(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "Operator admins see application tokens; registry admins see every token of \
             the operator.",
        ),
        ok: vec![(
            200,
            json_answer(
                "The tokens (never their secret).",
                s.of::<operators::TokenList>(),
            ),
        )],
        errors: &[404, 503],
        ..doc("operators", "List an operator's tokens")
    }
}

fn applications_revoke(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "Refused from the very next request, on every instance. Revoking again \
             answers the first `revoked_at`.",
        ),
        ok: vec![(200, json_answer("Revoked.", s.of::<TokenInfo>()))],
        errors: &[404, 503],
        ..doc("operators", "Revoke a token")
    }
}

fn cee_public_key(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "The current key, its id in the `Key-Id` header. During a key rotation the \
             previous keys stay published: `?kid=` answers the key of that id (the `kid` \
             returned with each token), `?format=json` lists every published key.",
        ),
        query: vec![
            query(
                "kid",
                false,
                "The key of this id (404 if it is not published).",
                string_schema(),
            ),
            query(
                "format",
                false,
                "`pem` (default): one key; `json`: every published key.",
                string_schema().enum_values(Some(["pem", "json"])),
            ),
        ],
        ok: vec![(
            200,
            ResponseBuilder::new()
                .description(
                    "RSA 4096 public key, SPKI PEM; or with `format=json` every published key.",
                )
                .content(
                    "application/x-pem-file",
                    ContentBuilder::new().schema(Some(string_schema())).build(),
                )
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(s.of::<cee::PublishedKeys>()))
                        .build(),
                )
                .build(),
        )],
        errors: &[400, 404, 503],
        ..doc("cee", "The key that verifies every CEE token")
    }
}

fn cee_simulate(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "The history search of a registration with today as the reference date; \
             writes nothing. 409 names the earlier record in `error.data`.",
        ),
        body: body(bodies::cee_simulation(s)),
        ok: vec![(
            200,
            empty_answer(
                "Nothing found: an application would not be refused for its history (empty body).",
            ),
        )],
        errors: &[400, 409, 413, 503],
        ..doc("cee", "Simulate a CEE application")
    }
}

fn cee_register(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "Short: the journey must be the caller's, class C, at most 80 km, an end in \
             France, inside the campaign window (else 404). Long: `datetime` strictly \
             inside the campaign window (else 400). The operation must be at least 7 days \
             old (400). An earlier application of the same person → 409 with \
             `error.data` = {datetime} (+ uuid, journey_id, status when it is the \
             caller's). 422 `siret_required`: the operator has no SIRET yet.",
        ),
        body: body(bodies::cee_registration(s)),
        ok: vec![(201, json_answer("Registered.", s.of::<cee::Registered>()))],
        errors: &[400, 404, 409, 413, 422, 503],
        ..doc("cee", "Register a CEE application")
    }
}

fn cee_import(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "A schema error anywhere rejects the whole batch (400). Body up to 1 MiB.",
        ),
        body: body(bodies::cee_import(s)),
        ok: vec![(
            201,
            json_answer(
                "Imported, but for the failed items.",
                s.of::<cee::ImportReport>(),
            ),
        )],
        errors: &[400, 413, 503],
        ..doc("cee", "Import earlier specific operations")
    }
}

fn cee_import_identity(s: &mut Schemas) -> Doc {
    Doc {
        description: Some("A key is written once and never overwritten. Body up to 1 MiB."),
        body: body(bodies::cee_import_identity(s)),
        ok: vec![(
            200,
            json_answer(
                "Attached, but for the failed items.",
                s.of::<cee::ImportReport>(),
            ),
        )],
        errors: &[400, 413, 503],
        ..doc("cee", "Attach identity keys to earlier records")
    }
}

fn cee_find(s: &mut Schemas) -> Doc {
    Doc {
        ok: vec![(
            200,
            json_answer("The application.", s.of::<cee::Application>()),
        )],
        errors: &[400, 404, 503],
        ..doc("cee", "A CEE application")
    }
}

fn cee_delete(_: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "Kept in a deleted archive with its deletion time; no longer counts for the \
             history checks.",
        ),
        ok: vec![(204, empty_answer("Deleted."))],
        errors: &[400, 404, 503],
        ..doc("cee", "Delete a CEE application")
    }
}

fn campaigns_create(s: &mut Schemas) -> Doc {
    let document = s.of::<crate::domain::campaign::document::RawCampaign>();
    // One of the example campaigns of campaigns.md (examples/campaigns/).
    let example = include_str!("../../../../examples/campaigns/fixed-plus-per-km.json");
    if let Ok(example) = serde_json::from_str(example) {
        s.example("CampaignDocument", example);
    }
    Doc {
        description: Some(
            "400 lists every problem of the document with its JSON pointer (overlapping \
             bands, max < min, unknown cap kinds, reversed dates, bad GeoJSON…).",
        ),
        body: body(document),
        ok: vec![(201, json_answer("Loaded (version 1).", s.of::<Campaign>()))],
        errors: &[400, 409, 413, 503],
        ..doc("campaigns", "Load a campaign")
    }
}

fn campaigns_list(s: &mut Schemas) -> Doc {
    Doc {
        ok: vec![(
            200,
            json_answer(
                "The campaigns (a territory's own only).",
                s.of::<campaigns::CampaignList>(),
            ),
        )],
        errors: &[503],
        ..doc("campaigns", "List the campaigns")
    }
}

fn campaigns_get(s: &mut Schemas) -> Doc {
    let current = s.of::<campaigns::CampaignWithHistory>();
    let version = s.of::<crate::campaigns::Version>();
    Doc {
        query: vec![query(
            "version",
            false,
            "An earlier version: answers that version's entry and document.",
            ObjectBuilder::new().schema_type(Type::Integer).format(Some(
                SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64),
            )),
        )],
        ok: vec![(
            200,
            json_answer(
                "The campaign and its history, or (`?version=N`) that version.",
                utoipa::openapi::schema::AnyOfBuilder::new()
                    .item(current)
                    .item(version)
                    .into(),
            ),
        )],
        errors: &[400, 404, 503],
        ..doc("campaigns", "A campaign")
    }
}

fn campaigns_update(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "Only before the campaign's start (409 after); the new document keeps the id \
             and starts after today.",
        ),
        body: body(s.of::<crate::domain::campaign::document::RawCampaign>()),
        ok: vec![(200, json_answer("The new version.", s.of::<Campaign>()))],
        errors: &[400, 404, 409, 413, 503],
        ..doc("campaigns", "Replace a campaign before its start")
    }
}

fn campaigns_close(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "Journeys after `last_day` are no longer eligible. Closing again on the same \
             day or later changes nothing; earlier is a new version.",
        ),
        body: optional_body(
            s.of::<campaigns::Close>(),
            "The last eligible day (default: today).",
        ),
        ok: vec![(200, json_answer("Closed.", s.of::<Campaign>()))],
        errors: &[400, 404, 409, 413, 503],
        ..doc("campaigns", "Close a campaign early")
    }
}

fn campaigns_incentives(s: &mut Schemas) -> Doc {
    let page = s.of::<campaigns::IncentivePage>();
    s.of::<crate::campaigns::drafts::Line>();
    s.of::<crate::campaigns::monthly::compute::Line>();
    let csv_header = |description: &'static str| {
        HeaderBuilder::new()
            .schema(string_schema())
            .description(Some(description))
            .build()
    };
    Doc {
        description: Some(
            "Until the monthly run: the drafts (`draft`, `canceled`); once the month \
                 is final: its final lines (`validated`, `capped`, `canceled`, \
                 `not_eligible`, `correction`) and `final`. `Accept: text/csv` gives the \
                 same page as CSV, with the totals and the next cursor in headers.",
        ),
        query: [
            vec![
                month_query("The month, in the campaign's time zone."),
                query(
                    "status",
                    false,
                    "Only the lines of this status.",
                    string_schema().enum_values(Some([
                        "draft",
                        "canceled",
                        "validated",
                        "capped",
                        "not_eligible",
                        "correction",
                    ])),
                ),
            ],
            page_queries(),
        ]
        .concat(),
        ok: vec![(
            200,
            ResponseBuilder::new()
                .description("One page of the month's incentives.")
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(page)).build(),
                )
                .content(
                    "text/csv",
                    ContentBuilder::new().schema(Some(string_schema())).build(),
                )
                .header(
                    "X-Total-Count",
                    csv_header("CSV only: the month's count for the status asked for."),
                )
                .header(
                    "X-Total-Amount",
                    csv_header("CSV only: the month's amount (cents)."),
                )
                .header(
                    "X-Next-Cursor",
                    csv_header("CSV only: the cursor of the next page, absent on the last."),
                )
                .build(),
        )],
        errors: &[400, 404, 503],
        ..doc("campaigns", "A month of a campaign's incentives")
    }
}

fn certificates_create(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "A person the registry never saw (or with no journey in the period) gets a \
             certificate with zero totals, not a 404. Only `ok` journeys count.",
        ),
        body: body(bodies::certificate_request(s)),
        ok: vec![(201, json_answer("Issued.", s.of::<certificates::Issued>()))],
        errors: &[400, 413, 503],
        ..doc("certificates", "Issue a certificate")
    }
}

fn certificates_find(s: &mut Schemas) -> Doc {
    Doc {
        description: Some(
            "Public: no personal data, not the positions (only how many). `Accept: \
             text/html` (a phone that scanned the QR code) gets a page saying whether the \
             certificate is genuine, with its operator, period, figures and fingerprint.",
        ),
        ok: vec![(
            200,
            ResponseBuilder::new()
                .description("The certificate.")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(s.of::<certificates::Check>()))
                        .build(),
                )
                .content(
                    "text/html",
                    ContentBuilder::new().schema(Some(string_schema())).build(),
                )
                .build(),
        )],
        errors: &[404, 503],
        ..doc("certificates", "Check a certificate")
    }
}

fn certificates_attachment(_: &mut Schemas) -> Doc {
    Doc {
        query: vec![query(
            "format",
            false,
            "`pdf` (default) or `png`.",
            string_schema().enum_values(Some(["pdf", "png"])),
        )],
        ok: vec![(
            200,
            ResponseBuilder::new()
                .description(
                    "One A4 page with the registry's signature and a QR code to the public check.",
                )
                .content("application/pdf", ContentBuilder::new().build())
                .content("image/png", ContentBuilder::new().build())
                .header(
                    "Content-Disposition",
                    HeaderBuilder::new().schema(string_schema()).build(),
                )
                .build(),
        )],
        errors: &[400, 404, 503],
        ..doc("certificates", "Download a certificate")
    }
}
