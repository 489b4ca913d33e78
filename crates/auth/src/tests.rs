//! The checks a token passes, and the attacks each check stops.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::*;

const DISTRICT: &str = "binhai";
const UNIT: &str = "binhai.petition_office";

/// An ES256 key of these tests only (an issuer other than the dev one: a district's provider).
const ES256_TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQyCBI1i14fUUGZty
B98paYPE8pjk+Y27SOWg8owMnLahRANCAAQWXZJ+q1tx8LVuapjyICAzoeSqpJ0b
mmxLN+b/DmIREm2bkS1sKn5PC2+NAoBD777T8taCKrK8Eqz7nV+qySmp
-----END PRIVATE KEY-----
";

fn issuer() -> DevIssuer {
    DevIssuer::generate(DISTRICT).unwrap()
}

fn clerk(issuer: &DevIssuer) -> Claims {
    issuer.claims(
        "clerk-1",
        Agency::Petition,
        UNIT,
        &[Role::IntakeClerk],
        Duration::from_secs(60),
    )
}

fn refusal(verifier: &Verifier, token: &str) -> String {
    match verifier.verify(token, Utc::now()) {
        Err(AuthError::Unauthenticated(m)) => m,
        other => panic!("expected UNAUTHENTICATED, got {other:?}"),
    }
}

#[test]
fn a_token_the_issuer_signed_verifies_until_it_expires() {
    // Given a token the issuer signed for a clerk, valid for a minute.
    let issuer = issuer();
    let token = issuer.sign(&clerk(&issuer)).unwrap();
    // When it is verified now, then it names the clerk.
    let caller = issuer
        .verifier()
        .unwrap()
        .verify(&token, Utc::now())
        .unwrap();
    assert_eq!(caller.unit, UnitId::from(UNIT));
    assert!(caller.has(Role::IntakeClerk));
    // When it is verified after its expiry and the leeway, then it is refused as expired.
    let later = Utc::now() + chrono::Duration::seconds(60 + verifier::LEEWAY_SECS + 5);
    let refused = issuer.verifier().unwrap().verify(&token, later);
    assert!(matches!(refused, Err(AuthError::Unauthenticated(m)) if m.contains("expired")));
}

#[test]
fn tampered_foreign_unsigned_and_algorithm_confused_tokens_are_refused() {
    // Given a verifier of one issuer and a token it signed.
    let issuer = issuer();
    let verifier = issuer.verifier().unwrap();
    let token = issuer.sign(&clerk(&issuer)).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    // Claims edited to add pii_reader: the signature no longer verifies.
    let mut claims = clerk(&issuer);
    claims.roles.push(Role::PiiReader);
    let edited = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let forged = format!("{}.{edited}.{}", parts[0], parts[2]);
    assert!(refusal(&verifier, &forged).contains("signature does not verify"));
    // Another issuer's key under the same kid: refused.
    let other = DevIssuer::generate(DISTRICT).unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = verifier_kid(&issuer);
    let foreign = jsonwebtoken::encode(&header, &clerk(&issuer), &other_key(&other)).unwrap();
    assert!(refusal(&verifier, &foreign).contains("signature does not verify"));
    // Another issuer's own token: its kid is unknown here.
    let theirs = other.sign(&clerk(&other)).unwrap();
    assert!(refusal(&verifier, &theirs).contains("does not hold"));
    // `alg: none` with no signature.
    let none_header = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"alg":"none","kid":"{}"}}"#,
        verifier_kid(&issuer).unwrap()
    ));
    let unsigned = format!("{none_header}.{}.", parts[1]);
    assert!(verifier.verify(&unsigned, Utc::now()).is_err());
    // HS256 with the public key as the HMAC secret (algorithm confusion).
    let public = serde_json::to_vec(&issuer.jwks()).unwrap();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = verifier_kid(&issuer);
    let confused = jsonwebtoken::encode(
        &hs,
        &clerk(&issuer),
        &EncodingKey::from_secret(&public).unwrap(),
    )
    .unwrap();
    assert!(refusal(&verifier, &confused).contains("verifies EdDSA signatures only"));
    // No kid at all, and not a token.
    let kidless = jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        &clerk(&issuer),
        &other_key(&issuer),
    )
    .unwrap();
    assert!(refusal(&verifier, &kidless).contains("kid"));
    assert!(verifier.verify("garbage", Utc::now()).is_err());
    assert!(refusal(&verifier, &"a".repeat(9000)).contains("too long"));
}

