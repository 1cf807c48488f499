namespace XsaveLab.Cli.Tests;

public class CompatCommandTests
{
    [Fact]
    public void Json_names_the_verdicts_and_the_rows()
    {
        var r = CliRunner.Run("compat", "icx", "zen4-genoa", "--format", "json");
        Assert.True(r.ExitCode == 1, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        Assert.Equal("icx", root.GetProperty("from").GetString());
        Assert.Equal("incompatible", root.GetProperty("verdicts").GetProperty("kvmSnapshot").GetString());
        Assert.Equal("compatible", root.GetProperty("verdicts").GetProperty("namedRegisters").GetString());
        var differing = root.GetProperty("components").EnumerateArray().Where(c => c.GetProperty("differs").GetBoolean())
            .Select(c => c.GetProperty("nr").GetInt32()).ToArray();
        Assert.Equal([5, 6, 7, 9], differing);
        var opmask = root.GetProperty("components").EnumerateArray().Single(c => c.GetProperty("nr").GetInt32() == 5);
        Assert.Equal(1088, opmask.GetProperty("from").GetProperty("offset").GetInt32());
        Assert.Equal(832, opmask.GetProperty("to").GetProperty("offset").GetInt32());
        Assert.StartsWith("0x", root.GetProperty("common").GetProperty("xcr0").GetString());
    }

    [Fact]
    public void Compatible_pair_exits_0_and_a_dump_file_is_a_cpu()
    {
        var r = CliRunner.Run("compat", "spr", Path.Combine(RepoPaths.Root, "src/XsaveLab.Arch/Profiles/emr.cpuid"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("kvmSnapshot     compatible", r.Out);
    }

    [Fact]
    public void Common_prints_a_template_the_reader_takes_back()
    {
        var r = CliRunner.Run("compat", "--common", "spr", "zen4-genoa", "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var cpuid = doc.RootElement.GetProperty("cpuid").GetString()!;
        var back = CpuidTextReader.Parse(cpuid, "template");
        Assert.Equal($"0x{back.SupportedXcr0:x}", doc.RootElement.GetProperty("xcr0").GetString());
        Assert.StartsWith("KVM_SET_CPUID2 expose=", doc.RootElement.GetProperty("vmmLine").GetString());
    }

    [Fact]
    public void Hide_applies_to_both_cpus_and_the_rows_follow_the_hidden_cpuid()
    {
        var r = CliRunner.Run("compat", "icx", "zen4-genoa", "--hide", "avx512f", "--format", "json");
        Assert.True(r.ExitCode is 0 or 1, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var rows = doc.RootElement.GetProperty("components").EnumerateArray().ToArray();
        // The expectation from the two hidden CPUIDs: a component both enumerate differs when its standard
        // offset (0xD.i EBX) or size (0xD.i EAX) differs.
        var from = CpuidMasking.Hide(CpuCatalog.Get("icx"), ["avx512f"]);
        var to = CpuidMasking.Hide(CpuCatalog.Get("zen4-genoa"), ["avx512f"]);
        ulong both = (from.SupportedXcr0 | from.SupportedXss) & (to.SupportedXcr0 | to.SupportedXss);
        int[] expected = [.. Enumerable.Range(2, 62).Where(i => (both >> i & 1) != 0
            && (from.Leaf(0xD, (uint)i).Ebx != to.Leaf(0xD, (uint)i).Ebx || from.Leaf(0xD, (uint)i).Eax != to.Leaf(0xD, (uint)i).Eax))];
        Assert.Equal(expected, rows.Where(c => c.GetProperty("differs").GetBoolean()).Select(c => c.GetProperty("nr").GetInt32()));
        Assert.DoesNotContain(rows, c => c.GetProperty("nr").GetInt32() is 5 or 6 or 7);
        Assert.Equal(expected.Length == 0 ? "compatible" : "incompatible",
            doc.RootElement.GetProperty("verdicts").GetProperty("kvmSnapshot").GetString());
        // Without --hide the AVX-512 components are rows, and they differ.
        using var plain = JsonDocument.Parse(CliRunner.Run("compat", "icx", "zen4-genoa", "--format", "json").Out);
        Assert.Contains(plain.RootElement.GetProperty("components").EnumerateArray(), c => c.GetProperty("nr").GetInt32() == 5 && c.GetProperty("differs").GetBoolean());
    }

    [Fact]
    public void Hide_with_an_unknown_feature_is_bad_input() =>
        CliRunner.OneError(CliRunner.Run("compat", "spr", "emr", "--hide", "nosuchfeature"));

    [Theory]
    [InlineData("compat", "spr")]
    [InlineData("compat", "spr", "emr", "icx")]
    [InlineData("compat", "spr", "no-such-cpu-or-file")]
    [InlineData("compat", "spr", "nehalem")]
    public void Wrong_cpus_are_bad_input(params string[] args) => CliRunner.OneError(CliRunner.Run(args));
}
