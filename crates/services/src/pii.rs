//! Personal data (PIPL, DESIGN §5): sealed under a per-person data key before it reaches an event, the key
//! kept in the petition store wrapped by a master key. Erasure destroys the key, so every sealed field of
//! that person — in events, on NATS, in backups — can never be read again (crypto-shredding).

use std::fmt;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use oneledger_domain::petition::PersonalField;
use oneledger_store::{PersonKey, PersonVault};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ServiceError;

/// Bytes of a data key and of the master key (AES-256).
pub const KEY_BYTES: usize = 32;
/// Bytes of an AES-GCM nonce.
const NONCE_BYTES: usize = 12;

/// What a person's personal data is: sealed as one JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Identity {
    /// Full name.
    pub name: String,
    /// Identity card number.
    pub id_number: String,
    /// Telephone.
    pub phone: String,
    /// Address.
    pub address: String,
}

impl Identity {
    /// The fields given (not empty), by name.
    pub fn fields(&self) -> Vec<PersonalField> {
        [
            (PersonalField::Name, &self.name),
            (PersonalField::IdNumber, &self.id_number),
            (PersonalField::Phone, &self.phone),
            (PersonalField::Address, &self.address),
        ]
        .into_iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(field, _)| field)
        .collect()
    }
}

/// Events of a person's stream in the petition store; they carry sealed data only. Data given with a
/// petition is recorded in the matter's own registration now ([`MatterEvent::PersonalDataRecorded`]);
/// `DataRecorded` is what earlier versions wrote here, still read.
///
/// [`MatterEvent::PersonalDataRecorded`]: oneledger_domain::petition::MatterEvent::PersonalDataRecorded
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PersonEvent {
    /// Personal data given with a petition.
    DataRecorded {
        /// When.
        at: DateTime<Utc>,
        /// The person.
        person_ref: String,
        /// The matter it was given for.
        matter_id: String,
        /// The accused unit when the matter is an accusation: it may never read this data.
        accused_unit: Option<String>,
        /// The sealed [`Identity`].
        sealed_identity: String,
        /// The sealed narrative, when this person gave one.
        sealed_narrative: Option<String>,
    },
    /// The person's data key was destroyed; nothing personal is in this event.
    DataErased {
        /// When.
        at: DateTime<Utc>,
        /// The person.
        person_ref: String,
    },
    /// An earlier ref of the person (recorded before refs were stable, or under a pseudonym key since
    /// replaced) is theirs: its matters, data and erasure go with `person_ref` from now on. In the
    /// stream of `person_ref`.
    RefLinked {
        /// When.
        at: DateTime<Utc>,
        /// The earlier ref.
        from_ref: String,
        /// The person's current ref.
        person_ref: String,
    },
}

impl PersonEvent {
    /// `petition.person.<name>`.
    pub fn event_type(&self) -> &'static str {
        match self {
            PersonEvent::DataRecorded { .. } => "petition.person.data_recorded",
            PersonEvent::DataErased { .. } => "petition.person.data_erased",
            PersonEvent::RefLinked { .. } => "petition.person.ref_linked",
        }
    }
}

/// Seals and opens personal data.
#[derive(Clone)]
pub struct Vault {
    master: Aes256Gcm,
    code_key: Vec<u8>,
    store: Arc<dyn PersonVault>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault")
    }
}

/// A person's data key, unwrapped, for one call.
pub struct DataKey(Aes256Gcm);

fn random<const N: usize>() -> Result<[u8; N], ServiceError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| ServiceError::Internal(format!("no randomness: {e}")))?;
    Ok(buf)
}

fn seal_with(cipher: &Aes256Gcm, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let nonce_bytes = random::<NONCE_BYTES>()?;
    let nonce = Nonce::from(nonce_bytes);
    let mut out = nonce_bytes.to_vec();
    out.extend(
        cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| ServiceError::Internal("encryption failed".into()))?,
    );
    Ok(out)
}

