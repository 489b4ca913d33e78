//! Reading a directory file: CSV, one unit a line, so a district's office keeps it in a spreadsheet.
//!
//! ```text
//! id,name,name_en,kind,parent,reviewer,territories,valid_from,valid_to
//! binhai.police.xingang,新港派出所,Xingang Police Station,police_station,binhai.public_security_bureau,,binhai.xingang_subdistrict,,
//! ```
//!
//! - `kind`: one of [`UnitKind::ALL`]'s names;
//! - `parent`: the unit above; empty only for a `higher_level_unit`;
//! - `reviewer`: the unit that reviews its opinions when not the parent; empty: the parent;
//! - `territories`: the zones, sub-districts and towns it covers, separated by `;`;
//! - `valid_from`, `valid_to`: `YYYY-MM-DD`, inclusive, empty for open.
//!
//! Lines starting with `#` are comments. Every error names the file and the line.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;

use super::{Unit, UnitDirectory, UnitKind};
use crate::ids::{UnitId, id_field};

/// The columns of a directory file, in order.
pub const COLUMNS: [&str; 9] = [
    "id",
    "name",
    "name_en",
    "kind",
    "parent",
    "reviewer",
    "territories",
    "valid_from",
    "valid_to",
];

/// A directory file that cannot be read: the file, the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {reason}")]
pub struct DirectoryError {
    /// The file's name as given.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

/// One line as written.
#[derive(Debug, Deserialize)]
struct Row {
    id: String,
    name: String,
    name_en: String,
    kind: String,
    parent: String,
    reviewer: String,
    territories: String,
    valid_from: String,
    valid_to: String,
}

/// Reads and checks a directory; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<UnitDirectory, DirectoryError> {
    let err = |line: u64, reason: String| DirectoryError {
        file: file.to_owned(),
        line,
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    // The reader's own line count leaves out comments and blank lines; a person reads the file's. A
    // record's position is where its read began, before any comment or blank line it skipped.
    let line_at = |position: &csv::Position| {
        let mut at = (position.byte() as usize).min(text.len());
        while let Some(end) = text[at..].find('\n') {
            let line = &text[at..at + end];
            if !(line.trim().is_empty() || line.starts_with('#')) {
                break;
            }
            at += end + 1;
        }
        text[..at].matches('\n').count() as u64 + 1
    };
    let header_line = 1;
    let headers = reader
        .headers()
        .map_err(|e| err(header_line, e.to_string()))?
        .clone();
    if headers.iter().ne(COLUMNS) {
        return Err(err(
            header_line,
            format!("the header must be `{}`", COLUMNS.join(",")),
        ));
    }
    let mut units = BTreeMap::new();
    let mut lines = BTreeMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = line_at(reader.position());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(err(e.position().map_or(line, line_at), e.to_string())),
        }
        let line = record.position().map_or(line, line_at);
        let row: Row = record
            .deserialize(Some(&headers))
            .map_err(|e| err(line, e.to_string()))?;
        let unit = unit(row).map_err(|reason| err(line, reason))?;
        if let Some(first) = lines.insert(unit.id.clone(), line) {
            return Err(err(
                line,
                format!("`{}` is listed twice (line {first})", unit.id),
            ));
        }
        units.insert(unit.id.clone(), unit);
    }
    check_references(&units).map_err(|(id, reason)| err(lines[&id], reason))?;
    Ok(UnitDirectory::from_units(units))
}

/// A unit from its line, checking what the line alone can show.
fn unit(row: Row) -> Result<Unit, String> {
    let present = |s: String| (!s.is_empty()).then_some(s);
    id_field("id", &row.id).map_err(|e| e.to_string())?;
    for (field, value) in [("name", &row.name), ("name_en", &row.name_en)] {
        if value.is_empty() {
            return Err(format!("{field} must not be empty"));
        }
    }
    let kind = UnitKind::parse(&row.kind).ok_or_else(|| {
        let kinds: Vec<_> = UnitKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown kind {:?}; one of {}", row.kind, kinds.join(", "))
    })?;
    let date = |field: &str, value: String| -> Result<Option<NaiveDate>, String> {
        present(value)
            .map(|v| {
                NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                    .map_err(|_| format!("{field} {v:?} is not a YYYY-MM-DD date"))
            })
            .transpose()
    };
    let valid_from = date("valid_from", row.valid_from)?;
    let valid_to = date("valid_to", row.valid_to)?;
    if let (Some(from), Some(to)) = (valid_from, valid_to)
        && to < from
    {
        return Err(format!("valid_to {to} is before valid_from {from}"));
    }
    let territories = row
        .territories
        .split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(UnitId::from)
        .collect();
    Ok(Unit {
        id: UnitId(row.id),
        name: row.name,
        name_en: row.name_en,
        kind,
        parent: present(row.parent).map(UnitId),
        reviewer: present(row.reviewer).map(UnitId),
        territories,
        valid_from,
        valid_to,
    })
}

/// Checks what needs the whole file: references resolve, territories are territories, and every
/// parent chain ends above the district. Returns the unit whose line is wrong.
fn check_references(units: &BTreeMap<UnitId, Unit>) -> Result<(), (UnitId, String)> {
    for unit in units.values() {
        let wrong = |reason: String| (unit.id.clone(), reason);
        let listed = |field: &str, id: &UnitId| {
            if units.contains_key(id) {
                Ok(())
            } else {
                Err(wrong(format!("{field} `{id}` is not in the directory")))
            }
        };
        match &unit.parent {
            Some(parent) => listed("parent", parent)?,
            None if unit.kind == UnitKind::HigherLevelUnit => {}
            None => return Err(wrong(format!("a {} needs a parent", unit.kind))),
        }
        if let Some(reviewer) = &unit.reviewer {
            listed("reviewer", reviewer)?;
        }
        for territory in &unit.territories {
            listed("territory", territory)?;
            if !units[territory].kind.is_territory() {
                return Err(wrong(format!(
                    "territory `{territory}` is a {}, not a zone, sub-district or town",
                    units[territory].kind
                )));
            }
        }
        let mut seen = vec![&unit.id];
        let mut at = unit;
        while let Some(parent) = &at.parent {
            if seen.contains(&parent) {
                return Err(wrong(format!("`{parent}` is its own ancestor")));
            }
            seen.push(parent);
            at = &units[parent];
        }
    }
    Ok(())
}
