//! Every gRPC call counted by method and code and timed to its response, as a tower layer a server puts
//! outermost (inside CORS and gRPC-Web, so it sees gRPC paths).
//!
//! The code is the `grpc-status` of the response headers when the call ended there (every refusal and
//! error of a unary call: tonic answers them trailers-only); a response without it is counted `OK`, its
//! status coming in trailers after the body (a streaming call's end is not what is timed here).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tower::{Layer, Service};

use crate::{CallLabels, MethodLabel, global};

/// Counts and times the calls of the service it wraps.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcMetricsLayer;

impl<S> Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics { inner }
    }
}

/// A service behind [`GrpcMetricsLayer`].
#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
}

impl<S, B, R> Service<http::Request<B>> for GrpcMetrics<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Timed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        Timed {
            method: request.uri().path().to_owned(),
            started: Instant::now(),
            inner: Box::pin(self.inner.call(request)),
        }
    }
}

/// A call's response, recorded when it comes.
pub struct Timed<F> {
    method: String,
    started: Instant,
    inner: Pin<Box<F>>,
}

impl<F, R, E> Future for Timed<F>
where
    F: Future<Output = Result<http::Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let result = match self.inner.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        let code = match &result {
            Ok(response) => response
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok())
                .map_or("OK", code_name),
            Err(_) => "UNAVAILABLE",
        };
        // A method the server does not have is a path the caller typed: one label for all of them.
        let method = if code == "UNIMPLEMENTED" {
            "unknown".to_owned()
        } else {
            std::mem::take(&mut self.method)
        };
        let metrics = global();
        metrics
            .grpc_seconds
            .get_or_create(&MethodLabel {
                method: method.clone(),
            })
            .observe(self.started.elapsed().as_secs_f64());
        metrics
            .grpc_requests
            .get_or_create(&CallLabels {
                method,
                code: code.to_owned(),
            })
            .inc();
        Poll::Ready(result)
    }
}

/// The name of gRPC status code `n`.
fn code_name(n: usize) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    NAMES.get(n).copied().unwrap_or("UNKNOWN")
}
