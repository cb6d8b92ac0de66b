//! Who is calling: bearer token → principal, and the checks of each route's access (its
//! entry in the routing table), made by [`admit`] before the handler runs.
//! 401 for any token problem, 403 for a missing permission, 404 for another operator's
//! resource (never reveal that it exists).

use http::{header, HeaderMap};

use super::error::ApiError;
use super::ratelimit;
use super::router::Route;
use crate::app::App;
use crate::domain::operator::OperatorId;
use crate::domain::token::{self, Permission, Role};
use crate::records::keys;
use crate::records::token::TokenRecord;

/// Who may call a route (the `access` of its entry in the routing table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    RegistryAdmin,
    /// A registry admin, or an admin of the operator in the path (`{operator_id}`).
    OperatorAdmin,
    /// An application token holding this permission.
    Application(Permission),
    /// A registry admin, or a token of the campaign's territory. Which campaign depends on
    /// the request, so the handler checks the role once it has read the campaign (an
    /// unknown campaign is 404 before a wrong role is 403).
    CampaignReader,
    /// A registry admin, an admin of the operator in the path, or one of its application
    /// tokens with this permission.
    OperatorReader(Permission),
    /// The caller's own operator's resource: an operator admin, or an application token
    /// with this permission (`GET /v2/journeys`).
    OwnOperator(Permission),
}

/// What every routed request passes before its handler, in this order: the token (401),
/// the route's access (403; 404 for a malformed `{operator_id}` or another operator's),
/// then the rate limit of the route's class for the caller's operator (429), when the route
/// has a class and the token belongs to an operator. `None` for a public route.
pub async fn admit(
    app: &App,
    route: &Route,
    headers: &HeaderMap,
    path_operator: Option<&str>,
) -> Result<Option<Principal>, ApiError> {
    if route.access == Access::Public {
        return Ok(None);
    }
    let principal = authenticate(app, headers).await?;
    let operator_in_path = || -> Result<OperatorId, ApiError> {
        path_operator
            .unwrap_or_default()
            .parse()
            .map_err(|_| ApiError::not_found("operator"))
    };
    match route.access {
        Access::Public | Access::CampaignReader => {}
        Access::RegistryAdmin => principal.require_registry_admin()?,
        Access::OperatorAdmin => principal.require_operator_admin(operator_in_path()?)?,
        Access::Application(permission) => principal.require(permission).map(drop)?,
        Access::OperatorReader(permission) => {
            principal.require_operator_reader(operator_in_path()?, permission)?
        }
        Access::OwnOperator(permission) => principal.require_own_operator(permission)?,
    }
    if let (Some(class), Some(own)) = (route.rate, principal.role.operator()) {
        ratelimit::check(app, own, class).await?;
    }
    Ok(Some(principal))
}

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

    /// An admin of an operator, or one of its application tokens with `permission`.
    pub fn require_own_operator(&self, permission: Permission) -> Result<(), ApiError> {
        match &self.role {
            Role::OperatorAdmin(_) => Ok(()),
            Role::Application(..) => self.require(permission).map(drop),
            _ => Err(ApiError::forbidden(format!(
                "operator tokens only: an operator admin, or an application token with {permission}"
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

    /// Who reads an operator's resource such as its incentive statement: a registry admin,
    /// an admin of this operator, or its application tokens with `permission`
    /// (`journey.read` for the statement: it is about its journeys). Another operator's
    /// token gets 404, like any of its resources; territories 403.
    pub fn require_operator_reader(
        &self,
        operator: OperatorId,
        permission: Permission,
    ) -> Result<(), ApiError> {
        match &self.role {
            Role::RegistryAdmin => Ok(()),
            Role::OperatorAdmin(own) | Role::Application(own, _) if *own != operator => {
                Err(ApiError::not_found("operator"))
            }
            Role::OperatorAdmin(_) => Ok(()),
            Role::Application(..) => self.require(permission).map(drop),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use bytes::Bytes;
    use http::{Method, Request};

    use super::Access;
    use crate::admin::{self, TokenRequest};
    use crate::api::{self, router::ROUTES};
    use crate::app::App;
    use crate::config::Config;
    use crate::domain::token::Permission;
    use crate::queue::memory::MemoryQueue;
    use crate::store::memory::MemoryStore;

    fn app(other_per_min: u64) -> App {
        let config = Config {
            other_rate_limit_per_min: other_per_min,
            ..Config::default()
        };
        App::new(
            Arc::new(MemoryStore::new()),
            Arc::new(MemoryQueue::default()),
            config,
        )
    }

    async fn status(app: &App, method: Method, path: &str, token: Option<&str>) -> u16 {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body(Bytes::new()).expect("request");
        api::handle(app, request, None, None)
            .await
            .status()
            .as_u16()
    }

    /// Each route's path with `1` for its parameters.
    fn concrete(path: &str) -> String {
        let segments: Vec<&str> = path
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect();
        segments.join("/")
    }

    #[tokio::test]
    async fn every_route_but_the_public_ones_wants_a_token_first() {
        let app = app(600);
        for route in ROUTES {
            let got = status(&app, route.method.clone(), &concrete(route.path), None).await;
            let public = route.access == Access::Public;
            assert_eq!(
                got == 401,
                !public,
                "{} {}: {got}",
                route.method,
                route.path
            );
        }
    }

    #[tokio::test]
    async fn role_then_resource_then_rate_in_the_handlers_former_order() {
        let app = app(1);
        let (own, _) = admin::operator_with_token(&app, "own", None).await.unwrap();
        let (other, _) = admin::operator_with_token(&app, "other", None)
            .await
            .unwrap();
        let mut reader = TokenRequest::application("reader", own.id);
        reader.permissions = Some(BTreeSet::from([Permission::JourneyRead]));
        let reader = admin::create_token(&app, reader).await.unwrap().token;
        let territory = TokenRequest::territory("t", "idf");
        let territory = admin::create_token(&app, territory).await.unwrap().token;
        let t = Some(reader.as_str());
        let own_path = format!("/v2/operators/{}", own.id.0);
        let other_incentives = format!("/v2/operators/{}/incentives?month=2025-03", other.id.0);
        // A missing permission: 403, before the rate limit is counted.
        assert_eq!(status(&app, Method::POST, "/v2/journeys", t).await, 403);
        // A malformed operator in the path: 404 before the role's 403.
        assert_eq!(status(&app, Method::GET, "/v2/operators/x", t).await, 404);
        assert_eq!(status(&app, Method::GET, &own_path, t).await, 403);
        // Another operator's statement: 404.
        assert_eq!(status(&app, Method::GET, &other_incentives, t).await, 404);
        // An unknown campaign: 404 before the role's 403; the list: 403.
        assert_eq!(
            status(&app, Method::GET, "/v2/campaigns/nope", t).await,
            404
        );
        assert_eq!(status(&app, Method::GET, "/v2/campaigns", t).await, 403);
        // A territory on operator routes: 403.
        let tt = Some(territory.as_str());
        assert_eq!(status(&app, Method::GET, "/v2/journeys/j", tt).await, 403);
        let own_incentives = format!("{own_path}/incentives?month=2025-03");
        assert_eq!(status(&app, Method::GET, &own_incentives, tt).await, 403);
        // One request a minute on the other routes: the second is 429, a refused one is
        // still 403.
        assert_eq!(status(&app, Method::GET, "/v2/journeys/j", t).await, 404);
        assert_eq!(status(&app, Method::GET, "/v2/journeys/j", t).await, 429);
        assert_eq!(status(&app, Method::DELETE, "/v2/journeys/j", t).await, 403);
    }
}
