using System.Text.RegularExpressions;
using XsaveLab.Tests;

namespace XsaveLab.Kernel.Tests.Variants;

/// <summary>Kernel designs as files: a file sets switches on a named parent; everything else is the parent's; a bad
/// file is one error naming the file and the field.</summary>
public partial class KernelVariantFileTests
{
    private const string Full = """
        {
          "name": "my-design",
          "parent": "6.17",
          "summary": "6.17 with guest fpstates sized from the host defaults",
          "cetKernelSupported": true,
          "cetKernelName": "Control-flow Kernel registers (KVM only)",
          "guestSupervisorMask": "0x1000",
          "hostDefaultsExcludeGuestSupervisor": true,
          "guestState": "kernelDefaults",
          "guestPerm": "guestDefaults",
          "statePermPreservesNonUser": true,
          "fpuGuestHasPerm": false,
          "deferredGuestSupervisor": false,
          "warnGuestOnlyInHostSave": false
        }
        """;

    [Fact]
    public void A_file_changes_only_the_switches_it_sets()
    {
        var v = KernelVariantFile.Parse("""{ "name": "no-509e880b", "parent": "6.17", "guestState": "kernelDefaults" }""", "d.json");
        var parent = KernelVariants.V6_17;
        Assert.Equal("no-509e880b", v.Name);
        Assert.Equal(GuestStateSource.KernelDefaults, v.GuestState);
        Assert.Equal(parent with { Name = v.Name, Summary = v.Summary, GuestState = v.GuestState, Differences = v.Differences, Neighbour = new("6.17", "the parent the file changes") }, v);
        Assert.Equal(parent.Differences.Count + 1, v.Differences.Count);
        Assert.Contains(v.Differences, d => d.Aspect == "guestState" && d.Source.Contains("d.json", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_field_of_the_format_is_read()
    {
        var v = KernelVariantFile.Parse(Full, "full.json");
        Assert.Equal(GuestStateSource.KernelDefaults, v.GuestState);
        Assert.Equal(XFeatureMasks.CetKernel, v.GuestSupervisorMask);
        Assert.Equal(KernelVariantFile.Fields.Count, Regex.Matches(Full, "\"[a-zA-Z]+\":").Count);
        // A booted file variant behaves as the switches say: the guest fpstate has no CET_KERNEL slot.
        var sys = FpuSystem.Boot(TestEnv.CatalogCpu("spr"), v);
        var k = new LinuxKernel(sys, 1);
        var t = k.SpawnProcess("vmm");
        k.Schedule(0, t);
        Assert.Equal(0UL, k.FpuAllocGuestFpstate(t).FpState!.Xfeatures & XFeatureMasks.CetKernel);
    }

    [Theory]
    [InlineData("[]", null, "one JSON object")]
    [InlineData("{", null, "not JSON at line 1")]
    [InlineData("""{ "parent": "6.17" }""", "name", "missing")]
    [InlineData("""{ "name": "x" }""", "parent", "missing")]
    [InlineData("""{ "name": "6.17", "parent": "6.17" }""", "name", "built-in")]
    [InlineData("""{ "name": "x", "parent": "7.0" }""", "parent", "unknown variant")]
    [InlineData("""{ "name": "x", "parent": "6.17", "guestPerm": "copy" }""", "guestPerm", "\"copyOfPerm\"")]
    [InlineData("""{ "name": "x", "parent": "6.17", "fpuGuestHasPerm": 1 }""", "fpuGuestHasPerm", "true or false")]
    [InlineData("""{ "name": "x", "parent": "6.17", "guestSupervisorMask": "0x800" }""", "guestSupervisorMask", "not within")]
    [InlineData("""{ "name": "x", "parent": "6.16", "guestSupervisorMask": 4096 }""", "guestSupervisorMask", "not within")]
    [InlineData("""{ "name": "x", "parent": "6.17", "guestSupervisorMask": "12" }""", "guestSupervisorMask", "hex string")]
    [InlineData("""{ "name": "x", "parent": "6.17", "bogus": 1 }""", "'bogus'", "unknown")]
    [InlineData("""{ "name": "x", "parent": "6.17", "summary": 5 }""", "summary", "a string")]
    [InlineData("""{ "name": "x", "name": "y", "parent": "6.17" }""", "name", "given twice")]
    public void Errors_name_the_file_and_the_field(string text, string? field, string problem)
    {
        var e = Assert.Throws<KernelVariantFileException>(() => KernelVariantFile.Parse(text, "bad.json"));
        Assert.StartsWith(field is null ? "bad.json: " : $"bad.json: field {field}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_missing_file_is_an_error_naming_it()
    {
        var e = Assert.Throws<KernelVariantFileException>(() => KernelVariantFile.Read("/nonexistent/design.json"));
        Assert.StartsWith("/nonexistent/design.json: ", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Seeded mutations of a full file: a variant, or one <c>FILE: …</c> line; nothing else.</summary>
    [Fact]
    public void Mutated_files_parse_to_a_variant_or_one_error_line()
    {
        int ok = 0, rejected = 0;
        Fuzz.Run("kernel variant file", Fuzz.Seed(0x7A41), Fuzz.Iterations(2000), rng => Fuzz.MutateLines(rng, Full), text =>
        {
            try
            {
                var v = KernelVariantFile.Parse(text, "fuzz.json");
                FpuSystem.Boot(TestEnv.CatalogCpu("spr"), v);
                ok++;
            }
            catch (KernelVariantFileException e)
            {
                if (!e.Message.StartsWith("fuzz.json: ", StringComparison.Ordinal) || e.Message.Contains('\n', StringComparison.Ordinal) || e.Message.Length > 2000)
                    throw new InvalidOperationException($"bad error line: {e.Message}");
                rejected++;
            }
        });
        Assert.True(ok > 0 && rejected > 0, $"{ok} accepted, {rejected} rejected: the mutations should reach both paths");
    }
}
