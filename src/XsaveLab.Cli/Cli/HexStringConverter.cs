namespace XsaveLab.Cli.Cli;

/// <summary>Writes every string that is a hex number (<c>0x</c> followed by hex digits and nothing else) in lower
/// case, so that the JSON has one hex style whichever layer formatted the value (<c>0x20EE7</c> and
/// <c>0x20ee7</c> are the same mask; a reader comparing strings should not have to know that). Any other string
/// is written as it is.</summary>
public sealed class HexStringConverter : JsonConverter<string>
{
    public override bool HandleNull => false;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetString();

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(Normalize(value));

    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetString() ?? "";

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
        writer.WritePropertyName(value);

    public static string Normalize(string value)
    {
        if (value.Length < 3 || value[0] != '0' || (value[1] != 'x' && value[1] != 'X'))
            return value;
        bool upper = value[1] == 'X';
        for (int i = 2; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsAsciiHexDigitUpper(c) && !char.IsAsciiDigit(c))
                upper = true;
            else if (!char.IsAsciiHexDigit(c))
                return value;
        }
        return upper ? value.ToLowerInvariant() : value;
    }
}
