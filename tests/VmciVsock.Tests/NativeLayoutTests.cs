using System.Runtime.InteropServices;
using Vmci;
using Vmci.Vsock.Linux;

namespace VmciVsock.Tests;

/// <summary>The structs the kernel reads and writes have its layout (linux/vm_sockets.h, sys/epoll.h, LP64).</summary>
public sealed class NativeLayoutTests
{
    [Fact]
    public void SockaddrVm_Has16BytesAndTheKernelsOffsets()
    {
        Assert.Equal(16, Marshal.SizeOf<Interop.SockaddrVm>());
        Assert.Equal(0, Offset<Interop.SockaddrVm>(nameof(Interop.SockaddrVm.svm_family)));
        Assert.Equal(2, Offset<Interop.SockaddrVm>(nameof(Interop.SockaddrVm.svm_reserved1)));
        Assert.Equal(4, Offset<Interop.SockaddrVm>(nameof(Interop.SockaddrVm.svm_port)));
        Assert.Equal(8, Offset<Interop.SockaddrVm>(nameof(Interop.SockaddrVm.svm_cid)));
        Assert.Equal(12, Offset<Interop.SockaddrVm>(nameof(Interop.SockaddrVm.svm_flags)));
    }

    [Fact]
    public unsafe void SockaddrVm_For_WritesFamilyPortCidInHostOrderAndZeros()
    {
        var sa = Interop.SockaddrVm.For(new VsockAddress(0x01020304, 0x0A0B0C0D));
        var bytes = new ReadOnlySpan<byte>(&sa, sizeof(Interop.SockaddrVm));

        Assert.Equal([40, 0, 0, 0, 0x0D, 0x0C, 0x0B, 0x0A, 0x04, 0x03, 0x02, 0x01, 0, 0, 0, 0], bytes.ToArray());
        Assert.Equal(new VsockAddress(0x01020304, 0x0A0B0C0D), sa.Address);
    }

    [Fact]
    public void Timeval_IsTwo64BitFields()
    {
        Assert.Equal(16, Marshal.SizeOf<Interop.Timeval>());
        Assert.Equal(8, Offset<Interop.Timeval>(nameof(Interop.Timeval.tv_usec)));
    }

    [Fact]
    public void EpollEvent_IsPacked12Bytes()
    {
        Assert.Equal(12, Marshal.SizeOf<Interop.EpollEvent>());
        Assert.Equal(4, Offset<Interop.EpollEvent>(nameof(Interop.EpollEvent.data)));
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
