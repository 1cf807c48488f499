namespace XsaveLab.Host.Memory;

/// <summary>The type section of a BTF blob (include/uapi/linux/btf.h; Documentation/bpf/btf.rst): enough of it to
/// find a struct or union by name, its size and its members. Every offset and count is checked against the blob;
/// anything out of place is a <see cref="BtfFormatException"/> naming the offset.</summary>
public sealed class BtfTypes
{
    /// <summary>BTF_MAGIC as a little-endian u16.</summary>
    public const ushort Magic = 0xeb9f;

    private const int TypeHeader = 12; // struct btf_type: name_off, info, size/type

    private readonly byte[] _data;
    private readonly string _file;
    private readonly int _typesAt, _stringsAt, _stringsLen;
    private readonly List<int> _offsets = [0]; // type id → offset in the blob; id 0 is void

    private BtfTypes(byte[] data, string file, int typesAt, int stringsAt, int stringsLen)
    {
        _data = data;
        _file = file;
        _typesAt = typesAt;
        _stringsAt = stringsAt;
        _stringsLen = stringsLen;
    }

    /// <summary>Kinds (BTF_KIND_*).</summary>
    public const int KindInt = 1, KindPtr = 2, KindArray = 3, KindStruct = 4, KindUnion = 5, KindEnum = 6, KindFwd = 7,
        KindTypedef = 8, KindVolatile = 9, KindConst = 10, KindRestrict = 11, KindFunc = 12, KindFuncProto = 13,
        KindVar = 14, KindDatasec = 15, KindFloat = 16, KindDeclTag = 17, KindTypeTag = 18, KindEnum64 = 19;

    public int Count => _offsets.Count - 1;

