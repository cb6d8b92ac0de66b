//! The OpenAPI description of `GET /v2/journeys` (the console's listing).

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};

use super::{query, string_schema, Doc, Schemas};
use crate::api::journey_list::{JourneyPage, DEFAULT_LIMIT, MAX_DAYS, MAX_LIMIT};

pub(super) fn journeys_list(s: &mut Schemas) -> Doc {
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
                &format!("Journeys per page (default {DEFAULT_LIMIT})."),
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(MAX_LIMIT as u64)),
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
        ..super::routes::doc("journeys", "The operator's journeys")
    }
}
