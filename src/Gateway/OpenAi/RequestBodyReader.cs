using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.OpenAi;

/// <summary>Reads a request body into memory, enforcing the configured size limit with a 413.</summary>
public static class RequestBodyReader
{
    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpContext context, long limit, CancellationToken cancellationToken)
    {
        // Our own limit answers with an OpenAI error; Kestrel's would answer with an empty 413.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        var declared = context.Request.ContentLength;
        if (declared > limit)
        {
            throw OpenAiErrors.RequestTooLarge(limit);
        }

        var body = context.Request.Body;
        if (declared is { } length)
        {
            var buffer = new byte[length];
            await body.ReadExactlyAsync(buffer, cancellationToken);
            Noted(context, length);
            return buffer;
        }

        var writer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var memory = writer.GetMemory(4096);
            var read = await body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                Noted(context, writer.WrittenCount);
                return writer.WrittenMemory;
            }

            writer.Advance(read);
            if (writer.WrittenCount > limit)
            {
                throw OpenAiErrors.RequestTooLarge(limit);
            }
        }
    }

    /// <summary>Large bodies are reported so their memory is given back once they stop (<see cref="Hosting.LargeBodyReclaimer"/>).</summary>
    private static void Noted(HttpContext context, long bytes)
    {
        if (bytes >= Hosting.LargeBodyReclaimer.Floor)
        {
            context.RequestServices.GetService<Hosting.LargeBodyReclaimer>()?.Note(bytes);
        }
    }
}