fn open_with(cipher: &Aes256Gcm, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, ServiceError> {
    if sealed.len() < NONCE_BYTES {
        return Err(ServiceError::Internal("sealed data too short".into()));
    }
    let (nonce, ct) = sealed.split_at(NONCE_BYTES);
    let nonce = Nonce::try_from(nonce).map_err(|_| ServiceError::Internal("bad nonce".into()))?;
    cipher
        .decrypt(&nonce, Payload { msg: ct, aad })
        .map_err(|_| {
            ServiceError::Internal("sealed data does not open (wrong key or tampered)".into())
        })
}

impl Vault {
    /// A vault with the 32-byte master key, over the petition store.
    pub fn new(master_key: &[u8], store: Arc<dyn PersonVault>) -> Result<Self, String> {
        if master_key.len() != KEY_BYTES {
            return Err(format!("the master key must be {KEY_BYTES} bytes"));
        }
        let master =
            Aes256Gcm::new_from_slice(master_key).map_err(|_| "bad master key".to_owned())?;
        // Query codes are derived under a key of their own, separated from the wrapping key by a label.
        let code_key =
            Sha256::digest([b"oneledger query codes\0".as_slice(), master_key].concat()).to_vec();
        Ok(Vault {
            master,
            code_key,
            store,
        })
    }

    /// The data key of `person_ref`, made and stored when the person is new; `None` when erased.
    pub async fn key_for_new_data(
        &self,
        person_ref: &str,
    ) -> Result<Option<DataKey>, ServiceError> {
        if let PersonKey::Missing = self.store.person_key(person_ref).await? {
            let key = random::<KEY_BYTES>()?;
            let wrapped = seal_with(&self.master, person_ref.as_bytes(), &key)?;
            self.store.put_person_key(person_ref, &wrapped).await?;
        }
        self.key(person_ref).await
    }

    /// True when `person_ref`'s key was destroyed: the ref can never carry data again.
    pub async fn is_erased(&self, person_ref: &str) -> Result<bool, ServiceError> {
        Ok(matches!(
            self.store.person_key(person_ref).await?,
            PersonKey::Erased(_)
        ))
    }

    /// The data key of `person_ref`; `None` when it never existed or was erased.
    pub async fn key(&self, person_ref: &str) -> Result<Option<DataKey>, ServiceError> {
        match self.store.person_key(person_ref).await? {
            PersonKey::Wrapped(wrapped) => {
                let key = open_with(&self.master, person_ref.as_bytes(), &wrapped)?;
                Ok(Some(DataKey(Aes256Gcm::new_from_slice(&key).map_err(
                    |_| ServiceError::Internal("bad data key".into()),
                )?)))
            }
            PersonKey::Missing | PersonKey::Erased(_) => Ok(None),
        }
    }

    /// Seals `plaintext` for `person_ref` (bound to the person as associated data), as base64.
    pub fn seal(
        &self,
        key: &DataKey,
        person_ref: &str,
        plaintext: &[u8],
    ) -> Result<String, ServiceError> {
        Ok(STANDARD.encode(seal_with(&key.0, person_ref.as_bytes(), plaintext)?))
    }

    /// Opens what [`seal`](Self::seal) sealed.
    pub fn open(
        &self,
        key: &DataKey,
        person_ref: &str,
        sealed: &str,
    ) -> Result<Vec<u8>, ServiceError> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| ServiceError::Internal("sealed data is not base64".into()))?;
        open_with(&key.0, person_ref.as_bytes(), &bytes)
    }

    /// The petitioner's query code for a matter: unguessable without the master key, and the same on
    /// every retry of the registration, so it need not be stored (only its digest is, in the matter).
    pub fn query_code(&self, matter_id: &str) -> Result<String, ServiceError> {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.code_key)
            .map_err(|_| ServiceError::Internal("query code key rejected".into()))?;
        mac.update(matter_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        // 16 characters of a 32-letter alphabet without look-alikes: 80 bits.
        const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
        Ok(digest
            .iter()
            .take(16)
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect())
    }
}

/// The digest of a query code as the matter records it.
pub fn query_code_digest(code: &str) -> String {
    hex::encode(Sha256::digest(code.trim().to_uppercase().as_bytes()))
}

/// Compares two digests in constant time.
pub fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Bytes of the pseudonym key.
pub const PSEUDONYM_KEY_BYTES: usize = 32;
/// Generations tried past erasures before a person is refused: each erasure ends a pseudonym for good.
const MAX_GENERATIONS: u32 = 64;

/// Stable pseudonyms (`person_ref`): a keyed hash (HMAC-SHA256, under a key of its own kept like the
/// master key) of who the person is, so the same person gets the same ref on every petition and the
/// system can find their earlier matters — while the ref reveals nothing without the key.
///
/// Who the person is: the normalised resident ID number (spaces dropped, `x` upper-cased); without
/// one, the normalised name (white space collapsed, lower-cased) with the normalised phone (digits
/// only, a leading `86`/`0086` country code dropped). A person given by name alone cannot be told from a
/// namesake: their ref belongs to this petition alone (derived from the request, as before).
///
/// Erasure destroys a ref's key for good; a person who petitions again afterwards gets the next
/// generation's ref, unlinkable to the erased one.
#[derive(Clone)]
pub struct Pseudonyms {
    key: Vec<u8>,
    key_id: String,
}

