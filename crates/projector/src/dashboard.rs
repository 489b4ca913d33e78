//! The joint-handling dashboard (联合处置看板), served on the ledger's own port beside the API so the
//! page calls the API from its own origin (no CORS needed). The bundle is built from `web/` (`npm run
//! build`) and committed under `web/dist/`; it is compiled into the binary, so a machine with only Rust
//! serves it. The pages hold no data: they are open, and every call they make is authenticated.

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use tower_http::compression::CompressionLayer;

/// One file of the bundle.
struct File {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// The bundle; `/` is the index.
const FILES: [File; 3] = [
    File {
        path: "/index.html",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../../../web/dist/index.html"),
    },
    File {
        path: "/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../web/dist/app.js"),
    },
    File {
        path: "/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../../web/dist/app.css"),
    },
];

/// Each file's entity tag: a digest of its bytes, so a browser that has this binary's file is answered
/// 304 without the body. Weak (`W/`), as the same file goes out gzipped or not.
static TAGS: LazyLock<[HeaderValue; 3]> = LazyLock::new(|| {
    FILES.each_ref().map(|f| {
        let digest = hex::encode(&Sha256::digest(f.body)[..12]);
        HeaderValue::from_str(&format!("W/\"{digest}\""))
            .unwrap_or_else(|_| unreachable!("hex in quotes is a valid header value"))
    })
});

fn serve(index: usize, request: &HeaderMap) -> Response {
    let file = &FILES[index];
    let tag = TAGS[index].clone();
    // A new binary may bring a new bundle under the same names: browsers ask again each time, and
    // the tag spares them the body when nothing changed.
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == tag || t.trim() == "*");
    if fresh {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag), cache]).into_response();
    }
    let kind = (
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    ([kind, (header::ETAG, tag), cache], file.body).into_response()
}

/// The dashboard's routes, gzipped for browsers that take it (the script is 700 KB as it is).
pub fn routes() -> Router {
    let mut router = Router::new().route("/", get(|h: HeaderMap| async move { serve(0, &h) }));
    for (i, file) in FILES.iter().enumerate() {
        router = router.route(
            file.path,
            get(move |h: HeaderMap| async move { serve(i, &h) }),
        );
    }
    router.layer(CompressionLayer::new().gzip(true))
}
