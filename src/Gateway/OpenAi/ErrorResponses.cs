using System.Text.Json;

namespace Gateway.OpenAi;

/// <summary>Writes <see cref="OpenAiException"/>s as OpenAI-shaped JSON responses.</summary>
public static class ErrorResponses
{
    public static async Task WriteAsync(HttpContext context, OpenAiException error)
    {
        if (context.Response.HasStarted)
        {
            // Headers are gone; the only honest signal left is to abort the connection.
            context.Abort();
            return;
        }

        context.Response.StatusCode = error.Status;
        context.Response.ContentType = "application/json";
        if (error.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        await JsonSerializer.SerializeAsync(context.Response.Body, error.ToBody(), OpenAiJsonContext.Wire.OpenAiErrorBody,
            context.RequestAborted);
    }
}
