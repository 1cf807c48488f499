namespace XsaveLab.Sim.Cost;

/// <summary>Something that can time user-mode XSAVE-family instructions for given component mixes
/// (the native stubs on this machine; a synthetic source in tests).</summary>
public interface IXsaveTimer
{
    string Machine { get; }
    string CpuSignature { get; }
    ulong Xcr0 { get; }

    /// <summary>Component sizes of this machine.</summary>
    ComponentBytes Bytes { get; }

    bool Supports(SaveInstruction instr);

    /// <summary>ns per save of <paramref name="instr"/> with RFBM <paramref name="rfbm"/> while exactly
    /// <paramref name="inUse"/> (⊆ rfbm) is out of its initial configuration.</summary>
    double SaveNs(SaveInstruction instr, ulong rfbm, ulong inUse);

    /// <summary>ns per XRSTOR (standard form) of an image with XSTATE_BV = <paramref name="inUse"/>.</summary>
    double RestoreNs(ulong rfbm, ulong inUse);

    /// <summary>ns per save + XRSTOR pair on one buffer.</summary>
    double PairNs(SaveInstruction instr, ulong rfbm, ulong inUse);
}
