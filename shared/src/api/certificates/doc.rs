//! The OpenAPI description of the certificates routes: what each takes and answers, one
//! function per handler, named after it (the route table points at it).

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;

use crate::api::certificates;
use crate::api::openapi::{bodies, body, doc, json_answer, query, string_schema, Doc, Schemas};

pub(crate) fn create(s: &mut Schemas) -> Doc {
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

pub(crate) fn find(s: &mut Schemas) -> Doc {
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

pub(crate) fn attachment(_: &mut Schemas) -> Doc {
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
