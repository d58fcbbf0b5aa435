using System.Buffers;
using FsCheck;
using FsCheck.Fluent;

namespace Hardening.Redis.Tests.Protocol;

/// <summary>Generators of RESP values and of the bytes that encode them.</summary>
internal static class RespGen
{
    public static readonly Gen<byte[]> Bytes =
        Gen.Frequency(
            (1, Gen.Constant(Array.Empty<byte>())),
            (6, Gen.Choose(1, 64).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n))),
            (2, Gen.Choose(65, 5000).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n))),
            (1, Gen.Elements("\r\n"u8.ToArray(), "$-1\r\n"u8.ToArray(), "*0\r\n"u8.ToArray(), "\r"u8.ToArray(), "\n"u8.ToArray())));

    /// <summary>Text without CR or LF, as simple strings and errors require.</summary>
    private static readonly Gen<byte[]> Line =
        Gen.Choose(0, 40).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Where(b => b is not 13 and not 10).Select(b => (byte)b), n));

    private static readonly Gen<long> Integers = Gen.Frequency(
        (3, Gen.Choose(-10, 300).Select(i => (long)i)),
        (1, Gen.Elements(long.MinValue, long.MaxValue, 0L, -1L)),
        (2, Gen.Choose(int.MinValue, int.MaxValue).SelectMany(hi => Gen.Choose(int.MinValue, int.MaxValue), (hi, lo) => ((long)hi << 32) ^ (uint)lo)));

    public static Gen<RespValue> Value(int depth) =>
        depth <= 0
            ? Leaf
            : Gen.Frequency(
                (4, Leaf),
                (1, Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(Value(depth - 1), n)).Select(RespValue.Array)));

    public static readonly Gen<RespValue> Leaf = Gen.OneOf(
        Line.Select(RespValue.SimpleString),
        Line.Select(RespValue.Error),
        Integers.Select(RespValue.Integer),
        Bytes.Select(RespValue.BulkString),
        Gen.Constant(RespValue.Null));

    public static byte[] Encode(IEnumerable<RespValue> values)
    {
        var writer = new ArrayBufferWriter<byte>();
        foreach (var value in values)
        {
            value.WriteTo(writer);
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>A read-only sequence made of the given chunks, one segment each (as a socket delivers them).</summary>
    public static ReadOnlySequence<byte> Sequence(IReadOnlyList<byte[]> chunks)
    {
        var nonEmpty = chunks.Where(c => c.Length > 0).ToList();
        if (nonEmpty.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(nonEmpty[0], 0);
        var last = first;
        foreach (var chunk in nonEmpty.Skip(1))
        {
            last = last.Append(chunk);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
