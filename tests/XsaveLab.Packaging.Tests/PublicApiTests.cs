using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace XsaveLab.Packaging.Tests;

/// <summary>The libraries' public surface is declared in PublicAPI.Shipped.txt / PublicAPI.Unshipped.txt next to each
/// project and enforced at build time by Microsoft.CodeAnalysis.PublicApiAnalyzers (docs/packaging.md). This reads
/// the assemblies inside the packed packages and checks that every public type a consumer can see is declared
/// there, so the surface cannot grow unnoticed if the analyzer were dropped or switched off.</summary>
public sealed class PublicApiTests(PackedFeed feed) : IClassFixture<PackedFeed>
{
    [Theory]
    [InlineData("XsaveLab.Arch")]
    [InlineData("XsaveLab.Kernel")]
    [InlineData("XsaveLab.Kvm")]
    public void Every_public_type_in_the_package_is_declared_in_the_public_api_files(string id)
    {
        var dir = Path.Combine(RepoPaths.Root, "src", id);
        var files = new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" }.Select(f => Path.Combine(dir, f)).ToArray();
        foreach (var f in files)
        {
            Assert.True(File.Exists(f), $"{f} is missing");
            // Nullable annotations are part of the declared surface.
            Assert.Equal("#nullable enable", File.ReadLines(f).First());
        }
        var declared = files.SelectMany(File.ReadLines).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        Assert.NotEmpty(declared);

        var types = PublicTypes(LibraryFromPackage(id));
        Assert.NotEmpty(types);
        var missing = types.Where(t => !declared.Any(l => Declares(l, t))).ToArray();
        Assert.True(missing.Length == 0, $"{id}: public types not in its PublicAPI files: {string.Join(", ", missing)}");
    }

    /// <summary>An API line names a type as the first token after any modifiers, e.g.
    /// <c>XsaveLab.Arch.Cpuid.CpuProfile.Name.get -> string!</c> or <c>static XsaveLab.Kernel.X.Y() -> int</c>.</summary>
    private static bool Declares(string line, string type)
    {
        foreach (var token in line.Split(' '))
        {
            if (!token.StartsWith("XsaveLab.", StringComparison.Ordinal))
                continue;
            return token.StartsWith(type, StringComparison.Ordinal) &&
                   (token.Length == type.Length || token[type.Length] is '.' or '<' or '(' or ',');
        }
        return false;
    }

    private byte[] LibraryFromPackage(string id)
    {
        var nupkg = Directory.GetFiles(feed.Feed, id + ".*.nupkg").Single(f => !f.EndsWith(".symbols.nupkg", StringComparison.Ordinal));
        using var zip = ZipFile.OpenRead(nupkg);
        var entry = zip.GetEntry($"lib/net10.0/{id}.dll");
        Assert.True(entry != null, $"{nupkg} has no lib/net10.0/{id}.dll");
        using var s = entry.Open();
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }

    /// <summary>The names of the types visible outside the assembly (public, or public nested in public), in the
    /// PublicAPI files' spelling: namespace-qualified, nested types joined with '.', generic arity dropped.</summary>
    private static List<string> PublicTypes(byte[] dll)
    {
        using var pe = new PEReader(new MemoryStream(dll));
        var md = pe.GetMetadataReader();
        var names = new List<string>();
        foreach (var h in md.TypeDefinitions)
        {
            var name = VisibleName(md, h);
            if (name != null)
                names.Add(name);
        }
        return names;
    }

    private static string? VisibleName(MetadataReader md, TypeDefinitionHandle h)
    {
        var t = md.GetTypeDefinition(h);
        var visibility = t.Attributes & TypeAttributes.VisibilityMask;
        string simple = md.GetString(t.Name);
        int tick = simple.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0)
            simple = simple[..tick];
        if (visibility == TypeAttributes.Public)
        {
            string ns = md.GetString(t.Namespace);
            return ns.Length == 0 ? simple : ns + "." + simple;
        }
        if (visibility is TypeAttributes.NestedPublic or TypeAttributes.NestedFamily or TypeAttributes.NestedFamORAssem)
        {
            var outer = VisibleName(md, t.GetDeclaringType());
            return outer == null ? null : outer + "." + simple;
        }
        return null;
    }
}
