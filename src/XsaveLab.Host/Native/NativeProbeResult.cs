namespace XsaveLab.Host.Native;

/// <summary>XGETBV(1) (= XCR0 AND XINUSE) read inside one native probe call at four points. All zero when
/// the processor does not enumerate XGETBV1 (CPUID(0xD,1).EAX[2]), since XGETBV with ECX=1 would #GP.</summary>
/// <param name="Xgetbv1AtEntry">Before anything: the runtime's own in-use state.</param>
/// <param name="Xgetbv1AfterRestore">Right after the XRSTOR of the test image.</param>
/// <param name="Xgetbv1SecondStep">After the second XRSTOR (<see cref="NativeXsave.ProbeRoundTrip"/>) or after the
/// second XSAVEOPT (<see cref="NativeXsave.ProbeXsaveoptTwice"/>); zero for other probes.</param>
/// <param name="Xgetbv1AtExit">After the runtime's state was put back; equals <paramref name="Xgetbv1AtEntry"/>
/// when the restore reproduced the in-use state.</param>
public readonly record struct NativeProbeResult(
    ulong Xgetbv1AtEntry,
    ulong Xgetbv1AfterRestore,
    ulong Xgetbv1SecondStep,
    ulong Xgetbv1AtExit);
