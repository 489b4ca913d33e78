//! Listing entries: the filters a request names, checked against the directory; the orders a dashboard
//! sorts by; and page tokens bound to their query. A list is read whole, filtered, ordered and cut into
//! pages on every call: the orders and the totals depend on today's deadlines, which no column holds.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use hmac::{KeyInit, Mac};
use oneledger_auth::{AuthError, Caller};
use oneledger_domain::dispute::RiskLevel;
use oneledger_domain::ids::MAX_UNIT_ID_CHARS;
use oneledger_domain::{ItemKind, ItemRef, UnitId};
use oneledger_proto::convert::{self, ledger as wire};
use oneledger_proto::ledger::v2 as pb;
use prost::Message;
use sha2::{Digest, Sha256};
use tonic::Status;

use super::{LedgerApi, invalid, unavailable};
use crate::ledger::ListFilter;
use crate::model::EntryView;

/// Longest title text a filter may name: a LIKE pattern every backend runs.
const MAX_TITLE_FILTER_CHARS: usize = 100;
/// Roots read from the database at a time while a list is read whole.
const ROOTS_PER_READ: usize = 1000;
/// Bytes of the MAC a page token carries.
const TOKEN_MAC_BYTES: usize = 16;
/// Bytes of the query digest a page token carries.
const TOKEN_QUERY_BYTES: usize = 16;

/// A list request, checked.
#[derive(Debug, Clone)]
pub(crate) struct EntryQuery {
    filter: ListFilter,
    stage: Option<(ItemKind, String)>,
    status: pb::EntryStatus,
    min_risk: Option<RiskLevel>,
    overdue_only: bool,
    due_before: Option<NaiveDate>,
    order: pb::EntryOrder,
    /// What a page token of this query is bound to: the filter, the order and the caller's unit.
    digest: [u8; TOKEN_QUERY_BYTES],
}

impl LedgerApi {
    /// Checks a filter and an order from `caller`: every unit it names is in the directory, and a unit
    /// that is not a district role asks only for its own ledger or one below it.
    pub(crate) fn entry_query(
        &self,
        caller: &Caller,
        filter: Option<&pb::EntryFilter>,
        order_by: i32,
        field: &str,
    ) -> Result<EntryQuery, Status> {
        let f = filter.cloned().unwrap_or_default();
        let name = |n: &str| format!("{field}{n}");
        let directory = &self.rules.directory;
        let unit_id = convert::optional_id(&name("unit_id"), &f.unit_id, MAX_UNIT_ID_CHARS)?;
        let scope = match (unit_id, caller.is_district_wide()) {
            (None, true) => None,
            (None, false) => Some(self.scope_of(&caller.unit)),
            (Some(unit_id), district) => {
                let unit = UnitId(unit_id);
                if directory.get(&unit).is_none() {
                    return Err(invalid(
                        &name("unit_id"),
                        &format!("`{unit}` is not a unit of the district's directory"),
                    ));
                }
                if !district && !directory.subtree(&caller.unit).contains(&unit) {
                    return Err(AuthError::PermissionDenied(
                        "a unit sees its own ledger and those of the units below it".into(),
                    )
                    .into());
                }
                Some(self.scope_of(&unit))
            }
        };
        let territory = convert::optional_id(
            &name("territory_unit_id"),
            &f.territory_unit_id,
            MAX_UNIT_ID_CHARS,
        )?;
        if let Some(t) = &territory
            && !directory
                .get(&UnitId(t.clone()))
                .is_some_and(|u| u.kind.is_territory())
        {
            return Err(invalid(
                &name("territory_unit_id"),
                &format!("`{t}` is not a zone, sub-district or town of the district's directory"),
            ));
        }
        let title = convert::optional(
            &name("title_contains"),
            &f.title_contains,
            MAX_TITLE_FILTER_CHARS,
        )?;
        let stage = pb::ItemStage::try_from(f.stage)
            .map_err(|_| invalid(&name("stage"), &format!("unknown value {}", f.stage)))?;
        let status = pb::EntryStatus::try_from(f.status)
            .map_err(|_| invalid(&name("status"), &format!("unknown value {}", f.status)))?;
        let min_risk = convert::optional_enum_field::<RiskLevel>(&name("min_risk"), f.min_risk)?;
        let order = pb::EntryOrder::try_from(order_by)
            .map_err(|_| invalid("order_by", &format!("unknown value {order_by}")))?;
        let mut hasher = Sha256::new();
        hasher.update(f.encode_to_vec());
        hasher.update(order_by.to_be_bytes());
        hasher.update(caller.unit.0.as_bytes());
        let mut digest = [0u8; TOKEN_QUERY_BYTES];
        digest.copy_from_slice(&hasher.finalize()[..TOKEN_QUERY_BYTES]);
        Ok(EntryQuery {
            filter: ListFilter {
                scope,
                territory,
                title_contains: title,
            },
            stage: wire::stage_of(stage),
            status,
            min_risk,
            overdue_only: f.overdue_only,
            due_before: wire::day(&name("due_before"), f.due_before.as_ref())?,
            order,
            digest,
        })
    }

