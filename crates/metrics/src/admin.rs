//! The admin port of a process (`--admin-listen`): `GET /metrics` in the Prometheus text format,
//! `GET /live` (200 while the process runs) and `GET /ready` (200 while every gRPC service of the process
//! reports SERVING, 503 otherwise) for probes that cannot speak gRPC over TLS. Kept off the service
//! ports, so it can be reachable by the platform alone (and carries no token).

use std::future::Future;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::global;

/// The admin routes.
pub fn routes() -> Router {
    Router::new()
        .route("/live", get(|| async { "live\n" }))
        .route(
            "/ready",
            get(|| async {
                match global().is_ready() {
                    true => (http::StatusCode::OK, "ready\n"),
                    false => (http::StatusCode::SERVICE_UNAVAILABLE, "not ready\n"),
                }
            }),
        )
        .route(
            "/metrics",
            get(|| async {
                (
                    [(
                        http::header::CONTENT_TYPE,
                        prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
                    )],
                    global().encode(),
                )
            }),
        )
}

/// Serves the admin routes on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, routes())
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn get(address: std::net::SocketAddr, path: &str) -> String {
        let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test]
    async fn the_admin_port_answers_metrics_liveness_and_readiness() {
        // Given an admin port and something recorded.
        global().watched(true, 2);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, std::future::pending()));
        // When it is scraped, then it answers 200 in the text format with what was recorded.
        let answer = get(address, "/metrics").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("text/plain; version=0.0.4"), "{answer}");
        assert!(
            answer.contains("oneledger_watcher_passes_total{outcome=\"ok\"}"),
            "{answer}"
        );
        // Live always; ready only once every part that spoke serves.
        assert!(get(address, "/live").await.starts_with("HTTP/1.1 200"));
        global().set_ready("oneledger.test.v1.A", true);
        global().set_ready("oneledger.test.v1.B", false);
        assert!(get(address, "/ready").await.starts_with("HTTP/1.1 503"));
        global().set_ready("oneledger.test.v1.B", true);
        assert!(get(address, "/ready").await.starts_with("HTTP/1.1 200"));
    }
}
