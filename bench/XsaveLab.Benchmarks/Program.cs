using BenchmarkDotNet.Running;

namespace XsaveLab.Benchmarks;

public static class Program
{
    /// <summary><c>--quick</c>: the in-process runner behind <c>xsavelab bench</c>; otherwise BenchmarkDotNet
    /// (e.g. <c>dotnet run -c Release -- --filter '*'</c>).</summary>
    public static void Main(string[] args)
    {
        if (args is ["--quick"])
        {
            using var bench = new XsaveBench();
            var report = bench.Run();
            foreach (var r in report.Results)
                Console.WriteLine($"{r.Name,-48} {r.MedianNs,9:F1} ns  {r.AllocatedBytes,6:F1} B/op");
            Console.WriteLine($"model pair / copy round trip: {report.Ratios.ModelPairOverCopyRoundTrip:F2}; model pair / native pair: {report.Ratios.ModelPairOverNativePair:F2}");
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
