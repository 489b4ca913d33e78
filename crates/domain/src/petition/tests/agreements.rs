//! Agreements and their obligations (art. 33).

use super::*;

#[test]
fn given_an_agreement_when_an_agency_breaches_an_obligation_then_a_supervision_order_is_due() {
    let mut s = accepted_claim();
    let obligations = vec![
        Obligation {
            obligation_id: "pay".into(),
            obligor: Obligor::Unit(u(TOWN)),
            description: "advance the unpaid wages from the guarantee fund".into(),
            due_on: d("2026-04-30"),
        },
        Obligation {
            obligation_id: "withdraw".into(),
            obligor: Obligor::Petitioner(PersonRef::from("p-001")),
            description: "withdraw the complaint once paid".into(),
            due_on: d("2026-05-10"),
        },
    ];
    s.ok(
        "2026-03-20",
        BUREAU,
        MatterAction::RecordAgreement {
            agreement_id: "a1".into(),
            kind: AgreementKind::Mediation,
            obligations,
        },
    );
    let events = s
        .when(
            "2026-05-02",
            BUREAU,
            MatterAction::RecordObligationBreached {
                agreement_id: "a1".into(),
                obligation_id: "pay".into(),
            },
        )
        .unwrap();
    assert!(
        matches!(&events[0], MatterEvent::ObligationBreached { supervision_due_for: Some(unit), .. } if unit == &u(TOWN))
    );
    let again = s.when(
        "2026-05-03",
        BUREAU,
        MatterAction::RecordObligationMet {
            agreement_id: "a1".into(),
            obligation_id: "pay".into(),
        },
    );
    assert!(again.is_err(), "a settled obligation is not settled again");
}
