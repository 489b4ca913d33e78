//! The adversarial suite: every RPC of every port of a running `up`, enumerated from the compiled
//! descriptors (so a new RPC or field is attacked without anyone listing it), sent requests built field by
//! field — empty, huge, control characters, direction marks, invalid UTF-8, impossible dates, 10,000
//! repeated values, unknown enum numbers, forged page tokens, wrong wire types — and every token attack.
//! Each answer must be a code a caller can act on (never INTERNAL, UNKNOWN, UNAVAILABLE or DATA_LOSS for
//! what the caller sent), quote at most a bounded prefix, carry no database or broker text; a refused
//! request must write nothing (every store's head and the ledger's exports before and after); the process
//! must never panic.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut};
use oneledger_auth::{Audience, DevIssuer, Role};
use oneledger_domain::Agency;
use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorSet};
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// Raw protobuf bytes as a gRPC message, so any bytes can be sent to any method.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

/// One RPC: its path, its request type, whether it streams answers, and the port that serves it.
struct Method {
    path: String,
    input: String,
    streams: bool,
    port: u16,
}

/// The services of each port of `up` at `base`, as the descriptors declare them.
fn methods(set: &FileDescriptorSet, base: u16) -> Vec<Method> {
    let port_of = |service: &str| -> Option<u16> {
        Some(match service {
            "oneledger.ledger.v2.LedgerService" | "oneledger.directory.v1.DirectoryService" => base,
            "oneledger.petition.v1.PetitionService" => base + 1,
            "oneledger.public_security.v1.PublicSecurityService" => base + 2,
            "oneledger.political_legal.v1.PoliticalLegalService" => base + 3,
            _ => return None,
        })
    };
    let mut out = Vec::new();
    for file in &set.file {
        for service in &file.service {
            let name = format!("{}.{}", file.package(), service.name());
            let mut ports: Vec<u16> = port_of(&name).into_iter().collect();
            // The event feed is on each agency's port.
            if name == "oneledger.events.v1.EventFeedService" {
                ports = vec![base + 1, base + 2, base + 3];
            }
            for port in ports {
                for m in &service.method {
                    out.push(Method {
                        path: format!("/{name}/{}", m.name()),
                        input: m.input_type().trim_start_matches('.').to_owned(),
                        streams: m.server_streaming(),
                        port,
                    });
                }
            }
        }
    }
    out
}

