//! Who is calling: bearer token → principal, and the checks each route makes.
//! 401 for any token problem, 403 for a missing permission, 404 for another operator's
//! resource (never reveal that it exists).

use http::{header, HeaderMap};

use super::error::ApiError;
use crate::app::App;
use crate::domain::operator::OperatorId;
use crate::domain::token::{self, Permission, Role};
use crate::records::keys;
use crate::records::token::TokenRecord;

#[derive(Clone, Debug)]
pub struct Principal {
    pub token_id: String,
    pub role: Role,
}

/// Reads the token on every request (no cache), so a revocation holds from the next request
/// on, on every instance.
pub async fn authenticate(app: &App, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        // The scheme is case-insensitive (RFC 7235).
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(ApiError::unauthorized)?;
    let presented = token::parse(bearer).ok_or_else(ApiError::unauthorized)?;
    let item = app
        .store
        .get(&keys::token(presented.token_id))
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let stored = TokenRecord::from_item(&item);
    let hash = stored.as_ref().map_or("", |t| t.secret_hash.as_str());
    if !presented.matches(hash) || stored.as_ref().is_some_and(|t| t.revoked_at.is_some()) {
        return Err(ApiError::unauthorized());
    }
    let role = stored.map(|t| t.role).ok_or_else(|| {
        tracing::error!(
            token_id = presented.token_id,
            "token item has no valid role"
        );
        ApiError::unauthorized()
    })?;
    if let Some(op) = role.operator() {
        tracing::Span::current().record("operator_id", op.0);
    }
    Ok(Principal {
        token_id: presented.token_id.to_owned(),
        role,
    })
}

pub use crate::records::token::role_of;

impl Principal {
    /// An application token of some operator holding `permission`; returns its operator.
    pub fn require(&self, permission: Permission) -> Result<OperatorId, ApiError> {
        match &self.role {
            Role::Application(op, permissions) if permissions.contains(&permission) => Ok(*op),
            _ => Err(ApiError::forbidden(format!(
                "this token lacks the permission {permission}"
            ))),
        }
    }

    pub fn require_registry_admin(&self) -> Result<(), ApiError> {
        match self.role {
            Role::RegistryAdmin => Ok(()),
            _ => Err(ApiError::forbidden("registry admins only")),
        }
    }

    /// A registry admin, or a territory token of the campaign's territory (read-only
    /// routes). Another territory's campaign is 404; operator tokens are 403.
    pub fn require_campaign_reader(&self, territory_id: Option<&str>) -> Result<(), ApiError> {
        match &self.role {
            Role::RegistryAdmin => Ok(()),
            Role::Territory(own) if Some(own.as_str()) == territory_id => Ok(()),
            Role::Territory(_) => Err(ApiError::not_found("campaign")),
            _ => Err(ApiError::forbidden(
                "registry admins and territory tokens only",
            )),
        }
    }

    /// Who reads an operator's incentive statement: a registry admin, an admin of this
    /// operator, or its application tokens with `journey.read` (the statement is about its
    /// journeys). Another operator's token gets 404, like any of its resources; territories
    /// 403.
    pub fn require_statement_reader(&self, operator: OperatorId) -> Result<(), ApiError> {
        match &self.role {
            Role::RegistryAdmin => Ok(()),
            Role::OperatorAdmin(own) | Role::Application(own, _) if *own != operator => {
                Err(ApiError::not_found("operator"))
            }
            Role::OperatorAdmin(_) => Ok(()),
            Role::Application(..) => self.require(Permission::JourneyRead).map(drop),
            Role::Territory(_) => Err(ApiError::forbidden(
                "registry admins and the operator's own tokens only",
            )),
        }
    }

    /// A registry admin, or an admin of this operator. Another operator's admin gets 404.
    pub fn require_operator_admin(&self, operator: OperatorId) -> Result<(), ApiError> {
        match &self.role {
            Role::RegistryAdmin => Ok(()),
            Role::OperatorAdmin(own) if *own == operator => Ok(()),
            Role::OperatorAdmin(_) => Err(ApiError::not_found("operator")),
            Role::Application(..) | Role::Territory(_) => {
                Err(ApiError::forbidden("operator admins only"))
            }
        }
    }
}
