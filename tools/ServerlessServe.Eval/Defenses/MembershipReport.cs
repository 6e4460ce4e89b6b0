using ServerlessServe.Core.Policy;
using ServerlessServe.Eval.Membership;

namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// Membership inference on the digits model (Yeom et al. 2018): how well a threshold on what the model releases tells
/// training rows from held-out rows, for each form the policy language can release the scores in.
/// </summary>
/// <param name="Members">Training rows attacked (members).</param>
/// <param name="NonMembers">Held-out test rows attacked (non-members).</param>
/// <param name="Selection">How the members were chosen.</param>
/// <param name="MemberAccuracy">The model's accuracy on the members.</param>
/// <param name="NonMemberAccuracy">Its accuracy on the non-members.</param>
/// <param name="Forms">The attack on each released form, the model's full output first.</param>
public sealed record MembershipReport(
    int Members,
    int NonMembers,
    string Selection,
    Rate MemberAccuracy,
    Rate NonMemberAccuracy,
    IReadOnlyList<MembershipResult> Forms);

/// <summary>The attack on one released form of the scores.</summary>
/// <param name="Form">The form, in words.</param>
/// <param name="Rule">The output rule that releases it (mode, k, rounding).</param>
/// <param name="Policy">Whether it is what the digits sample policy releases.</param>
/// <param name="TrueLabel">
/// Yeom et al.'s attack: the released confidence in the row's true label (equivalently minus its loss) at least a
/// threshold; with a label only, whether the label is right.
/// </param>
/// <param name="TopScore">The label-free variant: the highest released score at least a threshold; null when only a label is released.</param>
public sealed record MembershipResult(string Form, OutputRule Rule, bool Policy, MembershipThreshold TrueLabel, MembershipThreshold? TopScore);
