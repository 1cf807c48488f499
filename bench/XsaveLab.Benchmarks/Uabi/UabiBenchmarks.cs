using BenchmarkDotNet.Attributes;

namespace XsaveLab.Benchmarks.Uabi;

/// <summary>The UABI conversions on their hot path (ptrace GET/SET, KVM_GET/SET_XSAVE): kernel buffer ↔
/// standard image, and a signal frame round trip. They must not allocate beyond the caller's buffers.</summary>
[MemoryDiagnoser]
public class UabiBenchmarks
{
    private UabiConfig _cfg = null!;
    private UabiTask _task = null!;
    private byte[] _image = null!;
    private byte[] _frame = null!;

    [Params("spr", "zen4-genoa")]
    public string Cpu { get; set; } = "spr";

    [GlobalSetup]
    public void Setup()
    {
        _cfg = UabiConfig.FromSystem(FpuSystem.Boot(CpuCatalog.Get(Cpu)));
        _task = UabiRandom.Task(_cfg, new Random(1), _cfg.UserDefaultFeatures);
        _image = new byte[_cfg.UserMaxSize];
        XstateUabi.CopyXstateToUabiBuf(_cfg, _task, XstateCopyMode.Xsave, _image);
        _frame = new byte[_task.Fpstate.UserSize + 4];
    }

    [Benchmark]
    public void CopyXstateToUabiBuf() => XstateUabi.CopyXstateToUabiBuf(_cfg, _task, XstateCopyMode.Xsave, _image);

    [Benchmark]
    public bool CopyUabiToXstate()
    {
        uint pkru = _task.Pkru;
        return XstateUabi.CopyUabiToXstate(_cfg, _task.Fpstate, _image, ref pkru, updatePkru: true).Ok;
    }

    [Benchmark]
    public void CopyFpstateToSigframe() => Sigframes.CopyFpstateToSigframe(_cfg, _task, _frame);
}
