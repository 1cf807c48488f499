using System.Text.Json;

namespace XsaveLab.Kernel.Variants.Files;

/// <summary>Reads a variant file written as JSON into its top-level fields with their lines. Only the root object's
/// fields are kept; nested values are validated as JSON and kept as their kind, which no field takes.</summary>
internal static class VariantFileJson
{
    public static IReadOnlyList<VariantFileEntry> Read(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        var entries = new List<VariantFileEntry>();
        try
        {
            var r = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 4 });
            if (!r.Read())
                throw new VariantFileSyntaxException(1, "empty; a variant file is one JSON object");
            if (r.TokenType != JsonTokenType.StartObject)
                throw new VariantFileSyntaxException(LineOf(bytes, r.TokenStartIndex), $"the file holds {Value(ref r).KindName}; a variant file is one JSON object");
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                int line = LineOf(bytes, r.TokenStartIndex);
                string name = r.GetString()!;
                r.Read();
                entries.Add(new VariantFileEntry(name, Value(ref r), line));
            }
            // The root object has ended; anything after it but blanks is a syntax error the reader reports.
            while (r.Read())
            {
            }
        }
        catch (JsonException e)
        {
            throw new VariantFileSyntaxException((int)(e.LineNumber ?? 0) + 1, $"not JSON at byte {(e.BytePositionInLine ?? 0) + 1}");
        }
        catch (InvalidOperationException)
        {
            // GetString() on an escape that is not UTF-16 (a lone surrogate).
            throw new VariantFileSyntaxException(0, "not JSON: a string holds an invalid \\u escape");
        }
        return entries;
    }

    private static VariantFileValue Value(ref Utf8JsonReader r)
    {
        switch (r.TokenType)
        {
            case JsonTokenType.String:
                return new(VariantFileValueKind.String, r.GetString()!, "a JSON string");
            case JsonTokenType.Number:
                return new(VariantFileValueKind.Number, Encoding.UTF8.GetString(r.ValueSpan), "a JSON number");
            case JsonTokenType.True or JsonTokenType.False:
                return new(VariantFileValueKind.Bool, r.TokenType == JsonTokenType.True ? "true" : "false", "a JSON boolean");
            case JsonTokenType.Null:
                return new(VariantFileValueKind.Null, "null", "JSON null");
            default:
                bool map = r.TokenType == JsonTokenType.StartObject;
                r.Skip();
                return map ? new(VariantFileValueKind.Map, "{…}", "a JSON object") : new(VariantFileValueKind.List, "[…]", "a JSON array");
        }
    }

    private static int LineOf(byte[] bytes, long index) => bytes.AsSpan(0, (int)index).Count((byte)'\n') + 1;
}
