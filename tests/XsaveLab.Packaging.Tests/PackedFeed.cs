namespace XsaveLab.Packaging.Tests;

/// <summary>The packages as <c>dotnet pack</c> makes them, in a temporary folder used as a local package source,
/// with a package cache of its own (a package of the same version left in the user's cache from an earlier build
/// would otherwise be used instead of the one just packed).</summary>
public sealed class PackedFeed : IDisposable
{
    /// <summary>The projects packed: the tool and the model libraries (Kvm depends on Kernel, Kernel on Arch).</summary>
    public static readonly string[] Projects =
    [
        "src/XsaveLab.Cli/XsaveLab.Cli.csproj",
        "src/XsaveLab.Arch/XsaveLab.Arch.csproj",
        "src/XsaveLab.Kernel/XsaveLab.Kernel.csproj",
        "src/XsaveLab.Kvm/XsaveLab.Kvm.csproj",
    ];

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "xsavelab-pack-" + Guid.NewGuid().ToString("n")[..12]);

    public string Feed => Path.Combine(Root, "feed");

    public string Cache => Path.Combine(Root, "packages");

    /// <summary>The configuration the projects were built in: the same as this test assembly's.</summary>
    public static string Configuration =>
        typeof(PackedFeed).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>What the packing printed, for failure messages.</summary>
    public List<Dotnet.Result> PackResults { get; } = [];

    public PackedFeed()
    {
        Directory.CreateDirectory(Feed);
        Directory.CreateDirectory(Cache);
        // A NuGet.Config in the work folder adds the feed to the sources the machine already uses (the user and
        // machine configuration further up still apply), so that anything else restores as usual.
        File.WriteAllText(Path.Combine(Root, "NuGet.Config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="xsavelab-local" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        foreach (var project in Projects)
        {
            // The test project builds these first (project references), so packing needs no second build.
            var r = Dotnet.Run(Dotnet.Host,
                ["pack", Path.Combine(RepoPaths.Root, project), "--no-build", "-c", Configuration, "-o", Feed, "-v", "q", "-nologo"],
                RepoPaths.Root, Environment, TimeSpan.FromMinutes(5));
            PackResults.Add(r);
        }
    }

    /// <summary>The environment of every child: the private package cache, and where the runtime is.</summary>
    public IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var env = new Dictionary<string, string>
            {
                ["NUGET_PACKAGES"] = Cache,
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                ["DOTNET_NOLOGO"] = "1",
                ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            };
            if (Dotnet.Root is { } root)
                env["DOTNET_ROOT"] = root;
            return env;
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is not a test failure.
        }
    }
}
