using BenchmarkDotNet.Attributes;

namespace XsaveLab.Benchmarks;

/// <summary>The model's save/restore pairs on the host profile's full user state against a plain copy of the
/// same bytes there and back and against the processor's own XSAVEC64+XRSTOR64 (looped in one native call).</summary>
[MemoryDiagnoser]
public class XsaveBenchmarks
{
    private const ulong Address = 0x7F00_0000_0000;
    private const int NativePairsPerInvoke = 1000;

    private XsaveBench _bench = null!;
    private XsaveCpu _c = null!, _s = null!, _o = null!;
    private byte[] _areaC = [], _areaS = [], _areaO = [], _copyA = [], _copyB = [];

    [GlobalSetup]
    public void Setup()
    {
        _bench = new XsaveBench();
        _c = _bench.NewModel(false);
        _s = _bench.NewModel(true);
        _o = _bench.NewModel(false);
        _areaC = _bench.NewArea();
        _areaS = _bench.NewArea();
        _areaO = _bench.NewArea();
        _o.Xsave(_areaO, Address, ~0UL);
        _copyA = new byte[_bench.StateBytes];
        _copyB = new byte[_bench.StateBytes];
        new Random(1).NextBytes(_copyA);
    }

    [GlobalCleanup]
    public void Cleanup() => _bench.Dispose();

    [Benchmark(Description = XsaveBench.ModelXsavecPair)]
    public void ModelXsavecXrstor()
    {
        _c.Xsavec(_areaC, Address, ~0UL);
        _c.Xrstor(_areaC, Address, ~0UL);
    }

    [Benchmark(Description = XsaveBench.ModelXsavesPair)]
    public void ModelXsavesXrstors()
    {
        _s.Xsaves(_areaS, Address, ~0UL);
        _s.Xrstors(_areaS, Address, ~0UL);
    }

    [Benchmark(Description = XsaveBench.ModelXsaveoptPair)]
    public void ModelXsaveoptXrstor()
    {
        _o.Xrstor(_areaO, Address, ~0UL);
        _o.Xsaveopt(_areaO, Address, ~0UL);
    }

    [Benchmark(Baseline = true, Description = XsaveBench.CopyRoundTrip)]
    public void CopyRoundTrip()
    {
        _copyA.AsSpan().CopyTo(_copyB);
        _copyB.AsSpan().CopyTo(_copyA);
    }

    [Benchmark(OperationsPerInvoke = NativePairsPerInvoke, Description = XsaveBench.NativeXsavecPair)]
    public void NativeXsavecXrstor()
    {
        if (_bench.NativeAvailable)
            _bench.RunNativePairs(NativePairsPerInvoke);
    }
}
