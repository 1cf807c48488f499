using System.IO.Compression;
using System.Xml.Linq;

namespace XsaveLab.Packaging.Tests;

/// <summary>The packages as a user gets them: the xsavelab tool installed with <c>dotnet tool install</c> and run
/// from the installed copy, and a program that uses the model through the library packages.</summary>
public sealed class PackageTests(PackedFeed feed) : IClassFixture<PackedFeed>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private string PackLog => string.Join("\n", feed.PackResults);

    [Theory]
    [InlineData("xsavelab")]
    [InlineData("XsaveLab.Arch")]
    [InlineData("XsaveLab.Kernel")]
    [InlineData("XsaveLab.Kvm")]
    public void Every_package_has_its_metadata_symbols_readme_and_licence(string id)
    {
        var nupkg = Directory.GetFiles(feed.Feed, id + ".*.nupkg").SingleOrDefault(f => !f.EndsWith(".symbols.nupkg", StringComparison.Ordinal));
        Assert.True(nupkg != null, $"{id} was not packed\n{PackLog}");
        Assert.True(File.Exists(Path.ChangeExtension(nupkg, ".snupkg")), $"{id} has no symbol package");
        using var zip = ZipFile.OpenRead(nupkg);
        var names = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("README.md", names);
        Assert.Contains("LICENSE", names);
        using var nuspecStream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var meta = XDocument.Load(nuspecStream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Meta(string name) => meta.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
        Assert.Equal(id, Meta("id"));
        Assert.Equal("MIT", Meta("license"));
        Assert.Equal("README.md", Meta("readme"));
        Assert.NotEqual("Package Description", Meta("description"));
        Assert.NotEqual(id, Meta("authors"));
        Assert.Contains("xsave", Meta("tags"), StringComparison.Ordinal);
        // One version for every package (Directory.Build.props).
        Assert.Equal(typeof(PackedFeed).Assembly.GetName().Version!.ToString(3), Meta("version"));
        // The API documentation travels with the library (the tool carries it for its own assemblies too).
        var dll = id == "xsavelab" ? "tools/net10.0/any/XsaveLab.Arch" : $"lib/net10.0/{id}";
        Assert.Contains(dll + ".xml", names);
    }

    [Fact]
    public void The_installed_tool_lists_the_cpus_and_prints_a_layout()
    {
        var tools = Path.Combine(feed.Root, "tools");
        var install = Dotnet.Run(Dotnet.Host,
            ["tool", "install", "xsavelab", "--tool-path", tools, "--add-source", feed.Feed, "--version", Version],
            feed.Root, feed.Environment, Timeout);
        Assert.True(install.ExitCode == 0, $"dotnet tool install failed\n{install}\n{PackLog}");
        var exe = Path.Combine(tools, "xsavelab");
        Assert.True(File.Exists(exe), $"no xsavelab launcher in {tools}");

        var env = new Dictionary<string, string>(feed.Environment) { ["COLUMNS"] = "160" };
        var cpus = Dotnet.Run(exe, ["cpus"], feed.Root, env, Timeout);
        Assert.True(cpus.ExitCode == 0, cpus.ToString());
        Assert.Contains("spr", cpus.Stdout, StringComparison.Ordinal);
        Assert.Contains("zen4-genoa", cpus.Stdout, StringComparison.Ordinal);

        var layout = Dotnet.Run(exe, ["layout", "--cpu", "spr", "--format", "json"], feed.Root, env, Timeout);
        Assert.True(layout.ExitCode == 0, layout.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(layout.Stdout);
        Assert.Contains("spr", doc.RootElement.GetProperty("cpu").GetString(), StringComparison.Ordinal);
        // The installed copy answers the same as the copy built here: compare with the built CLI's output.
        var built = Path.Combine(RepoPaths.Root, "src/XsaveLab.Cli/bin", PackedFeed.Configuration, "net10.0/xsavelab.dll");
        var reference = Dotnet.Run(Dotnet.Host, [built, "layout", "--cpu", "spr", "--format", "json"], feed.Root, env, Timeout);
        Assert.True(reference.ExitCode == 0, reference.ToString());
        Assert.Equal(reference.Stdout, layout.Stdout);
    }

    [Fact]
    public void A_program_built_against_the_library_packages_locates_zmm_hi256()
    {
        var dir = Path.Combine(feed.Root, "consumer");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <!-- Kvm brings Kernel and Arch as package dependencies. -->
                <PackageReference Include="XsaveLab.Kvm" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        // Ten lines: where ZMM_Hi256 sits in the standard and compacted forms on a Zen 4 EPYC.
        File.WriteAllText(Path.Combine(dir, "Program.cs"), """
            using XsaveLab.Arch.Catalog;
            using XsaveLab.Arch.Features;
            using XsaveLab.Arch.Layout;

            var cpu = CpuCatalog.Get("zen4-genoa");
            var standard = XStateLayout.Standard(cpu, cpu.SupportedXcr0);
            var compacted = XStateLayout.CompactedForm(cpu, cpu.SupportedXcr0);
            var zmm = XFeatureTable.Get(XFeature.ZmmHi256);
            Console.WriteLine($"{zmm.ShortName} standard {standard.OffsetOf(zmm.Number)} compacted {compacted.OffsetOf(zmm.Number)}");
            """);
        var run = Dotnet.Run(Dotnet.Host, ["run", "--project", dir, "-v", "q"], dir, feed.Environment, Timeout);
        Assert.True(run.ExitCode == 0, $"{run}\n{PackLog}");
        // 896: CPUID.(EAX=0DH,ECX=6).EBX, the architectural standard offset of ZMM_Hi256 (SDM Vol.1 §13.4.3).
        Assert.Matches(@"^ZMM_Hi256 standard 896 compacted \d+\s*$", run.Stdout);
    }

    /// <summary>The package version: the informational version of this assembly, which shares Directory.Build.props.</summary>
    private static string Version => typeof(PackedFeed).Assembly.GetName().Version!.ToString(3);
}
