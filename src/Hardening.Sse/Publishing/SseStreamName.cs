namespace Hardening.Sse;

/// <summary>Stream names: 1-200 characters of letters, digits and <c>- _ . : /</c>, so they are safe in keys, channels and URLs.</summary>
internal static class SseStreamName
{
    public const int MaxLength = 200;

    public static string? Problem(string? stream)
    {
        if (string.IsNullOrEmpty(stream))
        {
            return "the stream name is empty";
        }

        if (stream.Length > MaxLength)
        {
            return $"the stream name is {stream.Length} characters long; the limit is {MaxLength}";
        }

        foreach (var c in stream)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/'))
            {
                return $"the stream name contains '{(char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())}'; use letters, digits and - _ . : / such as 'tenant-42/applications'";
            }
        }

        return null;
    }
}
