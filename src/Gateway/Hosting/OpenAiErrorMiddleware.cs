using Gateway.OpenAi;
using Gateway.Telemetry;

namespace Gateway.Hosting;

/// <summary>
/// Turns every failure into an OpenAI-shaped error: <see cref="OpenAiException"/>s with their status,
/// anything else as a 500 that names the request id and hides the stack trace.
/// </summary>
public sealed class OpenAiErrorMiddleware(RequestDelegate next, ILogger<OpenAiErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (OpenAiException error)
        {
            await ErrorResponses.WriteAsync(context, error);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (BadHttpRequestException bad)
        {
            // Kestrel's own protocol-level rejections (malformed framing, its body limit outside /v1).
            await ErrorResponses.WriteAsync(context,
                new OpenAiException(bad.StatusCode, bad.Message, OpenAiErrors.InvalidRequest, "bad_request"));
        }
        catch (Exception ex)
        {
            Log.Unhandled(logger, ex, context.TraceIdentifier);
            await ErrorResponses.WriteAsync(context, OpenAiErrors.Internal(context.TraceIdentifier));
        }
    }
}
