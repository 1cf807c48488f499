namespace XsaveLab.Kernel.Variants.Files;

/// <summary>What a field of a variant file holds, whichever syntax it was written in.</summary>
internal enum VariantFileValueKind
{
    String,
    Number,
    Bool,
    Null,
    Map,
    List,
}

/// <summary>One value of a variant file: its kind, its text (a string's content, a number's or boolean's literal)
/// and the kind's name in the file's own syntax (for errors: "a JSON array", "a YAML sequence").</summary>
internal sealed record VariantFileValue(VariantFileValueKind Kind, string Text, string KindName)
{
    /// <summary>The value as the variant's list of differences shows it: strings quoted, literals as written.</summary>
    public string Display => Kind == VariantFileValueKind.String ? JsonQuote(Text) : Text;

    private static string JsonQuote(string s) =>
        "\"" + System.Text.Json.JsonEncodedText.Encode(s, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping) + "\"";
}

/// <summary>One top-level field of a variant file and the 1-based line its name is on.</summary>
internal sealed record VariantFileEntry(string Name, VariantFileValue Value, int Line);

/// <summary>A variant file's syntax error (or a construct the format does not take) at a line; 0 when unknown.</summary>
internal sealed class VariantFileSyntaxException(int line, string problem) : Exception(problem)
{
    public int Line { get; } = line;
}
