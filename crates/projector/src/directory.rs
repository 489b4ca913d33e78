//! The directory API (`oneledger.directory.v1.DirectoryService`): the district's units as the process
//! loaded them, served beside the ledger API so a dashboard or an integrator picks units from a list and
//! shows their names, and the holiday calendar's coverage. Read-only reference data: any authenticated
//! caller may read it.

use std::sync::Arc;

use oneledger_clock::Clock;
use oneledger_domain::ids::MAX_UNIT_ID_CHARS;
use oneledger_domain::{Rules, Unit, UnitDirectory, UnitId, UnitKind};
use oneledger_proto::convert::{self, WireError};
use oneledger_proto::directory::v1::{self as pb, directory_service_server::DirectoryService};
use tonic::{Request, Response, Status};

/// Units per page unless asked otherwise: the whole of a district's directory, usually.
const DEFAULT_PAGE: usize = 200;
/// Most units per page.
const MAX_PAGE: usize = 500;

/// The directory API over a loaded directory and calendar.
#[derive(Debug, Clone)]
pub struct DirectoryApi {
    directory: Arc<UnitDirectory>,
    rules: Arc<Rules>,
    /// The day units are listed as of, and the calendar's days left are counted from.
    clock: Clock,
}

impl DirectoryApi {
    /// The API over the directory and calendar of `rules`.
    pub fn new(rules: Arc<Rules>, clock: Clock) -> Self {
        DirectoryApi {
            directory: rules.directory.clone(),
            rules,
            clock,
        }
    }

    fn calendar(&self) -> pb::GetCalendarResponse {
        let coverage = self.rules.calendar.coverage();
        let today = self.clock.today();
        pb::GetCalendarResponse {
            first_year: coverage.first_year,
            last_year: coverage.last_year,
            source: coverage.source.clone(),
            ends_on: coverage.ends_on().to_string(),
            days_left: coverage.days_left(today),
            warning: coverage.warning(today).unwrap_or_default(),
        }
    }

    fn list(&self, r: &pb::ListUnitsRequest) -> Result<pb::ListUnitsResponse, WireError> {
        let kind = convert::optional_enum_field::<UnitKind>("kind", r.kind)?;
        let on = match r.on.trim() {
            "" => self.clock.today(),
            raw => convert::date("on", raw)?,
        };
        let parent = convert::optional_id("parent_unit_id", &r.parent_unit_id, MAX_UNIT_ID_CHARS)?
            .map(UnitId);
        if let Some(p) = &parent
            && self.directory.get(p).is_none()
        {
            return Err(WireError::new(
                "parent_unit_id",
                format!("`{p}` is not a unit of the district's directory"),
            ));
        }
        let text = r.name_contains.trim().to_lowercase();
        let page_size = match r.page_size as usize {
            0 => DEFAULT_PAGE,
            n if n > MAX_PAGE => {
                return Err(WireError::new("page_size", format!("at most {MAX_PAGE}")));
            }
            n => n,
        };
        // The token is the last id of the previous page, which must be a unit of this directory.
        let after = match r.page_token.as_str() {
            "" => None,
            token if self.directory.get(&UnitId::from(token)).is_some() => Some(token),
            _ => {
                return Err(WireError::new(
                    "page_token",
                    "not a token this service issued",
                ));
            }
        };
        let matches = |u: &&Unit| {
            kind.is_none_or(|k| u.kind == k)
                && parent.as_ref().is_none_or(|p| u.parent.as_ref() == Some(p))
                && (r.include_inactive || u.is_valid_on(on))
                && (text.is_empty()
                    || u.name.contains(text.as_str())
                    || u.name_en.to_lowercase().contains(&text)
                    || u.id.0.contains(&text))
        };
        let all: Vec<&Unit> = self.directory.units().filter(matches).collect();
        let rest = all
            .iter()
            .filter(|u| after.is_none_or(|a| u.id.0.as_str() > a))
            .collect::<Vec<_>>();
        let page: Vec<pb::Unit> = rest.iter().take(page_size).map(|u| (**u).into()).collect();
        let next_page_token = match (rest.len() > page_size, page.last()) {
            (true, Some(last)) => last.unit_id.clone(),
            _ => String::new(),
        };
        Ok(pb::ListUnitsResponse {
            units: page,
            next_page_token,
            total_size: all.len() as u32,
        })
    }
}

#[tonic::async_trait]
impl DirectoryService for DirectoryApi {
    async fn list_units(
        &self,
        request: Request<pb::ListUnitsRequest>,
    ) -> Result<Response<pb::ListUnitsResponse>, Status> {
        Ok(Response::new(self.list(request.get_ref())?))
    }

    async fn get_unit(
        &self,
        request: Request<pb::GetUnitRequest>,
    ) -> Result<Response<pb::GetUnitResponse>, Status> {
        let id = convert::required_id("unit_id", &request.get_ref().unit_id, MAX_UNIT_ID_CHARS)?;
        let id = UnitId(id);
        let Some(unit) = self.directory.get(&id) else {
            return Err(Status::not_found(convert::bounded(&format!(
                "unit `{id}` is not in the district's directory"
            ))));
        };
        Ok(Response::new(pb::GetUnitResponse {
            unit: Some(unit.into()),
            children: self.directory.children(&id).map(Into::into).collect(),
        }))
    }

    async fn get_calendar(
        &self,
        _request: Request<pb::GetCalendarRequest>,
    ) -> Result<Response<pb::GetCalendarResponse>, Status> {
        Ok(Response::new(self.calendar()))
    }
}
