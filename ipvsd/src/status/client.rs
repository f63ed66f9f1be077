//! `ipvsd status`: the status document fetched from a running daemon.

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

/// Fetches `GET /status` from the daemon listening on `listen`, within
/// `timeout`; gives the body.
///
/// # Errors
/// A message: the daemon cannot be reached, answered with another status
/// than 200, or took longer than `timeout`.
pub async fn fetch_status(listen: SocketAddr, timeout: Duration) -> Result<String, String> {
    let work = async {
        let stream = tokio::net::TcpStream::connect(listen)
            .await
            .map_err(|e| format!("cannot reach ipvsd at {listen}: {e}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let req = hyper::Request::get("/status")
            .header(hyper::header::HOST, listen.to_string())
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        if status.is_success() {
            Ok(text)
        } else {
            Err(format!("ipvsd at {listen} answered {status}: {text}"))
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("ipvsd at {listen} did not answer within {timeout:?}"))?
}
