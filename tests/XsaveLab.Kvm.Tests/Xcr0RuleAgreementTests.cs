using XsaveLab.Arch.Catalog;
using XsaveLab.Arch.Machine;
using XsaveLab.Arch.Sanity;
using XsaveLab.Kvm.Vm;

namespace XsaveLab.Kvm.Tests;

/// <summary>The XCR0 combination rules are defined once (<see cref="Xcr0Rules"/>); the instruction model's XSETBV
/// and KVM's <c>__kvm_set_xcr()</c> must accept exactly the values those rules and the supported bits allow.</summary>
public class Xcr0RuleAgreementTests
{
    [Theory]
    [InlineData("spr")]
    [InlineData("zen4-genoa")]
    [InlineData("skx")]
    public void Xsetbv_and_kvm_agree_with_the_rules_for_every_value_over_the_supported_bits(string name)
    {
        var profile = CpuCatalog.Get(name);
        var cpu = new XsaveCpu(profile);
        ulong supported = profile.SupportedXcr0;
        // Every subset of the supported bits plus each single unsupported low bit: 2^k values with k <= 10 here.
        var bits = Enumerable.Range(0, 20).Where(b => (supported >> b & 1) != 0).ToArray();
        Assert.InRange(bits.Length, 2, 12);
        int checkedValues = 0;
        for (int m = 0; m < 1 << bits.Length; m++)
        {
            ulong x = 0;
            for (int i = 0; i < bits.Length; i++)
                if ((m >> i & 1) != 0)
                    x |= 1UL << bits[i];
            bool valid = Xcr0Rules.IsValid(x);
            Assert.Equal(valid, cpu.Xcr0Violation(x) is null);
            Assert.Equal(valid, XcrRules.Check(x, supported) is null);
            checkedValues++;
        }
        Assert.Equal(1 << bits.Length, checkedValues);
        foreach (int b in Enumerable.Range(0, 20).Where(b => (supported >> b & 1) == 0))
        {
            ulong x = XFeatureMasks.FpSse | 1UL << b;
            Assert.Equal(XsaveRules.Xcr0Unsupported, cpu.Xcr0Violation(x));
            Assert.NotNull(XcrRules.Check(x, supported));
        }
    }
}
