//! The table of ZITADEL routes the simulator serves (templates spelled as in ZITADEL's route list) and matching.

/// Every API endpoint the simulator implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    GetMyOrg,
    AdminListOrgs,
    ListUsers,
    GetUserById,
    ListMachineKeys,
    ListPersonalAccessTokens,
    ListUserMetadata,
    ListUserGrants,
    ListProjects,
    ListProjectRoles,
    ListProjectMembers,
    ListAllProjectGrants,
    ListProjectGrantMembers,
    ListApps,
    ListOrgMembers,
    ListMyMemberships,
    AdminListMembers,
    ListOrgProviders,
    AdminListProviders,
    AdminListEvents,
    V2ListOrganizations,
    V2ListUsers,
    V2GetUser,
    V2ListUserMetadata,
    V2ListKeys,
    V2ListPersonalAccessTokens,
    V2ListProjects,
    V2ListProjectRoles,
    V2ListProjectGrants,
    V2ListAuthorizations,
    V2ListAdministrators,
    V2ListApplications,
    ImportHumanUser,
    AddHumanUser,
    UpdateHumanProfile,
    UpdateHumanEmail,
    DeactivateUser,
    ReactivateUser,
    RemoveUser,
    AddUserGrant,
    UpdateUserGrant,
    RemoveUserGrant,
    SetUserMetadata,
    V2AddHumanUser,
    V2DeactivateUser,
    V2ReactivateUser,
    V2DeleteUser,
    V2SetUserMetadata,
}

/// One served route.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    pub(crate) verb: &'static str,
    pub(crate) template: &'static str,
    pub(crate) endpoint: Endpoint,
}

impl Route {
    /// Whether the route belongs to the v2/v2beta APIs (hidden under `ApiSupport::V1Only`).
    pub(crate) fn is_v2(&self) -> bool {
        self.template.starts_with("/v2")
    }

    /// `"VERB /template"`, the key of request counts and faults.
    pub(crate) fn key(&self) -> String {
        format!("{} {}", self.verb, self.template)
    }
}

const fn route(verb: &'static str, template: &'static str, endpoint: Endpoint) -> Route {
    Route { verb, template, endpoint }
}

/// All served routes.
pub(crate) const ROUTES: &[Route] = &[
    route("GET", "/management/v1/orgs/me", Endpoint::GetMyOrg),
    route("POST", "/admin/v1/orgs/_search", Endpoint::AdminListOrgs),
    route("POST", "/management/v1/users/_search", Endpoint::ListUsers),
    route("GET", "/management/v1/users/{id}", Endpoint::GetUserById),
    route("POST", "/management/v1/users/{user_id}/keys/_search", Endpoint::ListMachineKeys),
    route("POST", "/management/v1/users/{user_id}/pats/_search", Endpoint::ListPersonalAccessTokens),
    route("POST", "/management/v1/users/{id}/metadata/_search", Endpoint::ListUserMetadata),
    route("POST", "/management/v1/users/grants/_search", Endpoint::ListUserGrants),
    route("POST", "/management/v1/projects/_search", Endpoint::ListProjects),
    route("POST", "/management/v1/projects/{project_id}/roles/_search", Endpoint::ListProjectRoles),
    route("POST", "/management/v1/projects/{project_id}/members/_search", Endpoint::ListProjectMembers),
    route("POST", "/management/v1/projectgrants/_search", Endpoint::ListAllProjectGrants),
    route(
        "POST",
        "/management/v1/projects/{project_id}/grants/{grant_id}/members/_search",
        Endpoint::ListProjectGrantMembers,
    ),
    route("POST", "/management/v1/projects/{project_id}/apps/_search", Endpoint::ListApps),
    route("POST", "/management/v1/orgs/me/members/_search", Endpoint::ListOrgMembers),
    route("POST", "/auth/v1/memberships/me/_search", Endpoint::ListMyMemberships),
    route("POST", "/admin/v1/members/_search", Endpoint::AdminListMembers),
    route("POST", "/management/v1/idps/templates/_search", Endpoint::ListOrgProviders),
    route("POST", "/admin/v1/idps/templates/_search", Endpoint::AdminListProviders),
    route("POST", "/admin/v1/events/_search", Endpoint::AdminListEvents),
    route("POST", "/v2/organizations/_search", Endpoint::V2ListOrganizations),
    route("POST", "/v2/users", Endpoint::V2ListUsers),
    route("GET", "/v2/users/{user_id}", Endpoint::V2GetUser),
    route("POST", "/v2/users/{user_id}/metadata/search", Endpoint::V2ListUserMetadata),
    // Newer than the pinned schemas' REST mappings: `schemas` checks these two by message type.
    route("POST", "/v2/users/keys/search", Endpoint::V2ListKeys),
    route("POST", "/v2/users/pats/search", Endpoint::V2ListPersonalAccessTokens),
    route("POST", "/v2beta/projects/search", Endpoint::V2ListProjects),
    route("POST", "/v2beta/projects/{project_id}/roles/search", Endpoint::V2ListProjectRoles),
    route("POST", "/v2beta/projects/grants/search", Endpoint::V2ListProjectGrants),
    route("POST", "/v2beta/authorizations/search", Endpoint::V2ListAuthorizations),
    route("POST", "/v2beta/administrators/search", Endpoint::V2ListAdministrators),
    route("POST", "/v2beta/applications/search", Endpoint::V2ListApplications),
    route("POST", "/management/v1/users/human/_import", Endpoint::ImportHumanUser),
    route("POST", "/management/v1/users/human", Endpoint::AddHumanUser),
    route("PUT", "/management/v1/users/{user_id}/profile", Endpoint::UpdateHumanProfile),
    route("PUT", "/management/v1/users/{user_id}/email", Endpoint::UpdateHumanEmail),
    route("POST", "/management/v1/users/{id}/_deactivate", Endpoint::DeactivateUser),
    route("POST", "/management/v1/users/{id}/_reactivate", Endpoint::ReactivateUser),
    route("DELETE", "/management/v1/users/{id}", Endpoint::RemoveUser),
    route("POST", "/management/v1/users/{user_id}/grants", Endpoint::AddUserGrant),
    route("PUT", "/management/v1/users/{user_id}/grants/{grant_id}", Endpoint::UpdateUserGrant),
    route("DELETE", "/management/v1/users/{user_id}/grants/{grant_id}", Endpoint::RemoveUserGrant),
    route("POST", "/management/v1/users/{id}/metadata/{key}", Endpoint::SetUserMetadata),
    route("POST", "/v2/users/human", Endpoint::V2AddHumanUser),
    route("POST", "/v2/users/{user_id}/deactivate", Endpoint::V2DeactivateUser),
    route("POST", "/v2/users/{user_id}/reactivate", Endpoint::V2ReactivateUser),
    route("DELETE", "/v2/users/{user_id}", Endpoint::V2DeleteUser),
    route("POST", "/v2/users/{user_id}/metadata", Endpoint::V2SetUserMetadata),
];