/// Every message type by its full name.
fn messages(set: &FileDescriptorSet) -> BTreeMap<String, DescriptorProto> {
    fn add(prefix: &str, m: &DescriptorProto, out: &mut BTreeMap<String, DescriptorProto>) {
        let name = format!("{prefix}.{}", m.name());
        for nested in &m.nested_type {
            add(&name, nested, out);
        }
        out.insert(name, m.clone());
    }
    let mut out = BTreeMap::new();
    for file in &set.file {
        for m in &file.message_type {
            add(file.package(), m, &mut out);
        }
    }
    out
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(number: i32, wire: u64, out: &mut Vec<u8>) {
    varint(((number as u64) << 3) | wire, out);
}

fn bytes_field(number: i32, bytes: &[u8], out: &mut Vec<u8>) {
    key(number, 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn varint_field(number: i32, v: u64, out: &mut Vec<u8>) {
    key(number, 0, out);
    varint(v, out);
}

/// Bad values for a field of `f`'s type, each as the field's encoding, with a name for the report.
fn bad_values(
    f: &FieldDescriptorProto,
    depth: usize,
    types: &BTreeMap<String, DescriptorProto>,
) -> Vec<(String, Vec<u8>)> {
    let n = f.number();
    let one = |label: &str, bytes: Vec<u8>| (label.to_owned(), bytes);
    let string = |label: &str, text: &[u8]| {
        let mut out = Vec::new();
        bytes_field(n, text, &mut out);
        one(label, out)
    };
    let mut values = match f.r#type() {
        Type::String | Type::Bytes => vec![
            string("empty", b""),
            string("huge", "长".repeat(60_000).as_bytes()),
            string("control characters", b"a\0b\nc\x1b[31m"),
            string("bidi marks", "\u{202e}cba\u{2066}".as_bytes()),
            string("invalid utf-8", &[0xff, 0xfe, 0x80]),
            string("impossible date", b"2026-02-30"),
            string("forged token", b"eyJhbGciOiJub25lIn0.e30."),
            string("sql", b"' OR 1=1; DROP TABLE events; --"),
        ],
        Type::Enum => [999u64, u64::MAX, 0]
            .into_iter()
            .map(|v| {
                let mut out = Vec::new();
                varint_field(n, v, &mut out);
                one(&format!("enum {v}"), out)
            })
            .collect(),
        Type::Message => {
            let mut values = vec![
                string("empty message", b""),
                string("malformed message", &[0x0a, 0xff, 0x01]),
            ];
            // One level down, each field of the nested message made bad in turn.
            if depth < 2
                && let Some(nested) = types.get(f.type_name().trim_start_matches('.'))
            {
                for inner in &nested.field {
                    for (label, bytes) in bad_values(inner, depth + 1, types) {
                        let mut out = Vec::new();
                        bytes_field(n, &bytes, &mut out);
                        values.push((format!("{}.{label}", inner.name()), out));
                    }
                }
            }
            values
        }
        _ => [0u64, u64::MAX, i64::MIN as u64]
            .into_iter()
            .map(|v| {
                let mut out = Vec::new();
                varint_field(n, v, &mut out);
                one(&format!("number {v}"), out)
            })
            .collect(),
    };
    // A field of another wire type than its declaration's.
    let mut wrong = Vec::new();
    match f.r#type() {
        Type::String | Type::Bytes | Type::Message => varint_field(n, 7, &mut wrong),
        _ => bytes_field(n, b"seven", &mut wrong),
    }
    values.push(one("wrong wire type", wrong));
    if f.label() == Label::Repeated && depth == 0 {
        let mut many = Vec::new();
        for _ in 0..10_000 {
            match f.r#type() {
                Type::String | Type::Bytes | Type::Message => bytes_field(n, b"", &mut many),
                _ => varint_field(n, 1, &mut many),
            }
        }
        values.push(one("10,000 values", many));
    }
    values
}

/// What the suite sends a method: the empty request, then each field made bad in turn.
fn requests(input: &str, types: &BTreeMap<String, DescriptorProto>) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("empty request".to_owned(), Vec::new())];
    if let Some(m) = types.get(input) {
        for f in &m.field {
            for (label, bytes) in bad_values(f, 0, types) {
                out.push((format!("{}: {label}", f.name()), bytes));
            }
        }
    }
    out
}

/// The answer to one call: its code and message.
async fn call(
    channel: &tonic::transport::Channel,
    method: &Method,
    body: Vec<u8>,
    token: Option<&str>,
) -> (Code, String) {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    if grpc.ready().await.is_err() {
        return (Code::Unavailable, "not ready".into());
    }
    let mut request = tonic::Request::new(body);
    if let Some(token) = token
        && let Ok(value) = format!("Bearer {token}").parse()
    {
        request.metadata_mut().insert("authorization", value);
    }
    request.set_timeout(Duration::from_secs(10));
    let path = match http::uri::PathAndQuery::from_str(&method.path) {
        Ok(p) => p,
        Err(e) => return (Code::Internal, format!("bad path: {e}")),
    };
    if method.streams {
        match grpc.server_streaming(request, path, Raw).await {
            Err(s) => (s.code(), s.message().to_owned()),
            Ok(response) => {
                let mut stream = response.into_inner();
                match tokio::time::timeout(Duration::from_millis(300), stream.message()).await {
                    Ok(Err(s)) => (s.code(), s.message().to_owned()),
                    _ => (Code::Ok, String::new()),
                }
            }
        }
    } else {
        match grpc.unary(request, path, Raw).await {
            Err(s) => (s.code(), s.message().to_owned()),
            Ok(_) => (Code::Ok, String::new()),
        }
    }
}

