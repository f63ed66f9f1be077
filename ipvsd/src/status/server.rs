//! The status HTTP server (hyper, HTTP/1.1): `GET /status` (JSON),
//! `GET /metrics` (Prometheus text), `POST /reload`.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::metrics::render;
use super::snapshot::{Snapshot, View};

/// A reload asked through the API; the daemon answers on `reply` with the
/// reload's error, if any.
#[derive(Debug)]
pub struct ReloadRequest {
    /// Where the outcome goes.
    pub reply: oneshot::Sender<Result<(), String>>,
}

/// A request for the daemon's [`View`] now, answered on `reply`: the view
/// is built when a request needs it, not after every change (at 37,000
/// real servers a view costs tens of milliseconds).
#[derive(Debug)]
pub struct ViewRequest {
    /// Where the view goes.
    pub reply: oneshot::Sender<Arc<View>>,
}

/// How long a request waits for the daemon's view before it takes the last
/// one it got: the daemon's loop answers between reconciles, and a full one
/// of a large table takes seconds.
const VIEW_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Clone)]
struct Shared {
    views: mpsc::Sender<ViewRequest>,
    /// The last view the daemon gave.
    last: Arc<std::sync::Mutex<Option<Arc<View>>>>,
    /// Absent when the kernel has no IPVS (VRRP alone): the table is empty.
    ipvs: Option<Arc<ipvs::Ipvs>>,
    reload: mpsc::Sender<ReloadRequest>,
}

/// Serves the status API on `listener` until `cancel`: each request reads
/// the kernel's table afresh (counters are never older than the request)
/// and asks the daemon for its [`View`] on `views`.
pub async fn serve(
    listener: TcpListener,
    views: mpsc::Sender<ViewRequest>,
    ipvs: Option<Arc<ipvs::Ipvs>>,
    reload: mpsc::Sender<ReloadRequest>,
    cancel: CancellationToken,
) {
    let shared = Shared {
        views,
        last: Arc::default(),
        ipvs,
        reload,
    };
    loop {
        let (stream, _) = tokio::select! {
            () = cancel.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("status API: accept: {e}");
                    continue;
                }
            },
        };
        let shared = shared.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(shared.clone(), req));
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                () = cancel.cancelled() => {}
                r = conn => if let Err(e) = r {
                    tracing::debug!("status API connection: {e}");
                },
            }
        });
    }
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

/// The daemon's view: a fresh one, or the last one when the daemon is busy
/// for longer than [`VIEW_WAIT`]; `None` when it is stopping.
async fn view(shared: &Shared) -> Option<Arc<View>> {
    let (tx, rx) = oneshot::channel();
    let last = shared.last.lock().ok().and_then(|l| l.clone());
    match shared.views.try_send(ViewRequest { reply: tx }) {
        Ok(()) => {}
        // Requests already wait for the busy daemon.
        Err(mpsc::error::TrySendError::Full(request)) => match last {
            Some(last) => return Some(last),
            None => shared.views.send(request).await.ok()?,
        },
        Err(mpsc::error::TrySendError::Closed(_)) => return None,
    }
    let fresh = match last {
        Some(last) => match tokio::time::timeout(VIEW_WAIT, rx).await {
            Ok(answer) => answer.ok()?,
            Err(_) => return Some(last),
        },
        None => rx.await.ok()?,
    };
    if let Ok(mut l) = shared.last.lock() {
        *l = Some(fresh.clone());
    }
    Some(fresh)
}

/// The snapshot now (the table read afresh); `None` when the daemon is
/// stopping.
async fn snapshot(shared: &Shared) -> Option<Snapshot> {
    let view = view(shared).await?;
    let Some(ipvs) = shared.ipvs.clone() else {
        return Some(Snapshot::build(&view, Ok(&[])));
    };
    let table = tokio::task::spawn_blocking(move || ipvs.table()).await;
    Some(match table {
        Ok(Ok(t)) => Snapshot::build(&view, Ok(&t)),
        Ok(Err(e)) => Snapshot::build(&view, Err(e.to_string())),
        Err(e) => Snapshot::build(&view, Err(e.to_string())),
    })
}

fn stopping() -> Response<Full<Bytes>> {
    reply(
        StatusCode::SERVICE_UNAVAILABLE,
        "text/plain",
        "stopping\n".into(),
    )
}

async fn handle(
    shared: Shared,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    const JSON: &str = "application/json";
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/status") => {
            let Some(s) = snapshot(&shared).await else {
                return Ok(stopping());
            };
            match serde_json::to_string_pretty(&s) {
                Ok(text) => reply(StatusCode::OK, JSON, text + "\n"),
                Err(e) => reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    e.to_string(),
                ),
            }
        }
        (&Method::GET, "/metrics") => {
            let Some(s) = snapshot(&shared).await else {
                return Ok(stopping());
            };
            reply(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                render(&s),
            )
        }
        (&Method::POST, "/reload") => {
            let (tx, rx) = oneshot::channel();
            if shared
                .reload
                .send(ReloadRequest { reply: tx })
                .await
                .is_err()
            {
                return Ok(reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    JSON,
                    "{\"reloaded\":false,\"error\":\"stopping\"}\n".into(),
                ));
            }
            match rx.await {
                Ok(Ok(())) => reply(StatusCode::OK, JSON, "{\"reloaded\":true}\n".into()),
                Ok(Err(e)) => reply(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    JSON,
                    serde_json::json!({"reloaded": false, "error": e}).to_string() + "\n",
                ),
                Err(_) => reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    JSON,
                    "{\"reloaded\":false,\"error\":\"stopping\"}\n".into(),
                ),
            }
        }
        (_, "/status" | "/metrics" | "/reload") => reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "method not allowed\n".into(),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /status, /metrics, POST /reload\n".into(),
        ),
    })
}
