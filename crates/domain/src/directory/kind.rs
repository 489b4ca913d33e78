//! What kind of body a unit is (单位类别). The kind decides which fields of a command may name it: a
//! territory must be a zone, sub-district or town; a police station's part needs a police station.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kinds of unit of a district's directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 区委: the district's party committee.
    DistrictCommittee,
    /// 区政府: the district government.
    DistrictGovernment,
    /// 信访办: the petition office.
    PetitionOffice,
    /// 政法委: the political-legal committee.
    PoliticalLegalCommittee,
    /// 公安局 / 分局: the public security bureau.
    PublicSecurityBureau,
    /// 派出所: a police station.
    PoliceStation,
    /// 司法局: the judicial bureau.
    JudicialBureau,
    /// 司法所: a judicial office of a sub-district or town.
    JudicialOffice,
    /// 人民法院: the district's people's court.
    Court,
    /// 人民法庭: a people's tribunal of the court.
    PeopleTribunal,
    /// 人民检察院: the district's procuratorate.
    Procuratorate,
    /// 检察室: a procuratorate office.
    ProcuratorateOffice,
    /// 功能区 / 开发区: a development zone with its own administrative committee.
    DevelopmentZone,
    /// 街道: a sub-district.
    Subdistrict,
    /// 镇: a town.
    Town,
    /// 区级部门: a district department.
    Department,
    /// 调解组织: a mediation body.
    MediationBody,
    /// 上级单位: a unit above the district (the city's government, bureaus, courts).
    HigherLevelUnit,
}

impl UnitKind {
    /// Every kind.
    pub const ALL: [UnitKind; 18] = [
        UnitKind::DistrictCommittee,
        UnitKind::DistrictGovernment,
        UnitKind::PetitionOffice,
        UnitKind::PoliticalLegalCommittee,
        UnitKind::PublicSecurityBureau,
        UnitKind::PoliceStation,
        UnitKind::JudicialBureau,
        UnitKind::JudicialOffice,
        UnitKind::Court,
        UnitKind::PeopleTribunal,
        UnitKind::Procuratorate,
        UnitKind::ProcuratorateOffice,
        UnitKind::DevelopmentZone,
        UnitKind::Subdistrict,
        UnitKind::Town,
        UnitKind::Department,
        UnitKind::MediationBody,
        UnitKind::HigherLevelUnit,
    ];

    /// The kind's stable name, as the directory file spells it: `police_station`.
    pub const fn as_str(self) -> &'static str {
        match self {
            UnitKind::DistrictCommittee => "district_committee",
            UnitKind::DistrictGovernment => "district_government",
            UnitKind::PetitionOffice => "petition_office",
            UnitKind::PoliticalLegalCommittee => "political_legal_committee",
            UnitKind::PublicSecurityBureau => "public_security_bureau",
            UnitKind::PoliceStation => "police_station",
            UnitKind::JudicialBureau => "judicial_bureau",
            UnitKind::JudicialOffice => "judicial_office",
            UnitKind::Court => "court",
            UnitKind::PeopleTribunal => "people_tribunal",
            UnitKind::Procuratorate => "procuratorate",
            UnitKind::ProcuratorateOffice => "procuratorate_office",
            UnitKind::DevelopmentZone => "development_zone",
            UnitKind::Subdistrict => "subdistrict",
            UnitKind::Town => "town",
            UnitKind::Department => "department",
            UnitKind::MediationBody => "mediation_body",
            UnitKind::HigherLevelUnit => "higher_level_unit",
        }
    }

    /// The kind a name names.
    pub fn parse(name: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// True for a territory (属地): a development zone, a sub-district or a town.
    pub const fn is_territory(self) -> bool {
        matches!(
            self,
            UnitKind::DevelopmentZone | UnitKind::Subdistrict | UnitKind::Town
        )
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a command's field requires of the unit it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitRequirement {
    /// Any unit of the directory, valid on the day.
    Any,
    /// A territory: a development zone, a sub-district or a town.
    Territory,
    /// A police station.
    PoliceStation,
}

impl UnitRequirement {
    /// True when a unit of `kind` meets the requirement.
    pub fn admits(self, kind: UnitKind) -> bool {
        match self {
            UnitRequirement::Any => true,
            UnitRequirement::Territory => kind.is_territory(),
            UnitRequirement::PoliceStation => kind == UnitKind::PoliceStation,
        }
    }

    /// What the requirement asks for, in words.
    pub fn describe(self) -> &'static str {
        match self {
            UnitRequirement::Any => "a unit",
            UnitRequirement::Territory => "a development zone, sub-district or town",
            UnitRequirement::PoliceStation => "a police station",
        }
    }
}
