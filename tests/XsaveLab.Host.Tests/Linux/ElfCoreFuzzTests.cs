namespace XsaveLab.Host.Tests.Linux;

/// <summary>The core-file reader on hostile input: truncated files, absurd sizes and counts, overlapping and
/// out-of-range segments. Every input gives notes or one error naming a field and an offset; nothing throws,
/// hangs or allocates past the reader's bounds. Seeded and reproducible; FUZZ_ITERATIONS runs longer.</summary>
public sealed class ElfCoreFuzzTests(ITestOutputHelper log)
{
    private const int DefaultIterations = 2000;
    private const int Seed = 0x0E1F;
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(120);

    /// <summary>Allocation allowed for one input: the reader's note bound plus room for its headers and lists.</summary>
    private const long AllocationLimit = ElfCoreFile.MaxNoteBytes * 2 + (16L << 20);

    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_ITERATIONS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : DefaultIterations;

    [Fact]
    public async Task Mutated_cores_give_notes_or_an_error_naming_field_and_offset()
    {
        var corpus = Corpus();
        int iterations = Iterations, errors = 0;
        var run = Task.Run(() =>
        {
            var rng = new Random(Seed);
            for (int i = 0; i < iterations; i++)
            {
                var input = Mutate(corpus[rng.Next(corpus.Length)], rng);
                if (Problem(input) is { } problem)
                    Assert.Fail($"seed {Seed}, input {i}: {problem}\nminimal input ({Shrink(input).Length} bytes): {Convert.ToHexString(Shrink(input))}");
                if (!ElfCoreFile.Read(input).Ok)
                    errors++;
            }
        });
        var finished = await Task.WhenAny(run, Task.Delay(HangLimit));
        Assert.True(finished == run, $"seed {Seed}: {iterations} inputs did not finish within {HangLimit.TotalSeconds} s (a hang)");
        await run;
        log.WriteLine($"{iterations} inputs (seed {Seed}), {errors} rejected with an error");
    }

    /// <summary>Inputs that name each bound once: kept as regression cases.</summary>
    [Theory]
    [InlineData("n_namesz", "namesz")]
    [InlineData("n_descsz", "descsz")]
    [InlineData("p_filesz", "filesz")]
    [InlineData("p_offset", "offset")]
    [InlineData("e_phoff", "phoff")]
    [InlineData("e_phentsize", "phentsize")]
    [InlineData("e_ident", "class")]
    [InlineData("sh_info", "xnum")]
    [InlineData("ELF header", "short")]
    public void Each_malformed_field_is_named_with_its_offset(string field, string variant)
    {
        var core = Valid();
        const int ph = 64, seg = 64 + 56;
        switch (variant)
        {
            case "namesz": BinaryPrimitives.WriteUInt32LittleEndian(core.AsSpan(seg), 0xFFFFFFFF); break;
            case "descsz": BinaryPrimitives.WriteUInt32LittleEndian(core.AsSpan(seg + 4), 0xFFFFFFF0); break;
            case "filesz": BinaryPrimitives.WriteUInt64LittleEndian(core.AsSpan(ph + 32), ulong.MaxValue - 8); break;
            case "offset": BinaryPrimitives.WriteUInt64LittleEndian(core.AsSpan(ph + 8), ulong.MaxValue); break;
            case "phoff": BinaryPrimitives.WriteUInt64LittleEndian(core.AsSpan(32), ulong.MaxValue - 100); break;
            case "phentsize": BinaryPrimitives.WriteUInt16LittleEndian(core.AsSpan(54), 8); break;
            case "class": core[4] = 1; break;
            case "xnum":
                // PN_XNUM: the program header count is section header 0's sh_info, here absurd.
                BinaryPrimitives.WriteUInt16LittleEndian(core.AsSpan(56), 0xFFFF);
                BinaryPrimitives.WriteUInt64LittleEndian(core.AsSpan(40), (ulong)core.Length);
                var sh0 = new byte[64];
                BinaryPrimitives.WriteUInt32LittleEndian(sh0.AsSpan(44), 0xFFFFFFFF);
                core = [.. core, .. sh0];
                break;
            case "short": core = core[..40]; break;
        }
        var r = ElfCoreFile.Read(core, "hostile");
        Assert.False(r.Ok);
        Assert.Contains(field, r.Error!.Field);
        Assert.Contains("offset", r.Error.ToString());
    }

    [Fact]
    public void Overlapping_note_segments_are_each_read()
    {
        var one = Valid();
        // Two PT_NOTE program headers describing the same bytes.
        var two = new byte[one.Length + 56];
        one.AsSpan(0, 120).CopyTo(two);
        one.AsSpan(64, 56).CopyTo(two.AsSpan(120));
        one.AsSpan(120).CopyTo(two.AsSpan(176));
        BinaryPrimitives.WriteUInt16LittleEndian(two.AsSpan(56), 2);
        BinaryPrimitives.WriteUInt64LittleEndian(two.AsSpan(64 + 8), 176);
        BinaryPrimitives.WriteUInt64LittleEndian(two.AsSpan(120 + 8), 176);
        var r = ElfCoreFile.Read(two);
        Assert.True(r.Ok, r.Error?.ToString());
        Assert.Equal(2 * ElfCoreFile.Read(one).Notes.Count, r.Notes.Count);
    }

