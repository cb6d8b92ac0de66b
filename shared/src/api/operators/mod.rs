//! Admin routes: operators and their tokens.

#[cfg(feature = "openapi")]
pub(crate) mod doc;

use std::collections::BTreeSet;

use bytes::Bytes;
use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::error::{json_response, ApiError};
use super::{auth, Ctx};
use crate::admin::{self, TokenRequest};
use crate::app::App;
use crate::domain::operator::{self, Operator, OperatorId};
use crate::domain::token::{Permission, Role, RoleKind};

/// `POST /v2/operators`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({"name": "Covoit Express", "siret": "12345678900011"}))
)]
#[serde(deny_unknown_fields)]
pub struct NewOperator {
    /// 1 to 256 characters, not blank.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256))]
    name: String,
    /// 14 digits (needed before CEE applications can be signed). Null is absent.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9]{14}$"))]
    siret: Option<String>,
}

/// `GET /v2/operators`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorList {
    pub operators: Vec<Operator>,
}

/// `GET /v2/operators/{operator_id}/applications`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenList {
    pub applications: Vec<admin::TokenInfo>,
}

fn operator_id(ctx: &Ctx) -> Result<OperatorId, ApiError> {
    ctx.param("operator_id")
        .parse()
        .map_err(|_| ApiError::not_found("operator"))
}

pub async fn create(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
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

pub async fn list(app: &App, _: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operators = admin::list_operators(app).await?;
    Ok(json_response(StatusCode::OK, &OperatorList { operators }))
}

pub async fn get(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let id = operator_id(ctx)?;
    let found = admin::get_operator(app, id)
        .await?
        .ok_or_else(|| ApiError::not_found("operator"))?;
    Ok(json_response(StatusCode::OK, &found))
}

/// `POST /v2/operators/{operator_id}/applications`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({"name": "backend", "permissions": ["journey.create", "journey.read"]}))
)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// 1 to 256 characters, not blank.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256))]
    name: String,
    /// `application` (default), or `operator_admin` (registry admins only).
    #[serde(default)]
    role: Option<RoleKind>,
    /// Application tokens only; default (or null): every permission. Not empty.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<Vec<Permission>>, min_items = 1)
    )]
    permissions: Option<BTreeSet<Permission>>,
}

pub async fn create_token(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = ctx.principal()?;
    let id = operator_id(ctx)?;
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
    let principal = ctx.principal()?;
    let id = operator_id(ctx)?;
    if admin::get_operator(app, id).await?.is_none() {
        return Err(ApiError::not_found("operator"));
    }
    let tokens: Vec<_> = admin::list_tokens(app, Some(id))
        .await?
        .into_iter()
        .filter(|t| may_see(principal, t))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &TokenList {
            applications: tokens,
        },
    ))
}

pub async fn revoke_token(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = ctx.principal()?;
    let id = operator_id(ctx)?;
    let revoked = admin::revoke_token(app, ctx.param("token_id"), |t| {
        t.operator_id == Some(id) && may_see(principal, t)
    })
    .await?;
    Ok(json_response(StatusCode::OK, &revoked))
}

/// Operator admins manage application tokens only; registry admins see every token.
fn may_see(principal: &auth::Principal, token: &admin::TokenInfo) -> bool {
    principal.role == Role::RegistryAdmin || token.role == RoleKind::Application
}
