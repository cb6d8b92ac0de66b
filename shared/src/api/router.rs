//! The routing table: every HTTP route, its Lambda function and its handler. `registry
//! serve` mounts all of them; each Lambda serves only its own.

use http::Method;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteId {
    JourneysCreate,
    JourneysStatus,
    JourneysCancel,
    OperatorsCreate,
    OperatorsList,
    OperatorsGet,
    OperatorsIncentives,
    ApplicationsCreate,
    ApplicationsList,
    ApplicationsRevoke,
    CeePublicKey,
    CeeSimulate,
    CeeRegister,
    CeeImport,
    CeeImportIdentity,
    CeeFind,
    CeeDelete,
    CampaignsCreate,
    CampaignsList,
    CampaignsGet,
    CampaignsUpdate,
    CampaignsClose,
    CampaignsIncentives,
    CertificatesCreate,
    CertificatesFind,
    CertificatesAttachment,
}

#[derive(Debug, PartialEq)]
pub struct Route {
    pub id: RouteId,
    pub method: Method,
    /// Segments in braces are parameters: `/v2/journeys/{journey_id}`.
    pub path: &'static str,
    /// Name of the Lambda function (binary in functions/, resource in template.yaml).
    pub function: &'static str,
}

pub const ROUTES: &[Route] = &[
    Route {
        id: RouteId::JourneysCreate,
        method: Method::POST,
        path: "/v2/journeys",
        function: "journeys-create",
    },
    Route {
        id: RouteId::JourneysStatus,
        method: Method::GET,
        path: "/v2/journeys/{journey_id}",
        function: "journeys-status",
    },
    Route {
        id: RouteId::JourneysCancel,
        method: Method::DELETE,
        path: "/v2/journeys/{journey_id}",
        function: "journeys-cancel",
    },
    Route {
        id: RouteId::OperatorsCreate,
        method: Method::POST,
        path: "/v2/operators",
        function: "operators-create",
    },
    Route {
        id: RouteId::OperatorsList,
        method: Method::GET,
        path: "/v2/operators",
        function: "operators-list",
    },
    Route {
        id: RouteId::OperatorsGet,
        method: Method::GET,
        path: "/v2/operators/{operator_id}",
        function: "operators-get",
    },
    Route {
        id: RouteId::OperatorsIncentives,
        method: Method::GET,
        path: "/v2/operators/{operator_id}/incentives",
        function: "operators-incentives",
    },
    Route {
        id: RouteId::ApplicationsCreate,
        method: Method::POST,
        path: "/v2/operators/{operator_id}/applications",
        function: "applications-create",
    },
    Route {
        id: RouteId::ApplicationsList,
        method: Method::GET,
        path: "/v2/operators/{operator_id}/applications",
        function: "applications-list",
    },
    Route {
        id: RouteId::ApplicationsRevoke,
        method: Method::DELETE,
        path: "/v2/operators/{operator_id}/applications/{token_id}",
        function: "applications-revoke",
    },
    // The fixed CEE paths come before `/v2/policies/cee/{uuid}`, which would match them.
    Route {
        id: RouteId::CeePublicKey,
        method: Method::GET,
        path: "/v2/policies/cee/public-key",
        function: "cee-public-key",
    },
    Route {
        id: RouteId::CeeSimulate,
        method: Method::POST,
        path: "/v2/policies/cee/simulate",
        function: "cee-simulate",
    },
    Route {
        id: RouteId::CeeRegister,
        method: Method::POST,
        path: "/v2/policies/cee",
        function: "cee-register",
    },
    Route {
        id: RouteId::CeeImport,
        method: Method::POST,
        path: "/v2/policies/cee/import",
        function: "cee-import",
    },
    Route {
        id: RouteId::CeeImportIdentity,
        method: Method::POST,
        path: "/v2/policies/cee/import/identity",
        function: "cee-import-identity",
    },
    Route {
        id: RouteId::CeeFind,
        method: Method::GET,
        path: "/v2/policies/cee/{uuid}",
        function: "cee-find",
    },
    Route {
        id: RouteId::CeeDelete,
        method: Method::DELETE,
        path: "/v2/policies/cee/{uuid}",
        function: "cee-delete",
    },
    Route {
        id: RouteId::CampaignsCreate,
        method: Method::POST,
        path: "/v2/campaigns",
        function: "campaigns-create",
    },
    Route {
        id: RouteId::CampaignsList,
        method: Method::GET,
        path: "/v2/campaigns",
        function: "campaigns-list",
    },
    Route {
        id: RouteId::CampaignsGet,
        method: Method::GET,
        path: "/v2/campaigns/{campaign_id}",
        function: "campaigns-get",
    },
    Route {
        id: RouteId::CampaignsUpdate,
        method: Method::PUT,
        path: "/v2/campaigns/{campaign_id}",
        function: "campaigns-update",
    },
    Route {
        id: RouteId::CampaignsClose,
        method: Method::POST,
        path: "/v2/campaigns/{campaign_id}/close",
        function: "campaigns-close",
    },
    Route {
        id: RouteId::CampaignsIncentives,
        method: Method::GET,
        path: "/v2/campaigns/{campaign_id}/incentives",
        function: "campaigns-incentives",
    },
    Route {
        id: RouteId::CertificatesCreate,
        method: Method::POST,
        path: "/v2/certificates",
        function: "certificates-create",
    },
    Route {
        id: RouteId::CertificatesFind,
        method: Method::GET,
        path: "/v2/certificates/{uuid}",
        function: "certificates-find",
    },
    Route {
        id: RouteId::CertificatesAttachment,
        method: Method::GET,
        path: "/v2/certificates/{uuid}/attachment",
        function: "certificates-attachment",
    },
];

