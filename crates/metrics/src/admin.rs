//! The admin port of a process (`--admin-listen`): `GET /metrics` in the Prometheus text format. Kept off
//! the service ports, so it can be reachable by the platform's scraper alone (and carries no token).

use std::future::Future;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::global;

/// The admin routes.
pub fn routes() -> Router {
    Router::new().route(
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

    #[tokio::test]
    async fn the_admin_port_answers_metrics_in_the_prometheus_text_format() {
        // Given an admin port and something recorded.
        global().watched(true, 2);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, std::future::pending()));
        // When it is scraped.
        let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
        socket
            .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.unwrap();
        // Then it answers 200 in the text format with what was recorded.
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("text/plain; version=0.0.4"), "{answer}");
        assert!(
            answer.contains("oneledger_watcher_passes_total{outcome=\"ok\"}"),
            "{answer}"
        );
    }
}
