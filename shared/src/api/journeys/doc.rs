//! The OpenAPI description of the journeys routes: what each takes and answers, one
//! function per handler, named after it (the route table points at it).

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};

use crate::api::journeys;
use crate::api::journeys::list::{JourneyPage, MAX_DAYS, PAGE};
use crate::api::openapi::{
    bodies, body, doc, json_answer, optional_body, query, string_schema, Doc, Schemas,
};
use crate::domain::journey::{CancelReason, Receipt};

pub(crate) fn create(s: &mut Schemas) -> Doc {
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

pub(crate) fn status(s: &mut Schemas) -> Doc {
    Doc {
        ok: vec![(
            200,
            json_answer("The journey.", s.of::<journeys::JourneyView>()),
        )],
        errors: &[404, 503],
        ..doc("journeys", "A journey's status")
    }
}

pub(crate) fn cancel(s: &mut Schemas) -> Doc {
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

/// `GET /v2/journeys` (the console's listing).
pub(crate) fn list(s: &mut Schemas) -> Doc {
    let date = |name: &str, what: &str| {
        query(
            name,
            false,
            what,
            string_schema()
                .pattern(Some("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
                .examples(["2026-11-01"]),
        )
    };
    Doc {
        description: Some(
            "The caller's operator's journeys, latest passenger start first, with their \
             labels and each campaign's draft or final incentive. An operator admin or an \
             application token with `journey.read`; only the operator's own journeys. A \
             status filter is applied to what is read: a page may hold fewer than `limit` \
             journeys while `next_cursor` says there are more. `Accept: text/csv` gives \
             CSV (the next cursor in `x-next-cursor`).",
        ),
        query: vec![
            date(
                "from",
                "First day of the passenger's start (UTC), inclusive; default: `to` - 30 days.",
            ),
            date(
                "to",
                &format!(
                    "Last day (UTC), inclusive; default today. At most {MAX_DAYS} days in all."
                ),
            ),
            query(
                "status",
                false,
                "Only these statuses, comma-separated: pending, ok, expired, anomaly_error, \
                 fraud_error, canceled.",
                string_schema().examples(["ok,fraud_error"]),
            ),
            query(
                "limit",
                false,
                &format!("Journeys per page (default {}).", PAGE.default),
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(PAGE.max as u64)),
            ),
            query(
                "cursor",
                false,
                "`next_cursor` of the previous page (same `from` and `to`).",
                string_schema(),
            ),
        ],
        ok: vec![(
            200,
            ResponseBuilder::new()
                .description("One page of journeys.")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(s.of::<JourneyPage>()))
                        .build(),
                )
                .content(
                    "text/csv",
                    ContentBuilder::new().schema(Some(string_schema())).build(),
                )
                .build(),
        )],
        errors: &[400, 503],
        ..doc("journeys", "The operator's journeys")
    }
}
