namespace XsaveLab.Cli.Cli;

public enum OutputFormat
{
    Text,
    Json,
}

/// <summary>The shared <c>--format text|json</c> option.</summary>
public static class FormatOption
{
    public static Option<string> Create() => new Option<string>("--format")
    {
        Description = "Output format: text (tables) or json",
        DefaultValueFactory = _ => "text",
        HelpName = "text|json",
    }.OneOf("text", "json");

    public static OutputFormat Get(ParseResult parse, Option<string> option) =>
        string.Equals(parse.GetValue(option), "json", StringComparison.OrdinalIgnoreCase) ? OutputFormat.Json : OutputFormat.Text;
}
