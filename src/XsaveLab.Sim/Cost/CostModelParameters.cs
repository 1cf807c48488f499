using System.Text.Json;
using System.Text.Json.Serialization;

namespace XsaveLab.Sim.Cost;

/// <summary>One fitted linear cost with the covariance of its four coefficients (Base, PerRequested,
/// PerComponent, PerByte) and the fit quality.</summary>
public sealed record CostFit(LinearCost Cost, double[][] Covariance, double RelativeResidualPct, int Samples)
{
    public double[,] CovarianceMatrix()
    {
        var m = new double[4, 4];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                m[i, j] = Covariance.Length > i && Covariance[i].Length > j ? Covariance[i][j] : 0;
        return m;
    }
}

/// <summary>Calibrated parameters of <see cref="CostModel"/> for one machine; saved as JSON and loadable
/// for predictions about another machine.</summary>
public sealed record CostModelParameters
{
    public const string CurrentFormat = "xsavelab-cost-model/1";

    public string Format { get; init; } = CurrentFormat;

    /// <summary>Brand string of the machine the timings come from.</summary>
    public required string Machine { get; init; }

    /// <summary>CPUID.1.EAX, hex.</summary>
    public required string CpuSignature { get; init; }

    /// <summary>XCR0 during calibration, hex.</summary>
    public required string Xcr0 { get; init; }

    public DateTimeOffset? CalibratedUtc { get; init; }

    /// <summary>Save costs keyed by instruction: <c>xsave</c>, <c>xsaveopt</c>, <c>xsavec</c> (as timed).</summary>
    public required Dictionary<string, CostFit> Save { get; init; }

    /// <summary>XRSTOR cost (standard-form images).</summary>
    public required CostFit Restore { get; init; }

    /// <summary>Measured pair time minus (save + restore), per save instruction: what running the two
    /// back-to-back adds or overlaps (XSAVEOPT's modified optimisation shows up here).</summary>
    public Dictionary<string, double> PairOverlapNs { get; init; } = [];

    /// <summary>Per-switch cost outside XSAVES/XRSTORS (scheduler, pipes, syscalls), from a real ping-pong;
    /// null when not measured.</summary>
    public double? SwitchFixedNs { get; init; }

    /// <summary>Run-to-run spread (%) of the ping-pong that gave <see cref="SwitchFixedNs"/>.</summary>
    public double? SwitchSpreadPct { get; init; }

    /// <summary>Measured switches/s of that ping-pong.</summary>
    public double? MeasuredSwitchesPerSecond { get; init; }

    /// <summary>How the supervisor instructions are estimated from the user-mode ones.</summary>
    public string XsavesEstimate { get; init; } = CostModel.XsavesEstimateText;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses and validates; errors name the file and the field.</summary>
    /// <exception cref="CostModelFormatException">Bad JSON or a missing/invalid field.</exception>
    public static CostModelParameters FromJson(string json, string file)
    {
        CostModelParameters? p;
        try
        {
            p = JsonSerializer.Deserialize<CostModelParameters>(json, Json);
        }
        catch (JsonException e)
        {
            // JsonException's message repeats path and position ("… Path: $ | LineNumber: 0 | …"): name them once.
            string line = $"line {e.LineNumber + 1}";
            string field = e.Path is null or "$" ? line : $"{e.Path} ({line})";
            string problem = e.Message.Split(" Path: ")[0].Trim();
            throw new CostModelFormatException(file, field, $"not a cost-model file: {problem}");
        }
        if (p is null)
            throw new CostModelFormatException(file, "$", "empty document");
        if (p.Format != CurrentFormat)
            throw new CostModelFormatException(file, "format", $"expected \"{CurrentFormat}\", found \"{p.Format}\"");
        foreach (var key in new[] { "xsave", "xsavec" })
            if (!p.Save.ContainsKey(key))
                throw new CostModelFormatException(file, $"save.{key}", "missing");
        foreach (var (k, f) in p.Save.Append(new("restore", p.Restore)))
        {
            if (f?.Cost is null)
                throw new CostModelFormatException(file, k == "restore" ? "restore.cost" : $"save.{k}.cost", "missing");
            var c = f.Cost;
            foreach (var (name, v) in new[] { ("base", c.Base), ("perRequested", c.PerRequested), ("perComponent", c.PerComponent), ("perByte", c.PerByte) })
                if (!double.IsFinite(v) || v < 0)
                    throw new CostModelFormatException(file, (k == "restore" ? "restore" : $"save.{k}") + $".cost.{name}", $"must be a finite number ≥ 0, found {v}");
            if (f.Covariance is null || f.Covariance.Length != 4 || f.Covariance.Any(r => r is null || r.Length != 4))
                throw new CostModelFormatException(file, (k == "restore" ? "restore" : $"save.{k}") + ".covariance", "must be a 4×4 array");
        }
        if (p.SwitchFixedNs is { } s && (!double.IsFinite(s) || s < 0))
            throw new CostModelFormatException(file, "switchFixedNs", $"must be ≥ 0, found {s}");
        return p;
    }

    public static CostModelParameters Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CostModelFormatException(path, "$", e.Message);
        }
        return FromJson(text, path);
    }

    /// <summary>Writes to a temporary file first, so a failure leaves nothing half-written.</summary>
    public void SaveTo(string path)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, ToJson());
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>A cost-model file that cannot be used: which file, which field, what is wrong.</summary>
public sealed class CostModelFormatException(string file, string field, string problem)
    : Exception($"{file}: {field}: {problem}")
{
    public string File { get; } = file;
    public string Field { get; } = field;
    public string Problem { get; } = problem;
}
