//! The OpenAPI description of the operators and their application tokens routes: what each takes and answers, one
//! function per handler, named after it (the route table points at it).

use crate::admin::{CreatedToken, TokenInfo};
use crate::api::openapi::{body, doc, json_answer, Doc, Schemas};
use crate::api::operators;
use crate::domain::operator::Operator;

pub(crate) fn create(s: &mut Schemas) -> Doc {
    Doc {
        body: body(s.of::<operators::NewOperator>()),
        ok: vec![(201, json_answer("Created.", s.of::<Operator>()))],
        errors: &[400, 413, 503],
        ..doc("operators", "Create an operator")
    }
}

pub(crate) fn list(s: &mut Schemas) -> Doc {
    Doc {
        ok: vec![(
            200,
            json_answer("Every operator.", s.of::<operators::OperatorList>()),
        )],
        errors: &[503],
        ..doc("operators", "List the operators")
    }
}

pub(crate) fn get(s: &mut Schemas) -> Doc {
    Doc {
        ok: vec![(200, json_answer("The operator.", s.of::<Operator>()))],
        errors: &[404, 503],
        ..doc("operators", "An operator")
    }
}

pub(crate) fn create_token(s: &mut Schemas) -> Doc {
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

pub(crate) fn list_tokens(s: &mut Schemas) -> Doc {
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

pub(crate) fn revoke_token(s: &mut Schemas) -> Doc {
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
