namespace XsaveLab.Cli.Commands;

/// <summary><c>experiment cet-s</c>: the series' context-switch experiment on the model
/// (<see cref="CetSRunner"/>, <see cref="CetSExperiment"/>).</summary>
public static class ExperimentCommand
{
    public static Command Create(CliContext ctx)
    {
        var cmd = new Command("experiment", "Reproduce and predict experiments from the CET supervisor state series");
        cmd.Add(CetS(ctx));
        return cmd;
    }

    /// <summary>The experiment's inputs.</summary>
    public sealed class Inputs
    {
        public Option<int> Tasks { get; } = new("--tasks") { Description = "Non-vCPU threads for the memory figure", DefaultValueFactory = _ => 1000, HelpName = "N" };
        public Option<int> Vcpus { get; } = new("--vcpus") { Description = "vCPUs for the memory figure", DefaultValueFactory = _ => 8, HelpName = "M" };
        public Option<string> CostModel { get; } = new("--cost-model") { Description = "Cost-model parameters (JSON written by 'xsavelab calibrate'); default: the shipped reference model", HelpName = "FILE" };
        public Option<bool> Calibrate { get; } = new("--calibrate") { Description = "Fit the cost model on this machine now instead of using the shipped one (answers then vary with the machine and its load)" };
        public Option<bool> NoMeasure { get; } = new("--no-measure") { Description = "Skip the real ping-pong measurement on this machine (nothing is timed: the same input gives the same output)" };
        public Option<int> Runs { get; } = new("--runs") { Description = "Measured runs of the real ping-pong", DefaultValueFactory = _ => 5, HelpName = "N" };
        public Option<bool> NoModifiedOptimization { get; } = new("--no-modified-optimization") { Description = "Model a processor that writes every in-use component on every save" };
        public Option<string> Btf { get; } = new("--btf") { Description = "Struct sizes for the task_struct slab figures from a kernel's BTF (default with --host: /sys/kernel/btf/vmlinux)", HelpName = "FILE" };
        public Option<int?> TaskStructSize { get; } = new("--task-struct-size") { Description = "sizeof(struct task_struct) of a kernel build, for the task_struct slab figures", HelpName = "BYTES" };
        public Option<int?> FpuStructSize { get; } = new("--fpu-struct-size") { Description = "sizeof(struct fpu) of a 6.16+ build, where struct fpu follows the task_struct (omit for older builds: it is inside task_struct)", HelpName = "BYTES" };
        public Option<string> Design { get; } = KernelOption.CreateOptional("A further design shown beside the series' cases");

        public void AddTo(Command c)
        {
            c.Add(Tasks); c.Add(Vcpus); c.Add(CostModel); c.Add(Calibrate); c.Add(NoMeasure); c.Add(Runs); c.Add(NoModifiedOptimization);
            c.Add(Btf); c.Add(TaskStructSize); c.Add(FpuStructSize); c.Add(Design);
        }

        /// <summary>The struct sizes given on the command line or read from --btf; null when neither was given.</summary>
        private Kernel.Memory.TaskStructSizes? StructSizes(ParseResult parse)
        {
            string? btf = parse.GetValue(Btf);
            int? task = parse.GetValue(TaskStructSize), fpu = parse.GetValue(FpuStructSize);
            if (fpu is not null && task is null)
                throw new UserErrorException("--fpu-struct-size: give --task-struct-size as well");
            if (btf is not null && task is not null)
                throw new UserErrorException("--btf: contradicts --task-struct-size (use one source of struct sizes)");
            if (btf is not null)
            {
                try
                {
                    return Host.Memory.TaskStructBtf.Read(btf);
                }
                catch (Host.Memory.BtfFormatException e)
                {
                    throw new UserErrorException($"--btf: {e.Message}");
                }
            }
            if (task is null)
                return null;
            if (Kernel.Memory.TaskStructSizes.Problem(task.Value, fpu) is { } why)
                throw new UserErrorException($"{(why.Fpu ? "--fpu-struct-size" : "--task-struct-size")}: {why.Text}");
            return Kernel.Memory.TaskStructSizes.Given(task.Value, fpu, fpu is null ? "--task-struct-size (struct fpu inside task_struct)" : "--task-struct-size, --fpu-struct-size");
        }

