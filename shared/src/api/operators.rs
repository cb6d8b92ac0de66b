//! Admin routes: operators and their tokens.

use std::collections::BTreeSet;

use bytes::Bytes;
use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::error::{json_response, ApiError};
use super::{auth, Ctx};
use crate::admin::{self, TokenRequest};
use crate::app::App;
use crate::domain::operator::{self, OperatorId};
use crate::domain::token::{Permission, Role, RoleKind};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOperator {
    name: String,
    siret: Option<String>,
}

fn operator_id(ctx: &Ctx) -> Result<OperatorId, ApiError> {
    ctx.param("operator_id")
        .parse()
        .map_err(|_| ApiError::not_found("operator"))
}

pub async fn create(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    auth::authenticate(app, &ctx.headers)
        .await?
        .require_registry_admin()?;
    let body: NewOperator = ctx.json()?;
    let name = operator::parse_name(&body.name).map_err(|r| ApiError::invalid_field("/name", r))?;
    let siret = body
        .siret
        .as_deref()
        .map(operator::parse_siret)
        .transpose()
        .map_err(|r| ApiError::invalid_field("/siret", r))?;
    let created = admin::create_operator(app, name, siret).await?;
    Ok(json_response(StatusCode::CREATED, &created))
}

pub async fn list(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    auth::authenticate(app, &ctx.headers)
        .await?
        .require_registry_admin()?;
    let operators = admin::list_operators(app).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "operators": operators }),
    ))
}

pub async fn get(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = auth::authenticate(app, &ctx.headers).await?;
    let id = operator_id(ctx)?;
    principal.require_operator_admin(id)?;
    let found = admin::get_operator(app, id)
        .await?
        .ok_or_else(|| ApiError::not_found("operator"))?;
    Ok(json_response(StatusCode::OK, &found))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    #[serde(default)]
    role: Option<RoleKind>,
    #[serde(default)]
    permissions: Option<BTreeSet<Permission>>,
}

pub async fn create_token(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = auth::authenticate(app, &ctx.headers).await?;
    let id = operator_id(ctx)?;
    principal.require_operator_admin(id)?;
    let body: NewToken = ctx.json()?;
    let name = operator::parse_name(&body.name).map_err(|r| ApiError::invalid_field("/name", r))?;
    let role = body.role.unwrap_or(RoleKind::Application);
    match role {
        RoleKind::Application => {}
        RoleKind::OperatorAdmin if principal.role == Role::RegistryAdmin => {}
        RoleKind::OperatorAdmin => {
            return Err(ApiError::forbidden(
                "only registry admins create operator admins",
            ))
        }
        RoleKind::RegistryAdmin | RoleKind::Territory => {
            return Err(ApiError::invalid_field(
                "/role",
                "registry admins and territories belong to no operator",
            ))
        }
    }
    let created = admin::create_token(
        app,
        TokenRequest {
            name,
            role,
            operator: Some(id),
            permissions: body.permissions,
            territory: None,
        },
    )
    .await?;
    Ok(json_response(StatusCode::CREATED, &created))
}

pub async fn list_tokens(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = auth::authenticate(app, &ctx.headers).await?;
    let id = operator_id(ctx)?;
    principal.require_operator_admin(id)?;
    if admin::get_operator(app, id).await?.is_none() {
        return Err(ApiError::not_found("operator"));
    }
    let tokens: Vec<_> = admin::list_tokens(app, Some(id))
        .await?
        .into_iter()
        .filter(|t| may_see(&principal, t))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "applications": tokens }),
    ))
}

pub async fn revoke_token(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = auth::authenticate(app, &ctx.headers).await?;
    let id = operator_id(ctx)?;
    principal.require_operator_admin(id)?;
    let revoked = admin::revoke_token(app, ctx.param("token_id"), |t| {
        t.operator_id == Some(id) && may_see(&principal, t)
    })
    .await?;
    Ok(json_response(StatusCode::OK, &revoked))
}

/// Operator admins manage application tokens only; registry admins see every token.
fn may_see(principal: &auth::Principal, token: &admin::TokenInfo) -> bool {
    principal.role == Role::RegistryAdmin || token.role == RoleKind::Application
}