    /// <summary>Parses the header and walks every type record once.</summary>
    /// <exception cref="BtfFormatException">The blob is not little-endian BTF version 1, or a section or a
    /// record lies outside it.</exception>
    public static BtfTypes Parse(byte[] data, string file)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length < 24)
            throw new BtfFormatException(file, -1, $"{data.Length} bytes: shorter than the 24-byte BTF header");
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(data);
        if (magic != Magic)
            throw new BtfFormatException(file, 0, magic == 0x9feb ? "big-endian BTF is not supported" : $"magic 0x{magic:x4} is not BTF (0x{Magic:x4})");
        if (data[2] != 1)
            throw new BtfFormatException(file, 2, $"BTF version {data[2]}; version 1 is read");
        long hdrLen = U32(data, 4), typeOff = U32(data, 8), typeLen = U32(data, 12), strOff = U32(data, 16), strLen = U32(data, 20);
        if (hdrLen < 24 || hdrLen > data.Length)
            throw new BtfFormatException(file, 4, $"hdr_len {hdrLen} is outside 24..{data.Length}");
        if (hdrLen + typeOff + typeLen > data.Length)
            throw new BtfFormatException(file, 8, $"type section {typeOff}+{typeLen} after the header runs past the end ({data.Length} bytes)");
        if (hdrLen + strOff + strLen > data.Length)
            throw new BtfFormatException(file, 16, $"string section {strOff}+{strLen} after the header runs past the end ({data.Length} bytes)");
        if (typeOff % 4 != 0)
            throw new BtfFormatException(file, 8, $"type_off {typeOff} is not 4-byte aligned");
        var btf = new BtfTypes(data, file, (int)(hdrLen + typeOff), (int)(hdrLen + strOff), (int)strLen);
        btf.Walk((int)typeLen);
        return btf;
    }

    private void Walk(int typeLen)
    {
        int at = _typesAt, end = _typesAt + typeLen;
        while (at < end)
        {
            if (end - at < TypeHeader)
                throw new BtfFormatException(_file, at, $"type {_offsets.Count}: {end - at} bytes left, a type record needs {TypeHeader}");
            uint info = (uint)U32(_data, at + 4);
            int kind = (int)(info >> 24 & 0x1f), vlen = (int)(info & 0xffff);
            long extra = kind switch
            {
                KindInt or KindVar or KindDeclTag => 4,
                KindPtr or KindFwd or KindTypedef or KindVolatile or KindConst or KindRestrict or KindFunc or KindFloat or KindTypeTag => 0,
                KindArray => 12,
                KindStruct or KindUnion or KindDatasec or KindEnum64 => 12L * vlen,
                KindEnum or KindFuncProto => 8L * vlen,
                _ => throw new BtfFormatException(_file, at + 4, $"type {_offsets.Count}: unknown kind {kind}"),
            };
            if (end - at - TypeHeader < extra)
                throw new BtfFormatException(_file, at, $"type {_offsets.Count} (kind {kind}, vlen {vlen}) needs {TypeHeader + extra} bytes; {end - at} are left in the type section");
            _offsets.Add(at);
            at += TypeHeader + (int)extra;
        }
    }

    public int Kind(int id) => (int)(U32(_data, At(id) + 4) >> 24 & 0x1f);

    /// <summary>The size of a struct, union, int, enum or datasec; for the others it is a type id.</summary>
    public long SizeOrType(int id) => U32(_data, At(id) + 8);

    public string Name(int id) => String((int)U32(_data, At(id)), At(id));

    /// <summary>The ids of the structs (or unions) called <paramref name="name"/>.</summary>
    public IEnumerable<int> Named(int kind, string name)
    {
        byte[] want = Encoding.ASCII.GetBytes(name);
        for (int id = 1; id < _offsets.Count; id++)
        {
            if (Kind(id) != kind)
                continue;
            int nameOff = (int)Math.Min(U32(_data, _offsets[id]), int.MaxValue);
            if (nameOff < _stringsLen && _data.AsSpan(_stringsAt + nameOff).StartsWith(want)
                && _stringsAt + nameOff + want.Length < _stringsAt + _stringsLen && _data[_stringsAt + nameOff + want.Length] == 0)
                yield return id;
        }
    }

    /// <summary>The members of struct/union <paramref name="id"/>: name and member type id.</summary>
    public IEnumerable<(string Name, int Type)> Members(int id)
    {
        int at = At(id);
        int kind = Kind(id);
        if (kind is not (KindStruct or KindUnion))
            yield break;
        int vlen = (int)(U32(_data, at + 4) & 0xffff);
        for (int i = 0; i < vlen; i++)
        {
            int m = at + TypeHeader + 12 * i;
            yield return (String((int)Math.Min(U32(_data, m), int.MaxValue), m), TypeId(U32(_data, m + 4), m + 4));
        }
    }

    /// <summary>Follows typedef, const, volatile, restrict and type tags to the type they name.</summary>
    public int Resolve(int id)
    {
        for (int hops = 0; hops < 64; hops++)
        {
            if (id == 0 || Kind(id) is not (KindTypedef or KindConst or KindVolatile or KindRestrict or KindTypeTag))
                return id;
            id = TypeId(SizeOrType(id), At(id) + 8);
        }
        throw new BtfFormatException(_file, At(id), $"type {id}: more than 64 typedef/qualifier hops (a loop)");
    }

    private int TypeId(long raw, int where) => raw < _offsets.Count ? (int)raw
        : throw new BtfFormatException(_file, where, $"type id {raw} beyond the {Count} types");

    private int At(int id) => id >= 1 && id < _offsets.Count ? _offsets[id]
        : throw new BtfFormatException(_file, -1, $"type id {id} beyond the {Count} types");

    private string String(int off, int where)
    {
        if (off < 0 || off >= _stringsLen)
            throw new BtfFormatException(_file, where, $"name_off {off} is outside the {_stringsLen}-byte string section");
        var s = _data.AsSpan(_stringsAt + off, _stringsLen - off);
        int nul = s.IndexOf((byte)0);
        if (nul < 0)
            throw new BtfFormatException(_file, where, $"name at string offset {off} has no NUL before the section ends");
        return Encoding.ASCII.GetString(s[..Math.Min(nul, 256)]);
    }

    private static long U32(byte[] d, int at) => BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(at, 4));
}
