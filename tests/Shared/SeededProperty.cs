using System.Globalization;
using FsCheck;
using Microsoft.FSharp.Core;

namespace XsaveLab.Tests;

/// <summary>FsCheck properties run from a fixed seed, so every <c>dotnet test</c> checks the same cases and a
/// failure can be replayed: <c>FSCHECK_SEED</c> overrides the seed, and a failure names the seed it ran with.</summary>
internal static class SeededProperty
{
    /// <summary>Any odd number: the split-mix increment paired with the seed (FsCheck's <see cref="Rnd"/>).</summary>
    private const ulong Gamma = 0x9E3779B97F4A7C15;

    /// <summary><c>FSCHECK_SEED</c> (decimal) when set, else <paramref name="fallback"/>.</summary>
    public static ulong Seed(ulong fallback) =>
        ulong.TryParse(Environment.GetEnvironmentVariable("FSCHECK_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out ulong s) ? s : fallback;

    /// <summary>Checks <paramref name="property"/> (100 cases, shrunk on failure) from the seed; throws with the seed
    /// and FsCheck's report (the original and the shrunk counter-example) when it fails.</summary>
    public static void CheckSeeded(this Property property, ulong fallbackSeed)
    {
        ulong seed = Seed(fallbackSeed);
        var config = Config.QuickThrowOnFailure.WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, Gamma), FSharpOption<int>.None)));
        try
        {
            Check.One(config, property);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"property failed with seed {seed} (replay: FSCHECK_SEED={seed})\n{e.Message}", e);
        }
    }
}
