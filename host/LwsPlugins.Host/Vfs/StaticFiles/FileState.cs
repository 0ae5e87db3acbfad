using System.Runtime.InteropServices;
using System.Text;

namespace LwsPlugins.Host.Vfs.StaticFiles;

/// <summary>
/// What identifies a file's content on disk without reading it: device, inode, type, length, modification and change
/// times, from one <c>statx</c> call (its buffer has the same layout on every Linux architecture, unlike <c>stat</c>'s).
/// Where <c>statx</c> is missing, <see cref="FileInfo"/> gives length and modification time.
/// </summary>
internal readonly partial record struct FileState(bool Exists, bool IsLink, ulong Device, ulong Inode, long Length, long ModifiedSeconds, uint ModifiedNanoseconds, long ChangedSeconds, uint ChangedNanoseconds)
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const ushort TypeMask = 0xF000;
    private const ushort SymbolicLink = 0xA000;
    private const ushort RegularFile = 0x8000;
    private static bool s_noStatx;

    /// <summary>The path as <c>statx</c> takes it (UTF-8, NUL-terminated), made once per token.</summary>
    public static byte[] NativePath(string path) => Encoding.UTF8.GetBytes(path + "\0");

    /// <summary>The state of the file at <paramref name="nativePath"/>; a missing file, a folder and an unreadable path are all "does not exist".</summary>
    public static FileState Read(byte[] nativePath, string path, bool followLinks)
    {
        if (!Volatile.Read(ref s_noStatx) && OperatingSystem.IsLinux())
        {
            try
            {
                var buffer = new StatxBuffer();
                if (Statx(AtFdCwd, nativePath, followLinks ? 0 : AtSymlinkNoFollow, StatxBasicStats, ref buffer) != 0)
                {
                    return default;
                }

                var type = (ushort)(buffer.Mode & TypeMask);
                return type is not (RegularFile or SymbolicLink) ? default
                    : new FileState(true, type == SymbolicLink, ((ulong)buffer.DeviceMajor << 32) | buffer.DeviceMinor, buffer.Inode, (long)buffer.Size, buffer.ModifiedSeconds, buffer.ModifiedNanoseconds, buffer.ChangedSeconds, buffer.ChangedNanoseconds);
            }
            catch (EntryPointNotFoundException)
            {
                Volatile.Write(ref s_noStatx, true);
            }
        }

        var info = new FileInfo(path);
        return info.Exists ? new FileState(true, !followLinks && info.LinkTarget is not null, 0, 0, info.Length, info.LastWriteTimeUtc.Ticks, 0, 0, 0) : default;
    }

    [LibraryImport("libc", EntryPoint = "statx")]
    private static partial int Statx(int directory, byte[] path, int flags, uint mask, ref StatxBuffer buffer);

    /// <summary>struct statx (linux/stat.h), the fields read here at their fixed offsets.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(28)]
        public ushort Mode;

        [FieldOffset(32)]
        public ulong Inode;

        [FieldOffset(40)]
        public ulong Size;

        [FieldOffset(96)]
        public long ChangedSeconds;

        [FieldOffset(104)]
        public uint ChangedNanoseconds;

        [FieldOffset(112)]
        public long ModifiedSeconds;

        [FieldOffset(120)]
        public uint ModifiedNanoseconds;

        [FieldOffset(136)]
        public uint DeviceMajor;

        [FieldOffset(140)]
        public uint DeviceMinor;
    }
}
