namespace XsaveLab.Host.Tests.Native;

public unsafe class ExecutableMemoryTests
{
    private static void SkipUnlessLinuxX64() =>
        Skip.IfNot(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64,
            "machine-code stubs are x86-64 Linux only");

    [SkippableFact]
    public void EmittedStubsRunAndStartOn16ByteBoundaries()
    {
        SkipUnlessLinuxX64();
        using var mem = new ExecutableMemory(4096);
        nint ident = mem.Emit([0x89, 0xF8, 0xC3]);                 // mov eax, edi ; ret
        nint add = mem.Emit([0x8D, 0x04, 0x37, 0xC3]);             // lea eax, [rdi+rsi] ; ret
        Assert.Equal(0, ident % ExecutableMemory.StubAlignment);
        Assert.Equal(0, add % ExecutableMemory.StubAlignment);
        Assert.NotEqual(ident, add);
        mem.Seal();
        Assert.Equal(42, ((delegate* unmanaged<int, int>)ident)(42));
        Assert.Equal(7 + 35, ((delegate* unmanaged<int, int, int>)add)(7, 35));
    }

    [SkippableFact]
    public void PaddingIsInt3AndBytesReadBack()
    {
        SkipUnlessLinuxX64();
        using var mem = new ExecutableMemory(4096);
        nint a = mem.Emit([0xC3]);
        nint b = mem.Emit([0x90, 0xC3]);
        Assert.True(mem.Read(a, (int)(b - a))[1..].ToArray().All(x => x == 0xCC));
        Assert.Equal(new byte[] { 0x90, 0xC3 }, mem.Read(b, 2).ToArray());
    }

    [SkippableFact]
    public void EmitAfterSealOrDisposeIsMisuse()
    {
        SkipUnlessLinuxX64();
        var mem = new ExecutableMemory(4096);
        mem.Emit([0xC3]);
        mem.Seal();
        Assert.Throws<InvalidOperationException>(() => mem.Emit([0xC3]));
        mem.Dispose();
        Assert.Equal(0, mem.BaseAddress);
        Assert.Throws<ObjectDisposedException>(() => mem.Emit([0xC3]));
        mem.Dispose();
    }

    [SkippableFact]
    public void FullRegionRejectsAnotherStub()
    {
        SkipUnlessLinuxX64();
        using var mem = new ExecutableMemory(4096);
        Assert.Equal(4096, mem.Capacity);
        mem.Emit(new byte[4090]);
        Assert.Throws<InvalidOperationException>(() => mem.Emit(new byte[8]));
    }
}
