using XsaveLab.Sim.Explore;

namespace XsaveLab.Cli.Commands;

/// <summary><c>explore</c>: exhaustive bounded exploration of the kernel + KVM model (<see cref="StateExplorer"/>),
/// shortest traces to invariant violations, the first one written as a replayable <c>kvm --vmm</c> script.</summary>
public static class ExploreCommand
{
    /// <summary>The command's inputs.</summary>
    private sealed class Inputs
    {
        public CpuSourceOptions Cpu { get; } = new();
        public Option<string> Kernel { get; } = KernelOption.Create("Kernel variant or variant FILE");
        public Option<string> Kvm { get; } = KvmCommand.KvmOption();
        public Option<int> Depth { get; } = IntOption.Create("--depth", "Longest trace explored, in actions", 4, 0, ExploreOptions.MaxDepth);
        public Option<int> Tasks { get; } = IntOption.Create("--tasks", "Tasks including the VMM thread", 2, 1, 4);
        public Option<int> Vcpus { get; } = IntOption.Create("--vcpus", "vCPUs of the VM", 2, 0, 4);
        public Option<string> Output { get; } = new("-o", "--output") { Description = "Write the first violation's trace as a kvm --vmm script to FILE", HelpName = "FILE" };
        public Option<bool> NoTiming { get; } = new("--no-timing") { Description = "Leave out the time and states per second (the same input then gives the same output)" };
        public Option<string> Format { get; } = FormatOption.Create();

        public void AddTo(Command c)
        {
            Cpu.AddTo(c);
            c.Add(Kernel); c.Add(Kvm); c.Add(Depth); c.Add(Tasks); c.Add(Vcpus); c.Add(Output); c.Add(NoTiming); c.Add(Format);
        }

        /// <summary>The exploration asked for. Without a CPU option the catalog default (AMX, XFD and CET) is used,
        /// not this machine: the explorer reviews a design on the model.</summary>
        public ExploreOptions Resolve(ParseResult parse)
        {
            bool given = parse.GetResult(Cpu.Cpu) is { Implicit: false } || parse.GetResult(Cpu.CpuidFile) is { Implicit: false } || parse.GetResult(Cpu.Host) is { Implicit: false };
            var cpu = given ? Cpu.Resolve(parse).Profile
                : Cpu.Hidden(parse, new CpuSelection(CpuCatalog.Default, $"built-in CPU '{CpuCatalog.Default.Name}'", false)).Profile;
            if (KvmLimits.Problem(cpu) is { } problem)
                throw new UserErrorException($"CPU '{SafeText.Excerpt(cpu.Name)}': {problem}");
            var settings = KvmSettings.For(cpu, KernelOption.Get(parse, Kernel), KvmCommand.Release(parse, Kvm));
            return new ExploreOptions(settings, parse.GetValue(Depth), parse.GetValue(Tasks), parse.GetValue(Vcpus));
        }
    }

    public static Command Create(CliContext ctx)
    {
        var inputs = new Inputs();
        var cmd = new Command("explore", "Exhaustive bounded exploration of the kernel + KVM model: every state to a depth, invariants checked in each, shortest traces to violations");
        inputs.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            string? path = parse.GetValue(inputs.Output);
            OutputFile.Check("--output", path); // before the exploration, not after
            var result = new StateExplorer(inputs.Resolve(parse)).Run();
            if (path is not null && result.Violations.Count > 0)
                OutputFile.WriteText("--output", path, result.Violations[0].Script);
            var renderer = new ExploreRenderer(!parse.GetValue(inputs.NoTiming), result.Violations.Count > 0 ? path : null);
            return ctx.Render(FormatOption.Get(parse, inputs.Format), result, renderer);
        });
        return cmd;
    }
}
