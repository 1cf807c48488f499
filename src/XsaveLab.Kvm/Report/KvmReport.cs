namespace XsaveLab.Kvm.Report;

/// <summary>A fpstate as the report shows it.</summary>
public sealed record FpstateView(int Size, ulong Features, string Describe);

/// <summary>Where a CET MSR's guest value lives.</summary>
public sealed record CetStateLocation(string Msr, string Location);

/// <summary>The render-independent result of the <c>kvm</c> command: steps with results, the guest's supported CPUID
/// 0xD, the XSAVE2 size, the guest fpstate next to the host task's, the CET state location and notes.</summary>
public sealed record KvmReport(
    string Cpu,
    string Kernel,
    string Kvm,
    string Flavour,
    string Vmm,
    IReadOnlyList<KvmStep> Steps,
    int Xsave2Size,
    IReadOnlyList<CpuidEntry> SupportedCpuid,
    FpstateView? GuestFpstate,
    FpstateView? GuestFpstateAtCreate,
    FpstateView HostFpstate,
    IReadOnlyList<CetStateLocation> CetState,
    IReadOnlyList<string> Notes)
{
    public bool Ok => Steps.All(s => !s.Failed);

    /// <summary>For a built-in pitfall sequence: what goes wrong, on which kernels, how it shows (null otherwise).</summary>
    public PitfallHeadline? Pitfall { get; init; }

    /// <summary>For a built-in pitfall sequence: what happened in this run (<see cref="PitfallOutcome"/>), else null.</summary>
    public string? Outcome { get; init; }

    /// <summary>The outcome of a pitfall run in one sentence: where it ran, then the symptoms the run showed (calls
    /// that returned an errno, guest instructions that faulted), that it showed none, or which expectations the model
    /// did not meet.</summary>
    public static string PitfallOutcome(KvmReport r)
    {
        string where = $"on {r.Cpu}, kernel {r.Kernel}, KVM {r.Kvm} ({r.Flavour})";
        if (!r.Ok)
            return $"Outcome {where}: not what the kernel is documented to give: {string.Join("; ", r.Steps.Where(s => s.Failed).Select(Failure))}.";
        var symptoms = r.Steps.SelectMany(Symptoms).ToArray();
        return symptoms.Length == 0
            ? $"Outcome {where}: the pitfall does not show (no call failed and no guest instruction faulted)."
            : $"Outcome {where}: the pitfall shows: {string.Join("; ", symptoms)}.";

        static IEnumerable<string> Symptoms(KvmStep s)
        {
            if (!s.Result.Ok)
                yield return $"line {s.Line} {$"{s.Ioctl} {s.Args}".TrimEnd()} returned {s.ResultText}";
            foreach (var g in s.Guest.Where(g => g.Fault.IsFault))
                yield return $"line {s.Line} guest {g.Op}: {g.Text}";
        }

        static string Failure(KvmStep s) =>
            s.Corruption is { } c ? $"line {s.Line} {s.Ioctl} left {c} in the wrong registers"
            : s.ExpectMet == false ? $"line {s.Line} {s.Ioctl} returned {s.ResultText}, expected {s.Expect}"
            : $"line {s.Line} guest {string.Join(", ", s.Guest.Where(g => g.ExpectationFailure is not null))}";
    }

    /// <summary>For a host kernel other than the landed one: what it changes in this run (null for the landed one).</summary>
    public VariantEffectOnCpu? Effect { get; init; }

    /// <summary>The results of two runs of one sequence that differ: each line's result, output and guest outcomes,
    /// the XSAVE2 size, KVM's supported CPUID 0xD, the guest and host fpstates and the kernel's warnings.</summary>
    public static IReadOnlyList<ObservedChange> Observe(KvmReport chosen, KvmReport landed)
    {
        var o = new List<ObservedChange>();
        // Steps pair by script line: a "when" line may run under one kernel and be skipped under the other.
        var theirs = landed.Steps.GroupBy(s => s.Line).ToDictionary(g => g.Key, g => g.First());
        var ours = chosen.Steps.Select(s => s.Line).ToHashSet();
        foreach (var a in chosen.Steps.GroupBy(s => s.Line).Select(g => g.First()))
        {
            string what = $"line {a.Line} {a.Ioctl} {a.Args}".TrimEnd();
            if (!theirs.TryGetValue(a.Line, out var b))
            {
                o.Add(new ObservedChange(VariantEffect.CallResults, what, "run", "skipped"));
                continue;
            }
            VariantEffectOnCpu.Compare(o, VariantEffect.CallResults, what, a.ResultText, b.ResultText);
            VariantEffectOnCpu.Compare(o, VariantEffect.CallResults, what + " (output)", a.OutputText ?? "none", b.OutputText ?? "none");
            VariantEffectOnCpu.Compare(o, VariantEffect.CallResults, what + " (guest)", string.Join("; ", a.Guest), string.Join("; ", b.Guest));
        }
        foreach (var b in landed.Steps.Where(s => !ours.Contains(s.Line)).GroupBy(s => s.Line).Select(g => g.First()))
            o.Add(new ObservedChange(VariantEffect.CallResults, $"line {b.Line} {b.Ioctl} {b.Args}".TrimEnd(), "skipped", "run"));
        VariantEffectOnCpu.CompareBytes(o, VariantEffect.GuestState, "KVM_CAP_XSAVE2", chosen.Xsave2Size, landed.Xsave2Size);
        VariantEffectOnCpu.CompareLines(o, VariantEffect.GuestState, "supported CPUID 0xd", [.. chosen.SupportedCpuid.Select(Leaf)], [.. landed.SupportedCpuid.Select(Leaf)]);
        Fpstate(o, VariantEffect.GuestState, "vCPU 0 fpstate at creation", chosen.GuestFpstateAtCreate, landed.GuestFpstateAtCreate);
        Fpstate(o, VariantEffect.GuestState, "vCPU 0 fpstate", chosen.GuestFpstate, landed.GuestFpstate);
        Fpstate(o, VariantEffect.HostState, "host task fpstate", chosen.HostFpstate, landed.HostFpstate);
        VariantEffectOnCpu.CompareLines(o, VariantEffect.Warnings, "kernel warning", [.. chosen.Notes.Where(IsWarn)], [.. landed.Notes.Where(IsWarn)]);
        return o;

        static string Leaf(CpuidEntry e) => $"0xd.{e.Index}: eax {Hex(e.Eax)} ebx {Hex(e.Ebx)} ecx {Hex(e.Ecx)} edx {Hex(e.Edx)}";
        static bool IsWarn(string note) => note.StartsWith(WarnPrefix, StringComparison.Ordinal);
        static void Fpstate(List<ObservedChange> o, VariantEffect kind, string what, FpstateView? a, FpstateView? b)
        {
            VariantEffectOnCpu.CompareBytes(o, kind, what, a?.Size ?? 0, b?.Size ?? 0);
            VariantEffectOnCpu.CompareMask(o, kind, what + " features", a?.Features ?? 0, b?.Features ?? 0);
        }
    }

    /// <summary>How a kernel warning is noted.</summary>
    private const string WarnPrefix = "kernel WARN: ";

    /// <summary>Runs <paramref name="script"/> and collects the report from the last VMM process.</summary>
    public static KvmReport Create(VmmScript script, KvmSettings settings, string vmmName)
    {
        var runner = VmmRunner.Run(script, settings);
        var sys = runner.System ?? new KvmSystem(runner.Settings);
        var host = sys.Host;
        var v = runner.FirstVcpu;
        var supported = runner.LastSupportedCpuid ?? sys.GetSupportedCpuid();
        var leafD = supported.Where(e => e.Function == 0xD).ToArray();
        FpstateView? guest = v?.Fpu.FpState is { } g ? new(g.Size, g.Xfeatures, XFeatureTable.Describe(g.Xfeatures)) : null;
        FpstateView? created = v is null ? null : new(v.InitialSize, v.InitialFeatures, XFeatureTable.Describe(v.InitialFeatures));
        var taskFps = sys.Task.Fpu.FpState;
        var hostView = new FpstateView(taskFps.Size, taskFps.Xfeatures, XFeatureTable.Describe(taskFps.Xfeatures));

        var notes = new List<string>(sys.Caps.Notes);
        if (v is not null)
            notes.AddRange(v.Notes);
        notes.AddRange(sys.Kernel.Warnings.Entries.Select(w => WarnPrefix + w));
        if (created is not null)
        {
            ulong extra = created.Features & ~hostView.Features;
            notes.Add($"at KVM_CREATE_VCPU the guest fpstate is {Numbers.Bytes(created.Size)} vs the host task's {Numbers.Int(hostView.Size)}: {created.Size - hostView.Size:+#;-#;0} bytes"
                + (extra != 0 ? $" for {XFeatureTable.Describe(extra)} (64-byte alignment of later components can absorb it)" : ""));
        }
        var cet = new List<CetStateLocation>();
        foreach (var m in new[] { Msr.IA32_U_CET, Msr.IA32_PL3_SSP, Msr.IA32_PL0_SSP, Msr.IA32_PL1_SSP, Msr.IA32_PL2_SSP, Msr.IA32_S_CET, Msr.IA32_INT_SSP_TAB })
        {
            string loc = KvmVcpu.Location(m, sys.Caps.Svm);
            bool inCetS = m is Msr.IA32_PL0_SSP or Msr.IA32_PL1_SSP or Msr.IA32_PL2_SSP;
            if (!sys.Caps.Shstk && !sys.Caps.Ibt)
            {
                string why = !sys.Caps.Release.HasCet() ? "KVM ≤6.17 has no guest supervisor state"
                    : !host.Variant.CetKernelSupported && settings.Cpu.Has(CpuFeature.Shstk)
                        ? $"kernel {host.Variant.Name} has no CET_KERNEL in host XSS or guest fpstates, so KVM drops CET; PL0-2_SSP would need manual switching"
                        : "no CET pair in KVM's supported XSS on this CPU/flavour";
                loc = $"not offered to guests ({why}); architecturally: {loc}";
            }
            else if (inCetS && guest is not null && (guest.Features & XFeatureMasks.CetKernel) == 0)
                loc = $"{loc} — not in this guest fpstate (kernel {host.Variant.Name}): would need manual switching";
            cet.Add(new CetStateLocation(MsrNames.Name(m), loc));
        }
        if (sys.Caps.Shstk)
            cet.Add(new CetStateLocation("SSP (current)", KvmVcpu.SspLocationOn(sys.Caps.Svm)));
        return new KvmReport(settings.Cpu.Name, runner.Settings.Kernel.Name, runner.Settings.Release.Name(), runner.Settings.Flavour.Name, vmmName,
            runner.Steps, sys.Caps.Xsave2Size(sys.GuestGroupPerm), leafD, guest, created, hostView, cet, notes);
    }

    private static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>The JSON form: at least <c>kernel</c>, <c>steps[{ioctl,result}]</c>, <c>xsave2Size</c>,
    /// <c>supportedCpuid[{leaf,subleaf,eax,ebx,ecx,edx}]</c>, <c>guestFpstate</c>, <c>hostFpstate</c>.</summary>
    public JsonObject ToJson()
    {
        var steps = new JsonArray();
        foreach (var s in Steps)
        {
            var o = new JsonObject
            {
                ["line"] = s.Line,
                ["ioctl"] = s.Ioctl,
                ["args"] = s.Args,
                ["result"] = s.ResultText,
                ["output"] = s.OutputText,
                ["detail"] = s.Text,
            };
            if (s.Corruption is not null)
                o["silentCorruption"] = s.Corruption;
            if (s.Guest.Count > 0)
                o["guest"] = new JsonArray(s.Guest.Select(g => (JsonNode)new JsonObject
                {
                    ["insn"] = g.Op,
                    ["outcome"] = g.Text,
                    ["fault"] = g.Fault.Kind.ToString(),
                    ["expectationFailed"] = g.ExpectationFailure,
                }).ToArray());
            if (s.Expect is not null)
            {
                o["expect"] = s.Expect;
                o["expectMet"] = s.ExpectMet;
            }
            steps.Add(o);
        }
        JsonNode? Fp(FpstateView? f) => f is null ? null : new JsonObject { ["size"] = f.Size, ["features"] = Hex(f.Features) };
        return new JsonObject
        {
            ["cpu"] = Cpu,
            ["kernel"] = Kernel,
            ["kvm"] = Kvm,
            ["flavour"] = Flavour,
            ["vmm"] = Vmm,
            ["ok"] = Ok,
            ["steps"] = steps,
            ["xsave2Size"] = Xsave2Size,
            ["supportedCpuid"] = new JsonArray(SupportedCpuid.Select(e => (JsonNode)new JsonObject
            {
                ["leaf"] = Hex(e.Function),
                ["subleaf"] = e.Index,
                ["eax"] = Hex(e.Eax),
                ["ebx"] = Hex(e.Ebx),
                ["ecx"] = Hex(e.Ecx),
                ["edx"] = Hex(e.Edx),
            }).ToArray()),
            ["guestFpstate"] = Fp(GuestFpstate),
            ["guestFpstateAtCreate"] = Fp(GuestFpstateAtCreate),
            ["hostFpstate"] = Fp(HostFpstate),
            ["cetState"] = new JsonArray(CetState.Select(c => (JsonNode)new JsonObject { ["msr"] = c.Msr, ["location"] = c.Location }).ToArray()),
            ["notes"] = new JsonArray(Notes.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray()),
        };
    }

    public string ToJsonString() => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