    /// Every entry the query matches, as of today, in its order: (sort key, entry).
    pub(crate) async fn matching(
        &self,
        q: &EntryQuery,
    ) -> Result<Vec<(String, EntryView)>, Status> {
        let today = self.clock.today();
        let mut after = String::new();
        let mut out = Vec::new();
        loop {
            let roots = self
                .ledger
                .list_roots(&q.filter, &after, ROOTS_PER_READ)
                .await
                .map_err(unavailable)?;
            let Some(last) = roots.last() else { break };
            after = last.clone();
            let model = self
                .ledger
                .entries_model(&roots, false)
                .await
                .map_err(unavailable)?;
            // The read's entries grouped in one pass over its items (`entry` per root would scan every
            // item of the read once per root: a second for a district of 3,000 entries).
            let wanted: BTreeSet<&str> = roots.iter().map(String::as_str).collect();
            for view in model.entries(&self.rules, today) {
                let listed = view
                    .root
                    .as_ref()
                    .is_some_and(|r| wanted.contains(r.key().as_str()));
                if listed && q.passes(&view) {
                    out.push((q.sort_key(&view), view));
                }
            }
            if roots.len() < ROOTS_PER_READ {
                break;
            }
        }
        out.sort_by(|(a, ea), (b, eb)| a.cmp(b).then_with(|| ea.root.cmp(&eb.root)));
        Ok(out)
    }
}

impl EntryQuery {
    /// Keeps an entry when it passes the filters the database cannot apply.
    fn passes(&self, e: &EntryView) -> bool {
        self.stage.as_ref().is_none_or(|(kind, stage)| {
            e.stages
                .iter()
                .any(|s| s.item.kind() == *kind && s.stage == *stage)
        }) && match self.status {
            pb::EntryStatus::Open => !e.closed,
            pb::EntryStatus::Closed => e.closed,
            pb::EntryStatus::Unspecified => true,
        } && self
            .min_risk
            .is_none_or(|m| e.risk_level.is_some_and(|r| r >= m))
            && (!self.overdue_only || e.overdue)
            && self.due_before.is_none_or(|limit| {
                e.deadlines
                    .iter()
                    .any(|d| d.met_on.is_none() && d.due_on <= limit)
            })
    }

    /// A key that sorts ascending in the query's order; ties go by root.
    fn sort_key(&self, e: &EntryView) -> String {
        // Newest first: the instant's microseconds counted down from the largest.
        let newest_first = |at: Option<chrono::DateTime<chrono::Utc>>| {
            at.map_or("~".to_owned(), |t| {
                format!("{:020}", i64::MAX - t.timestamp_micros())
            })
        };
        match self.order {
            pb::EntryOrder::Unspecified | pb::EntryOrder::Root => String::new(),
            pb::EntryOrder::NextDue => {
                super::entry::next_due_on(e).map_or("~".to_owned(), |d| d.to_string())
            }
            pb::EntryOrder::Risk => e.risk_level.map_or("~".to_owned(), |r| {
                let rank = RiskLevel::ALL.iter().position(|l| *l == r).unwrap_or(0);
                (RiskLevel::ALL.len() - rank).to_string()
            }),
            pb::EntryOrder::LastChange => newest_first(e.last_changed_at),
            pb::EntryOrder::Registered => newest_first(e.registered_at),
        }
    }
}

/// Signs and reads page tokens. A token is the query's digest, the last entry's sort key and root,
/// and a MAC under a key of this process: a token of another query, edited, or made up is refused,
/// and one from before a restart is refused too (the list starts again from its first page).
#[derive(Debug, Clone)]
pub(crate) struct PageTokens {
    key: [u8; 32],
}

