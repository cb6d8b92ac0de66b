//! The OpenAPI description of the CEE routes: what each takes and answers, one
//! function per handler, named after it (the route table points at it).

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::ResponseBuilder;

use crate::api::cee;
use crate::api::openapi::{
    bodies, body, doc, empty_answer, json_answer, query, string_schema, Doc, Schemas,
};

pub(crate) fn public_key(s: &mut Schemas) -> Doc {
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

pub(crate) fn simulate(s: &mut Schemas) -> Doc {
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

pub(crate) fn register(s: &mut Schemas) -> Doc {
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

pub(crate) fn import(s: &mut Schemas) -> Doc {
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

pub(crate) fn import_identity(s: &mut Schemas) -> Doc {
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

pub(crate) fn find(s: &mut Schemas) -> Doc {
    Doc {
        ok: vec![(
            200,
            json_answer("The application.", s.of::<cee::Application>()),
        )],
        errors: &[400, 404, 503],
        ..doc("cee", "A CEE application")
    }
}

pub(crate) fn delete(_: &mut Schemas) -> Doc {
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
