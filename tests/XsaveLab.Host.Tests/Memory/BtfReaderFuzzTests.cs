using XsaveLab.Host.Memory;
using XsaveLab.Tests;

namespace XsaveLab.Host.Tests.Memory;

/// <summary>The BTF reader behind the task_struct slab figures: the sizes of well-formed blobs, and seeded mutation
/// fuzzing (header fields, type records, name and type references, truncation): the reader returns sizes or one
/// <see cref="BtfFormatException"/> naming the file, never another exception, and the same blob gives the same
/// answer twice.</summary>
public class BtfReaderFuzzTests
{
    private const int DefaultInputs = 3000;
    private const int Seed = 52_019;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Sizes_and_layout_come_from_the_blob(bool embedded)
    {
        var (blob, _) = BtfBuilder.Kernel(task: embedded ? 7488 : 3264, fpu: 4224, regs: 4096, embedded);
        var s = TaskStructBtf.FromBytes(blob, "test.btf");
        Assert.Equal((embedded ? 7488 : 3264, 4224, 4096, !embedded), (s.TaskStruct, s.Fpu, s.FpregsState, s.FpuAppended));
    }

    [Theory]
    [InlineData(new byte[0], "shorter than the 24-byte BTF header")]
    [InlineData(new byte[] { 0xeb, 0x9f, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "big-endian")]
    [InlineData(new byte[] { 0x9f, 0xeb, 2, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "offset 0x2: BTF version 2")]
    public void Malformed_headers_name_the_problem(byte[] blob, string expected)
    {
        var e = Assert.Throws<BtfFormatException>(() => TaskStructBtf.FromBytes(blob, "bad.btf"));
        Assert.StartsWith("bad.btf: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_blob_without_task_struct_names_the_missing_struct()
    {
        var b = new BtfBuilder();
        b.Type(b.Name("int"), BtfTypes.KindInt, 0, 4, 32);
        var e = Assert.Throws<BtfFormatException>(() => TaskStructBtf.FromBytes(b.Build(), "min.btf"));
        Assert.Equal("min.btf: no struct task_struct among its 1 types", e.Message);
    }

    [Fact]
    public void Mutated_blobs_give_sizes_or_one_format_error()
    {
        int count = Fuzz.Iterations(DefaultInputs), parsed = 0;
        Fuzz.RunBytes("BTF task_struct sizes", Fuzz.Seed(Seed), count, Generate, input =>
        {
            string? first = Outcome(input), second = Outcome(input);
            Assert.Equal(first, second);
            if (first!.StartsWith("sizes", StringComparison.Ordinal))
                Interlocked.Increment(ref parsed);
        });
        Assert.True(parsed > count / 50 && parsed < count - count / 50, $"{parsed} of {count} mutated blobs parsed");
    }

    private static string Outcome(byte[] input)
    {
        try
        {
            var s = TaskStructBtf.FromBytes(input, "fuzz.btf");
            Assert.True(s.Fpu > s.FpregsState && (s.FpuAppended || s.TaskStruct > s.Fpu));
            return $"sizes {s}";
        }
        catch (BtfFormatException e)
        {
            Assert.StartsWith("fuzz.btf", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            return e.Message;
        }
    }

    private static byte[] Generate(Random rng)
    {
        var (blob, b) = BtfBuilder.Kernel(rng.Next(64, 20000), rng.Next(4097, 9000), 4096, rng.Next(2) == 0, rng);
        int n = rng.Next(1, 4);
        for (int k = 0; k < n; k++)
        {
            int type = b.TypeOffsets[rng.Next(b.TypeOffsets.Count)];
            int at = rng.Next(7) switch
            {
                0 => rng.Next(6) * 4,                               // a header field
                1 => type + 4,                                       // info: kind and vlen
                2 => type,                                           // name_off
                3 => type + 8,                                       // size or type id
                4 => Math.Min(blob.Length - 4, type + 12 + 4 * rng.Next(3)), // a member or kind-specific word
                5 => -1,                                             // truncate
                _ => rng.Next(Math.Max(1, blob.Length - 3)),         // anywhere
            };
            if (at < 0)
            {
                blob = blob[..rng.Next(blob.Length)];
                continue;
            }
            if (at + 4 > blob.Length)
                continue;
            uint v = rng.Next(5) switch
            {
                0 => 0,
                1 => uint.MaxValue,
                2 => BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(at)) ^ (1u << rng.Next(32)),
                3 => (uint)rng.Next(0, 40),
                _ => (uint)rng.Next(),
            };
            BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(at), v);
        }
        return blob;
    }
}