impl fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pseudonyms")
    }
}

impl Pseudonyms {
    /// Pseudonyms under `key` (32 bytes).
    pub fn new(key: &[u8]) -> Result<Self, String> {
        if key.len() != PSEUDONYM_KEY_BYTES {
            return Err(format!(
                "the pseudonym key must be {PSEUDONYM_KEY_BYTES} bytes"
            ));
        }
        let mut mac =
            Hmac::<Sha256>::new_from_slice(key).map_err(|_| "bad pseudonym key".to_owned())?;
        mac.update(b"oneledger pseudonym key id");
        let key_id = hex::encode(&mac.finalize().into_bytes()[..8]);
        Ok(Pseudonyms {
            key: key.to_vec(),
            key_id,
        })
    }

    /// A fingerprint of the key, naming it without revealing it: whether refs were derived under it.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// How the refs derived under this key are recorded as derived: `hmac:<key id>`.
    pub fn derivation(&self) -> String {
        format!("hmac:{}", self.key_id)
    }

    /// The person's ref in `generation` (0 until their first erasure); `None` for a person given by
    /// name alone.
    pub fn person_ref(&self, identity: &Identity, generation: u32) -> Option<String> {
        let id_number = normalised_id_number(&identity.id_number);
        let phone = normalised_phone(&identity.phone);
        let who = if !id_number.is_empty() {
            format!("id\0{id_number}")
        } else if !phone.is_empty() {
            format!("name+phone\0{}\0{phone}", normalised_name(&identity.name))
        } else {
            return None;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(who.as_bytes());
        mac.update(&generation.to_be_bytes());
        Some(format!(
            "p-{}",
            hex::encode(&mac.finalize().into_bytes()[..12])
        ))
    }

    /// The first ref of `identity` whose key was never erased.
    pub async fn current_ref(
        &self,
        vault: &Vault,
        identity: &Identity,
    ) -> Result<Option<String>, ServiceError> {
        for generation in 0..MAX_GENERATIONS {
            let Some(person_ref) = self.person_ref(identity, generation) else {
                return Ok(None);
            };
            if !vault.is_erased(&person_ref).await? {
                return Ok(Some(person_ref));
            }
        }
        Err(ServiceError::PermissionDenied(
            "this person's data was erased too many times to record again".into(),
        ))
    }
}

/// A resident ID number as compared: no white space, the check letter upper-cased.
pub fn normalised_id_number(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A name as compared: white space collapsed, lower-cased (Latin names; Chinese is unchanged).
pub fn normalised_name(raw: &str) -> String {
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A phone number as compared: digits only, a leading `0086` or `86` country code dropped.
pub fn normalised_phone(raw: &str) -> String {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let national = digits
        .strip_prefix("0086")
        .or_else(|| digits.strip_prefix("86").filter(|rest| rest.len() == 11))
        .unwrap_or(&digits);
    national.to_owned()
}

#[cfg(test)]
mod pseudonym_tests {
    use super::*;

    fn person(name: &str, id_number: &str, phone: &str) -> Identity {
        Identity {
            name: name.into(),
            id_number: id_number.into(),
            phone: phone.into(),
            address: String::new(),
        }
    }

    #[test]
    fn the_same_person_written_differently_gets_one_ref_and_others_another() {
        let p = Pseudonyms::new(&[3; 32]).unwrap();
        let a = p.person_ref(&person("张伟", "12011619900101123x", "13800138000"), 0);
        let b = p.person_ref(&person("张 伟", " 120116 19900101123X", ""), 0);
        assert!(a.is_some());
        assert_eq!(a, b, "the ID number decides");
        let by_phone = p.person_ref(&person("Li  Na", "", "+86 139-0013-9000"), 0);
        assert_eq!(
            by_phone,
            p.person_ref(&person("li na", "", "13900139000"), 0)
        );
        assert_ne!(
            by_phone,
            p.person_ref(&person("li na", "", "13900139001"), 0)
        );
        // a namesake cannot be told apart: no stable ref
        assert_eq!(p.person_ref(&person("王芳", "", ""), 0), None);
        // the next generation and another key give other refs, and no ref shows the number
        assert_ne!(a, p.person_ref(&person("", "12011619900101123X", ""), 1));
        let other = Pseudonyms::new(&[4; 32]).unwrap();
        assert_ne!(
            a,
            other.person_ref(&person("", "12011619900101123X", ""), 0)
        );
        assert!(!a.unwrap().contains("1201161990"));
    }
}
