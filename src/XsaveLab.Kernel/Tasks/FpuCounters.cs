namespace XsaveLab.Kernel.Tasks;

/// <summary>What the FPU core did, for measurements. Byte counts are what each save wrote and each restore read,
/// as <see cref="FpuSwitchPolicy"/> counts them (components the instruction skipped are not counted; a save
/// writes XSTATE_BV and in compacted form XCOMP_BV, a restore reads the whole header). Footprint counts are
/// buffer sizes.</summary>
public sealed class FpuCounters
{
    public long ContextSwitches { get; internal set; }
    public long Saves { get; internal set; }
    public long Restores { get; internal set; }
    public long SavedBytes { get; internal set; }
    public long RestoredBytes { get; internal set; }

    /// <summary>Sum of fpstate.size over all saves (the buffer each save targets).</summary>
    public long SaveFootprintBytes { get; internal set; }

    /// <summary>Restores skipped because the registers were still valid (owner and last_cpu matched).</summary>
    public long RestoresAvoided { get; internal set; }

    public long XfdWrites { get; internal set; }
    public long PkruWrites { get; internal set; }
    public long XfdFaults { get; internal set; }
    public long Reallocations { get; internal set; }
    public long VallocBytes { get; internal set; }
    public long VfreeBytes { get; internal set; }

    /// <summary>vmalloc bytes whose last pointer was dropped without vfree() (exec with a grown fpstate); they
    /// stay allocated for the life of the machine.</summary>
    public long LeakedBytes { get; internal set; }

    internal FpuCounters Clone() => (FpuCounters)MemberwiseClone();

    public void Reset()
    {
        ContextSwitches = Saves = Restores = SavedBytes = RestoredBytes = SaveFootprintBytes = RestoresAvoided = 0;
        XfdWrites = PkruWrites = XfdFaults = Reallocations = VallocBytes = VfreeBytes = LeakedBytes = 0;
    }
}