impl RouteId {
    pub fn route(self) -> &'static Route {
        // Every RouteId has exactly one entry (checked by a test).
        ROUTES.iter().find(|r| r.id == self).unwrap_or(&ROUTES[0])
    }
}

/// Path parameters of a matched route, percent-decoded.
#[derive(Debug, Default, PartialEq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, PartialEq)]
pub enum RouteError {
    NotFound,
    MethodNotAllowed(Vec<Method>),
}

/// The route of a request. A fixed path wins over a template that also matches it, as in
/// OpenAPI (`/v2/policies/cee/import` is never the `{uuid}` of `/v2/policies/cee/{uuid}`):
/// only the routes whose pattern has the most literal segments are candidates, and a method
/// none of them takes is 405 with their methods.
pub fn find(method: &Method, path: &str) -> Result<(&'static Route, Params), RouteError> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut best: Vec<(&'static Route, Params)> = Vec::new();
    let mut best_literals = 0;
    for route in ROUTES {
        let Some(params) = match_path(route.path, &segments) else {
            continue;
        };
        let literals = segments.len() - params.0.len();
        if best.is_empty() || literals > best_literals {
            best.clear();
            best_literals = literals;
        } else if literals < best_literals {
            continue;
        }
        best.push((route, params));
    }
    if best.is_empty() {
        return Err(RouteError::NotFound);
    }
    let mut allowed: Vec<Method> = Vec::new();
    for (route, params) in best {
        if route.method == *method {
            return Ok((route, params));
        }
        if !allowed.contains(&route.method) {
            allowed.push(route.method.clone());
        }
    }
    Err(RouteError::MethodNotAllowed(allowed))
}

fn match_path(pattern: &'static str, segments: &[&str]) -> Option<Params> {
    let pattern: Vec<&'static str> = pattern.split('/').collect();
    if pattern.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (p, s) in pattern.iter().zip(segments) {
        if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            let value = percent_decode(s)?;
            if value.is_empty() {
                return None;
            }
            params.push((name, value));
        } else if p != s {
            return None;
        }
    }
    Some(Params(params))
}