/// What a refused request must not have changed: every store's head and the exports the ledger recorded.
struct Witness {
    stores: Vec<std::sync::Arc<dyn oneledger_store::EventStore>>,
    ledger: oneledger_projector::SqlLedger,
}

impl Witness {
    async fn open(dir: &Path) -> Self {
        let mut stores = Vec::new();
        for agency in Agency::ALL {
            let url = format!("sqlite://{}", dir.join(format!("{agency}.db")).display());
            stores.push(oneledger_store::connect(&url).await.unwrap());
        }
        let url = format!("sqlite://{}", dir.join("ledger.db").display());
        let ledger = oneledger_projector::SqlLedger::connect(&url).await.unwrap();
        Witness { stores, ledger }
    }

    async fn written(&self) -> Vec<u64> {
        let mut out = Vec::new();
        for store in &self.stores {
            out.push(store.head().await.unwrap());
        }
        out.push(self.ledger.exports().await.unwrap().len() as u64);
        out
    }
}

/// Text a client must never see: the database's or the broker's own words.
const LEAKS: [&str; 8] = [
    "sqlx",
    "sqlite",
    "postgres",
    "pg_",
    "syntax error",
    "nats",
    "jetstream",
    "panicked",
];

/// Checks one answer; a description of what is wrong, if anything.
fn judged(code: Code, message: &str) -> Option<String> {
    if matches!(
        code,
        Code::Internal | Code::Unknown | Code::Unavailable | Code::DataLoss | Code::Unimplemented
    ) {
        return Some(format!("{code:?}: {message}"));
    }
    if message.chars().count() > 600 {
        return Some(format!(
            "{code:?} quoting {} characters",
            message.chars().count()
        ));
    }
    let lower = message.to_lowercase();
    LEAKS
        .iter()
        .find(|w| lower.contains(*w))
        .map(|w| format!("{code:?} names {w}: {message}"))
}

/// A token of each kind a caller might forge or misuse, all for the petition office's unit.
fn attack_tokens(issuer: &DevIssuer) -> Vec<(&'static str, String)> {
    let unit = "binhai.petition_office";
    let roles = Role::ALL;
    let ttl = Duration::from_secs(600);
    let sign = |edit: &dyn Fn(&mut oneledger_auth::Claims)| {
        let mut claims = issuer.claims("attacker", Agency::Petition, unit, &roles, ttl);
        edit(&mut claims);
        issuer.sign(&claims).unwrap()
    };
    let now = chrono::Utc::now().timestamp();
    let other = DevIssuer::generate("binhai").unwrap();
    let valid = issuer
        .token("attacker", Agency::Petition, unit, &roles, ttl)
        .unwrap();
    let payload = valid.split('.').nth(1).unwrap().to_owned();
    use base64::Engine;
    let none =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    vec![
        ("garbage", "not.a.token".to_owned()),
        ("alg none", format!("{none}.{payload}.")),
        (
            "another issuer's key",
            other
                .token("attacker", Agency::Petition, unit, &roles, ttl)
                .unwrap(),
        ),
        (
            "expired",
            sign(&|c| (c.iat, c.exp) = (now - 7200, now - 3600)),
        ),
        (
            "issued in the future",
            sign(&|c| c.iat = now + 86_400 * 3650),
        ),
        (
            "wrong issuer",
            sign(&|c| c.iss = "https://evil.example".into()),
        ),
        (
            "wrong audience",
            sign(&|c| c.aud = Audience::One("another-app".into())),
        ),
        ("another district", sign(&|c| c.district = "hexi".into())),
        (
            "a unit not in the directory",
            sign(&|c| c.unit = "binhai.nowhere".into()),
        ),
        (
            "HS256 keyed with the public key set",
            confused(issuer, &payload),
        ),
    ]
}