fn verifier_kid(issuer: &DevIssuer) -> Option<String> {
    issuer.jwks().keys[0].common.key_id.clone()
}

/// The issuer's private key as jsonwebtoken takes it, to sign tokens the issuer itself would not.
fn other_key(issuer: &DevIssuer) -> EncodingKey {
    issuer.encoding_key().clone()
}

/// A change to a token's claims.
type Edit = Box<dyn Fn(&mut Claims)>;

#[test]
fn each_claim_a_token_must_carry_is_checked() {
    // Given an issuer and its verifier for binhai, audience oneledger.
    let issuer = issuer();
    let verifier = issuer.verifier().unwrap();
    let now = Utc::now().timestamp();
    let cases: Vec<(&str, Edit)> = vec![
        (
            "another issuer (iss)",
            Box::new(|c| c.iss = "https://idp.example".into()),
        ),
        (
            "audience (aud)",
            Box::new(|c| c.aud = Audience::One("another-app".into())),
        ),
        ("another district", Box::new(|c| c.district = "hexi".into())),
        (
            "issued in the future",
            Box::new(move |c| c.iat = now + 10 * 365 * 86_400),
        ),
        (
            "expires before it was issued",
            Box::new(move |c| {
                c.iat = now - 10;
                c.exp = now - 20;
            }),
        ),
        (
            "not valid yet (nbf)",
            Box::new(move |c| c.nbf = Some(now + 3600)),
        ),
        (
            "sub and unit are required",
            Box::new(|c| c.unit = String::new()),
        ),
    ];
    for (why, edit) in cases {
        // When one claim is wrong, then the token is refused, saying which.
        let mut claims = clerk(&issuer);
        edit(&mut claims);
        let token = issuer.sign(&claims).unwrap();
        let message = refusal(&verifier, &token);
        assert!(message.contains(why), "{why}: {message}");
    }
    // An audience list including ours is accepted; a token without iat is not.
    let mut listed = clerk(&issuer);
    listed.aud = Audience::Many(vec!["other".into(), DEFAULT_AUDIENCE.into()]);
    assert!(
        verifier
            .verify(&issuer.sign(&listed).unwrap(), Utc::now())
            .is_ok()
    );
    let mut value = serde_json::to_value(clerk(&issuer)).unwrap();
    value.as_object_mut().unwrap().remove("iat");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = verifier_kid(&issuer);
    let no_iat = jsonwebtoken::encode(&header, &value, &other_key(&issuer)).unwrap();
    assert!(refusal(&verifier, &no_iat).contains("iat"));
}

