namespace XsaveLab.Cli.Cli;

/// <summary>Integer options with their valid range checked while parsing, so that a value out of range is a parse
/// error (exit 2) before any work starts, never a result computed from a meaningless value.</summary>
public static class IntOption
{
    /// <summary>An integer option shown as <c>--name &lt;N&gt;</c> (or <paramref name="helpName"/>), its range in the
    /// description; the parser adds the default.</summary>
    public static Option<int> Create(string name, string description, int defaultValue, int min, int max, string helpName = "N")
    {
        var option = new Option<int>(name)
        {
            Description = $"{description} ({min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)})",
            DefaultValueFactory = _ => defaultValue,
            HelpName = helpName,
        };
        option.Validators.Add(r =>
        {
            // A value that is not an integer is the parser's own error; only a parsed value is checked here.
            if (r.Tokens.Count != 1 || !int.TryParse(r.Tokens[0].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
                return;
            if (v < min || v > max)
                r.AddError($"{name}: {v.ToString(CultureInfo.InvariantCulture)} is outside {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}");
        });
        return option;
    }
}
