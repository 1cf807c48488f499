using System.Text.RegularExpressions;
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

    /// <summary>Largest cost-model file read: the files <c>calibrate</c> writes are about 5 KiB.</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>Largest |value| of a cost coefficient, a pair overlap or the fixed per-switch part, in ns: far above
    /// any real XSAVE-family cost (tens to hundreds of ns) yet small enough that no prediction overflows.</summary>
    public const double MaxNs = 1e9;

    /// <summary>Largest |value| of a coefficient covariance entry (ns²).</summary>
    public const double MaxCovariance = 1e18;

    /// <summary>Parses and validates; errors name the file and the field.</summary>
    /// <exception cref="CostModelFormatException">Bad JSON or a missing/invalid field.</exception>
    public static CostModelParameters FromJson(string json, string file)
    {
        if (json.Length > MaxFileBytes)
            throw new CostModelFormatException(file, "$", $"larger than {MaxFileBytes / 1024} KiB: not a cost-model file");
        CostModelParameters? p;
        try
        {
            p = JsonSerializer.Deserialize<CostModelParameters>(json, Json);
        }
        catch (JsonException e)
        {
            // JsonException's message repeats path and position ("… Path: $ | LineNumber: 0 | …"): name them once.
            string line = $"line {e.LineNumber + 1}";
            string field = e.Path is null or "$" ? line : $"{CostModelFormatException.Excerpt(e.Path)} ({line})";
            throw new CostModelFormatException(file, field, $"not a cost-model file: {Problem(e)}");
        }
        if (p is null)
            throw new CostModelFormatException(file, "$", "empty document");
        CostModelValidation.Check(p, file);
        return p;
    }

    /// <summary>What a <see cref="JsonException"/> says about the file, in the file's terms: the serializer names .NET
    /// types ("could not be converted to System.Nullable`1[System.DateTimeOffset]"), which mean nothing to someone
    /// editing JSON.</summary>
    private static string Problem(JsonException e)
    {
        string message = e.Message.Split(" Path: ")[0].Trim();
        var convert = Regex.Match(message, @"could not be converted to (?<type>\S+?)\.?$");
        if (convert.Success)
            return $"expected {JsonKind(convert.Groups["type"].Value)}";
        var missing = Regex.Match(message, @"missing required properties including: (?<names>.*)$");
        if (missing.Success)
            return $"missing required fields: {missing.Groups["names"].Value.Replace("'", "", StringComparison.Ordinal).TrimEnd('.')}";
        // Any other message: keep its words, not the type names in it.
        return Regex.Replace(message, @"'?\b(?:System|XsaveLab)\.[\w.`\[\],]+'?", "the expected value");
    }

    /// <summary>The JSON kind a .NET type name stands for (a nullable type stands for its value).</summary>
    private static string JsonKind(string type)
    {
        var nullable = Regex.Match(type, @"^System\.Nullable`1\[(?<t>.*)\]$");
        if (nullable.Success)
            type = nullable.Groups["t"].Value;
        return type switch
        {
            _ when type.StartsWith("System.Collections.Generic.Dictionary", StringComparison.Ordinal) => "an object",
            _ when type.EndsWith("[]", StringComparison.Ordinal) || type.StartsWith("System.Collections.", StringComparison.Ordinal) => "an array",
            "System.DateTimeOffset" or "System.DateTime" => "a date and time string (ISO 8601)",
            "System.Double" or "System.Single" or "System.Decimal" or "System.Int32" or "System.Int64" or "System.UInt32" or "System.UInt64" => "a number",
            "System.String" => "a string",
            "System.Boolean" => "true or false",
            _ => "an object",
        };
    }

    private static readonly TextFileLimits FileLimits = new("a cost-model file", MaxFileBytes, StrictUtf8: true);

    /// <summary>Reads and validates a cost-model file through <see cref="BoundedTextFile"/>: only a regular file
    /// (a FIFO, device or directory is refused without blocking or reading it), at most <see cref="MaxFileBytes"/>
    /// bytes; errors name the file and the field.</summary>
    /// <exception cref="CostModelFormatException">Unreadable, too large, bad JSON or an invalid field.</exception>
    public static CostModelParameters Load(string path)
    {
        if (!BoundedTextFile.TryRead(path, FileLimits, out var text, out var error))
            throw new CostModelFormatException(path, "$", error.Problem switch
            {
                InputFileProblem.TooLarge => $"larger than {MaxFileBytes / 1024} KiB: not a cost-model file",
                InputFileProblem.NotFound => "no such file",
                InputFileProblem.NotUtf8 => "not UTF-8 text: not a cost-model file",
                InputFileProblem.NotRegular when error.FileType == "a directory" => "is a directory",
                _ => error.Message,
            });
        return FromJson(text, path);
    }
}

/// <summary>A cost-model file that cannot be used: which file, which field, what is wrong.</summary>
public sealed class CostModelFormatException(string file, string field, string problem)
    : Exception($"{Excerpt(file)}: {Excerpt(field)}: {Excerpt(problem)}")
{
    /// <summary>At most 160 characters of <paramref name="s"/>, control characters escaped, so an error stays one
    /// short line whatever the input held.</summary>
    public static string Excerpt(string s)
    {
        var sb = new System.Text.StringBuilder();
        foreach (char c in s.Length > 160 ? s[..160] : s)
            sb.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        return s.Length > 160 ? sb.Append('…').ToString() : sb.ToString();
    }

    public string File { get; } = file;
    public string Field { get; } = field;
    public string Problem { get; } = problem;
}
