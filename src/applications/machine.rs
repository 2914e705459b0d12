//! The application state machine as one table: from which state a step leads where, and who may
//! take it. The workflow asks [`transition`]; nothing else decides a next state.

use crate::auth::Action;
use crate::domain::ApplicationState;

/// A step of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Submit,
    Withdraw,
    StartReview,
    Approve,
    Reject,
    RequestChanges,
    /// Follows an approval by itself when the kind needs a public notice (公示).
    OpenNotice,
    /// An upheld objection ends the notice with a rejection.
    UpholdObjection,
    Grant,
}

impl Step {
    pub const ALL: [Step; 9] = [
        Step::Submit,
        Step::Withdraw,
        Step::StartReview,
        Step::Approve,
        Step::Reject,
        Step::RequestChanges,
        Step::OpenNotice,
        Step::UpholdObjection,
        Step::Grant,
    ];

    /// The steps a person takes (the others follow from them by themselves), in the order a
    /// form offers them.
    pub const BY_HAND: [Step; 7] = [
        Step::Submit,
        Step::Withdraw,
        Step::StartReview,
        Step::Approve,
        Step::RequestChanges,
        Step::Reject,
        Step::Grant,
    ];

    /// The name in the audit trail (`application.submit` …).
    pub fn name(self) -> &'static str {
        match self {
            Step::Submit => "submit",
            Step::Withdraw => "withdraw",
            Step::StartReview => "start_review",
            Step::Approve => "approve",
            Step::Reject => "reject",
            Step::RequestChanges => "request_changes",
            Step::OpenNotice => "open_notice",
            Step::UpholdObjection => "reject",
            Step::Grant => "grant",
        }
    }
}

/// Who may take a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The applying enterprise's users.
    Applicant,
    /// Regulators of the agency that decides the application's kind.
    DecidingAgency,
}

impl Who {
    /// The policy action that stands for it.
    pub fn action(self) -> Action {
        match self {
            Who::Applicant => Action::ManageApplication,
            Who::DecidingAgency => Action::Decide,
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: ApplicationState,
    pub step: Step,
    pub to: ApplicationState,
    pub who: Who,
}

const fn row(from: ApplicationState, step: Step, to: ApplicationState, who: Who) -> Transition {
    Transition {
        from,
        step,
        to,
        who,
    }
}

use ApplicationState::*;
use Who::*;

/// Every transition there is. Approving a certification also registers its certificate, and
/// granting creates the designation; the workflow does that beside the transition.
pub const TRANSITIONS: &[Transition] = &[
    row(Draft, Step::Submit, Submitted, Applicant),
    row(ChangesRequested, Step::Submit, Submitted, Applicant),
    row(Draft, Step::Withdraw, Withdrawn, Applicant),
    row(Submitted, Step::Withdraw, Withdrawn, Applicant),
    row(UnderReview, Step::Withdraw, Withdrawn, Applicant),
    row(ChangesRequested, Step::Withdraw, Withdrawn, Applicant),
    row(Submitted, Step::StartReview, UnderReview, DecidingAgency),
    row(UnderReview, Step::Approve, Approved, DecidingAgency),
    row(UnderReview, Step::Reject, Rejected, DecidingAgency),
    row(
        UnderReview,
        Step::RequestChanges,
        ChangesRequested,
        DecidingAgency,
    ),
    row(Approved, Step::OpenNotice, InPublicNotice, DecidingAgency),
    row(
        InPublicNotice,
        Step::UpholdObjection,
        Rejected,
        DecidingAgency,
    ),
    row(InPublicNotice, Step::Grant, Granted, DecidingAgency),
    row(Approved, Step::Grant, Granted, DecidingAgency),
];

/// The transition `step` makes from `from`, if there is one.
pub fn transition(from: ApplicationState, step: Step) -> Option<Transition> {
    TRANSITIONS
        .iter()
        .find(|t| t.from == from && t.step == step)
        .copied()
}

/// The states from which `step` may be taken.
pub fn states_allowing(step: Step) -> impl Iterator<Item = ApplicationState> {
    TRANSITIONS
        .iter()
        .filter(move |t| t.step == step)
        .map(|t| t.from)
}

/// Whether the applicant may still change it (amend its details and documents).
pub fn amendable(state: ApplicationState) -> bool {
    transition(state, Step::Submit).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test per row, each stating the row as the workflow's rules say it: a changed or
    /// missing row fails its own test.
    macro_rules! row_tests {
        ($($name:ident: $from:ident --$step:ident--> $to:ident by $who:ident;)+) => {
            $(
                #[test]
                fn $name() {
                    let t = transition($from, Step::$step)
                        .unwrap_or_else(|| panic!("{} --{:?}--> missing", $from, Step::$step));
                    assert_eq!((t.to, t.who), ($to, $who));
                }
            )+

            #[test]
            fn the_table_has_no_other_rows() {
                assert_eq!(TRANSITIONS.len(), [$(stringify!($name)),+].len());
            }
        };
    }

    row_tests! {
        draft_is_submitted_by_the_applicant: Draft --Submit--> Submitted by Applicant;
        returned_is_resubmitted_by_the_applicant: ChangesRequested --Submit--> Submitted by Applicant;
        draft_is_withdrawn_by_the_applicant: Draft --Withdraw--> Withdrawn by Applicant;
        submitted_is_withdrawn_by_the_applicant: Submitted --Withdraw--> Withdrawn by Applicant;
        under_review_is_withdrawn_by_the_applicant: UnderReview --Withdraw--> Withdrawn by Applicant;
        returned_is_withdrawn_by_the_applicant: ChangesRequested --Withdraw--> Withdrawn by Applicant;
        review_is_started_by_the_agency: Submitted --StartReview--> UnderReview by DecidingAgency;
        approval_is_the_agencys: UnderReview --Approve--> Approved by DecidingAgency;
        rejection_is_the_agencys: UnderReview --Reject--> Rejected by DecidingAgency;
        changes_are_requested_by_the_agency: UnderReview --RequestChanges--> ChangesRequested by DecidingAgency;
        an_approval_opens_the_notice: Approved --OpenNotice--> InPublicNotice by DecidingAgency;
        an_upheld_objection_rejects: InPublicNotice --UpholdObjection--> Rejected by DecidingAgency;
        the_agency_grants_after_the_notice: InPublicNotice --Grant--> Granted by DecidingAgency;
        the_agency_grants_without_a_notice: Approved --Grant--> Granted by DecidingAgency;
    }

    /// Every pair not in the table is refused: no step leaves a final state, nobody approves a
    /// draft, an applicant cannot withdraw after a decision.
    #[test]
    fn nothing_else_is_allowed() {
        for &state in ApplicationState::ALL {
            for step in Step::ALL {
                let listed = TRANSITIONS
                    .iter()
                    .any(|t| t.from == state && t.step == step);
                assert_eq!(
                    transition(state, step).is_some(),
                    listed,
                    "{state} {step:?}"
                );
            }
        }
        for final_state in [Rejected, Withdrawn, Granted] {
            assert!(Step::ALL
                .iter()
                .all(|&s| transition(final_state, s).is_none()));
        }
        assert!(transition(Draft, Step::Approve).is_none());
        assert!(transition(Approved, Step::Withdraw).is_none());
        assert!(transition(InPublicNotice, Step::Withdraw).is_none());
    }

    #[test]
    fn only_drafts_and_returned_applications_are_amendable() {
        let amendable_states: Vec<_> = ApplicationState::ALL
            .iter()
            .copied()
            .filter(|s| amendable(*s))
            .collect();
        assert_eq!(amendable_states, vec![Draft, ChangesRequested]);
    }
}