/// A token signed HS256 with the issuer's published key set as the secret (algorithm confusion).
fn confused(issuer: &DevIssuer, payload: &str) -> String {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let kid = issuer.jwks().keys[0]
        .common
        .key_id
        .clone()
        .unwrap_or_default();
    let header = b64.encode(format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#));
    let secret = serde_json::to_vec(&issuer.jwks()).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
    mac.update(format!("{header}.{payload}").as_bytes());
    format!(
        "{header}.{payload}.{}",
        b64.encode(mac.finalize().into_bytes())
    )
}

/// The whole suite against `up` at `base` over the data directory `dir`; returns what failed.
pub async fn attack(dir: &Path, base: u16, issuer: &DevIssuer, budget: Duration) -> Vec<String> {
    let set = FileDescriptorSet::decode(oneledger_proto::FILE_DESCRIPTOR_SET).unwrap();
    let types = messages(&set);
    let methods = methods(&set, base);
    assert!(
        methods.len() >= 30,
        "every port's methods: {}",
        methods.len()
    );
    let mut channels = BTreeMap::new();
    for port in [base, base + 1, base + 2, base + 3] {
        let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        channels.insert(port, channel);
    }
    // Each agency's own powerful caller: every role, of the agency's own unit.
    let owner = |port: u16| -> String {
        let (agency, unit) = match port - base {
            2 => (Agency::PublicSecurity, "binhai.police.xingang"),
            3 => (Agency::PoliticalLegal, "binhai.political_legal_committee"),
            _ => (Agency::Petition, "binhai.petition_office"),
        };
        issuer
            .token(
                "adversary",
                agency,
                unit,
                &Role::ALL,
                Duration::from_secs(3600),
            )
            .unwrap()
    };
    let witness = Witness::open(dir).await;
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut sent = 0usize;
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for method in &methods {
        let channel = &channels[&method.port];
        let token = owner(method.port);
        for (label, body) in requests(&method.input, &types) {
            let before = witness.written().await;
            let (code, message) = call(channel, method, body, Some(&token)).await;
            sent += 1;
            *codes.entry(format!("{code:?}")).or_default() += 1;
            if let Some(wrong) = judged(code, &message) {
                failures.push(format!("{} {label}: {wrong}", method.path));
            }
            if code != Code::Ok && witness.written().await != before {
                failures.push(format!(
                    "{} {label}: refused ({code:?}) but wrote",
                    method.path
                ));
            }
        }
        if !method.path.ends_with("/GetPublicStatus") {
            for (attack, forged) in attack_tokens(issuer) {
                let before = witness.written().await;
                let (code, message) = call(channel, method, Vec::new(), Some(&forged)).await;
                sent += 1;
                let expected = matches!(code, Code::Unauthenticated | Code::PermissionDenied);
                if !expected {
                    failures.push(format!("{} with {attack}: {code:?} {message}", method.path));
                }
                if witness.written().await != before {
                    failures.push(format!("{} with {attack}: wrote", method.path));
                }
            }
        }
        // A valid token of another agency, with every role: it writes nothing through this service.
        if method.port != base && !method.path.ends_with("/GetPublicStatus") {
            let stranger = match method.port - base {
                1 => owner(base + 2),
                _ => owner(base + 1),
            };
            let before = witness.written().await;
            for (label, body) in requests(&method.input, &types).into_iter().take(3) {
                let (code, message) = call(channel, method, body, Some(&stranger)).await;
                sent += 1;
                if let Some(wrong) = judged(code, &message) {
                    failures.push(format!(
                        "{} as another agency, {label}: {wrong}",
                        method.path
                    ));
                }
            }
            if witness.written().await != before {
                failures.push(format!("{} as another agency: wrote", method.path));
            }
        }
        assert!(
            started.elapsed() < budget,
            "the suite ran past its budget after {sent} calls"
        );
    }
    eprintln!(
        "adversarial suite: {sent} calls to {} methods in {:.1} s; malformed requests answered {codes:?}",
        methods.len(),
        started.elapsed().as_secs_f64()
    );
    failures
}
