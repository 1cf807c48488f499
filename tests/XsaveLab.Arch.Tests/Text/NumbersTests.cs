using XsaveLab.Arch.Text;

namespace XsaveLab.Arch.Tests.Text;

/// <summary>The one number style: integers grouped from 10,000, KiB/MiB from 10 KiB with three significant digits
/// below 100 and whole units above, grouped like any other figure.</summary>
public class NumbersTests
{
    [Theory]
    [InlineData(832L, "832 bytes")]
    [InlineData(10_239L, "10,239 bytes")]
    [InlineData(11_008L, "11,008 bytes (10.8 KiB)")]
    [InlineData(2_600_960L, "2,600,960 bytes (2.48 MiB)")]
    [InlineData(5_368_709_120L, "5,368,709,120 bytes (5120 MiB)")]
    [InlineData(16_384_000_000L, "16,384,000,000 bytes (15,625 MiB)")]
    public void Bytes_follow_the_number_style(long v, string expected) => Assert.Equal(expected, Numbers.Bytes(v));

    [Fact]
    public void Binary_figures_above_ten_thousand_units_are_grouped()
    {
        for (long mib = 9_990; mib <= 10_010; mib++)
        {
            string b = Numbers.Binary(mib * 1024 * 1024)!;
            Assert.Equal(Numbers.Int(mib) + " MiB", b);
        }
    }
}
