//! What every request passes before it reaches a handler: a `Host` the
//! server answers to (on a loopback listener, loopback names only, so a
//! page served elsewhere cannot rebind its DNS onto the server), JSON for a
//! chat request (a browser sends `text/plain` cross-site without asking
//! first), and CORS only for the origin the operator allowed.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::wire::ApiError;

pub(super) async fn guard(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if let Err(e) = host_allowed(&shared, &request) {
        return e.into_response();
    }
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_string);
    let allowed_origin = origin.filter(|o| {
        shared
            .config
            .cors
            .as_deref()
            .is_some_and(|allowed| allowed == "*" || allowed == o)
    });
    if request.method() == Method::OPTIONS {
        return match allowed_origin {
            Some(origin) => with_cors(StatusCode::NO_CONTENT.into_response(), &origin, true),
            None => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        };
    }
    if request.method() == Method::POST && !is_json(&request) {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            "unsupported_media_type",
            "the request body must be sent as `Content-Type: application/json`",
        )
        .into_response();
    }
    let response = next.run(request).await;
    match allowed_origin {
        Some(origin) => with_cors(response, &origin, false),
        None => response,
    }
}

fn is_json(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// The `Host` header's name, without its port.
fn host_name(value: &str) -> &str {
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    value.rsplit_once(':').map_or(value, |(name, _)| name)
}

fn host_allowed(shared: &Shared, request: &Request) -> Result<(), ApiError> {
    let allow = &shared.config.allow_hosts;
    if !shared.loopback && allow.is_empty() {
        return Ok(());
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(host_name)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let loopback_name =
        matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1") || host.ends_with(".localhost");
    if (shared.loopback && loopback_name) || allow.iter().any(|a| a.eq_ignore_ascii_case(&host)) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::MISDIRECTED_REQUEST,
        "invalid_request_error",
        "host_not_allowed",
        format!("this server does not answer to the host `{host}`; pass --allow-host to add it"),
    ))
}

fn with_cors(mut response: Response, origin: &str, preflight: bool) -> Response {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if preflight {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "authorization, content-type, x-council-progress, x-council-citations",
            ),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    response
}
