//! What every operation of the contract says about its errors, added once rather than
//! written beside each handler: every error answer is `application/problem+json`; an
//! operation that needs a caller can answer 401 `unauthenticated`, and one for staff 403
//! `forbidden` (the role matrix); one with a body 400
//! `invalid_json`, 408 `request_timeout`, 413 `payload_too_large` and 422
//! `validation_failed`; one with query parameters 422; one with path parameters 404
//! `not_found` and 422 (a control character); and every one of the API 503
//! `service_unavailable`. An operation that names no caller declares `security: []` (it is
//! public, and says so). A handler documents only the codes particular to it. The query
//! parameters every list shares (`page`, `per_page`, `near`, `radius_km`, `region`) get the
//! bounds the server checks. The reads of `http::caching::CACHED_READS` document their
//! `ETag`, `Cache-Control` and 304. Component schemas no operation refers to are dropped.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    ContentBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder, Schema,
};
use utoipa::Number;

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
        let cached = super::caching::CACHED_READS
            .iter()
            .find(|(template, _)| template == path);
        if let (Some((_, cache_control)), Some(get)) = (cached, item.get.as_mut()) {
            document_caching(get, cache_control);
        }
    }
    drop_unused_schemas(spec);
}

/// Drops the component schemas nothing refers to: utoipa registers the item type of a
/// generic page (`Paged<T>`) that it writes inline, and a client generator would make a
/// type of it that no operation uses.
fn drop_unused_schemas(spec: &mut OpenApi) {
    loop {
        let Ok(text) = serde_json::to_string(&*spec) else {
            return;
        };
        let Some(components) = spec.components.as_mut() else {
            return;
        };
        let unused: Vec<String> = components
            .schemas
            .keys()
            .filter(|name| !text.contains(&format!("\"#/components/schemas/{name}\"")))
            .cloned()
            .collect();
        if unused.is_empty() {
            return;
        }
        for name in unused {
            components.schemas.remove(&name);
        }
    }
}

/// A read a phone repeats (`http::caching`): its `ETag` and `Cache-Control`, and the 304
/// it answers to an `If-None-Match` naming the tag.
fn document_caching(operation: &mut Operation, cache_control: &str) {
    let text = || ObjectBuilder::new().schema_type(Type::String).build();
    operation.parameters.get_or_insert_with(Vec::new).push(
        ParameterBuilder::new()
            .name("If-None-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "The `ETag` of an answer kept: the same answer now is a 304 without a body",
            ))
            .schema(Some(text()))
            .build(),
    );
    let responses = &mut operation.responses.responses;
    if let Some(RefOr::T(ok)) = responses.get_mut("200") {
        ok.headers.insert(
            "ETag".to_owned(),
            HeaderBuilder::new()
                .schema(text())
                .description(Some(
                    "Strong tag of the body (`-gzip` appended when the body is gzip-compressed)",
                ))
                .build(),
        );
        ok.headers.insert(
            "Cache-Control".to_owned(),
            HeaderBuilder::new()
                .schema(text())
                .description(Some(format!("`{cache_control}`")))
                .build(),
        );
    }
    responses.insert(
        "304".to_owned(),
        RefOr::T(
            ResponseBuilder::new()
                .description("Not Modified: `If-None-Match` names the current `ETag`")
                .build(),
        ),
    );
}

fn complete_operation(operation: &mut Operation, api: bool) {
    // A public operation says so (`security: []`) rather than leaving it unsaid.
    operation.security.get_or_insert_with(Vec::new);
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.parameter_in == ParameterIn::Query {
            constrain_query(parameter);
        }
    }
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let has_query = parameters
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let has_path = parameters
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Path);
    let has_body = operation.request_body.is_some();
    let schemes: Vec<&str> = operation
        .security
        .iter()
        .flatten()
        .flat_map(|requirement| requirement_schemes(requirement))
        .collect();
    let secured = !schemes.is_empty();
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
    if schemes.contains(&"staff") {
        common.push((
            "403",
            "`forbidden`: the caller's role may not do this (docs/permissions.md)",
        ));
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

/// The bounds the server enforces on query parameters that several lists share (checked
/// in one place there too: `validate::Fields::page`, `parse_near`, `RegionCode::parse`).
fn constrain_query(parameter: &mut Parameter) {
    let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() else {
        return;
    };
    match parameter.name.as_str() {
        "page" => schema.minimum = Some(Number::UInt(1)),
        "per_page" => {
            schema.minimum = Some(Number::UInt(1));
            schema.maximum = Some(Number::UInt(100));
        }
        "radius_km" => {
            schema.minimum = Some(Number::Float(0.1));
            schema.maximum = Some(Number::Float(200.0));
        }
        "near" => {
            schema.pattern = Some(r"^-?[0-9]{1,2}(\.[0-9]+)?,-?[0-9]{1,3}(\.[0-9]+)?$".to_owned());
        }
        "region" | "parent" => schema.pattern = Some("^[0-9]{6}$".to_owned()),
        _ => {}
    }
}

/// The names of the security schemes one requirement of an operation lists.
fn requirement_schemes(requirement: &SecurityRequirement) -> Vec<&str> {
    match serde_json::to_value(requirement) {
        Ok(serde_json::Value::Object(map)) => map
            .keys()
            .filter_map(|name| {
                ["staff", "terminal", "holder"]
                    .into_iter()
                    .find(|s| s == name)
            })
            .collect(),
        _ => Vec::new(),
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
