namespace XsaveLab.Host.Native;

/// <summary>Zeroed native memory aligned to 64 bytes, the alignment XSAVE/XRSTOR require (#GP otherwise).</summary>
internal sealed unsafe class AlignedBuffer : IDisposable
{
    public const int Alignment = 64;

    public AlignedBuffer(int length)
    {
        Length = length;
        Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)length, Alignment);
        NativeMemory.Clear(Pointer, (nuint)length);
    }

    public byte* Pointer { get; private set; }
    public int Length { get; }
    public nint Address => (nint)Pointer;

    public Span<byte> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(Pointer == null, this);
            return new Span<byte>(Pointer, Length);
        }
    }

    public void Dispose()
    {
        if (Pointer == null)
            return;
        NativeMemory.AlignedFree(Pointer);
        Pointer = null;
        GC.SuppressFinalize(this);
    }

    ~AlignedBuffer()
    {
        if (Pointer != null)
            NativeMemory.AlignedFree(Pointer);
    }
}
