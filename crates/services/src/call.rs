//! What a caller says of a call beyond its message: a correlation id of its choosing
//! (`x-correlation-id`, a UUID), which every event the call records carries, so an integrator ties the
//! steps of one flow together (a registration, its assignment, the order that follows) across calls and
//! agencies. Without one, a call's events are correlated by its request id, as before.
//!
//! The id is read once, at the edge ([`CallContextLayer`]), and held in a task-local for the call: the
//! repository stamps it on each event without every handler passing it down.

use std::task::{Context, Poll};

use futures::future::{Either, Ready, ready};
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};
use uuid::Uuid;

/// The header a caller names its correlation id in.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

tokio::task_local! {
    static CORRELATION: Uuid;
}

/// The correlation id the caller of the call being served chose, if any.
pub fn correlation() -> Option<Uuid> {
    CORRELATION.try_with(|c| *c).ok()
}

/// Reads `x-correlation-id` of every call; a value that is not a UUID is refused with INVALID_ARGUMENT
/// naming the header, before anything is decided.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallContextLayer;

impl<S> Layer<S> for CallContextLayer {
    type Service = CallContext<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallContext { inner }
    }
}

/// A service behind [`CallContextLayer`].
#[derive(Debug, Clone)]
pub struct CallContext<S> {
    inner: S,
}

impl<S, B, R> Service<http::Request<B>> for CallContext<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    R: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<
        Either<TaskLocalFuture<Uuid, S::Future>, S::Future>,
        Ready<Result<S::Response, S::Error>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let Some(value) = request.headers().get(CORRELATION_HEADER) else {
            return Either::Left(Either::Right(self.inner.call(request)));
        };
        match value
            .to_str()
            .ok()
            .and_then(|v| Uuid::parse_str(v.trim()).ok())
        {
            Some(id) => Either::Left(Either::Left(
                CORRELATION.scope(id, self.inner.call(request)),
            )),
            None => Either::Right(ready(Ok(tonic::Status::invalid_argument(format!(
                "invalid {CORRELATION_HEADER}: a UUID, e.g. {}",
                Uuid::nil()
            ))
            .into_http()))),
        }
    }
}