#[test]
fn a_district_provider_signing_es256_is_verified_against_its_published_key_set() {
    // Given a provider's ES256 key, published as a JWKS with a kid.
    let key = EncodingKey::from_ec_pem(ES256_TEST_KEY.as_bytes()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
    jwk.common.key_id = Some("provider-2026".into());
    let set = KeySet::from_jwks(&JwkSet { keys: vec![jwk] }).unwrap();
    let expected = Expected {
        issuer: "https://idp.binhai.gov.example/realms/oneledger".into(),
        audience: DEFAULT_AUDIENCE.into(),
        district: DISTRICT.into(),
    };
    let verifier = Verifier::new(set, expected.clone());
    // When the provider signs a token with that kid.
    let mut claims = clerk(&issuer());
    claims.iss = expected.issuer.clone();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("provider-2026".into());
    let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    // Then it verifies; signed as EdDSA under the same kid, it does not.
    assert_eq!(
        verifier.verify(&token, Utc::now()).unwrap().subject,
        "clerk-1"
    );
    let mut wrong = Header::new(Algorithm::EdDSA);
    wrong.kid = Some("provider-2026".into());
    let eddsa = jsonwebtoken::encode(&wrong, &claims, &other_key(&issuer())).unwrap();
    assert!(refusal(&verifier, &eddsa).contains("ES256"));
}

#[tokio::test]
async fn a_followed_jwks_file_trusts_a_new_key_once_listed_and_a_retired_one_no_longer() {
    // Given a verifier following a JWKS file that lists the old key.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    let (old, new) = (issuer(), issuer());
    std::fs::write(&path, serde_json::to_string(&old.jwks()).unwrap()).unwrap();
    let verifier = Verifier::from_jwks_file(&path, old.expected().clone()).unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let follow = tokio::spawn(verifier.clone().follow_jwks_file(
        path.clone(),
        Duration::from_millis(20),
        stop.clone(),
    ));
    let (old_token, new_token) = (
        old.sign(&clerk(&old)).unwrap(),
        new.sign(&clerk(&new)).unwrap(),
    );
    assert!(verifier.verify(&old_token, Utc::now()).is_ok());
    assert!(verifier.verify(&new_token, Utc::now()).is_err());
    // When the file lists both (rotation), then both verify.
    let both = JwkSet {
        keys: [old.jwks().keys, new.jwks().keys].concat(),
    };
    rewrite(&path, &serde_json::to_string(&both).unwrap());
    wait_until(|| verifier.verify(&new_token, Utc::now()).is_ok()).await;
    assert!(verifier.verify(&old_token, Utc::now()).is_ok());
    // When a broken file replaces it, then the last good keys stay.
    rewrite(&path, "{not json");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(verifier.verify(&new_token, Utc::now()).is_ok());
    // When the old key is retired, then its tokens no longer verify.
    rewrite(&path, &serde_json::to_string(&new.jwks()).unwrap());
    wait_until(|| verifier.verify(&old_token, Utc::now()).is_err()).await;
    assert!(verifier.verify(&new_token, Utc::now()).is_ok());
    stop.cancel();
    follow.await.unwrap();
}

/// Rewrites a file so its modification time moves even within one second.
fn rewrite(path: &std::path::Path, text: &str) {
    let before = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    loop {
        std::fs::write(path, text).unwrap();
        if std::fs::metadata(path).and_then(|m| m.modified()).ok() != before {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

async fn wait_until(mut condition: impl FnMut() -> bool) {
    for _ in 0..250 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("condition never held");
}

#[test]
fn the_dev_issuer_keeps_its_key_in_a_file_of_its_owners_and_signs_with_the_same_kid_after_a_restart()
 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issuer.pem");
    let first = DevIssuer::load_or_create(&path, DISTRICT).unwrap();
    let again = DevIssuer::load_or_create(&path, DISTRICT).unwrap();
    assert_eq!(first.jwks(), again.jwks());
    let token = first.sign(&clerk(&first)).unwrap();
    assert!(again.verifier().unwrap().verify(&token, Utc::now()).is_ok());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    assert!(DevIssuer::from_pem(b"not a key", DISTRICT).is_err());
}

#[test]
fn health_reflection_and_named_public_methods_are_open_and_nothing_else() {
    let layer = AuthLayer::new(
        issuer().verifier().unwrap(),
        Arc::default(),
        &["/pkg.Service/Public"],
    );
    assert!(layer.is_open("/grpc.health.v1.Health/Check"));
    assert!(layer.is_open("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"));
    assert!(layer.is_open("/pkg.Service/Public"));
    assert!(!layer.is_open("/pkg.Service/PublicNot"));
    assert!(!layer.is_open("/pkg.Service/Other"));
}

#[test]
fn a_token_whose_unit_the_directory_does_not_list_or_no_longer_lists_is_denied() {
    let issuer = issuer();
    let directory = Arc::new(UnitDirectory::binhai().unwrap());
    let layer = AuthLayer::new(issuer.verifier().unwrap(), directory, &[]);
    let header = |unit: &str| {
        let mut c = clerk(&issuer);
        c.unit = unit.into();
        let mut headers = http::HeaderMap::new();
        let value = format!("Bearer {}", issuer.sign(&c).unwrap());
        headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        headers
    };
    assert!(layer.authenticate(&header(UNIT)).is_ok());
    let long = format!("x{}", "长".repeat(1000));
    for (unit, reason) in [
        (
            "binhai.petiton_office",
            "is not in the district's directory",
        ),
        ("binhai.yujiapu_subdistrict", "no longer exists"),
        (long.as_str(), "characters)"),
    ] {
        match layer.authenticate(&header(unit)) {
            Err(AuthError::PermissionDenied(m)) => {
                assert!(m.contains(reason), "{m}");
                assert!(m.chars().count() < 500, "{}", m.len());
            }
            other => panic!("{unit}: {other:?}"),
        }
    }
}

#[test]
fn a_role_reads_back_from_its_name_as_tokens_spell_it() {
    for role in Role::ALL {
        assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
    }
    assert!("root".parse::<Role>().is_err());
}
