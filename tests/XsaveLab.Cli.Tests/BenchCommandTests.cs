namespace XsaveLab.Cli.Tests;

/// <summary>The shape of <c>bench</c> output (the figures themselves are the BenchmarkDotNet project's business).</summary>
public class BenchCommandTests
{
    [SkippableFact]
    public void BenchJson_HasTheAgreedKeys_ForTheHostState()
    {
        Skip.IfNot(HostCpu.TryRead(out var host, out var why), why);
        Skip.IfNot(host!.HasXsavec, "the host has no XSAVEC");
        var r = CliRunner.Run("bench", "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var j = JsonDocument.Parse(r.Out).RootElement;
        Assert.False(string.IsNullOrEmpty(j.GetProperty("cpu").GetString()));
        ulong xcr0 = Convert.ToUInt64(j.GetProperty("xcr0").GetString(), 16);
        Assert.Equal(XStateGeometry.Size(host, xcr0, compacted: true), j.GetProperty("stateBytes").GetInt32());
        var names = j.GetProperty("results").EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToList();
        Assert.Contains("model XSAVEC+XRSTOR", names);
        Assert.Contains(names, n => n.StartsWith("model XSAVES", StringComparison.Ordinal));
        Assert.Contains(names, n => n.Contains("CopyTo", StringComparison.Ordinal));
        foreach (var e in j.GetProperty("results").EnumerateArray())
        {
            Assert.True(e.GetProperty("medianNs").GetDouble() > 0);
            Assert.True(e.GetProperty("allocatedBytes").GetDouble() >= 0);
        }
        var ratios = j.GetProperty("ratios");
        Assert.True(ratios.GetProperty("modelPairOverCopyRoundTrip").GetDouble() > 0);
        if (NativeXsave.IsSupported)
            Assert.True(ratios.GetProperty("modelPairOverNativePair").GetDouble() > 0);
        else
            Assert.Equal(JsonValueKind.Null, ratios.GetProperty("modelPairOverNativePair").ValueKind);
    }

    [SkippableFact]
    public void BenchText_ShowsEveryOperationAndBothRatios()
    {
        Skip.IfNot(HostCpu.TryRead(out var host, out var why), why);
        Skip.IfNot(host!.HasXsavec, "the host has no XSAVEC");
        var r = CliRunner.Run("bench");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("model XSAVEC+XRSTOR", r.Out);
        Assert.Contains("/ copy round trip:", r.Out);
    }
}
