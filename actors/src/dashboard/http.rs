//! The routes: the page, the JSON API and the event stream. Every error is JSON with a
//! message; unknown routes are 404, malformed parameters 400.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use flux_proto::types::JobId;
use serde_json::json;

use super::poller::Shared;
use crate::tracer::TraceFilter;

/// The page, with its script and style inline.
const PAGE: &str = include_str!("page.html");
/// Most trace entries one request may ask for.
const MAX_LIMIT: usize = 10_000;
/// How long a first request waits for the first gathering round.
const FIRST_ROUND: Duration = Duration::from_secs(5);

type Data = web::Data<Shared>;

/// Build the server on `listener` (one worker: the dashboard is for a few people).
pub fn server(listener: TcpListener, shared: Arc<Shared>) -> std::io::Result<Server> {
    let data = web::Data::from(shared);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/", web::get().to(page))
            .route("/api/tbon", web::get().to(tbon))
            .route("/api/actors", web::get().to(actors))
            .route("/api/trace", web::get().to(trace))
            .route("/api/jobs", web::get().to(jobs))
            .route("/api/stream", web::get().to(stream))
            .default_service(web::to(not_found))
    })
    .workers(1)
    // Streams never end by themselves: do not wait for them at shutdown.
    .shutdown_timeout(1)
    // The broker handles the process's signals.
    .disable_signals()
    .listen(listener)?
    .run())
}

fn error(status: StatusCode, msg: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": msg.into() }))
}

/// A request the API refuses: a status and a message, answered as JSON.
#[derive(Debug, thiserror::Error)]
#[error("{1}")]
struct ApiError(StatusCode, String);

impl actix_web::ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0
    }

    fn error_response(&self) -> HttpResponse {
        error(self.0, self.1.clone())
    }
}

fn bad_request(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    error(
        StatusCode::NOT_FOUND,
        format!("{} {}: no such route", req.method(), req.path()),
    )
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(PAGE)
}

/// Note the request and wait for the first round if none has run yet.
async fn fresh(shared: &Shared) {
    shared.touch();
    if shared.model().rounds() == 0 {
        let wait = shared.round_done.notified();
        if shared.model().rounds() == 0 {
            let _ = tokio::time::timeout(FIRST_ROUND, wait).await;
        }
    }
}

/// The query parameters, refusing any not in `known`.
fn params(req: &HttpRequest, known: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| bad_request(format!("malformed query: {e}")))?
        .into_inner();
    for (k, _) in &pairs {
        if !known.contains(&k.as_str()) {
            return Err(bad_request(format!(
                "unknown parameter '{k}' (known: {})",
                known.join(", ")
            )));
        }
    }
    Ok(pairs)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn tbon(shared: Data) -> HttpResponse {
    fresh(&shared).await;
    HttpResponse::Ok().json(shared.model().tbon())
}

async fn actors(req: HttpRequest, shared: Data) -> Result<HttpResponse, ApiError> {
    let pairs = params(&req, &["rank"])?;
    let rank = param(&pairs, "rank")
        .map(|r| {
            r.parse::<u32>()
                .map_err(|_| bad_request(format!("rank: expected a rank number, got '{r}'")))
        })
        .transpose()?;
    fresh(&shared).await;
    let model = shared.model();
    match rank {
        None => Ok(HttpResponse::Ok().json(model.all_actors())),
        Some(r) => match model.actors(r) {
            Some(v) => Ok(HttpResponse::Ok().json(v)),
            None => Err(ApiError(
                StatusCode::NOT_FOUND,
                format!("rank {r}: no such rank (size {})", model.size()),
            )),
        },
    }
}

/// Parse `/api/trace` parameters into a filter.
fn trace_filter(pairs: &[(String, String)]) -> Result<TraceFilter, String> {
    let mut filter = TraceFilter {
        limit: Some(200),
        ..Default::default()
    };
    if let Some(t) = param(pairs, "topic").filter(|t| !t.is_empty()) {
        filter.topic = Some(t.to_string());
    }
    if let Some(j) = param(pairs, "job").filter(|j| !j.is_empty()) {
        let id = JobId::parse(j).map_err(|e| format!("job: invalid job id '{j}': {e}"))?;
        filter.job = Some(id.0);
    }
    if let Some(l) = param(pairs, "limit") {
        match l.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => filter.limit = Some(n),
            _ => {
                return Err(format!(
                    "limit: expected a number from 1 to {MAX_LIMIT}, got '{l}'"
                ));
            }
        }
    }
    Ok(filter)
}

async fn trace(req: HttpRequest, shared: Data) -> Result<HttpResponse, ApiError> {
    let filter = trace_filter(&params(&req, &["topic", "job", "limit"])?).map_err(bad_request)?;
    fresh(&shared).await;
    Ok(HttpResponse::Ok().json(json!({ "entries": shared.model().trace(&filter) })))
}

async fn jobs(shared: Data) -> HttpResponse {
    fresh(&shared).await;
    HttpResponse::Ok().json(shared.model().jobs())
}

async fn stream(shared: Data) -> HttpResponse {
    fresh(&shared).await;
    let Some(rx) = shared.subscribe() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "too many stream clients");
    };
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, actix_web::Error>(b), rx))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn trace_parameters_are_checked() {
        let f = trace_filter(&pairs(&[("topic", "kvs"), ("job", "1234"), ("limit", "5")])).unwrap();
        assert_eq!(
            (f.topic.as_deref(), f.job, f.limit),
            (Some("kvs"), Some(1234), Some(5))
        );
        let f = trace_filter(&pairs(&[("job", "ƒ2")])).unwrap();
        assert_eq!(f.job, Some(1));
        assert!(
            trace_filter(&pairs(&[("limit", "0")]))
                .unwrap_err()
                .contains("limit")
        );
        assert!(trace_filter(&pairs(&[("limit", "x")])).is_err());
        assert!(
            trace_filter(&pairs(&[("job", "nope!")]))
                .unwrap_err()
                .contains("invalid job id")
        );
    }
}
