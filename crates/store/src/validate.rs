//! Checks an append request before it reaches the appender, so a malformed one is refused with the field
//! named and never fails a whole batch.

use std::collections::HashSet;

use crate::append::AppendRequest;
use crate::error::AppendError;

/// Longest stream id; ids are `<aggregate>-<uuid>` in practice, far shorter.
pub const MAX_STREAM_ID_LEN: usize = 200;
/// Most events one command may append; a command produces a handful, so more is a bug upstream.
pub const MAX_EVENTS_PER_APPEND: usize = 1000;
/// Longest token in an event type or a district name (they become NATS subject tokens).
pub const MAX_TOKEN_LEN: usize = 64;

fn invalid(field: &'static str, reason: impl Into<String>) -> AppendError {
    AppendError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// True for a NATS-safe subject token: lowercase ASCII letters, digits and `_`, 1 to 64 long.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_TOKEN_LEN
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Refuses a request that could never be appended.
pub fn validate(request: &AppendRequest) -> Result<(), AppendError> {
    let stream = &request.stream_id;
    if stream.is_empty() || stream.len() > MAX_STREAM_ID_LEN {
        return Err(invalid(
            "stream_id",
            format!("must be 1 to {MAX_STREAM_ID_LEN} bytes"),
        ));
    }
    if stream.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            "stream_id",
            "must not contain white space or control characters",
        ));
    }
    if request.events.is_empty() {
        return Err(invalid("events", "an append needs at least one event"));
    }
    if request.events.len() > MAX_EVENTS_PER_APPEND {
        return Err(invalid(
            "events",
            format!("at most {MAX_EVENTS_PER_APPEND} events per append"),
        ));
    }
    let mut ids = HashSet::with_capacity(request.events.len());
    for event in &request.events {
        if !ids.insert(event.event_id) {
            return Err(invalid(
                "event_id",
                format!("{} appears twice in one append", event.event_id),
            ));
        }
        let parts: Vec<&str> = event.event_type.split('.').collect();
        if parts.len() != 3 || !parts.iter().all(|p| is_token(p)) {
            return Err(invalid(
                "event_type",
                format!(
                    "{:?} is not <agency>.<aggregate>.<event> of lowercase tokens",
                    event.event_type
                ),
            ));
        }
        if parts[0] != event.metadata.agency.token() {
            return Err(invalid(
                "event_type",
                format!(
                    "{:?} does not belong to agency {}",
                    event.event_type, event.metadata.agency
                ),
            ));
        }
        if event.schema_version == 0 {
            return Err(invalid("schema_version", "starts at 1"));
        }
        if !is_token(&event.metadata.district) {
            return Err(invalid(
                "district",
                "must be 1 to 64 lowercase letters, digits or _",
            ));
        }
        if event.metadata.acting_unit.is_empty() {
            return Err(invalid("acting_unit", "must name a unit"));
        }
    }
    Ok(())
}
