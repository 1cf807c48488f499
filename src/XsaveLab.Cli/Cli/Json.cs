using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace XsaveLab.Cli.Cli;

/// <summary>JSON output: camelCase keys, indented, nulls kept (a null offset means "has none", which is
/// information), masks written by the callers as "0x…" strings.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static void Write(TextWriter w, object value) => w.WriteLine(JsonSerializer.Serialize(value, value.GetType(), Options));

    public static string Hex(ulong v) => $"0x{v:x}";
}
