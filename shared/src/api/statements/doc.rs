//! The OpenAPI description of the operator statements routes: what each takes and answers, one
//! function per handler, named after it (the route table points at it).

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::ResponseBuilder;

use crate::api::openapi::{doc, month_query, page_queries, string_schema, Doc, Schemas};

pub(crate) fn incentives(s: &mut Schemas) -> Doc {
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
