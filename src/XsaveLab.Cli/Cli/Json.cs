namespace XsaveLab.Cli.Cli;

/// <summary>The one JSON writer of the CLI: camelCase keys, indented, nulls kept (a null offset means "has none",
/// which is information), enums as camelCase strings, only the characters JSON requires escaped, and one hex
/// style (<c>0x</c>, lower case: see <see cref="HexStringConverter"/>). Type metadata comes from the
/// source-generated <see cref="CliJsonContext"/> alone: a type it does not list cannot be written (a test writes
/// every command's JSON), so no document is shaped by reflection.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase), new HexStringConverter() },
        TypeInfoResolver = CliJsonContext.Default,
    };

    /// <summary>Writes <paramref name="value"/> and a newline. The run-time type decides the shape (report
    /// sections hand over records as <see cref="object"/>).</summary>
    public static void Write(TextWriter w, object value) => w.WriteLine(JsonSerializer.Serialize(value, value.GetType(), Options));

    /// <summary>The hex style of every mask and address in the output: <c>0x</c> and lower-case digits.</summary>
    public static string Hex(ulong v) => $"0x{v:x}";
}
