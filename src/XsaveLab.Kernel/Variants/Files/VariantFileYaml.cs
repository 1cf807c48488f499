using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace XsaveLab.Kernel.Variants.Files;

/// <summary>Reads a variant file written as YAML into its top-level fields with their lines: one document holding
/// one block or flow mapping. Plain scalars are typed by the YAML 1.2 core schema (null, booleans, integers
/// including <c>0x…</c>, floats; anything else is a string); quoted and block scalars are strings. Aliases and tags
/// are refused, so nothing is expanded and a value means what it reads as.</summary>
internal static partial class VariantFileYaml
{
    public static IReadOnlyList<VariantFileEntry> Read(string text)
    {
        var entries = new List<VariantFileEntry>();
        var p = new Parser(new StringReader(text));
        try
        {
            p.Consume<StreamStart>();
            if (p.Accept<StreamEnd>(out _))
                throw new VariantFileSyntaxException(1, "empty; a variant file is one YAML mapping");
            p.Consume<DocumentStart>();
            if (!p.TryConsume<MappingStart>(out var root))
            {
                var at = p.Current;
                throw new VariantFileSyntaxException(Line(at), $"the file holds {Value(p).KindName}; a variant file is one YAML mapping");
            }
            Untagged(root);
            while (!p.TryConsume<MappingEnd>(out _))
            {
                if (!p.TryConsume<Scalar>(out var key))
                    throw new VariantFileSyntaxException(Line(p.Current), "a key is a field name, not a mapping or sequence");
                Untagged(key);
                entries.Add(new VariantFileEntry(key.Value, Value(p), (int)key.Start.Line));
            }
            p.Consume<DocumentEnd>();
            if (!p.Accept<StreamEnd>(out _))
                throw new VariantFileSyntaxException(Line(p.Current), "a second YAML document; a variant file is one");
        }
        catch (YamlException e)
        {
            throw new VariantFileSyntaxException((int)e.Start.Line, $"not YAML at column {e.Start.Column}: {OneLine(e.Message)}");
        }
        catch (InvalidOperationException)
        {
            // The scanner of YamlDotNet 18.1 can stop in an invalid state on malformed flow collections instead of
            // raising a YamlException (found by the fuzz test); the input is not YAML either way.
            throw new VariantFileSyntaxException(Line(p.Current), "not YAML (a malformed flow collection)");
        }
        return entries;
    }

    private static VariantFileValue Value(IParser p)
    {
        if (p.TryConsume<Scalar>(out var s))
        {
            Untagged(s);
            return s.Style is ScalarStyle.Plain ? Plain(s.Value) : new(VariantFileValueKind.String, s.Value, "a YAML string");
        }
        var e = p.Current;
        if (e is AnchorAlias)
            throw new VariantFileSyntaxException(Line(e), "aliases are not part of the format");
        if (e is NodeEvent n)
            Untagged(n);
        bool map = e is MappingStart;
        p.SkipThisAndNestedEvents();
        return map ? new(VariantFileValueKind.Map, "{…}", "a YAML mapping") : new(VariantFileValueKind.List, "[…]", "a YAML sequence");
    }

    /// <summary>The YAML 1.2 core schema's resolution of a plain scalar (yaml.org/spec/1.2.2, 10.3.2).</summary>
    private static VariantFileValue Plain(string v) =>
        v is "" or "~" or "null" or "Null" or "NULL" ? new(VariantFileValueKind.Null, "null", "YAML null")
        : v is "true" or "True" or "TRUE" ? new(VariantFileValueKind.Bool, "true", "a YAML boolean")
        : v is "false" or "False" or "FALSE" ? new(VariantFileValueKind.Bool, "false", "a YAML boolean")
        : CoreNumber().IsMatch(v) ? new(VariantFileValueKind.Number, v, "a YAML number")
        : new(VariantFileValueKind.String, v, "a YAML string");

    [GeneratedRegex(@"^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$", RegexOptions.CultureInvariant)]
    private static partial Regex CoreNumber();

    private static void Untagged(NodeEvent n)
    {
        if (!n.Tag.IsEmpty && !n.Tag.IsNonSpecific)
            throw new VariantFileSyntaxException((int)n.Start.Line, "tags are not part of the format");
    }

    private static int Line(ParsingEvent? e) => e is null ? 0 : (int)e.Start.Line;

    private static string OneLine(string s)
    {
        var b = new StringBuilder();
        foreach (char c in s)
        {
            if (b.Length >= 160)
                return b.Append('…').ToString();
            b.Append(char.IsControl(c) ? ' ' : c);
        }
        return b.ToString();
    }
}
