using Spectre.Console;
namespace XsaveLab.Cli.Rendering;

/// <summary><c>bench</c>: median times of the model, a memory copy and the native instructions.</summary>
public sealed class BenchRenderer : IRenderer<BenchReport>
{
    public object ToJson(BenchReport report) => report;

    public void RenderText(IAnsiConsole console, BenchReport report)
    {
        if (!report.Optimized)
            console.WriteLine("warning: built without optimization (Debug); run with -c Release for figures that mean something");
        console.WriteLine($"{report.Cpu}: XCR0 {report.Xcr0}, IA32_XSS {report.Xss}, full user state {Numbers.Bytes(report.StateBytes)} (compacted)");
        var t = new TextTable("operation", "median ns", "allocated B/op").AlignRight(1, 2);
        foreach (var r in report.Results)
            t.AddRow(r.Name, Numbers.Real(r.MedianNs, 1), Numbers.Real(r.AllocatedBytes, 1));
        t.Write(console);
        console.WriteLine($"model XSAVEC+XRSTOR / copy round trip: {report.Ratios.ModelPairOverCopyRoundTrip:F2}");
        console.WriteLine(report.Ratios.ModelPairOverNativePair is { } n
            ? $"model XSAVEC+XRSTOR / native pair: {n:F2}"
            : $"native pair not measured: {report.NativeSkipped}");
    }
}
