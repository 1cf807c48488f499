namespace XsaveLab.Sim.Tests.Experiment;

public class ClaimVerdictTests
{
    [Fact]
    public void A_band_inside_the_threshold_confirms_one_outside_refutes_one_across_is_inconclusive()
    {
        const double t = 0.4;
        var rng = new Random(11);
        for (int i = 0; i < 2000; i++)
        {
            double d = (rng.NextDouble() - 0.5) * 4 * t, s = rng.NextDouble() * t;
            double lo = d - 2 * s, hi = d + 2 * s;
            var v = ClaimVerdicts.Within(d, s, t);
            bool inside = lo > -t && hi < t, outside = lo >= t || hi <= -t;
            Assert.Equal(inside ? ClaimVerdict.Confirmed : outside ? ClaimVerdict.NotConfirmed : ClaimVerdict.Inconclusive, v);
        }
        // The case that was once reported as NOT CONFIRMED: −0.155 ± 0.503 % (2σ) against 0.4 %.
        Assert.Equal(ClaimVerdict.Inconclusive, ClaimVerdicts.Within(-0.155, 0.503 / 2, 0.4));
    }

    [Theory]
    [InlineData(double.NaN, 0.1)]
    [InlineData(0.1, double.NaN)]
    [InlineData(double.PositiveInfinity, 0.1)]
    [InlineData(0.1, double.NegativeInfinity)]
    public void A_non_finite_figure_never_decides(double change, double sigma) =>
        Assert.Equal(ClaimVerdict.Inconclusive, ClaimVerdicts.Within(change, sigma, 0.4));

    [Fact]
    public void Any_refuted_part_refutes_the_claim_all_confirmed_confirm_it()
    {
        Assert.Equal(ClaimVerdict.NotConfirmed, ClaimVerdicts.All(ClaimVerdict.Confirmed, ClaimVerdict.NotConfirmed));
        Assert.Equal(ClaimVerdict.NotConfirmed, ClaimVerdicts.All(ClaimVerdict.Inconclusive, ClaimVerdict.NotConfirmed));
        Assert.Equal(ClaimVerdict.Inconclusive, ClaimVerdicts.All(ClaimVerdict.Confirmed, ClaimVerdict.Inconclusive));
        Assert.Equal(ClaimVerdict.Confirmed, ClaimVerdicts.All(ClaimVerdict.Confirmed, ClaimVerdict.Confirmed));
    }
}
