namespace PrivateFineTune;

/// <summary>The loss-threshold membership-inference attack (Yeom et al. 2018, arXiv 1709.01604), scored by its AUC.</summary>
/// <remarks>
/// The attacker guesses "member" when an example's loss is below a threshold; over every threshold, the area under the
/// ROC curve is <c>AUC = P(loss(member) &lt; loss(non-member)) + P(equal) / 2</c>, computed exactly by ranking. 0.5 means
/// the model's losses say nothing about membership; 1 means they give every member away.
/// </remarks>
internal static class MembershipInference
{
    /// <summary>The AUC of telling <paramref name="memberLosses"/> from <paramref name="nonMemberLosses"/> by a loss threshold.</summary>
    /// <exception cref="ArgumentException">A set is empty or holds a NaN.</exception>
    public static double LossThresholdAuc(IReadOnlyList<double> memberLosses, IReadOnlyList<double> nonMemberLosses)
    {
        if (memberLosses.Count == 0 || nonMemberLosses.Count == 0)
            throw new ArgumentException($"Both sets need examples: {memberLosses.Count} members, {nonMemberLosses.Count} non-members.", nameof(memberLosses));
        if (memberLosses.Concat(nonMemberLosses).Any(double.IsNaN)) throw new ArgumentException("A loss is NaN.", nameof(memberLosses));

        // Mann-Whitney: rank all losses together (ties share their mean rank); AUC = (sum of non-member ranks - n(n+1)/2) / (n m).
        var all = memberLosses.Select(loss => (Loss: loss, Member: true)).Concat(nonMemberLosses.Select(loss => (Loss: loss, Member: false)))
            .OrderBy(item => item.Loss).ToArray();
        double nonMemberRankSum = 0;
        for (var start = 0; start < all.Length;)
        {
            var end = start;
            while (end + 1 < all.Length && all[end + 1].Loss == all[start].Loss) end++;
            var rank = (start + end) / 2.0 + 1;
            for (var index = start; index <= end; index++) if (!all[index].Member) nonMemberRankSum += rank;
            start = end + 1;
        }

        double members = memberLosses.Count, nonMembers = nonMemberLosses.Count;
        return (nonMemberRankSum - nonMembers * (nonMembers + 1) / 2) / (members * nonMembers);
    }
}
