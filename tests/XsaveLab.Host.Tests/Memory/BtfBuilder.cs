using XsaveLab.Host.Memory;

namespace XsaveLab.Host.Tests.Memory;

/// <summary>Writes small BTF blobs (include/uapi/linux/btf.h layout) for the reader's tests: an int, a pointer,
/// the structs the task_struct sizes come from, and filler types of every kind.</summary>
internal sealed class BtfBuilder
{
    private readonly MemoryStream _types = new();
    private readonly MemoryStream _strings = new();
    private readonly List<int> _typeOffsets = [];
    private int _next = 1;

    public BtfBuilder() => _strings.WriteByte(0);

    /// <summary>Offsets (in the finished blob) of each type record, for aimed mutations.</summary>
    public IReadOnlyList<int> TypeOffsets => _typeOffsets;

    public int Name(string s)
    {
        int at = (int)_strings.Length;
        _strings.Write(Encoding.ASCII.GetBytes(s));
        _strings.WriteByte(0);
        return at;
    }

    public int Type(int nameOff, int kind, int vlen, uint sizeOrType, params uint[] extra)
    {
        _typeOffsets.Add(24 + (int)_types.Length);
        U32(_types, (uint)nameOff);
        U32(_types, (uint)(kind << 24 | vlen));
        U32(_types, sizeOrType);
        foreach (var e in extra)
            U32(_types, e);
        return _next++;
    }

    /// <summary>A struct or union with members (name, type id, bit offset).</summary>
    public int Aggregate(string name, int kind, uint size, params (string Name, int Type, uint BitOffset)[] members) =>
        Type(Name(name), kind, members.Length, size, [.. members.SelectMany(m => new[] { (uint)Name(m.Name), (uint)m.Type, m.BitOffset })]);

    public byte[] Build()
    {
        var o = new MemoryStream();
        o.Write([0x9f, 0xeb, 1, 0]);
        U32(o, 24);
        U32(o, 0);
        U32(o, (uint)_types.Length);
        U32(o, (uint)_types.Length);
        U32(o, (uint)_strings.Length);
        o.Write(_types.ToArray());
        o.Write(_strings.ToArray());
        return o.ToArray();
    }

    /// <summary>A kernel-like blob: task_struct, struct fpu and union fpregs_state of the given sizes, with struct
    /// fpu a member of thread_struct when <paramref name="embedded"/>, behind a typedef and some filler.</summary>
    public static (byte[] Blob, BtfBuilder Builder) Kernel(int task, int fpu, int regs, bool embedded, Random? filler = null)
    {
        var b = new BtfBuilder();
        int u32 = b.Type(b.Name("unsigned int"), BtfTypes.KindInt, 0, 4, 32);
        int ptr = b.Type(0, BtfTypes.KindPtr, 0, (uint)u32);
        for (int i = 0; i < (filler?.Next(0, 6) ?? 2); i++)
        {
            switch (filler?.Next(6) ?? i)
            {
                case 0: b.Type(b.Name($"e{i}"), BtfTypes.KindEnum, 2, 4, (uint)b.Name("A"), 0, (uint)b.Name("B"), 1); break;
                case 1: b.Type(0, BtfTypes.KindFuncProto, 1, (uint)u32, 0, (uint)ptr); break;
                case 2: b.Type(0, BtfTypes.KindArray, 0, 0, (uint)u32, (uint)u32, 16); break;
                case 3: b.Type(b.Name($"v{i}"), BtfTypes.KindVar, 0, (uint)u32, 1); break;
                case 4: b.Type(b.Name($".data{i}"), BtfTypes.KindDatasec, 1, 8, 1, 0, 4); break;
                default: b.Type(b.Name($"e64_{i}"), BtfTypes.KindEnum64, 1, 8, (uint)b.Name("C"), 1, 0); break;
            }
        }
        int regsId = b.Aggregate("fpregs_state", BtfTypes.KindUnion, (uint)regs, ("__padding", u32, 0));
        int fpuId = b.Aggregate("fpu", BtfTypes.KindStruct, (uint)fpu, ("last_cpu", u32, 0), ("__fpstate", regsId, 512));
        int typedefId = b.Type(b.Name("fpu_t"), BtfTypes.KindTypedef, 0, (uint)fpuId);
        int thread = embedded
            ? b.Aggregate("thread_struct", BtfTypes.KindStruct, (uint)(fpu + 64), ("sp", u32, 0), ("fpu", typedefId, 512))
            : b.Aggregate("thread_struct", BtfTypes.KindStruct, 64, ("sp", u32, 0));
        b.Aggregate("task_struct", BtfTypes.KindStruct, (uint)task, ("state", u32, 0), ("thread", thread, 1024));
        return (b.Build(), b);
    }

    private static void U32(Stream s, uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        s.Write(b);
    }
}
