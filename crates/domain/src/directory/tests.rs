//! Given a directory file, when it is read, then the units, their hierarchy and their reviewers are
//! what the file says, and a wrong line is named.

use super::*;
use crate::testing::{d, u};

fn binhai() -> UnitDirectory {
    UnitDirectory::binhai().unwrap()
}

const HEADER: &str = "id,name,name_en,kind,parent,reviewer,territories,valid_from,valid_to\n";

fn parse(lines: &str) -> Result<UnitDirectory, DirectoryError> {
    load::parse("test.csv", &format!("{HEADER}{lines}"))
}

const ROOT: &str = "tianjin.city_government,天津市人民政府,Tianjin,higher_level_unit,,,,,\n";

#[test]
fn the_shipped_binhai_directory_reads_and_names_its_reviewers() {
    let dir = binhai();
    assert!(dir.len() > 100, "{} units", dir.len());
    let bureau = dir.get(&u("binhai.human_resources_bureau")).unwrap();
    assert_eq!(bureau.name, "滨海新区人力资源和社会保障局");
    assert_eq!(bureau.kind, UnitKind::Department);
    // a department's opinion is reviewed by the district government, whose own by the city's
    assert_eq!(
        dir.reviewer_of(&bureau.id),
        Some(&u("binhai.district_government"))
    );
    assert_eq!(
        dir.reviewer_of(&u("binhai.district_government")),
        Some(&u("tianjin.city_government"))
    );
    // the ids the demo and the tests have always used name real units
    for id in [
        "binhai.petition_office",
        "binhai.political_legal_committee",
        "binhai.joint_meeting_office",
        "binhai.xingang_subdistrict",
        "binhai.police.xingang",
        "binhai.judicial.xingang",
        "binhai.housing_bureau",
        "tianjin.city_government",
    ] {
        assert!(dir.get(&u(id)).is_some(), "{id}");
    }
    // every territory has its police station
    let stations: Vec<_> = dir
        .units()
        .filter(|s| s.kind == UnitKind::PoliceStation)
        .flat_map(|s| s.territories.clone())
        .collect();
    for territory in dir.units().filter(|t| t.kind.is_territory()) {
        assert!(stations.contains(&territory.id), "{}", territory.id);
    }
}

#[test]
fn given_a_merged_sub_district_when_checked_after_the_merger_then_it_is_refused_naming_the_day() {
    let dir = binhai();
    let yujiapu = u("binhai.yujiapu_subdistrict");
    let requirement = UnitRequirement::Territory;
    assert!(
        dir.require("territory", &yujiapu, d("2012-05-01"), requirement)
            .is_ok()
    );
    let refused = dir
        .require("territory", &yujiapu, d("2026-05-01"), requirement)
        .unwrap_err();
    assert!(
        refused.to_string().contains("does not exist on 2026-05-01"),
        "{refused}"
    );
    // the ledger still knows its name
    assert_eq!(dir.name_of(&yujiapu), Some("滨海新区于家堡街道办事处"));
}

#[test]
fn given_a_field_that_needs_a_territory_when_a_department_is_named_then_the_field_and_kind_are_said()
 {
    let dir = binhai();
    let refused = dir
        .require(
            "territory",
            &u("binhai.housing_bureau"),
            d("2026-05-01"),
            UnitRequirement::Territory,
        )
        .unwrap_err();
    assert_eq!(
        refused,
        DomainError::invalid(
            "territory",
            "`binhai.housing_bureau` (滨海新区住房和建设委员会) is a department, not a development zone, sub-district or town"
        )
    );
    let ghost = dir
        .require(
            "to",
            &u("binhai.human_resouces_bureau"),
            d("2026-05-01"),
            UnitRequirement::Any,
        )
        .unwrap_err();
    assert!(
        ghost
            .to_string()
            .contains("not a unit of the district's directory")
    );
}

#[test]
fn a_sub_district_s_subtree_holds_what_is_below_it() {
    let dir = binhai();
    let psb = dir.subtree(&u("binhai.public_security_bureau"));
    assert!(psb.contains(&u("binhai.police.xingang")));
    assert!(!psb.contains(&u("binhai.housing_bureau")));
    let children: Vec<_> = dir
        .children(&u("binhai.judicial_bureau"))
        .map(|c| c.id.clone())
        .collect();
    assert!(children.contains(&u("binhai.judicial.xingang")));
    let government = u("binhai.district_government");
    assert!(dir.is_at_or_below(&u("binhai.housing_bureau"), &government));
    assert!(dir.is_at_or_below(&government, &government));
    assert!(!dir.is_at_or_below(&government, &u("binhai.housing_bureau")));
    assert!(!dir.is_at_or_below(&u("binhai.police.xingang"), &government));
}

#[test]
fn errors_name_the_line() {
    let cases = [
        (
            format!("{ROOT}binhai.a,甲,A,bureau,tianjin.city_government,,,,\n"),
            3,
            "unknown kind \"bureau\"",
        ),
        (
            format!("{ROOT}binhai.a,甲,A,department,binhai.nowhere,,,,\n"),
            3,
            "parent `binhai.nowhere` is not in the directory",
        ),
        (
            format!("{ROOT}binhai.a,甲,A,department,,,,,\n"),
            3,
            "a department needs a parent",
        ),
        (
            format!(
                "{ROOT}# a comment\nbinhai.a,甲,A,department,tianjin.city_government,,,2026-13-01,\n"
            ),
            4,
            "valid_from \"2026-13-01\" is not a YYYY-MM-DD date",
        ),
        (
            format!(
                "{ROOT}binhai.a,甲,A,police_station,tianjin.city_government,,tianjin.city_government,,\n"
            ),
            3,
            "is a higher_level_unit, not a zone",
        ),
        (format!("{ROOT}{ROOT}"), 3, "listed twice (line 2)"),
        (
            format!("{ROOT}binhai.a,甲,A,department,tianjin.city_government\n"),
            3,
            "found record with 5 fields",
        ),
        (
            format!(
                "{ROOT}binhai.a,甲,A,department,binhai.b,,,,\nbinhai.b,乙,B,department,binhai.a,,,,\n"
            ),
            3,
            "is its own ancestor",
        ),
        (
            format!("{ROOT}binhai a,甲,A,department,tianjin.city_government,,,,\n"),
            3,
            "without white space",
        ),
    ];
    for (text, line, reason) in cases {
        let err = parse(&text).unwrap_err();
        assert_eq!(err.line, line, "{err}");
        assert!(err.to_string().contains(reason), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("test.csv line {line}:")),
            "{err}"
        );
    }
    let header = load::parse("test.csv", "id,name\n").unwrap_err();
    assert_eq!(header.line, 1);
    assert!(header.reason.contains("the header must be"));
}
