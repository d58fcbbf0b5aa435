namespace Hardening.Redis;

/// <summary>Command names and keywords, pre-encoded as RESP bulk strings.</summary>
internal static class Cmd
{
    public static readonly byte[] Ping = RespWriter.Encode("PING");
    public static readonly byte[] Get = RespWriter.Encode("GET");
    public static readonly byte[] Set = RespWriter.Encode("SET");
    public static readonly byte[] Nx = RespWriter.Encode("NX");
    public static readonly byte[] Xx = RespWriter.Encode("XX");
    public static readonly byte[] Px = RespWriter.Encode("PX");
    public static readonly byte[] PxAt = RespWriter.Encode("PXAT");
    public static readonly byte[] KeepTtl = RespWriter.Encode("KEEPTTL");
    public static readonly byte[] GetOption = RespWriter.Encode("GET");
    public static readonly byte[] Del = RespWriter.Encode("DEL");
    public static readonly byte[] IncrBy = RespWriter.Encode("INCRBY");
    public static readonly byte[] PExpire = RespWriter.Encode("PEXPIRE");
    public static readonly byte[] Time = RespWriter.Encode("TIME");
    public static readonly byte[] Eval = RespWriter.Encode("EVAL");
    public static readonly byte[] EvalSha = RespWriter.Encode("EVALSHA");
    public static readonly byte[] Script = RespWriter.Encode("SCRIPT");
    public static readonly byte[] Load = RespWriter.Encode("LOAD");
    public static readonly byte[] XAdd = RespWriter.Encode("XADD");
    public static readonly byte[] MaxLen = RespWriter.Encode("MAXLEN");
    public static readonly byte[] MinId = RespWriter.Encode("MINID");
    public static readonly byte[] Exact = RespWriter.Encode("=");
    public static readonly byte[] Approximate = RespWriter.Encode("~");
    public static readonly byte[] XRange = RespWriter.Encode("XRANGE");
    public static readonly byte[] XRevRange = RespWriter.Encode("XREVRANGE");
    public static readonly byte[] Count = RespWriter.Encode("COUNT");
    public static readonly byte[] XRead = RespWriter.Encode("XREAD");
    public static readonly byte[] Block = RespWriter.Encode("BLOCK");
    public static readonly byte[] Streams = RespWriter.Encode("STREAMS");
    public static readonly byte[] Publish = RespWriter.Encode("PUBLISH");
}