/// Decodes `%XX` escapes; `None` when the result is not UTF-8 or an escape is broken.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_id_has_one_entry_and_unique_function() {
        let ids = [
            RouteId::JourneysCreate,
            RouteId::JourneysStatus,
            RouteId::JourneysCancel,
            RouteId::OperatorsCreate,
            RouteId::OperatorsList,
            RouteId::OperatorsGet,
            RouteId::OperatorsIncentives,
            RouteId::ApplicationsCreate,
            RouteId::ApplicationsList,
            RouteId::ApplicationsRevoke,
            RouteId::CeePublicKey,
            RouteId::CeeSimulate,
            RouteId::CeeRegister,
            RouteId::CeeImport,
            RouteId::CeeImportIdentity,
            RouteId::CeeFind,
            RouteId::CeeDelete,
            RouteId::CampaignsCreate,
            RouteId::CampaignsList,
            RouteId::CampaignsGet,
            RouteId::CampaignsUpdate,
            RouteId::CampaignsClose,
            RouteId::CampaignsIncentives,
            RouteId::CertificatesCreate,
            RouteId::CertificatesFind,
            RouteId::CertificatesAttachment,
        ];
        assert_eq!(ids.len(), ROUTES.len());
        for id in ids {
            assert_eq!(ROUTES.iter().filter(|r| r.id == id).count(), 1, "{id:?}");
            assert_eq!(id.route().id, id);
        }
        let mut functions: Vec<_> = ROUTES.iter().map(|r| r.function).collect();
        functions.sort();
        functions.dedup();
        assert_eq!(functions.len(), ROUTES.len());
    }

    #[test]
    fn matches_params_methods_and_unknown_paths() {
        let (r, p) = find(&Method::GET, "/v2/journeys/abc%2F1").unwrap();
        assert_eq!(r.id, RouteId::JourneysStatus);
        assert_eq!(p.get("journey_id"), Some("abc/1"));
        let (r, p) = find(&Method::DELETE, "/v2/operators/7/applications/ff").unwrap();
        assert_eq!(r.id, RouteId::ApplicationsRevoke);
        assert_eq!(
            (p.get("operator_id"), p.get("token_id")),
            (Some("7"), Some("ff"))
        );
        assert_eq!(
            find(&Method::GET, "/v2/operators/").unwrap().0.id,
            RouteId::OperatorsList
        );
        assert_eq!(
            find(&Method::PUT, "/v2/journeys"),
            Err(RouteError::MethodNotAllowed(vec![Method::POST]))
        );
        assert_eq!(find(&Method::GET, "/v2/nothing"), Err(RouteError::NotFound));
        // Fixed CEE paths win over `{uuid}`.
        assert_eq!(
            find(&Method::GET, "/v2/policies/cee/public-key")
                .unwrap()
                .0
                .id,
            RouteId::CeePublicKey
        );
        assert_eq!(
            find(&Method::POST, "/v2/policies/cee/import").unwrap().0.id,
            RouteId::CeeImport
        );
        assert_eq!(
            find(&Method::DELETE, "/v2/policies/cee/abc").unwrap().0.id,
            RouteId::CeeDelete
        );
        // ... and a method they do not take is 405 with their methods only, never the
        // `{uuid}` route with "public-key" as its uuid.
        assert_eq!(
            find(&Method::DELETE, "/v2/policies/cee/public-key"),
            Err(RouteError::MethodNotAllowed(vec![Method::GET]))
        );
        assert_eq!(
            find(&Method::GET, "/v2/policies/cee/import"),
            Err(RouteError::MethodNotAllowed(vec![Method::POST]))
        );
        assert_eq!(
            find(&Method::OPTIONS, "/v2/journeys/j-1"),
            Err(RouteError::MethodNotAllowed(vec![
                Method::GET,
                Method::DELETE
            ]))
        );
        assert_eq!(
            find(&Method::GET, "/v2/journeys/%zz"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            find(&Method::GET, "/v2/journeys/%+1"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            find(&Method::GET, "/v2/journeys/%ff"),
            Err(RouteError::NotFound)
        );
    }
}
