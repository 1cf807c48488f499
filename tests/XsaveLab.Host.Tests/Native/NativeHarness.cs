namespace XsaveLab.Host.Tests.Native;

/// <summary>Opens the native harness for a test, skipping the test where it cannot run.</summary>
internal static class NativeHarness
{
    /// <summary>The save instructions the harness runs: XSAVE, XSAVEC and XSAVEOPT.</summary>
    public static TheoryData<SaveInstruction> SaveInstructions =>
        new() { SaveInstruction.Xsave, SaveInstruction.Xsavec, SaveInstruction.Xsaveopt };

    /// <summary>A harness for this processor; skips the test when native XSAVE code cannot run here.</summary>
    public static NativeXsave Open(bool captureExitState = false)
    {
        Skip.IfNot(NativeXsave.IsSupported, NativeXsave.UnsupportedReason);
        return new NativeXsave { CaptureExitState = captureExitState };
    }

    /// <summary>A harness whose processor enumerates <paramref name="kind"/>; skips the test otherwise.</summary>
    public static NativeXsave Open(SaveInstruction kind) =>
        Open(h => h.Supports(kind), $"{kind} is not enumerated");

    /// <summary>A harness meeting <paramref name="requirement"/>; skips the test with <paramref name="missing"/> otherwise.</summary>
    public static NativeXsave Open(Func<NativeXsave, bool> requirement, string missing)
    {
        var x = Open();
        try
        {
            Skip.IfNot(requirement(x), missing);
            return x;
        }
        catch
        {
            x.Dispose();
            throw;
        }
    }
}