    /// <summary>Null when the reader behaved: no exception, an error names a field and an offset, allocation bounded.</summary>
    private static string? Problem(byte[] input)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        ElfCoreNotes r;
        try
        {
            r = ElfCoreFile.Read(input, "fuzz");
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > AllocationLimit)
            return $"allocated {allocated} bytes";
        if (r.Error is { } err && (string.IsNullOrEmpty(err.Field) || err.Offset < 0 || !err.ToString().Contains(" at offset ", StringComparison.Ordinal)))
            return $"error without field or offset: {err}";
        return null;
    }

    /// <summary>Greedy shrinking: drop chunks, then zero bytes, while the input still shows a problem.</summary>
    private static byte[] Shrink(byte[] input)
    {
        var best = input;
        for (int chunk = Math.Max(1, best.Length / 2); chunk >= 1; chunk /= 2)
            for (int at = 0; at + chunk <= best.Length;)
            {
                var cand = best[..at].Concat(best[(at + chunk)..]).ToArray();
                if (Problem(cand) is not null)
                    best = cand;
                else
                    at += chunk;
            }
        for (int i = 0; i < best.Length; i++)
            if (best[i] != 0)
            {
                var cand = (byte[])best.Clone();
                cand[i] = 0;
                if (Problem(cand) is not null)
                    best = cand;
            }
        return best;
    }

    private static byte[] Valid() => ElfCoreFile.WriteNotesOnly([
        new ElfNote(ElfNote.CoreOwner, NoteType.NtPrstatus, new byte[336]),
        new ElfNote(ElfNote.CoreOwner, NoteType.NtPrfpreg, new byte[512]),
        new ElfNote(ElfNote.LinuxOwner, NoteType.NtX86Xstate, new byte[832]),
        new ElfNote(ElfNote.LinuxOwner, NoteType.NtX86XsaveLayout, new byte[48]),
    ]);

    private static byte[][] Corpus()
    {
        var valid = Valid();
        // A core with a PT_LOAD before the PT_NOTE and the notes after a gap, as the kernel lays them out.
        var withLoad = new byte[valid.Length + 56 + 64];
        valid.AsSpan(0, 64).CopyTo(withLoad);
        BinaryPrimitives.WriteUInt16LittleEndian(withLoad.AsSpan(56), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(withLoad.AsSpan(64), 1); // PT_LOAD
        valid.AsSpan(64, 56).CopyTo(withLoad.AsSpan(120));
        BinaryPrimitives.WriteUInt64LittleEndian(withLoad.AsSpan(120 + 8), 176 + 64);
        valid.AsSpan(120).CopyTo(withLoad.AsSpan(176 + 64));
        return [valid, withLoad, ElfCoreFile.WriteNotesOnly([])];
    }

    private static byte[] Mutate(byte[] seed, Random rng)
    {
        var b = (byte[])seed.Clone();
        int edits = rng.Next(1, 5);
        for (int e = 0; e < edits; e++)
        {
            switch (rng.Next(6))
            {
                case 0: // random bytes
                    b[rng.Next(b.Length)] = (byte)rng.Next(256);
                    break;
                case 1: // truncate
                    b = b[..rng.Next(b.Length + 1)];
                    if (b.Length == 0)
                        return b;
                    break;
                case 2: // an extreme 16/32/64-bit value in a header field or a note header
                    {
                        int[] fields = [32, 40, 54, 56, 64 + 8, 64 + 32, 64 + 40, 120, 124, 128];
                        int at = fields[rng.Next(fields.Length)];
                        ulong[] values = [0, 1, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, (ulong)b.Length, ulong.MaxValue, 1UL << 40];
                        var v = values[rng.Next(values.Length)];
                        if (at + 8 <= b.Length)
                            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), v);
                        else if (at + 4 <= b.Length)
                            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), (uint)v);
                        break;
                    }
                case 3: // a segment pointing back into the headers (overlap)
                    if (b.Length >= 120)
                        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(64 + 8), (ulong)rng.Next(0, 120));
                    break;
                case 4: // PN_XNUM with section header 0 somewhere in the file
                    if (b.Length >= 64)
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(56), 0xFFFF);
                        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(40), (ulong)rng.Next(0, b.Length));
                    }
                    break;
                default: // append garbage
                    var tail = new byte[rng.Next(1, 64)];
                    rng.NextBytes(tail);
                    b = [.. b, .. tail];
                    break;
            }
        }
        return b;
    }
}
