using System.Text.Json;

namespace Hardening.Samples.Ats.Infrastructure;

/// <summary>
/// Request input checks shared by every feature: JSON bodies read with a size cap and errors that name the field, and
/// text fields with a length cap and no NUL or other control characters. Every refusal is a 400 problem.
/// </summary>
internal static class Input
{
    /// <summary>Largest JSON body any endpoint reads.</summary>
    public const int MaxJsonBytes = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        MaxDepth = 8,
    };

    /// <summary>Reads a JSON body; on failure returns a problem naming what is wrong.</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadJsonAsync<T>(HttpRequest request) where T : class
    {
        if (request.ContentLength is > MaxJsonBytes)
        {
            return (null, Problems.Status(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {MaxJsonBytes} bytes."));
        }

        if (!request.HasJsonContentType())
        {
            return (null, Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Send the body as application/json."));
        }

        try
        {
            using var limited = new MemoryStream();
            var buffer = new byte[8192];
            int read;
            while ((read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
            {
                if (limited.Length + read > MaxJsonBytes)
                {
                    return (null, Problems.Status(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {MaxJsonBytes} bytes."));
                }

                limited.Write(buffer, 0, read);
            }

            if (limited.Length == 0)
            {
                return (null, Problems.BadRequest("body", "A JSON body is required."));
            }

            var value = JsonSerializer.Deserialize<T>(limited.GetBuffer().AsSpan(0, (int)limited.Length), Json);
            return value is null ? (null, Problems.BadRequest("body", "A JSON object is required.")) : (value, null);
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.');
            var what = e.Message.Contains("could not be mapped", StringComparison.Ordinal)
                ? $"'{field}' is not a field of this request."
                : $"'{field}' is not valid JSON of the expected type.";
            return (null, Problems.BadRequest(field, what));
        }
    }

    /// <summary>Checks a text field; adds an error naming it when it is missing, too long or has control characters.</summary>
    public static string? Text(Dictionary<string, string[]> errors, string field, string? value, int maxLength, bool required)
    {
        if (value is null || value.Length == 0 || string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                errors[field] = [$"'{field}' is required."];
            }

            return null;
        }

        if (value.Length > maxLength)
        {
            errors[field] = [$"'{field}' is longer than {maxLength} characters."];
            return null;
        }

        foreach (var c in value)
        {
            if (char.IsControl(c) && !(c is '\n' or '\t' && maxLength > 200) || c is '\u2028' or '\u2029')
            {
                errors[field] = [$"'{field}' contains a control character (U+{(int)c:X4}); remove it."];
                return null;
            }
        }

        if (!IsWellFormedUtf16(value))
        {
            errors[field] = [$"'{field}' contains an unpaired surrogate."];
            return null;
        }

        return value.Trim();
    }

    /// <summary>Checks an email address field.</summary>
    public static string? Email(Dictionary<string, string[]> errors, string field, string? value, bool required)
    {
        var text = Text(errors, field, value, 254, required);
        if (text is not null && (text.IndexOf('@', StringComparison.Ordinal) is <= 0 || text.EndsWith('@') || text.Contains(' ', StringComparison.Ordinal)))
        {
            errors[field] = [$"'{field}' is not an email address."];
            return null;
        }

        return text?.ToLowerInvariant();
    }

    private static bool IsWellFormedUtf16(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]))
            {
                if (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(value[i]))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Problem-details results with a message, in every environment.</summary>
internal static class Problems
{
    /// <summary>400 naming the field.</summary>
    public static IResult BadRequest(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: message, title: "The request is not valid.");

    /// <summary>400 with every field error.</summary>
    public static IResult Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, detail: string.Join(" ", errors.Values.SelectMany(v => v)), title: "The request is not valid.");

    /// <summary>Any status with a message.</summary>
    public static IResult Status(int status, string detail, string? code = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, extensions: code is null ? null : new Dictionary<string, object?> { ["code"] = code });

    /// <summary>404 that says the same for missing and for another tenant's id.</summary>
    public static IResult NotFound(string what) => Status(StatusCodes.Status404NotFound, $"No {what} with this id.");
}
