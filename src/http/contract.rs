//! What every operation of the contract says about its errors, added once rather than
//! written beside each handler: every error answer is `application/problem+json`; an
//! operation that needs a caller can answer 401 `unauthenticated`; one with a body 400
//! `invalid_json`, 408 `request_timeout`, 413 `payload_too_large` and 422
//! `validation_failed`; one with query parameters 422; one with path parameters 404
//! `not_found` and 422 (a control character); and every one of the API 503
//! `service_unavailable`. A handler documents only the codes particular to it.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

const PROBLEM: &str = "application/problem+json";

/// Adds the common error answers to every operation of `spec` and gives every error
/// answer the problem media type.
pub fn complete(spec: &mut OpenApi) {
    for (path, item) in spec.paths.paths.iter_mut() {
        let api = path.starts_with("/api/");
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            complete_operation(operation, api);
        }
    }
}

fn complete_operation(operation: &mut Operation, api: bool) {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let has_query = parameters
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let has_path = parameters
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Path);
    let has_body = operation.request_body.is_some();
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let mut common: Vec<(&str, &str)> = Vec::new();
    if has_body {
        common.push(("400", "`invalid_json`: the body is not JSON"));
        common.push((
            "408",
            "`request_timeout`: the body did not arrive within `YONGJUN_BODY_TIMEOUT_SECS`",
        ));
        common.push(("413", "`payload_too_large`"));
    }
    if secured {
        common.push(("401", "`unauthenticated`: no valid token or key"));
    }
    if has_path {
        common.push(("404", "`not_found`: a path parameter that names nothing"));
    }
    if has_body || has_query || has_path {
        common.push((
            "422",
            "`validation_failed`, with each bad field in `errors`",
        ));
    }
    if api {
        common.push(("503", "`service_unavailable`: the database is out of reach"));
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in common {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(problem_response(description)));
    }
    for (status, response) in responses.iter_mut() {
        if let (false, RefOr::T(response)) = (status.starts_with('2'), response) {
            as_problem(response);
        }
    }
}

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// An error answer whose body is a `Problem` is served as `application/problem+json`.
fn as_problem(response: &mut Response) {
    let is_problem = |content: &utoipa::openapi::Content| matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"));
    if let Some(content) = response.content.shift_remove("application/json") {
        let media = if is_problem(&content) {
            PROBLEM
        } else {
            "application/json"
        };
        response.content.insert(media.to_owned(), content);
    }
}
