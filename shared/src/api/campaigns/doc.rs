//! The OpenAPI description of the campaigns routes: what each takes and answers, one
//! function per handler, named after it (the route table points at it).

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};

use crate::api::campaigns;
use crate::api::openapi::{
    body, doc, json_answer, month_query, optional_body, page_queries, query, string_schema, Doc,
    Schemas,
};
use crate::campaigns::Stored as Campaign;

pub(crate) fn create(s: &mut Schemas) -> Doc {
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

pub(crate) fn list(s: &mut Schemas) -> Doc {
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

pub(crate) fn get(s: &mut Schemas) -> Doc {
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

pub(crate) fn update(s: &mut Schemas) -> Doc {
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

pub(crate) fn close(s: &mut Schemas) -> Doc {
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

pub(crate) fn incentives(s: &mut Schemas) -> Doc {
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

pub(crate) fn simulate(s: &mut Schemas) -> Doc {
    let result = s.of::<crate::campaigns::simulate::Simulation>();
    s.of::<crate::campaigns::simulate::MonthResult>();
    s.of::<crate::campaigns::simulate::ReasonCount>();
    let month = |name: &'static str, what: &'static str| {
        query(
            name,
            true,
            what,
            string_schema().pattern(Some("^[0-9]{4}-[0-9]{2}$")),
        )
    };
    Doc {
        description: Some(
            "Evaluates a campaign document without storing it over the stored journeys of \
             `from` to `to` (at most 12 months, in the campaign's time zone) with the monthly \
             run's rules: op1, op3 against the stored campaigns, the caps in order, counters \
             carried from month to month (from zero, or from the starting counters of a \
             stored campaign with the same id). A territory token simulates documents of its \
             own `territory_id` only. `Accept: text/csv` gives one line per month.",
        ),
        body: body(s.of::<crate::domain::campaign::document::RawCampaign>()),
        query: vec![
            month("from", "The first month, YYYY-MM."),
            month("to", "The last month, YYYY-MM."),
        ],
        ok: vec![(
            200,
            ResponseBuilder::new()
                .description("Per month: journeys, eligible, paid, amount, people, caps, reasons.")
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(result)).build(),
                )
                .content(
                    "text/csv",
                    ContentBuilder::new().schema(Some(string_schema())).build(),
                )
                .build(),
        )],
        errors: &[400, 403, 413, 503],
        ..doc("campaigns", "Simulate a campaign over stored journeys")
    }
}
