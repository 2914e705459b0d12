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

    /// Each row, stated as the workflow's rules say it, so a changed row fails here.
    #[test]
    fn each_row_of_the_table() {
        let expected: &[(ApplicationState, Step, ApplicationState, Who)] = &[
            (Draft, Step::Submit, Submitted, Applicant),
            (ChangesRequested, Step::Submit, Submitted, Applicant),
            (Draft, Step::Withdraw, Withdrawn, Applicant),
            (Submitted, Step::Withdraw, Withdrawn, Applicant),
            (UnderReview, Step::Withdraw, Withdrawn, Applicant),
            (ChangesRequested, Step::Withdraw, Withdrawn, Applicant),
            (Submitted, Step::StartReview, UnderReview, DecidingAgency),
            (UnderReview, Step::Approve, Approved, DecidingAgency),
            (UnderReview, Step::Reject, Rejected, DecidingAgency),
            (
                UnderReview,
                Step::RequestChanges,
                ChangesRequested,
                DecidingAgency,
            ),
            (Approved, Step::OpenNotice, InPublicNotice, DecidingAgency),
            (
                InPublicNotice,
                Step::UpholdObjection,
                Rejected,
                DecidingAgency,
            ),
            (InPublicNotice, Step::Grant, Granted, DecidingAgency),
            (Approved, Step::Grant, Granted, DecidingAgency),
        ];
        assert_eq!(TRANSITIONS.len(), expected.len(), "one row each");
        for &(from, step, to, who) in expected {
            let t =
                transition(from, step).unwrap_or_else(|| panic!("{from} --{step:?}--> missing"));
            assert_eq!((t.to, t.who), (to, who), "{from} --{step:?}-->");
        }
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