/// Result of matching a request against [`ROUTES`].
pub(crate) enum RouteMatch {
    /// A route with its decoded path parameters (in template order).
    Found(Route, Vec<String>),
    /// The path exists, but not for this verb.
    WrongMethod,
    /// No such path.
    NotFound,
}

/// Finds the route for `verb` and `path`; literal segments win over parameters.
pub(crate) fn find(verb: &str, path: &str) -> RouteMatch {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let mut best: Option<(usize, Route, Vec<String>)> = None;
    let mut path_exists = false;
    for route in ROUTES {
        let Some(params) = match_template(route.template, &segments) else { continue };
        path_exists = true;
        if route.verb != verb {
            continue;
        }
        if best.as_ref().is_none_or(|(count, _, _)| params.len() < *count) {
            best = Some((params.len(), *route, params));
        }
    }
    match best {
        Some((_, route, params)) => RouteMatch::Found(route, params),
        None if path_exists => RouteMatch::WrongMethod,
        None => RouteMatch::NotFound,
    }
}

fn match_template(template: &str, segments: &[&str]) -> Option<Vec<String>> {
    let parts: Vec<&str> = template.split('/').skip(1).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (part, segment) in parts.iter().zip(segments) {
        if part.starts_with('{') {
            if segment.is_empty() {
                return None;
            }
            params.push(percent_decode(segment));
        } else if part != segment {
            return None;
        }
    }
    Some(params)
}

/// Decodes `%XX` escapes (and leaves malformed escapes as they are).
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let hex =
                std::str::from_utf8(&bytes[index + 1..index + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(byte) = hex {
                out.push(byte);
                index += 3;
                continue;
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_win_and_methods_are_checked() {
        match find("POST", "/management/v1/users/grants/_search") {
            RouteMatch::Found(route, params) => {
                assert_eq!(route.endpoint, Endpoint::ListUserGrants);
                assert!(params.is_empty());
            }
            _ => panic!("no match"),
        }
        match find("GET", "/management/v1/users/123") {
            RouteMatch::Found(route, params) => {
                assert_eq!(route.endpoint, Endpoint::GetUserById);
                assert_eq!(params, vec!["123".to_string()]);
            }
            _ => panic!("no match"),
        }
        assert!(matches!(find("GET", "/v2/users"), RouteMatch::WrongMethod));
        match find("POST", "/v2/users/keys/search") {
            RouteMatch::Found(route, params) => {
                assert_eq!(route.endpoint, Endpoint::V2ListKeys);
                assert!(params.is_empty());
            }
            _ => panic!("no match"),
        }
        assert!(matches!(find("GET", "/v2/users/pats/search"), RouteMatch::WrongMethod));
        assert!(matches!(find("GET", "/v2/nothing"), RouteMatch::NotFound));
        assert_eq!(percent_decode("a%2Fb%zz"), "a/b%zz");
    }
}
