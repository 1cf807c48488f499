namespace XsaveLab.Cli.Commands;

/// <summary><c>measure context-switch</c>: a real will-it-scale <c>context_switch1</c>-style ping-pong on this
/// machine (<see cref="ContextSwitchMeter"/>).</summary>
public static class MeasureCommand
{
    public static Command Create(CliContext ctx)
    {
        var cmd = new Command("measure", "Real measurements on this machine");
        cmd.Add(ContextSwitch(ctx));
        return cmd;
    }

    private static Command ContextSwitch(CliContext ctx)
    {
        var mode = new Option<string>("--mode") { Description = "threads, processes or both", DefaultValueFactory = _ => "both", HelpName = "threads|processes|both" }
            .OneOf("threads", "processes", "both");
        var state = new Option<string>("--vectors") { Description = "Vector state while switching: init (AVX/AVX-512 in initial state), wide (in use), asis, or both (init and wide)", DefaultValueFactory = _ => "both", HelpName = "init|wide|asis|both" }
            .OneOf("init", "wide", "asis", "both");
        var runs = new Option<int>("--runs") { Description = "Measured runs per configuration", DefaultValueFactory = _ => 5, HelpName = "N" };
        var seconds = new Option<double>("--seconds") { Description = "Length of each run", DefaultValueFactory = _ => 1.0, HelpName = "SECONDS" };
        var pin = new Option<int>("--pin") { Description = "CPU both sides are pinned to (-1: the first allowed)", DefaultValueFactory = _ => -1, HelpName = "CPU" };
        var format = FormatOption.Create();
        var cmd = new Command("context-switch", "Ping-pong one byte over two pipes between two threads and between two processes pinned to one CPU (like will-it-scale context_switch1): switches/s, median, run-to-run spread");
        cmd.Add(mode); cmd.Add(state); cmd.Add(runs); cmd.Add(seconds); cmd.Add(pin); cmd.Add(format);
        cmd.SetAction(parse =>
        {
            var (plans, skipped) = Plan(parse, mode, state, runs, seconds, pin);
            if (plans.Count == 0)
                throw new NotAvailableException($"nothing can be measured here: {string.Join("; ", skipped)}");
            var result = SimProgress.Run(ctx, "measuring context switches", p => ContextSwitchSuite.Run(plans, skipped, p));
            return ctx.Render(FormatOption.Get(parse, format), result, new MeasureRenderer());
        });
        return cmd;
    }

    private static (IReadOnlyList<ContextSwitchOptions> Plans, IReadOnlyList<string> Skipped) Plan(ParseResult parse,
        Option<string> mode, Option<string> state, Option<int> runs, Option<double> seconds, Option<int> pin)
    {
        int n = parse.GetValue(runs), cpu = parse.GetValue(pin);
        double s = parse.GetValue(seconds);
        if (n is < 1 or > 1000)
            throw new UserErrorException($"--runs: {n} is outside 1..1000");
        if (!(s > 0 && s <= 600))
            throw new UserErrorException($"--seconds: {s.ToString(CultureInfo.InvariantCulture)} is outside (0, 600]");
        if (cpu is < -1 or >= 1024)
            throw new UserErrorException($"--pin: {cpu} is outside -1..1023");
        if (cpu >= 0 && ContextSwitchMeter.AllowedCpus() is { Count: > 0 } allowed && !allowed.Contains(cpu))
            throw new UserErrorException($"--pin: CPU {cpu} is not one this process may run on (allowed: {string.Join(", ", allowed)})");
        var modes = parse.GetValue(mode) switch { "threads" => new[] { PingPongMode.Threads }, "processes" => [PingPongMode.Processes], _ => [PingPongMode.Threads, PingPongMode.Processes] };
        var states = parse.GetValue(state) switch { "init" => new[] { VectorState.Init }, "wide" => [VectorState.Wide], "asis" => [VectorState.AsIs], _ => [VectorState.Init, VectorState.Wide] };
        return ContextSwitchSuite.Plan(modes, states, new ContextSwitchOptions { Runs = n, RunDuration = TimeSpan.FromSeconds(s), Cpu = cpu });
    }
}
