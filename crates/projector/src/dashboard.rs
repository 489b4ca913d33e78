//! The joint-handling dashboard (联合处置看板), served on the ledger's own port beside the API so the
//! page calls the API from its own origin (no CORS needed). The bundle is built from `web/` (`npm run
//! build`) and committed under `web/dist/`; it is compiled into the binary, so a machine with only Rust
//! serves it. The pages hold no data: they are open, and every call they make is authenticated.

use axum::Router;
use axum::http::header;
use axum::routing::get;

const INDEX: &[u8] = include_bytes!("../../../web/dist/index.html");
const APP_JS: &[u8] = include_bytes!("../../../web/dist/app.js");
const APP_CSS: &[u8] = include_bytes!("../../../web/dist/app.css");

/// The paths the dashboard serves.
const PATHS: [&str; 4] = ["/", "/index.html", "/app.js", "/app.css"];

fn file(
    content_type: &'static str,
    body: &'static [u8],
) -> ([(header::HeaderName, &'static str); 2], &'static [u8]) {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // A new binary may bring a new bundle under the same names: browsers ask again.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

/// The dashboard's routes.
pub fn routes() -> Router {
    let index = || async { file("text/html; charset=utf-8", INDEX) };
    Router::new()
        .route(PATHS[0], get(index))
        .route(PATHS[1], get(index))
        .route(
            PATHS[2],
            get(|| async { file("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            PATHS[3],
            get(|| async { file("text/css; charset=utf-8", APP_CSS) }),
        )
}