type TokenMac = hmac::Hmac<Sha256>;

impl PageTokens {
    /// Tokens under a fresh random key.
    pub(crate) fn new() -> Result<Self, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        Ok(PageTokens { key })
    }

    fn mac(&self, payload: &[u8]) -> [u8; TOKEN_MAC_BYTES] {
        // HMAC takes a key of any length.
        let mut mac = <TokenMac as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(payload);
        let mut out = [0u8; TOKEN_MAC_BYTES];
        out.copy_from_slice(&mac.finalize().into_bytes()[..TOKEN_MAC_BYTES]);
        out
    }

    /// The token of the page after the entry with `sort_key` and `root`, for `query`.
    pub(crate) fn after(&self, query: &EntryQuery, sort_key: &str, root: &str) -> String {
        let mut payload = query.digest.to_vec();
        payload.extend_from_slice(sort_key.as_bytes());
        payload.push(0x1f);
        payload.extend_from_slice(root.as_bytes());
        let mac = self.mac(&payload);
        payload.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(payload)
    }

    /// The (sort key, root) a token of `query` resumes after; `None` for an empty token.
    pub(crate) fn read(
        &self,
        query: &EntryQuery,
        token: &str,
    ) -> Result<Option<(String, String)>, Status> {
        if token.is_empty() {
            return Ok(None);
        }
        let forged = || {
            invalid(
                "page_token",
                "not a page token of this ledger; start from the first page",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| forged())?;
        let Some(split) = bytes.len().checked_sub(TOKEN_MAC_BYTES) else {
            return Err(forged());
        };
        let (payload, mac) = bytes.split_at(split);
        if payload.len() < TOKEN_QUERY_BYTES || !constant_time_eq(&self.mac(payload), mac) {
            return Err(forged());
        }
        let (digest, rest) = payload.split_at(TOKEN_QUERY_BYTES);
        if digest != query.digest {
            return Err(invalid(
                "page_token",
                "a token of another query: pass the same filter and order as the first page",
            ));
        }
        let text = std::str::from_utf8(rest).map_err(|_| forged())?;
        let (key, root) = text.split_once('\u{1f}').ok_or_else(forged)?;
        Ok(Some((key.to_owned(), root.to_owned())))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Calendar days after today within which an open entry's next deadline (today's too) makes it "due
/// soon": the dashboard's amber rows and count.
pub(crate) const DUE_SOON_DAYS: u64 = 7;

/// Of `all`, the entries overdue, and the open ones not overdue due within [`DUE_SOON_DAYS`].
pub(crate) fn counts(all: &[(String, EntryView)], today: NaiveDate) -> (usize, usize) {
    let horizon = today
        .checked_add_days(chrono::Days::new(DUE_SOON_DAYS))
        .unwrap_or(NaiveDate::MAX);
    let overdue = all.iter().filter(|(_, e)| e.overdue).count();
    let soon = all
        .iter()
        .filter(|(_, e)| !e.closed && !e.overdue)
        .filter(|(_, e)| super::entry::next_due_on(e).is_some_and(|d| d <= horizon))
        .count();
    (overdue, soon)
}

/// One page of `all` after `resume`, and whether entries follow it. `all` is sorted by (sort key,
/// root) with roots in `ItemRef`'s own order (kind first), so the resume point compares the same way:
/// comparing roots as key text would put `dispute:` before `petition_matter:` and resume in the wrong
/// place once a list mixes kinds.
pub(crate) fn page<'a>(
    all: &'a [(String, EntryView)],
    resume: Option<&(String, String)>,
    size: usize,
) -> (&'a [(String, EntryView)], bool) {
    let start = resume.map_or(0, |(key, root)| {
        let root = ItemRef::from_key(root);
        all.partition_point(|(k, e)| (k.as_str(), e.root.as_ref()) <= (key.as_str(), root.as_ref()))
    });
    let end = (start + size).min(all.len());
    (&all[start..end], end < all.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(digest: u8) -> EntryQuery {
        EntryQuery {
            filter: ListFilter::default(),
            stage: None,
            status: pb::EntryStatus::Unspecified,
            min_risk: None,
            overdue_only: false,
            due_before: None,
            order: pb::EntryOrder::Root,
            digest: [digest; TOKEN_QUERY_BYTES],
        }
    }

    #[test]
    fn a_page_token_reads_back_only_for_its_own_query_and_key() {
        // Given a token for the page after ("2026-05-06", root) of one query
        let tokens = PageTokens::new().expect("random");
        let token = tokens.after(&query(1), "2026-05-06", "petition_matter:XF-1");
        // When it is read for that query, another query, and edited, and by another process
        let read = tokens.read(&query(1), &token).expect("its own query");
        let other = tokens.read(&query(2), &token).expect_err("another query");
        let mut edited = token.clone().into_bytes();
        edited[3] = if edited[3] == b'A' { b'B' } else { b'A' };
        let edited = tokens
            .read(&query(1), &String::from_utf8(edited).expect("ascii"))
            .expect_err("edited");
        let foreign = PageTokens::new()
            .expect("random")
            .read(&query(1), &token)
            .expect_err("another key");
        // Then only the first resumes, and each refusal names the field
        assert_eq!(
            read,
            Some(("2026-05-06".into(), "petition_matter:XF-1".into()))
        );
        for refused in [other, edited, foreign] {
            assert_eq!(refused.code(), tonic::Code::InvalidArgument);
            assert!(refused.message().contains("page_token"), "{refused:?}");
        }
        assert_eq!(tokens.read(&query(1), "").expect("empty"), None);
        assert!(tokens.read(&query(1), "!!").is_err());
    }

    #[test]
    fn the_counts_of_a_list_are_its_overdue_entries_and_its_open_ones_due_within_seven_days() {
        // Given entries due in 0, 7 and 8 days, one closed, one overdue, one whose deadline is met
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).expect("a day");
        let entry = |days: u64, closed: bool, overdue: bool, met: bool| {
            let due_on = today
                .checked_add_days(chrono::Days::new(days))
                .expect("a day");
            let deadline = crate::model::DeadlineView {
                item: ItemRef::from_key("petition_matter:PM-1").expect("a key"),
                kind: oneledger_domain::clock::DeadlineKind::ForwardOrAssign,
                article: "art. 22".into(),
                due_on,
                met_on: met.then_some(today),
                overdue,
                paused: false,
                provisional: false,
                duty_of: Some(UnitId("binhai.petition_office".into())),
            };
            let view = EntryView {
                closed,
                overdue,
                deadlines: vec![deadline],
                ..Default::default()
            };
            (String::new(), view)
        };
        let all = [
            entry(0, false, false, false),
            entry(7, false, false, false),
            entry(8, false, false, false),
            entry(1, true, false, false),
            entry(0, false, true, false),
            entry(2, false, false, true),
        ];
        // When they are counted
        let (overdue, soon) = counts(&all, today);
        // Then one is overdue, and due soon are the open ones due today and in seven days, not eight
        assert_eq!((overdue, soon), (1, 2));
    }

    #[test]
    fn pages_of_a_list_mixing_kinds_of_root_hold_every_entry_once() {
        // Given entries of every kind of root under one sort key, sorted as `matching` sorts them
        let roots = [
            "supervision_order:SO-1",
            "petition_matter:PM-2",
            "dispute:DS-3",
            "joint_handling:JH-4",
            "petition_matter:PM-1",
            "dispute:DS-1",
        ];
        let mut all: Vec<(String, EntryView)> = roots
            .iter()
            .map(|r| {
                let root = ItemRef::from_key(r).expect("a root key");
                (
                    String::new(),
                    EntryView {
                        root: Some(root),
                        ..Default::default()
                    },
                )
            })
            .collect();
        all.sort_by(|(a, ea), (b, eb)| a.cmp(b).then_with(|| ea.root.cmp(&eb.root)));
        // When it is read two at a time, each page resuming after the last root of the one before
        let mut seen = Vec::new();
        let mut resume: Option<(String, String)> = None;
        loop {
            let (page, more) = page(&all, resume.as_ref(), 2);
            seen.extend(page.iter().map(|(_, e)| e.root.clone().expect("root")));
            let Some((key, last)) = page.last() else {
                break;
            };
            resume = Some((key.clone(), last.root.as_ref().expect("root").key()));
            if !more {
                break;
            }
        }
        // Then every entry comes once, in the list's order
        let expected: Vec<ItemRef> = all
            .iter()
            .map(|(_, e)| e.root.clone().expect("root"))
            .collect();
        assert_eq!(seen, expected);
    }
}