        /// <summary>Options, checked: ranges, and no option that this run would ignore.</summary>
        public CetSRunOptions Resolve(ParseResult parse, CpuSelection cpu)
        {
            int tasks = parse.GetValue(Tasks), vcpus = parse.GetValue(Vcpus), runs = parse.GetValue(Runs);
            if (tasks is < 0 or > 10_000_000)
                throw new UserErrorException($"--tasks: {tasks} is outside 0..10000000");
            if (vcpus is < 0 or > 1_000_000)
                throw new UserErrorException($"--vcpus: {vcpus} is outside 0..1000000");
            if (runs is < 1 or > 1000)
                throw new UserErrorException($"--runs: {runs} is outside 1..1000");
            bool measure = !parse.GetValue(NoMeasure), calibrate = parse.GetValue(Calibrate);
            if (parse.GetResult(Runs) is { Implicit: false } && !measure)
                throw new UserErrorException("--runs: contradicts --no-measure (nothing is measured)");
            if (parse.GetResult(Runs) is { Implicit: false } && !cpu.IsHost)
                throw new UserErrorException($"--runs: nothing is measured for {cpu.Profile.Name}, which is not this machine's CPU (use --host)");
            var file = parse.GetValue(CostModel);
            if (file is not null && calibrate)
                throw new UserErrorException("--calibrate: contradicts --cost-model (use one cost model)");
            return new CetSRunOptions
            {
                Tasks = tasks,
                Vcpus = vcpus,
                CostModelFile = file,
                Calibrate = calibrate,
                Measure = measure,
                MeasureRuns = runs,
                ModifiedOptimization = !parse.GetValue(NoModifiedOptimization),
                StructSizes = StructSizes(parse),
                Design = KernelOption.GetOptional(parse, Design),
            };
        }
    }

    /// <summary>Runs the experiment with a progress bar on a terminal; cost-model file errors become exit code 2.</summary>
    public static CetSResult RunExperiment(CliContext ctx, CpuSelection cpu, CetSRunOptions options)
    {
        try
        {
            return SimProgress.Run(ctx, "CET-S experiment", p => CetSRunner.Run(cpu.Profile, cpu.IsHost, options, p));
        }
        catch (CostModelFormatException e)
        {
            throw new UserErrorException(e.Message);
        }
    }

    /// <summary>Writes the HTML page (<see cref="HtmlReport.Render"/>) through <see cref="OutputFile"/>; a bad path is a
    /// user error naming it.</summary>
    public static void WriteHtml(CetSResult r, string path) => OutputFile.WriteText("--html", path, HtmlReport.Render(r));

    private static Command CetS(CliContext ctx)
    {
        var cpu = new CpuSourceOptions();
        var inputs = new Inputs();
        var format = FormatOption.Create();
        var html = new Option<string>("--html") { Description = "Also write the self-contained HTML report to FILE", HelpName = "FILE" };
        var cmd = new Command("cet-s", "context_switch1 under 6.16 (case 1), 6.17 (case 2), case 3 and the deferred design: fpstate bytes, bytes per switch, predicted ns and throughput change, memory, catalog sweep and the cover letter's two claims");
        cpu.AddTo(cmd);
        inputs.AddTo(cmd);
        cmd.Add(format);
        cmd.Add(html);
        cmd.SetAction(parse =>
        {
            var sel = cpu.Resolve(parse);
            string? path = parse.GetValue(html);
            OutputFile.Check("--html", path); // before the experiment, not after
            var r = RunExperiment(ctx, sel, inputs.Resolve(parse, sel));
            if (path is not null)
                WriteHtml(r, path);
            return ctx.Render(FormatOption.Get(parse, format), r, new ExperimentRenderer(path));
        });
        return cmd;
    }
}
